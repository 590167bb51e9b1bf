package localsfn

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"sync"
)

// tokenRegistry holds the task tokens that executions are waiting on.
type tokenRegistry struct {
	mu      sync.Mutex
	waiters map[string]*tokenWaiter
	// expired remembers the latest tokens whose task timed out, so a late
	// SendTask* answers TaskTimedOut as AWS does (not TaskDoesNotExist).
	expired     map[string]bool
	expiredList []string
}

// expiredKept is how many timed-out tokens the registry remembers.
const expiredKept = 10000

func (r *tokenRegistry) expire(token string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.expired[token] {
		return
	}
	r.expired[token] = true
	r.expiredList = append(r.expiredList, token)
	if len(r.expiredList) > expiredKept {
		delete(r.expired, r.expiredList[0])
		r.expiredList = r.expiredList[1:]
	}
}

func (r *tokenRegistry) timedOut(token string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.expired[token]
}

type tokenWaiter struct {
	execution string
	result    chan invokeResult
	heartbeat chan struct{}
}

func newTokenRegistry() *tokenRegistry {
	return &tokenRegistry{waiters: map[string]*tokenWaiter{}, expired: map[string]bool{}}
}

func (r *tokenRegistry) register(token, execution string) *tokenWaiter {
	r.mu.Lock()
	defer r.mu.Unlock()
	w := &tokenWaiter{execution: execution, result: make(chan invokeResult, 1), heartbeat: make(chan struct{}, 1)}
	r.waiters[token] = w
	return w
}

func (r *tokenRegistry) remove(token string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.waiters, token)
}

func (r *tokenRegistry) take(token string) *tokenWaiter {
	r.mu.Lock()
	defer r.mu.Unlock()
	w := r.waiters[token]
	delete(r.waiters, token)
	return w
}

func (r *tokenRegistry) get(token string) *tokenWaiter {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.waiters[token]
}

func (w *tokenWaiter) deliver(res invokeResult) {
	select {
	case w.result <- res:
	default:
	}
}

func (e *Executor) newToken() string {
	var b [48]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// SendTaskSuccess completes the task waiting on token with output (JSON).
func (e *Executor) SendTaskSuccess(ctx context.Context, token string, output json.RawMessage) error {
	v, err := decodeJSON(output)
	if err != nil {
		return fmt.Errorf("send task success: the output is not valid JSON (%v): %w", err, ErrInvalidOutput)
	}
	if len(output) > PayloadLimit {
		return fmt.Errorf("send task success: the output is larger than 256 KB: %w", ErrInvalidOutput)
	}
	return e.completeToken(ctx, token, invokeResult{out: v}, string(output))
}

// SendTaskFailure fails the task waiting on token with an error name and cause.
func (e *Executor) SendTaskFailure(ctx context.Context, token, errName, cause string) error {
	return e.completeToken(ctx, token, invokeResult{f: &Failure{Error: errName, Cause: cause, HasError: errName != "", HasCause: cause != ""}}, "")
}

// SendTaskHeartbeat tells the task waiting on token that its worker is alive.
func (e *Executor) SendTaskHeartbeat(ctx context.Context, token string) error {
	if e.tokens.timedOut(token) {
		return fmt.Errorf("send task heartbeat: %w", ErrTaskTimedOut)
	}
	if w := e.tokens.get(token); w != nil {
		select {
		case w.heartbeat <- struct{}{}:
		default:
		}
		return nil
	}
	if e.db != nil {
		if ok, err := tokenPending(ctx, e.db, token); err != nil || ok {
			return err
		}
	}
	return fmt.Errorf("send task heartbeat: %w", ErrTaskDoesNotExist)
}

func (e *Executor) completeToken(ctx context.Context, token string, res invokeResult, output string) error {
	if e.tokens.timedOut(token) {
		return fmt.Errorf("complete task token: %w", ErrTaskTimedOut)
	}
	if e.db != nil {
		// Record the result first, so it survives a restart before delivery.
		ok, err := completeStoredToken(ctx, e.db, token, res, output)
		if err != nil {
			return err
		}
		if ok {
			if w := e.tokens.take(token); w != nil {
				w.deliver(res)
			}
			return nil
		}
	}
	if w := e.tokens.take(token); w != nil {
		w.deliver(res)
		return nil
	}
	return fmt.Errorf("complete task token: %w", ErrTaskDoesNotExist)
}

// pendingResult returns a result that arrived for token while nobody waited
// (before a restart).
func (e *Executor) pendingResult(ctx context.Context, token string) (invokeResult, bool) {
	if e.db == nil {
		return invokeResult{}, false
	}
	res, ok, err := storedTokenResult(ctx, e.db, token)
	if err != nil {
		e.log.Error("read task token", "err", err)
		return invokeResult{}, false
	}
	return res, ok
}
