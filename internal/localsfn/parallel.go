package localsfn

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// maxInlineConcurrency is how many iterations an inline Map runs at once
// when MaxConcurrency is 0 (unlimited), as in AWS.
const maxInlineConcurrency = 40

func (x *execution) runParallel(ctx context.Context, e *env, raw any) (any, *Failure) {
	st := e.state
	eff, err := st.io.input(raw, e)
	if err != nil {
		return nil, e.runtimeFailure(err)
	}
	x.hist.add(e.th, x.ex.clock.Now(), "ParallelStateStarted", "", nil)
	bctx, cancel := context.WithCancel(ctx)
	defer cancel()
	results := make([]any, len(st.Branches))
	done, f := x.partials(e)
	if f != nil {
		return nil, f
	}
	var mu sync.Mutex
	var first *Failure
	var firstLast int64 // the failed branch's last event
	var wg sync.WaitGroup
	for i, b := range st.Branches {
		if v, ok := done[i]; ok {
			results[i] = v // finished before a restart
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			th := &thread{last: e.th.last, child: e.th.child}
			sc := e.vars.child()
			out, f := x.runMachine(bctx, b, b.StartAt, eff, th, sc, nil)
			x.releaseScope(sc)
			if f != nil {
				mu.Lock()
				if first == nil && f != errAborted {
					first, firstLast = f, th.last
					cancel()
				}
				mu.Unlock()
				return
			}
			results[i] = out
			x.partialDone(e, i, out)
		}()
	}
	wg.Wait()
	if first != nil && e.willRetry(first) {
		x.hist.follow(e.th, firstLast) // the next attempt follows the failed branch
		return nil, first
	}
	if first != nil {
		// AWS links ParallelStateFailed to the failed branch's last event
		x.hist.addAfter(e.th, firstLast, x.ex.clock.Now(), "ParallelStateFailed", "", nil)
		return nil, first
	}
	if ctx.Err() != nil {
		x.hist.add(e.th, x.ex.clock.Now(), "ParallelStateAborted", "", nil)
		return nil, errAborted
	}
	x.hist.add(e.th, x.ex.clock.Now(), "ParallelStateSucceeded", "", nil)
	return results, nil
}

// mapLimits resolves MaxConcurrency and the tolerated failures, literal or by path.
type mapLimits struct {
	concurrency int
	count       int64   // -1: not set
	percent     float64 // -1: not set
}

// mapLimits resolves MaxConcurrency; the tolerated failures are resolved by
// mapTolerance, after MapStateStarted (AWS fails a negative count there).
func (x *execution) mapLimits(e *env, eff any) (mapLimits, *Failure) {
	st := e.state
	l := mapLimits{concurrency: int(st.MaxConcurrency), count: -1, percent: -1}
	if st.maxConcurrencyPath != nil {
		v, ok := st.maxConcurrencyPath.resolve(eff, e)
		n, isInt := pathInt(v)
		if !ok || !isInt {
			return l, e.runtimeFailure(fmt.Errorf("The MaxConcurrencyPath field refers to value %s which is not a valid integer: %s", quotedValue(v), st.maxConcurrencyPath.text))
		}
		if n < 0 {
			return l, e.runtimeFailure(fmt.Errorf("Expected non-negative integer for MaxConcurrency, got '%d' instead.", n))
		}
		l.concurrency = int(n)
	}
	if v, ok, err := e.numExpr("MaxConcurrency"); err != nil {
		return l, e.runtimeFailure(err)
	} else if ok {
		if v < 0 || v != float64(int64(v)) {
			return l, e.runtimeFailure(&ioError{name: ErrQueryEvaluationError, msg: fmt.Sprintf("MaxConcurrency must be a non-negative integer, got %v", v)})
		}
		l.concurrency = int(v)
	}
	if l.concurrency == 0 || l.concurrency > maxInlineConcurrency {
		l.concurrency = maxInlineConcurrency
	}
	return l, nil
}

// mapTolerance resolves the tolerated failures into l.
func (x *execution) mapTolerance(e *env, eff any, l *mapLimits) *Failure {
	st := e.state
	if st.hasTolerance {
		l.count, l.percent = st.toleratedCount, st.toleratedPercent
		if p := st.toleratedCountPath; p != nil {
			v, ok := p.resolve(eff, e)
			n, isInt := pathInt(v)
			if !ok || !isInt {
				return e.runtimeFailure(fmt.Errorf("The ToleratedFailureCountPath field refers to value %s which is not a valid integer: %s", quotedValue(v), p.text))
			}
			if n < 0 {
				return e.runtimeFailure(fmt.Errorf("ToleratedFailureCount cannot be negative."))
			}
			l.count = n
		}
		if p := st.toleratedPercentPath; p != nil {
			v, ok := p.resolve(eff, e)
			f, isNum := toFloat(v)
			if !ok || !isNum {
				return e.runtimeFailure(fmt.Errorf("The ToleratedFailurePercentagePath field refers to value %s which is not a valid number: %s", encodeJSON(v), p.text))
			}
			if f < 0 || f > 100 {
				return e.runtimeFailure(fmt.Errorf("ToleratedFailurePercentage must be between 0 and 100."))
			}
			l.percent = f
		}
	}
	if v, ok, err := e.numExpr("ToleratedFailureCount"); err != nil {
		return e.runtimeFailure(err)
	} else if ok {
		if v < 0 || v != float64(int64(v)) {
			return e.runtimeFailure(&ioError{name: ErrQueryEvaluationError, msg: "ToleratedFailureCount cannot be negative."})
		}
		l.count = int64(v)
	}
	if v, ok, err := e.numExpr("ToleratedFailurePercentage"); err != nil {
		return e.runtimeFailure(err)
	} else if ok {
		if v < 0 || v > 100 {
			return e.runtimeFailure(&ioError{name: ErrQueryEvaluationError, msg: "ToleratedFailurePercentage must be between 0 and 100."})
		}
		l.percent = v
	}
	return nil
}

func (l mapLimits) exceeded(failed, total int) bool {
	if l.count < 0 && l.percent < 0 {
		return failed > 0
	}
	return (l.count >= 0 && int64(failed) > l.count) ||
		(l.percent >= 0 && float64(failed)*100/float64(total) > l.percent)
}

func (x *execution) runMap(ctx context.Context, e *env, raw any) (any, *Failure) {
	st := e.state
	eff, err := st.io.input(raw, e)
	if err != nil {
		return nil, e.runtimeFailure(err)
	}
	sel, err := st.io.selectItems(eff, e)
	if err != nil {
		f := e.runtimeFailure(err)
		if f.Error == ErrQueryEvaluationError {
			// AWS fails the Map state after the EvaluationFailed event
			x.hist.add(e.th, x.ex.clock.Now(), "MapStateFailed", "", nil)
		}
		return nil, f
	}
	items, ok := sel.([]any)
	if !ok {
		return nil, e.runtimeFailure(fmt.Errorf("Map state input must be an array but was: %s", encodeJSON(sel)))
	}
	limits, f := x.mapLimits(e, eff)
	if f != nil {
		return nil, f
	}
	x.hist.add(e.th, x.ex.clock.Now(), "MapStateStarted", "mapStateStartedEventDetails", func() map[string]any {
		return map[string]any{"length": len(items)}
	})
	if f := x.mapTolerance(e, eff, &limits); f != nil {
		return nil, f
	}
	if st.distributed {
		x.hist.add(e.th, x.ex.clock.Now(), "MapRunStarted", "mapRunStartedEventDetails", func() map[string]any {
			return map[string]any{"mapRunArn": x.mapRunArn(st)}
		})
	}
	mctx, cancel := context.WithCancel(ctx)
	defer cancel()
	results := make([]any, len(items))
	done, f := x.partials(e)
	if f != nil {
		return nil, f
	}
	var mu sync.Mutex
	var first *Failure
	failed := 0
	// AWS links an iteration's MapIterationStarted to the last state event
	// of the iteration that ended before it (mapLast), MapStateSucceeded to
	// the last MapIteration* event (lastEnd), and MapStateFailed to the
	// failing iteration's last state event (firstLast).
	mapLast, lastEnd := x.hist.last(e.th), x.hist.last(e.th)
	var firstLast int64
	sem := make(chan struct{}, limits.concurrency)
	var wg sync.WaitGroup
	for i, item := range items {
		if v, ok := done[i]; ok {
			results[i] = v // finished before a restart
			continue
		}
		select {
		case sem <- struct{}{}:
		case <-mctx.Done():
		}
		if mctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			ie := &env{x: x, state: st, th: e.th, entered: e.entered, enteredID: e.enteredID, retry: e.retry, item: &mapItem{index: i, value: item}, vars: e.vars, statesInput: e.statesInput}
			in, err := st.io.itemInput(eff, item, ie)
			var out any
			var f *Failure
			mu.Lock()
			th := &thread{last: mapLast, child: e.th.child}
			mu.Unlock()
			if st.distributed {
				// each iteration is a child execution with its own history,
				// whose first event (ExecutionStarted) is id 1
				th = &thread{child: &history{next: 1}}
			}
			if err != nil {
				f = e.runtimeFailure(err)
			} else {
				x.iterationEvent(st, th, "MapIterationStarted", i)
				sc := e.vars.child()
				out, f = x.runMachine(mctx, st.Processor, st.Processor.StartAt, in, th, sc, nil)
				x.releaseScope(sc)
			}
			mu.Lock()
			defer mu.Unlock()
			innerLast := x.hist.last(th)
			if f == nil {
				results[i] = out
				x.partialDone(e, i, out)
				lastEnd = x.iterationEvent(st, th, "MapIterationSucceeded", i)
				mapLast = innerLast
				return
			}
			if f == errAborted {
				return
			}
			lastEnd = x.iterationEvent(st, th, "MapIterationFailed", i)
			mapLast = innerLast
			if !f.retriable() {
				if first == nil {
					first, firstLast = f, innerLast
					cancel()
				}
				return
			}
			failed++
			results[i] = f.output()
			if first == nil && limits.exceeded(failed, len(items)) {
				if limits.count >= 0 || limits.percent >= 0 {
					first = fail(ErrExceedToleratedFailureThreshold, "The specified tolerated failure threshold was exceeded")
				} else {
					first = f
				}
				firstLast = innerLast
				cancel()
			}
		}()
	}
	wg.Wait()
	if st.distributed {
		// the parent's history shows the Map Run, not its child executions
		switch {
		case first != nil:
			firstLast = x.hist.add(e.th, x.ex.clock.Now(), "MapRunFailed", "mapRunFailedEventDetails", func() map[string]any {
				return failureDetails(first)
			})
		case ctx.Err() != nil:
			x.hist.add(e.th, x.ex.clock.Now(), "MapRunAborted", "", nil)
		default:
			lastEnd = x.hist.add(e.th, x.ex.clock.Now(), "MapRunSucceeded", "", nil)
		}
	}
	if first != nil && e.willRetry(first) {
		x.hist.follow(e.th, firstLast) // the next attempt follows the failed iteration
		return nil, first
	}
	if first != nil {
		x.hist.addAfter(e.th, firstLast, x.ex.clock.Now(), "MapStateFailed", "", nil)
		return nil, first
	}
	if ctx.Err() != nil {
		x.hist.add(e.th, x.ex.clock.Now(), "MapStateAborted", "", nil)
		return nil, errAborted
	}
	// MapStateSucceeded does not move the thread: MapStateExited follows
	// the same event.
	x.hist.addAfter(&thread{child: e.th.child}, lastEnd, x.ex.clock.Now(), "MapStateSucceeded", "", nil)
	x.hist.follow(e.th, lastEnd)
	return results, nil
}

// partials returns the branch or iteration results a top-level Parallel or
// Map state of a durable execution finished before a restart, and forgets
// those of an earlier entry or attempt when the state starts afresh.
func (x *execution) partials(e *env) (map[int]any, *Failure) {
	if !x.durable || e.th != x.main {
		return nil, nil
	}
	ctx := context.WithoutCancel(x.ex.ctx)
	if !e.resumed {
		if err := clearPartials(ctx, x.ex.db, x.arn); err != nil {
			return nil, fail(ErrRuntime, err.Error())
		}
		return nil, nil
	}
	done, err := loadPartials(ctx, x.ex.db, x.arn, e.state.Name)
	if err != nil {
		return nil, fail(ErrRuntime, err.Error())
	}
	return done, nil
}

// partialDone records a finished branch or iteration of a top-level state.
// Rows are written in batches: when 64 are pending or 50 ms after the first
// one, so a Map of many quick iterations costs a few transactions, not one
// per item. A row not yet written when the process dies, or a failed write,
// only costs re-running that iteration after the restart; rows written after
// the state ended are harmless (the next checkpoint deletes them and a
// resume reads only the rows of the state it resumes in).
func (x *execution) partialDone(e *env, i int, out any) {
	if !x.durable || e.th != x.main {
		return
	}
	x.partialMu.Lock()
	x.pendingPartials = append(x.pendingPartials, partialRow{state: e.state.Name, index: i, output: string(encodeJSON(out))})
	n := len(x.pendingPartials)
	if n == 1 {
		time.AfterFunc(partialFlushDelay, x.flushPartials) // real time: this batches I/O, it is not workflow time
	}
	x.partialMu.Unlock()
	if n >= partialBatch {
		x.flushPartials()
	}
}

const (
	partialBatch      = 64
	partialFlushDelay = 50 * time.Millisecond
)

// flushPartials writes the pending rows in one transaction.
func (x *execution) flushPartials() {
	x.partialFlush.Lock() // one writer at a time, in order
	defer x.partialFlush.Unlock()
	x.partialMu.Lock()
	batch := x.pendingPartials
	x.pendingPartials = nil
	x.partialMu.Unlock()
	if len(batch) == 0 {
		return
	}
	if err := savePartials(context.WithoutCancel(x.ex.ctx), x.ex.db, x.arn, batch); err != nil {
		x.ex.log.Warn("record finished iterations", "execution", x.arn, "state", batch[0].state, "err", err)
	}
}

// partialRow is one finished iteration or branch waiting to be written.
type partialRow struct {
	state  string
	index  int
	output string
}

// iterationEvent records an inline Map iteration's MapIteration* event (a
// DISTRIBUTED Map's iterations are child executions: none is recorded).
func (x *execution) iterationEvent(st *State, th *thread, typ string, i int) int64 {
	if st.distributed {
		return 0
	}
	return x.hist.add(th, x.ex.clock.Now(), typ, lowerFirst(typ)+"EventDetails", func() map[string]any {
		return map[string]any{"name": st.Name, "index": i}
	})
}

// mapRunArn names a DISTRIBUTED Map's run: the state machine, the state's
// Label (else its name) and a unique id.
func (x *execution) mapRunArn(st *State) string {
	label := st.label
	if label == "" {
		label = st.Name
	}
	return fmt.Sprintf("arn:aws:states:%s:%s:mapRun:%s/%s:%s", x.ex.region, x.ex.account, x.rec.name, label, newUUID())
}

// failureDetails are the {error, cause} of a failure event.
func failureDetails(f *Failure) map[string]any {
	d := map[string]any{}
	if f.HasError {
		d["error"] = f.Error
	}
	if f.HasCause {
		d["cause"] = f.Cause
	}
	return d
}
