package localsfn

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// StateMachine describes a registered state machine, as DescribeStateMachine
// reports it.
type StateMachine struct {
	ARN        string
	Name       string
	Type       string // STANDARD or EXPRESS
	Definition []byte
	RoleARN    string
	// CreationDate is when the machine was first created; UpdateDate when its
	// definition last changed (equal to CreationDate until then).
	CreationDate time.Time
	UpdateDate   time.Time
}

func (rec *machineRecord) info() *StateMachine {
	return &StateMachine{
		ARN: rec.arn, Name: rec.name, Type: rec.typ, Definition: append([]byte(nil), rec.definition...),
		RoleARN: rec.role, CreationDate: rec.created, UpdateDate: rec.updated,
	}
}

// CreateStateMachineInput is CreateStateMachineOnce's request.
type CreateStateMachineInput struct {
	Name       string
	Definition []byte
	Type       string // STANDARD (default) or EXPRESS
	RoleARN    string
}

// CreateStateMachineOnce creates a state machine with the Step Functions
// API's rules: creating one that exists with the same definition, type and
// role returns it unchanged (idempotent); with anything different it fails
// with ErrStateMachineAlreadyExists. CreateStateMachine, by contrast,
// replaces.
func (e *Executor) CreateStateMachineOnce(ctx context.Context, in CreateStateMachineInput) (*StateMachine, error) {
	if in.Type == "" {
		in.Type = Standard
	}
	if in.Type != Standard && in.Type != Express {
		return nil, fmt.Errorf("create state machine %s: type must be STANDARD or EXPRESS, got %q", in.Name, in.Type)
	}
	if !validName(in.Name) {
		return nil, fmt.Errorf("create state machine %q: %w", in.Name, ErrInvalidName)
	}
	m, err := parseFor(in.Definition, in.Type)
	if err != nil {
		return nil, fmt.Errorf("create state machine %s: %w", in.Name, err)
	}
	e.machineMu.Lock()
	defer e.machineMu.Unlock()
	arn := e.MachineARN(in.Name)
	if old, err := e.machine(ctx, arn); err == nil {
		if old.typ == in.Type && old.role == in.RoleARN && bytes.Equal(old.definition, in.Definition) {
			return old.info(), nil
		}
		return nil, fmt.Errorf("state machine %s exists with another definition, type or role: %w", in.Name, ErrStateMachineAlreadyExists)
	}
	rec := &machineRecord{arn: arn, name: in.Name, typ: in.Type, definition: append([]byte(nil), in.Definition...), machine: m, role: in.RoleARN}
	if err := e.putMachine(ctx, rec); err != nil {
		return nil, err
	}
	return rec.info(), nil
}

// parseFor compiles a definition and checks what a machine of type typ may do.
func parseFor(definition []byte, typ string) (*Machine, error) {
	m, err := Parse(definition)
	if err != nil {
		return nil, err
	}
	if typ == Express {
		if err := checkExpress(m); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// putMachine stores rec, keeping the creation date of the machine it
// replaces. The caller holds machineMu.
func (e *Executor) putMachine(ctx context.Context, rec *machineRecord) error {
	now := e.clock.Now()
	rec.created, rec.updated = now, now
	if old, err := e.machine(ctx, rec.arn); err == nil {
		rec.created = old.created
		if rec.role == "" {
			rec.role = old.role
		}
	}
	if e.db != nil {
		if err := saveMachine(ctx, e.db, rec); err != nil {
			return err
		}
	}
	e.mu.Lock()
	e.machines[rec.arn] = rec
	e.mu.Unlock()
	return nil
}

// DescribeStateMachine reports a state machine, or ErrStateMachineDoesNotExist.
func (e *Executor) DescribeStateMachine(ctx context.Context, arn string) (*StateMachine, error) {
	rec, err := e.machine(ctx, arn)
	if err != nil {
		return nil, err
	}
	return rec.info(), nil
}

// UpdateStateMachine replaces a machine's definition (when definition is not
// nil) and role (when role is not empty). Running executions finish with the
// definition they started with; a definition that does not parse changes
// nothing.
func (e *Executor) UpdateStateMachine(ctx context.Context, arn string, definition []byte, role string) (*StateMachine, error) {
	e.machineMu.Lock()
	defer e.machineMu.Unlock()
	old, err := e.machine(ctx, arn)
	if err != nil {
		return nil, err
	}
	rec := *old
	if definition != nil {
		if rec.machine, err = parseFor(definition, old.typ); err != nil {
			return nil, fmt.Errorf("update state machine %s: %w", old.name, err)
		}
		rec.definition = append([]byte(nil), definition...)
	}
	if role != "" {
		rec.role = role
	}
	if err := e.putMachine(ctx, &rec); err != nil {
		return nil, err
	}
	return rec.info(), nil
}

// DeleteStateMachine removes a machine: it can no longer be described or
// started, while its running executions go on to their end (and resume after
// a restart), as in AWS. Deleting a machine that does not exist succeeds.
func (e *Executor) DeleteStateMachine(ctx context.Context, arn string) error {
	e.machineMu.Lock()
	defer e.machineMu.Unlock()
	if e.db != nil {
		if err := markMachineDeleted(ctx, e.db, arn); err != nil {
			return err
		}
	}
	e.mu.Lock()
	delete(e.machines, arn)
	e.mu.Unlock()
	return nil
}

// ListStateMachines returns every state machine, ordered by name.
func (e *Executor) ListStateMachines(ctx context.Context) ([]*StateMachine, error) {
	seen := map[string]*StateMachine{}
	if e.db != nil {
		recs, err := listMachines(ctx, e.db)
		if err != nil {
			return nil, err
		}
		for _, r := range recs {
			seen[r.arn] = r.info()
		}
	}
	e.mu.Lock()
	for arn, r := range e.machines {
		seen[arn] = r.info()
	}
	e.mu.Unlock()
	out := make([]*StateMachine, 0, len(seen))
	for _, m := range seen {
		out = append(out, m)
	}
	slices.SortFunc(out, func(a, b *StateMachine) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// DescribeStateMachineForExecution reports the state machine an execution
// runs: the definition it started with while it runs in this process, else
// the machine's current one (deleted machines included).
func (e *Executor) DescribeStateMachineForExecution(ctx context.Context, executionARN string) (*StateMachine, error) {
	e.mu.Lock()
	x, ok := e.executions[executionARN]
	e.mu.Unlock()
	if ok {
		return x.rec.info(), nil
	}
	d, err := e.DescribeExecution(ctx, executionARN)
	if err != nil {
		return nil, err
	}
	if rec, err := e.machine(ctx, d.StateMachineArn); err == nil {
		return rec.info(), nil
	}
	rec, err := loadMachineAny(ctx, e.db, d.StateMachineArn)
	if err != nil {
		return nil, err
	}
	return rec.info(), nil
}
