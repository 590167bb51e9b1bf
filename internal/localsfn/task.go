package localsfn

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Handler runs one Lambda function in-process: it gets the invocation
// payload and returns the function's response. An error fails the task with
// the error's type name as the ASL error (see TaskError to choose one).
type Handler func(ctx context.Context, input json.RawMessage) (json.RawMessage, error)

const (
	lambdaInvoke      = "arn:aws:states:::lambda:invoke"
	waitForTaskToken  = ".waitForTaskToken"
	noTimeout         = 99999999 // AWS's default TimeoutSeconds for a Task
	lambdaResourceTyp = "lambda"
)

// taskKind is how a Task state's Resource is run.
type taskKind int

const (
	taskDirect taskKind = iota // arn:aws:lambda:…:function:NAME
	taskInvoke                 // arn:aws:states:::lambda:invoke
	taskToken                  // arn:aws:states:::lambda:invoke.waitForTaskToken
	taskOther                  // any other resource: a handler registered under the full ARN
)

func classify(resource string) taskKind {
	switch {
	case resource == lambdaInvoke:
		return taskInvoke
	case resource == lambdaInvoke+waitForTaskToken:
		return taskToken
	case strings.HasPrefix(resource, "arn:aws:lambda:") && strings.Contains(resource, ":function:"):
		return taskDirect
	}
	return taskOther
}

// functionName extracts NAME from a function name, a name with a qualifier,
// a partial ARN or a full ARN.
func functionName(s string) string {
	if strings.HasPrefix(s, "arn:") {
		parts := strings.Split(s, ":")
		if len(parts) >= 7 {
			return parts[6]
		}
		return s
	}
	if i := strings.Index(s, ":function:"); i >= 0 {
		s = s[i+len(":function:"):]
	}
	name, _, _ := strings.Cut(s, ":")
	return name
}

func (x *execution) functionARN(name string) string {
	return fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", x.ex.region, x.ex.account, name)
}

func (x *execution) runTask(ctx context.Context, e *env, raw any) (any, *Failure) {
	st := e.state
	kind := classify(st.Resource)
	resumedToken := e.token
	if kind == taskToken && e.token == "" {
		e.token = x.ex.newToken()
	}
	eff, err := st.io.input(raw, e)
	if err != nil {
		return nil, e.runtimeFailure(err)
	}
	timeout, heartbeat, f := x.taskTimeouts(e, raw)
	if f != nil {
		return nil, f
	}
	var handler Handler
	var payload any
	var fname, fref string // the function's name, and the reference as the machine gave it
	switch kind {
	case taskDirect:
		fref = st.Resource
		fname, payload = functionName(fref), eff
	case taskInvoke, taskToken:
		m, ok := eff.(map[string]any)
		fn, _ := m["FunctionName"].(string)
		if !ok || fn == "" {
			return nil, e.runtimeFailure(fmt.Errorf("The field 'FunctionName' is required by the resource '%s'", st.Resource))
		}
		fref, fname = fn, functionName(fn)
		if payload, ok = m["Payload"]; !ok {
			payload = map[string]any{}
		}
	default:
		fname, payload = st.Resource, eff
	}
	handler = x.ex.handlers[fname]
	if handler == nil && kind != taskOther {
		handler = x.ex.handlers[x.functionARN(fname)]
	}
	if handler == nil && kind != taskOther && x.ex.lambdaEndpoint != "" {
		handler = HTTPFunction(x.ex.httpClient, lambdaInvokeURL(x.ex.lambdaEndpoint, fname))
	}
	prefix, key := "Task", "task"
	if kind == taskDirect {
		prefix, key = "LambdaFunction", "lambdaFunction"
	}
	x.hist.add(e.th, x.ex.clock.Now(), prefix+"Scheduled", key+"ScheduledEventDetails", func() map[string]any {
		d := map[string]any{"resourceType": lambdaResourceTyp, "resource": strings.TrimPrefix(st.Resource, "arn:aws:states:::lambda:"), "region": x.ex.region, "parameters": string(encodeJSON(eff))}
		if kind == taskDirect {
			d = map[string]any{"resource": st.Resource, "input": string(encodeJSON(eff))}
		}
		if timeout != noTimeout {
			d["timeoutInSeconds"] = timeout
		}
		return d
	})
	if handler == nil {
		if kind == taskOther {
			return nil, x.taskFailed(e, prefix, key, stateRuntimeError(ErrRuntime, st.Name, e.enteredID, fmt.Sprintf("The resource '%s' is not supported by the embedded executor and no handler is registered for it.", st.Resource)))
		}
		missing := x.functionARN(fname)
		if strings.HasPrefix(fref, "arn:") {
			missing = fref // AWS names the function as the machine did, account and region included
		}
		return nil, x.taskFailed(e, prefix, key, fail(ErrLambdaNotFound, fmt.Sprintf("Function not found: %s (Service: AWSLambda; Status Code: 404; Error Code: ResourceNotFoundException; Request ID: %s; Proxy: null)", missing, newUUID())))
	}
	x.hist.add(e.th, x.ex.clock.Now(), prefix+"Started", "", nil)

	var deadline <-chan time.Time // nil: no deadline, and no timer to keep
	if timeout != noTimeout {
		var stop func()
		deadline, stop = x.ex.clock.Timer(time.Duration(timeout) * time.Second)
		defer stop()
	}
	var result any
	if kind == taskToken {
		w := x.ex.tokens.register(e.token, x.arn)
		defer x.ex.tokens.remove(e.token)
		if resumedToken == "" {
			if e.th == x.main { // a token issued inside a Map or Parallel is not resumable on its own
				if err := x.onToken(ctx, e.token); err != nil {
					return nil, fail(ErrRuntime, "persist task token: "+err.Error())
				}
			}
			if _, f := x.invoke(ctx, handler, payload, deadline); f != nil {
				return nil, x.taskFailed(e, prefix, key, f)
			}
		}
		// A resumed task was submitted before the restart: its history, lost
		// with the process, is written again as it was.
		x.hist.add(e.th, x.ex.clock.Now(), "TaskSubmitted", "taskSubmittedEventDetails", func() map[string]any {
			return map[string]any{"resourceType": lambdaResourceTyp, "resource": "invoke.waitForTaskToken"}
		})
		if done, ok := x.ex.pendingResult(ctx, e.token); ok {
			w.deliver(done)
		}
		r, f := x.awaitToken(ctx, w, deadline, heartbeat)
		if f != nil && (f.Error == ErrTimeout || f.Error == ErrHeartbeatTimeout) {
			x.ex.tokens.expire(e.token)
		}
		if f != nil {
			return nil, x.taskFailed(e, prefix, key, f)
		}
		result = r
	} else {
		out, f := x.invoke(ctx, handler, payload, deadline)
		if f != nil {
			return nil, x.taskFailed(e, prefix, key, f)
		}
		result = out
		if kind == taskInvoke {
			result = map[string]any{
				"ExecutedVersion":     "$LATEST",
				"Payload":             out,
				"SdkHttpMetadata":     map[string]any{"HttpHeaders": map[string]any{"Content-Type": "application/json", "X-Amz-Executed-Version": "$LATEST"}, "HttpStatusCode": num(200)},
				"SdkResponseMetadata": map[string]any{"RequestId": newUUID()},
				"StatusCode":          num(200),
			}
		}
	}
	if jsonSize(result) > PayloadLimit {
		return nil, x.taskFailed(e, prefix, key, fail(ErrDataLimitExceeded, fmt.Sprintf("The state/task '%s' returned a result with a size exceeding the maximum number of bytes service limit.", st.Name)))
	}
	x.hist.add(e.th, x.ex.clock.Now(), prefix+"Succeeded", key+"SucceededEventDetails", func() map[string]any {
		return map[string]any{"output": string(encodeJSON(result))}
	})
	return result, nil
}

func (x *execution) taskFailed(e *env, prefix, key string, f *Failure) *Failure {
	typ := prefix + "Failed"
	if f.Error == ErrTimeout || f.Error == ErrHeartbeatTimeout {
		typ = prefix + "TimedOut"
	}
	x.hist.add(e.th, x.ex.clock.Now(), typ, key+strings.TrimPrefix(typ, prefix)+"EventDetails", func() map[string]any {
		d := map[string]any{}
		if f.HasError {
			d["error"] = f.Error
		}
		if f.HasCause {
			d["cause"] = f.Cause
		}
		return d
	})
	return f
}

// taskTimeouts resolves TimeoutSeconds(Path) and HeartbeatSeconds(Path).
func (x *execution) taskTimeouts(e *env, raw any) (int64, int64, *Failure) {
	st := e.state
	timeout, heartbeat := st.TimeoutSeconds, st.HeartbeatSeconds
	for _, p := range []struct {
		path *path
		dst  *int64
		name string
	}{{st.timeoutPath, &timeout, "TimeoutSecondsPath"}, {st.heartbeatPath, &heartbeat, "HeartbeatSecondsPath"}} {
		if p.path == nil {
			continue
		}
		v, ok := p.path.resolve(raw, e)
		n, isInt := toInt(v)
		if !ok || !isInt || n <= 0 {
			return 0, 0, e.runtimeFailure(fmt.Errorf("The %s field must reference a positive integer: %s == %s", p.name, p.path.text, encodeJSON(v)))
		}
		*p.dst = n
	}
	for _, f := range []struct {
		key string
		dst *int64
	}{{"TimeoutSeconds", &timeout}, {"HeartbeatSeconds", &heartbeat}} {
		v, ok, err := e.numExpr(f.key)
		if err != nil {
			return 0, 0, e.runtimeFailure(err)
		}
		if ok {
			if v <= 0 || v != float64(int64(v)) {
				return 0, 0, e.runtimeFailure(&ioError{name: ErrQueryEvaluationError, msg: fmt.Sprintf("The %s field must be a positive integer, got %v", f.key, v)})
			}
			*f.dst = int64(v)
		}
	}
	if timeout == 0 {
		timeout = noTimeout
	}
	return timeout, heartbeat, nil
}

type invokeResult struct {
	out any
	f   *Failure
}

// invoke calls a handler and waits for it, the task's deadline, or the end
// of the execution.
func (x *execution) invoke(ctx context.Context, h Handler, payload any, deadline <-chan time.Time) (any, *Failure) {
	hctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan invokeResult, 1)
	in := encodeJSON(payload)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				done <- invokeResult{f: fail(ErrLambdaUnknown, fmt.Sprintf("The function panicked: %v", r))}
			}
		}()
		out, err := h(hctx, in)
		if err != nil {
			done <- invokeResult{f: handlerFailure(err)}
			return
		}
		if len(out) == 0 {
			done <- invokeResult{}
			return
		}
		v, derr := decodeJSON(out)
		if derr != nil {
			v = string(out) // Lambda passes a response that is not JSON on as a string
		}
		done <- invokeResult{out: v}
	}()
	select {
	case r := <-done:
		return r.out, r.f
	case <-deadline:
		return nil, fail(ErrTimeout, "")
	case <-ctx.Done():
		return nil, errAborted
	}
}

// awaitToken waits for SendTaskSuccess/Failure on the token, renewing the
// heartbeat deadline on every SendTaskHeartbeat.
func (x *execution) awaitToken(ctx context.Context, w *tokenWaiter, deadline <-chan time.Time, heartbeat int64) (any, *Failure) {
	var hb <-chan time.Time
	stopHB := func() {}
	defer func() { stopHB() }()
	if heartbeat > 0 {
		hb, stopHB = x.ex.clock.Timer(time.Duration(heartbeat) * time.Second)
	}
	for {
		select {
		case r := <-w.result:
			return r.out, r.f
		case <-w.heartbeat:
			if heartbeat > 0 {
				stopHB()
				hb, stopHB = x.ex.clock.Timer(time.Duration(heartbeat) * time.Second)
			}
		case <-hb:
			return nil, fail(ErrHeartbeatTimeout, "")
		case <-deadline:
			return nil, fail(ErrTimeout, "")
		case <-ctx.Done():
			return nil, errAborted
		}
	}
}
