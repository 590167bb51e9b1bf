package localsfn

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Execution statuses, as DescribeExecution reports them.
const (
	StatusRunning   = "RUNNING"
	StatusSucceeded = "SUCCEEDED"
	StatusFailed    = "FAILED"
	StatusTimedOut  = "TIMED_OUT"
	StatusAborted   = "ABORTED"
)

// Machine types.
const (
	Standard = "STANDARD"
	Express  = "EXPRESS"
)

// API errors, named after the Step Functions API exceptions; test with errors.Is.
var (
	ErrExecutionDoesNotExist     = errors.New("ExecutionDoesNotExist")
	ErrExecutionAlreadyExists    = errors.New("ExecutionAlreadyExists")
	ErrStateMachineDoesNotExist  = errors.New("StateMachineDoesNotExist")
	ErrTaskDoesNotExist          = errors.New("TaskDoesNotExist")
	ErrInvalidOutput             = errors.New("InvalidOutput")
	ErrInvalidExecutionInput     = errors.New("InvalidExecutionInput")
	ErrInvalidName               = errors.New("InvalidName")
	ErrStateMachineAlreadyExists = errors.New("StateMachineAlreadyExists")
	ErrTaskTimedOut              = errors.New("TaskTimedOut")
	// ErrClosed is returned by StartExecution after Close.
	ErrClosed = errors.New("localsfn: executor closed")
)

// Options configures an Executor. The zero value works: in-memory, wall clock, no handlers.
type Options struct {
	// DB, when set (see OpenDB), makes STANDARD executions durable: they
	// resume after a restart from the last state they completed. EXPRESS
	// executions are recorded too and, as AWS's at-least-once semantics
	// allow, run again from the start after a restart.
	DB *sql.DB
	// Clock replaces the wall clock (tests use a FakeClock).
	Clock Clock
	// Handlers are the Lambda functions, keyed by function name or full ARN.
	Handlers map[string]Handler
	// Notify receives every execution status change (RUNNING and the final
	// status), shaped like EventBridge's "Step Functions Execution Status Change".
	Notify func(ctx context.Context, change StatusChange)
	// Log receives operational messages; nil discards them.
	Log *slog.Logger
	// Region and Account appear in ARNs (default us-east-1, 000000000000).
	Region, Account string
	// ExpressHistory keeps history for EXPRESS executions too (AWS keeps none).
	ExpressHistory bool
	// LambdaEndpoint, when set, is a Lambda API endpoint (LocalStack, SAM
	// local, a Lambda emulator) that runs the functions no Handler is
	// registered for: their Task states invoke it over HTTP (see HTTPFunction).
	LambdaEndpoint string
	// HTTPClient makes those invocations (default http.DefaultClient).
	HTTPClient *http.Client
	// KeepFinished is how many finished in-memory executions stay
	// describable (default 10,000); older ones are forgotten. Durable
	// executions are always described from the database.
	KeepFinished int
}

// Executor runs state machines. It is safe for concurrent use.
type Executor struct {
	db             *sql.DB
	clock          Clock
	handlers       map[string]Handler
	lambdaEndpoint string
	httpClient     *http.Client
	notify         func(context.Context, StatusChange)
	log            *slog.Logger
	region         string
	account        string
	expressHistory bool
	tokens         *tokenRegistry
	keepFinished   int
	finished       []string // in-memory finished executions, oldest first

	mu         sync.Mutex
	machines   map[string]*machineRecord
	machineMu  sync.Mutex // serialises creating, updating and deleting machines
	executions map[string]*execution
	ctx        context.Context
	cancel     context.CancelFunc
	wg         sync.WaitGroup
}

type machineRecord struct {
	arn, name, typ string
	definition     []byte
	machine        *Machine
	role           string    // the roleArn it was created with ("" when made through the Go API)
	created        time.Time // CreateStateMachine's first call
	updated        time.Time // the last CreateStateMachine or UpdateStateMachine
}

// New returns an Executor. With a DB it creates its tables if needed; call
// Resume to continue the STANDARD executions a previous process left running.
func New(ctx context.Context, opts Options) (*Executor, error) {
	e := &Executor{
		db: opts.DB, clock: opts.Clock, handlers: opts.Handlers, lambdaEndpoint: opts.LambdaEndpoint, httpClient: opts.HTTPClient, notify: opts.Notify, log: opts.Log,
		region: opts.Region, account: opts.Account, expressHistory: opts.ExpressHistory,
		tokens: newTokenRegistry(), keepFinished: opts.KeepFinished, machines: map[string]*machineRecord{}, executions: map[string]*execution{},
	}
	if e.clock == nil {
		e.clock = realClock{}
	}
	if e.keepFinished <= 0 {
		e.keepFinished = 10000
	}
	if e.handlers == nil {
		e.handlers = map[string]Handler{}
	}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	if e.region == "" {
		e.region = "us-east-1"
	}
	if e.account == "" {
		e.account = "000000000000"
	}
	e.ctx, e.cancel = context.WithCancel(context.WithoutCancel(ctx))
	if e.db != nil {
		if err := migrate(ctx, e.db); err != nil {
			return nil, err
		}
	}
	return e, nil
}

// Close stops running executions without ending them (durable ones stay
// RUNNING for Resume) and waits for their goroutines.
func (e *Executor) Close() error {
	e.cancel()
	e.wg.Wait()
	return nil
}

// MachineARN returns the ARN of a state machine name.
func (e *Executor) MachineARN(name string) string {
	return fmt.Sprintf("arn:aws:states:%s:%s:stateMachine:%s", e.region, e.account, name)
}

// CreateStateMachine registers (or replaces) a state machine and returns its
// ARN. A definition that does not parse is refused with a *DefinitionError
// and changes nothing.
func (e *Executor) CreateStateMachine(ctx context.Context, name string, definition []byte, typ string) (string, error) {
	if typ == "" {
		typ = Standard
	}
	if typ != Standard && typ != Express {
		return "", fmt.Errorf("create state machine %s: type must be STANDARD or EXPRESS, got %q", name, typ)
	}
	if !validName(name) {
		return "", fmt.Errorf("create state machine %q: %w", name, ErrInvalidName)
	}
	m, err := Parse(definition)
	if err != nil {
		return "", fmt.Errorf("create state machine %s: %w", name, err)
	}
	if typ == Express {
		if err := checkExpress(m); err != nil {
			return "", fmt.Errorf("create state machine %s: %w", name, err)
		}
	}
	rec := &machineRecord{arn: e.MachineARN(name), name: name, typ: typ, definition: append([]byte(nil), definition...), machine: m}
	e.machineMu.Lock()
	defer e.machineMu.Unlock()
	if err := e.putMachine(ctx, rec); err != nil {
		return "", err
	}
	return rec.arn, nil
}

func validName(s string) bool {
	if s == "" || len(s) > 80 {
		return false
	}
	for _, r := range s {
		if r <= ' ' || r == 0x7f || (r >= 0x80 && r <= 0x9f) || containsRune(`<>{}[]?*"#%\^|~`+"`$&,;:/", r) {
			return false
		}
	}
	return true
}

func containsRune(s string, r rune) bool {
	for _, c := range s {
		if c == r {
			return true
		}
	}
	return false
}

func (e *Executor) machine(ctx context.Context, arn string) (*machineRecord, error) {
	e.mu.Lock()
	rec, ok := e.machines[arn]
	e.mu.Unlock()
	if ok {
		return rec, nil
	}
	if e.db != nil {
		rec, err := loadMachine(ctx, e.db, arn)
		if err != nil {
			return nil, err
		}
		e.mu.Lock()
		e.machines[arn] = rec
		e.mu.Unlock()
		return rec, nil
	}
	return nil, fmt.Errorf("state machine %s: %w", arn, ErrStateMachineDoesNotExist)
}

// StartExecutionInput is StartExecution's request.
type StartExecutionInput struct {
	StateMachineArn string
	// Name is optional (a UUID by default). For STANDARD machines a name is
	// idempotent: the same name and input return the running execution.
	Name  string
	Input string // JSON; empty means {}
}

// StartExecutionOutput is StartExecution's response.
type StartExecutionOutput struct {
	ExecutionArn string
	StartDate    time.Time
}

// StartExecution starts an execution and returns at once.
func (e *Executor) StartExecution(ctx context.Context, in StartExecutionInput) (*StartExecutionOutput, error) {
	if e.ctx.Err() != nil {
		return nil, fmt.Errorf("start execution: %w", ErrClosed)
	}
	rec, err := e.machine(ctx, in.StateMachineArn)
	if err != nil {
		return nil, err
	}
	if in.Input == "" {
		in.Input = "{}"
	}
	if len(in.Input) > PayloadLimit {
		return nil, fmt.Errorf("start execution: the input is larger than 256 KB: %w", ErrInvalidExecutionInput)
	}
	input, err := decodeJSON([]byte(in.Input))
	if err != nil {
		return nil, fmt.Errorf("start execution: the input is not valid JSON (%v): %w", err, ErrInvalidExecutionInput)
	}
	name := in.Name
	if name == "" {
		name = newUUID()
	}
	if !validName(name) {
		return nil, fmt.Errorf("start execution %q: %w", name, ErrInvalidName)
	}
	arn := fmt.Sprintf("arn:aws:states:%s:%s:execution:%s:%s", e.region, e.account, rec.name, name)
	if rec.typ == Express {
		arn = fmt.Sprintf("arn:aws:states:%s:%s:express:%s:%s:%s", e.region, e.account, rec.name, name, newUUID())
	}
	e.mu.Lock()
	if old, ok := e.executions[arn]; ok {
		e.mu.Unlock()
		return old.idempotent(in.Input)
	}
	if e.db != nil && rec.typ == Standard {
		if d, err := loadDescription(ctx, e.db, arn); err == nil {
			e.mu.Unlock()
			if d.Status == StatusRunning && d.Input == in.Input {
				return &StartExecutionOutput{ExecutionArn: arn, StartDate: d.StartDate}, nil
			}
			return nil, fmt.Errorf("start execution %s: %w", name, ErrExecutionAlreadyExists)
		}
	}
	x := newExecution(e, rec, arn, name, in.Input, input, e.clock.Now())
	e.executions[arn] = x
	e.mu.Unlock()
	x.hist.add(x.main, x.start, "ExecutionStarted", "executionStartedEventDetails", func() map[string]any {
		return map[string]any{"input": in.Input, "inputDetails": map[string]any{"truncated": false}, "roleArn": x.roleArn()}
	})
	x.main.last = 0 // AWS links the first state's entry to no event (previousEventId 0)
	if x.stored {   // a durable execution's ExecutionStarted is written with it
		if err := insertExecution(ctx, e.db, x); err != nil {
			e.mu.Lock()
			delete(e.executions, arn)
			e.mu.Unlock()
			return nil, err
		}
	}
	e.notifyChange(x)
	e.launch(x, rec.machine.StartAt, input, nil)
	return &StartExecutionOutput{ExecutionArn: arn, StartDate: x.start}, nil
}

func (e *Executor) launch(x *execution, at string, input any, resume *resumePoint) {
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		x.run(e.ctx, at, input, resume)
	}()
}

// ExecutionDescription is DescribeExecution's response.
type ExecutionDescription struct {
	ExecutionArn    string
	StateMachineArn string
	Name            string
	Status          string
	StartDate       time.Time
	StopDate        time.Time
	Input           string
	Output          string // JSON, set when SUCCEEDED
	Error           string
	Cause           string
	HasError        bool
	HasCause        bool
}

// DescribeExecution reports an execution's status and, once it ended, its result.
func (e *Executor) DescribeExecution(ctx context.Context, arn string) (*ExecutionDescription, error) {
	e.mu.Lock()
	x, ok := e.executions[arn]
	e.mu.Unlock()
	if ok {
		return x.describe(), nil
	}
	if e.db != nil {
		return loadDescription(ctx, e.db, arn)
	}
	return nil, fmt.Errorf("describe execution %s: %w", arn, ErrExecutionDoesNotExist)
}

// WaitExecution blocks until the execution ends (or ctx does) and describes it.
func (e *Executor) WaitExecution(ctx context.Context, arn string) (*ExecutionDescription, error) {
	e.mu.Lock()
	x, ok := e.executions[arn]
	e.mu.Unlock()
	if !ok {
		return e.DescribeExecution(ctx, arn)
	}
	select {
	case <-x.done:
		return x.describe(), nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// StopExecution aborts a running execution with an optional error and cause.
func (e *Executor) StopExecution(ctx context.Context, arn, errName, cause string) error {
	e.mu.Lock()
	x, ok := e.executions[arn]
	e.mu.Unlock()
	if !ok {
		d, err := e.DescribeExecution(ctx, arn)
		if err != nil {
			return err
		}
		if d.Status == StatusRunning && e.db != nil {
			// Left running by a previous process and not resumed: end it here.
			return abortStored(ctx, e.db, arn, stopFailure(errName, cause), e.clock.Now())
		}
		return nil // already ended
	}
	x.stop(stopFailure(errName, cause))
	select {
	case <-x.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// GetExecutionHistory returns the execution's events in order. EXPRESS
// executions keep none unless Options.ExpressHistory is set, as in AWS.
func (e *Executor) GetExecutionHistory(ctx context.Context, arn string) ([]Event, error) {
	e.mu.Lock()
	x, ok := e.executions[arn]
	e.mu.Unlock()
	if ok && !x.durable {
		return x.hist.snapshot(), nil
	}
	if ok {
		// Written events come from the database, the rest from memory:
		// taking memory first means nothing falls between the two reads.
		pending := x.hist.snapshot()
		stored, err := loadEvents(ctx, e.db, arn)
		if err != nil {
			return nil, err
		}
		for _, ev := range pending {
			if len(stored) == 0 || ev.ID > stored[len(stored)-1].ID {
				stored = append(stored, ev)
			}
		}
		return stored, nil
	}
	if e.db != nil {
		return loadEvents(ctx, e.db, arn)
	}
	return nil, fmt.Errorf("get execution history %s: %w", arn, ErrExecutionDoesNotExist)
}

// Run is a convenience for one-off executions: it registers the definition
// under name, starts it with input and waits for the result.
func (e *Executor) Run(ctx context.Context, name string, definition []byte, typ string, input string) (*ExecutionDescription, error) {
	arn, err := e.CreateStateMachine(ctx, name, definition, typ)
	if err != nil {
		return nil, err
	}
	out, err := e.StartExecution(ctx, StartExecutionInput{StateMachineArn: arn, Input: input})
	if err != nil {
		return nil, err
	}
	return e.WaitExecution(ctx, out.ExecutionArn)
}

// forget drops a finished execution from memory: at once when it is in the
// database, else once more than keepFinished newer ones have finished.
func (e *Executor) forget(x *execution) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if x.stored { // persisted: described from the database from now on
		delete(e.executions, x.arn)
		return
	}
	e.finished = append(e.finished, x.arn)
	if len(e.finished) > e.keepFinished {
		delete(e.executions, e.finished[0])
		e.finished = e.finished[1:]
	}
}

// expressLimit is how long an EXPRESS execution may run.
const expressLimit = 5 * time.Minute

// checkExpress refuses what EXPRESS state machines cannot do, as AWS does
// when the machine is created: callbacks (.waitForTaskToken) and .sync jobs.
func checkExpress(m *Machine) error {
	for _, st := range m.States {
		if strings.HasSuffix(st.Resource, waitForTaskToken) || strings.HasSuffix(st.Resource, ".sync") {
			return &DefinitionError{State: st.Name, Msg: "EXPRESS state machines do not support the .waitForTaskToken and .sync integration patterns"}
		}
		for _, b := range st.Branches {
			if err := checkExpress(b); err != nil {
				return err
			}
		}
		if st.Processor != nil {
			if err := checkExpress(st.Processor); err != nil {
				return err
			}
		}
	}
	return nil
}

// stopFailure is StopExecution's optional error and cause.
func stopFailure(errName, cause string) *Failure {
	return &Failure{Error: errName, Cause: cause, HasError: errName != "", HasCause: cause != ""}
}
