package localsfn

// evaluationFailed records AWS's EvaluationFailed event for a failed
// JSONata evaluation: it follows the event before the state was entered,
// and the state's next event follows it.
func (e *env) evaluationFailed(f *Failure, ie *ioError) {
	x := e.x
	x.hist.addAfter(e.th, e.enteredPrev, x.ex.clock.Now(), "EvaluationFailed", "evaluationFailedEventDetails", func() map[string]any {
		d := map[string]any{"error": f.Error, "cause": f.Cause, "state": e.state.Name}
		if ie != nil && ie.location != "" {
			d["location"] = ie.location
		}
		return d
	})
}

// willRetry says whether the state's Retry will run it again after f
// (Parallel and Map record no Failed event for an attempt that is retried).
func (e *env) willRetry(f *Failure) bool {
	if f == errAborted {
		return false
	}
	i := matchRetrier(e.state.Retry, f)
	return i >= 0 && i < len(e.attempts) && e.attempts[i] < e.state.Retry[i].MaxAttempts
}
