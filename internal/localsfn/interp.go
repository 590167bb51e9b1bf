package localsfn

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"time"
)

// env is what one state's evaluation can see: its execution, its entry
// time and event id, its retry count, its task token, and (in a Map's
// ItemSelector) the current item. The Context object is built from it on
// first use only, so states that never read $$ do not pay for it.
type env struct {
	x         *execution
	state     *State
	th        *thread
	entered   time.Time
	enteredID int64
	// enteredPrev is the previousEventId of the state's entered event.
	enteredPrev int64
	retry       int
	// attempts counts the retries made by each of the state's retriers.
	attempts []int64
	token    string
	item     *mapItem
	cx       any
	vars     *scope
	// states is JSONata's $states: input, result, errorOutput, context.
	statesResult, statesError any
	hasResult, hasError       bool
	statesInput               any
	// assigned are the variables the state's Assign set (its exit event
	// reports them).
	assigned map[string]any
	// resumed is set while a restarted execution re-enters the state it
	// stopped in, so Map and Parallel keep the iterations already done.
	resumed bool
}

// variable looks a workflow variable up in the state's scope.
func (e *env) variable(name string) (any, bool) {
	if e.vars == nil {
		return nil, false
	}
	return e.vars.get(name)
}

type mapItem struct {
	index int
	value any
}

func (e *env) contextObject() any {
	if e.cx != nil {
		return e.cx
	}
	st := map[string]any{
		"EnteredTime": formatTime(e.entered),
		"Name":        e.state.Name,
		"RetryCount":  num(int64(e.retry)),
	}
	cx := map[string]any{
		"Execution":    e.x.ctxExecution,
		"StateMachine": e.x.ctxMachine,
		"State":        st,
	}
	if e.token != "" {
		cx["Task"] = map[string]any{"Token": e.token}
	}
	if e.item != nil {
		cx["Map"] = map[string]any{"Item": map[string]any{"Index": num(int64(e.item.index)), "Value": e.item.value}}
	}
	e.cx = cx
	return cx
}

// formatTime writes timestamps as Step Functions does: UTC, milliseconds.
func formatTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// errAborted is returned by states that stop because the execution was
// stopped, timed out, or a sibling branch failed.
var errAborted = &Failure{Error: "States.Aborted", HasError: true}

// runMachine runs a machine (or branch, or iteration) from the named state
// until it ends. at is the state to start from; onTransition, when set, is
// told about every completed state (the durable checkpoint).
func (x *execution) runMachine(ctx context.Context, m *Machine, at string, input any, th *thread, sc *scope, resume *resumePoint) (any, *Failure) {
	name := at
	for {
		if ctx.Err() != nil {
			return nil, errAborted
		}
		st := m.States[name]
		out, next, f := x.runState(ctx, st, input, th, sc, resume)
		resume = nil
		if f != nil {
			return nil, f
		}
		if next == "" {
			return out, nil
		}
		if th == x.main {
			if err := x.checkpoint(ctx, next, out); err != nil {
				return nil, fail(ErrRuntime, "checkpoint: "+err.Error())
			}
		}
		name, input = next, out
	}
}

// resumePoint carries what a restarted execution knows about the state it
// resumes in: when it was entered and the task token it already issued.
type resumePoint struct {
	entered time.Time
	token   string
}

func (x *execution) stateEvent(th *thread, st *State, suffix, key string, v any) int64 {
	if !x.hist.record {
		return x.hist.bump(th) // no details to build: EXPRESS keeps no history
	}
	return x.hist.add(th, x.ex.clock.Now(), st.Type+suffix, key, func() map[string]any {
		d := map[string]any{"name": st.Name}
		if suffix == "StateEntered" {
			d["input"] = string(encodeJSON(v))
			d["inputDetails"] = map[string]any{"truncated": false}
		} else {
			d["output"] = string(encodeJSON(v))
			d["outputDetails"] = map[string]any{"truncated": false}
		}
		return d
	})
}

// exitEvent records a state's exit with its output and, when its Assign
// ran, the variables it set (as JSON text, as AWS reports them).
func (x *execution) exitEvent(e *env, out any) {
	st := e.state
	if !x.hist.record || len(e.assigned) == 0 {
		x.stateEvent(e.th, st, "StateExited", "stateExitedEventDetails", out)
		return
	}
	x.hist.add(e.th, x.ex.clock.Now(), st.Type+"StateExited", "stateExitedEventDetails", func() map[string]any {
		vars := make(map[string]any, len(e.assigned))
		for k, v := range e.assigned {
			vars[k] = string(encodeJSON(v))
		}
		return map[string]any{
			"name": st.Name, "output": string(encodeJSON(out)), "outputDetails": map[string]any{"truncated": false},
			"assignedVariables": vars, "assignedVariablesDetails": map[string]any{"truncated": false},
		}
	})
}

func (x *execution) runState(ctx context.Context, st *State, raw any, th *thread, sc *scope, resume *resumePoint) (out any, next string, f *Failure) {
	e := &env{x: x, state: st, th: th, entered: x.ex.clock.Now(), vars: sc, statesInput: raw}
	if resume != nil && !resume.entered.IsZero() {
		e.entered = resume.entered
	}
	if resume != nil {
		e.token = resume.token
		e.resumed = true
	}
	e.enteredPrev = th.last
	e.enteredID = x.stateEvent(th, st, "StateEntered", "stateEnteredEventDetails", raw)
	next = st.Next
	switch st.Type {
	case "Pass":
		out, f = x.runPass(e, raw)
	case "Succeed":
		out, f = x.runSimple(e, raw)
		next = ""
	case "Choice":
		out, next, f = x.runChoice(e, raw)
	case "Wait":
		out, f = x.runWait(ctx, e, raw)
	case "Fail":
		return nil, "", x.runFail(e, raw)
	case "Task", "Parallel", "Map":
		out, next, f = x.runWithRetry(ctx, e, raw)
	}
	if f != nil {
		return nil, "", f
	}
	if jsonSize(out) > PayloadLimit {
		return nil, "", fail(ErrDataLimitExceeded, fmt.Sprintf("The state/task '%s' returned a result with a size exceeding the maximum number of bytes service limit.", st.Name))
	}
	x.exitEvent(e, out)
	return out, next, nil
}

// runtimeFailure reports an I/O or evaluation error inside a state.
func (e *env) runtimeFailure(err error) *Failure {
	name := ErrRuntime
	var ie *ioError
	if errors.As(err, &ie) && ie.name != "" {
		name = ie.name
	}
	f := stateRuntimeError(name, e.state.Name, e.enteredID, err.Error())
	if name == ErrQueryEvaluationError {
		e.evaluationFailed(f, ie)
	}
	return f
}

func (x *execution) runPass(e *env, raw any) (any, *Failure) {
	eff, err := e.state.io.input(raw, e)
	if err != nil {
		return nil, e.runtimeFailure(err)
	}
	if e.state.hasResult {
		eff = e.state.Result
	}
	out, err := e.state.io.output(raw, eff, e)
	if err != nil {
		return nil, e.runtimeFailure(err)
	}
	if err := e.applyAssign(e.state.assign, eff); err != nil {
		return nil, e.runtimeFailure(err)
	}
	return out, nil
}

// runSimple is Succeed: InputPath then OutputPath.
func (x *execution) runSimple(e *env, raw any) (any, *Failure) {
	eff, err := e.state.io.input(raw, e)
	if err != nil {
		return nil, e.runtimeFailure(err)
	}
	out, err := e.state.io.output(raw, eff, e)
	if err != nil {
		return nil, e.runtimeFailure(err)
	}
	return out, nil
}

func (x *execution) runChoice(e *env, raw any) (any, string, *Failure) {
	eff, err := e.state.io.input(raw, e)
	if err != nil {
		return nil, "", e.runtimeFailure(err)
	}
	var matched *choiceRule
	for i := range e.state.choices {
		rule := &e.state.choices[i]
		ok, err := rule.cond.match(eff, e)
		if err != nil {
			return nil, "", e.runtimeFailure(err)
		}
		if ok {
			matched = rule
			break
		}
	}
	next, assign := e.state.Default, e.state.assign
	if matched != nil {
		next, assign = matched.next, matched.assign
	}
	if next == "" {
		return nil, "", fail(ErrNoChoiceMatched, fmt.Sprintf("No Matches! State '%s' has no rule that matches its input and no Default.", e.state.Name))
	}
	var out any
	if matched != nil && matched.output != nil {
		out, err = matched.output.eval(e)
	} else {
		out, err = e.state.io.output(raw, eff, e)
	}
	if err != nil {
		return nil, "", e.runtimeFailure(err)
	}
	if err := e.applyAssign(assign, eff); err != nil {
		return nil, "", e.runtimeFailure(err)
	}
	return out, next, nil
}

func (x *execution) runWait(ctx context.Context, e *env, raw any) (any, *Failure) {
	st := e.state
	eff, err := st.io.input(raw, e)
	if err != nil {
		return nil, e.runtimeFailure(err)
	}
	var until time.Time
	switch {
	case st.secondsExpr != nil:
		v, err := st.secondsExpr.eval(e)
		if err != nil {
			return nil, e.runtimeFailure(err)
		}
		n, ok := toInt(v)
		if !ok || n < 0 {
			return nil, e.runtimeFailure(&ioError{name: ErrQueryEvaluationError, msg: fmt.Sprintf("The JSONata expression '%s' specified for the field 'Seconds' returned an unexpected result type. Expected a non-negative integer, but was %s", st.secondsExpr.source(), encodeJSON(v))})
		}
		until = e.entered.Add(time.Duration(n) * time.Second)
	case st.timestampExpr != nil:
		v, err := st.timestampExpr.eval(e)
		if err != nil {
			return nil, e.runtimeFailure(err)
		}
		s, _ := v.(string)
		t, ok := parseTimestamp(s)
		if !ok {
			return nil, e.runtimeFailure(&ioError{name: ErrQueryEvaluationError, msg: fmt.Sprintf("The JSONata expression '%s' specified for the field 'Timestamp' returned an unexpected result type. Expected a timestamp, but was %s", st.timestampExpr.source(), encodeJSON(v))})
		}
		until = t
	case st.seconds != nil:
		until = e.entered.Add(time.Duration(*st.seconds) * time.Second)
	case st.timestamp != nil:
		until = *st.timestamp
	case st.secondsPath != nil:
		v, ok := st.secondsPath.resolve(eff, e)
		if !ok {
			return nil, e.runtimeFailure(fmt.Errorf("Invalid path '%s' : No results for path: %s", st.secondsPath.text, canonicalPath(st.secondsPath)))
		}
		n, isInt := toInt(v)
		if !isInt {
			return nil, e.runtimeFailure(fmt.Errorf("The SecondsPath parameter cannot be parsed as a long value: %s == %s", st.secondsPath.text, bareValue(v)))
		}
		if n < 0 {
			return nil, e.runtimeFailure(fmt.Errorf("The SecondsPath parameter references a negative value: %s == %d", st.secondsPath.text, n))
		}
		until = e.entered.Add(time.Duration(n) * time.Second)
	case st.timestampPath != nil:
		v, ok := st.timestampPath.resolve(eff, e)
		if !ok {
			return nil, e.runtimeFailure(fmt.Errorf("Invalid path '%s' : No results for path: %s", st.timestampPath.text, canonicalPath(st.timestampPath)))
		}
		s, _ := v.(string)
		t, ok := parseTimestamp(s)
		if !ok {
			return nil, e.runtimeFailure(fmt.Errorf("The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time format string: %s == %s", st.timestampPath.text, encodeJSON(v)))
		}
		until = t
	}
	if err := x.sleepUntil(ctx, until); err != nil {
		return nil, errAborted
	}
	out, err := st.io.output(raw, eff, e)
	if err != nil {
		return nil, e.runtimeFailure(err)
	}
	if err := e.applyAssign(st.assign, eff); err != nil {
		return nil, e.runtimeFailure(err)
	}
	return out, nil
}

// sleepUntil waits on the executor's clock; it returns early when ctx ends.
func (x *execution) sleepUntil(ctx context.Context, t time.Time) error {
	d := t.Sub(x.ex.clock.Now())
	if d <= 0 {
		return ctx.Err()
	}
	if s, ok := x.ex.clock.(Sleeper); ok {
		return s.Sleep(ctx, d)
	}
	timer, stop := x.ex.clock.Timer(d)
	defer stop()
	select {
	case <-timer:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (x *execution) runFail(e *env, raw any) *Failure {
	st := e.state
	f := &Failure{Error: st.errorName, HasError: st.hasError, Cause: st.cause, HasCause: st.hasCause}
	for _, d := range []struct {
		dyn *dynString
		dst *string
		has *bool
	}{{&st.errorPath, &f.Error, &f.HasError}, {&st.causePath, &f.Cause, &f.HasCause}} {
		if d.dyn.p == nil && d.dyn.call == nil && d.dyn.expr == nil {
			continue
		}
		var v any
		if d.dyn.expr != nil {
			var err error
			if v, err = d.dyn.expr.eval(e); err != nil {
				return e.runtimeFailure(err)
			}
		} else if d.dyn.call != nil {
			var err error
			if v, err = d.dyn.call.eval(raw, e); err != nil {
				return e.runtimeFailure(&intrinsicError{field: d.dyn.field, err: err})
			}
		} else {
			var ok bool
			if v, ok = d.dyn.p.resolve(raw, e); !ok {
				return e.runtimeFailure(&pathError{field: d.dyn.field, path: d.dyn.p.text, input: raw})
			}
		}
		s, ok := v.(string)
		if !ok {
			return e.runtimeFailure(fmt.Errorf("The %s value must be a string, but was %s", d.dyn.field, encodeJSON(v)))
		}
		*d.dst, *d.has = s, true
	}
	return f
}

// runWithRetry runs a Task, Parallel or Map state, applying Retry and Catch.
func (x *execution) runWithRetry(ctx context.Context, e *env, raw any) (any, string, *Failure) {
	st := e.state
	attempts := make([]int64, len(st.Retry))
	e.attempts = attempts
	for {
		result, f := x.attempt(ctx, e, raw)
		if f == nil {
			selected, err := st.io.result(result, e)
			if err != nil {
				return nil, "", e.runtimeFailure(err)
			}
			e.statesResult, e.hasResult = selected, true
			out, err := st.io.output(raw, selected, e)
			if err != nil {
				return nil, "", e.runtimeFailure(err)
			}
			if err := e.applyAssign(st.assign, selected); err != nil {
				return nil, "", e.runtimeFailure(err)
			}
			return out, st.Next, nil
		}
		if f == errAborted || ctx.Err() != nil {
			return nil, "", errAborted
		}
		if i := matchRetrier(st.Retry, f); i >= 0 && attempts[i] < st.Retry[i].MaxAttempts {
			r := st.Retry[i]
			delay := r.IntervalSeconds * math.Pow(r.BackoffRate, float64(attempts[i]))
			if r.MaxDelaySeconds > 0 {
				delay = math.Min(delay, r.MaxDelaySeconds)
			}
			if r.JitterFull {
				delay = rand.Float64() * delay
			}
			attempts[i]++
			e.retry++
			e.resumed = false
			e.cx, e.token = nil, ""
			if err := x.sleepUntil(ctx, x.ex.clock.Now().Add(time.Duration(delay*float64(time.Second)))); err != nil {
				return nil, "", errAborted
			}
			continue
		}
		for _, c := range st.Catch {
			if !f.matches(c.ErrorEquals) {
				continue
			}
			errOut := f.output()
			out := errOut
			e.statesError, e.hasError = errOut, true
			if c.output != nil {
				v, err := c.output.eval(e)
				if err != nil {
					return nil, "", e.runtimeFailure(err)
				}
				out = v
			}
			if err := e.applyAssign(c.assign, errOut); err != nil {
				return nil, "", e.runtimeFailure(err)
			}
			switch {
			case c.output != nil:
			case c.resultPath.null:
				out = raw
			case c.resultPath.p != nil:
				v, err := c.resultPath.p.set(raw, out)
				if err != nil {
					return nil, "", stateRuntimeError(ErrResultPathMatchFailure, st.Name, e.enteredID, fmt.Sprintf("Unable to apply ResultPath '%s' to input '%s': %v", c.resultPath.p.text, encodeJSON(raw), err))
				}
				out = v
			}
			return out, c.Next, nil
		}
		return nil, "", f
	}
}

// matchRetrier returns the first retrier whose ErrorEquals matches, or -1.
// Only the first match counts: an exhausted retrier does not fall through.

func matchRetrier(rs []Retrier, f *Failure) int {
	for i, r := range rs {
		if f.matches(r.ErrorEquals) {
			return i
		}
	}
	return -1
}

func (x *execution) attempt(ctx context.Context, e *env, raw any) (any, *Failure) {
	switch e.state.Type {
	case "Task":
		return x.runTask(ctx, e, raw)
	case "Parallel":
		return x.runParallel(ctx, e, raw)
	}
	return x.runMap(ctx, e, raw)
}
