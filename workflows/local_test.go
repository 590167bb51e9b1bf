package workflows

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/steps"
)

// callbacks records token completions.
type callbacks struct {
	mu   sync.Mutex
	done chan string
	got  map[string]string // token → "success:<json>" or "failure:<error>:<cause>"
}

func newCallbacks() *callbacks {
	return &callbacks{done: make(chan string, 10), got: map[string]string{}}
}

func (c *callbacks) SendTaskSuccess(_ context.Context, token string, out json.RawMessage) error {
	c.mu.Lock()
	c.got[token] = "success:" + string(out)
	c.mu.Unlock()
	c.done <- token
	return nil
}

func (c *callbacks) SendTaskFailure(_ context.Context, token, name, cause string) error {
	c.mu.Lock()
	c.got[token] = "failure:" + name + ":" + cause
	c.mu.Unlock()
	c.done <- token
	return nil
}

func (c *callbacks) wait(t *testing.T, token string) string {
	t.Helper()
	select {
	case got := <-c.done:
		if got != token {
			t.Fatalf("completed %s, want %s", got, token)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("token %s never completed", token)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.got[token]
}

func call(t *testing.T, hs map[string]Handler, fn string, payload string) (map[string]any, error) {
	t.Helper()
	h := hs[fn]
	if h == nil {
		t.Fatalf("no handler %s", fn)
	}
	out, err := h(context.Background(), json.RawMessage(payload))
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatalf("%s returned %s: %v", fn, out, err)
	}
	return m, nil
}

func TestChecks(t *testing.T) {
	hs := LocalHandlers(newCallbacks())
	pr := func(check, fields string) string {
		return `{"step":"x","kind":"pr.checks","check":"` + check + `","execution":"e1","input":{"pull_request":{` + fields + `}},"steps":{}}`
	}
	tests := []struct {
		check, payload string
		ok             bool
		msg            string
	}{
		{"title", pr("title", `"title":"feat(cli): add graph"`), true, "Conventional"},
		{"title", pr("title", `"title":"Add graph"`), false, "does not follow"},
		{"diff_size", pr("diff_size", `"additions":600,"deletions":300`), true, "900 changed lines"},
		{"diff_size", pr("diff_size", `"additions":600,"deletions":500`), false, "over the limit of 1000"},
		{"labels", pr("labels", `"labels":[{"name":"bug"}]`), true, "no blocking"},
		{"labels", pr("labels", `"labels":[{"name":"WIP"}]`), false, "blocking label"},
		{"mergeable", pr("mergeable", `"mergeable":true,"mergeable_state":"clean"`), true, "mergeable"},
		{"mergeable", pr("mergeable", `"mergeable":false`), false, "conflicts"},
	}
	for _, tt := range tests {
		t.Run(tt.check+"/"+tt.msg, func(t *testing.T) {
			got, err := call(t, hs, "ai3-step", tt.payload)
			if err != nil {
				t.Fatal(err)
			}
			if got["ok"] != tt.ok || !strings.Contains(got["message"].(string), tt.msg) {
				t.Errorf("got %v, want ok=%v and %q", got, tt.ok, tt.msg)
			}
		})
	}
	// Mergeability not computed yet is a transient error, which checks retries.
	_, err := call(t, hs, "ai3-step", pr("mergeable", `"mergeable":null`))
	var te *steps.TransientError
	if !errors.As(err, &te) {
		t.Errorf("mergeable null: got %v, want a TransientError", err)
	}
	// No pull request: a clear input error.
	_, err = call(t, hs, "ai3-step", `{"kind":"pr.checks","check":"title","input":{}}`)
	var ie *steps.InputError
	if !errors.As(err, &ie) {
		t.Errorf("no pull_request: got %v, want an InputError", err)
	}
}

func TestChecksSummary(t *testing.T) {
	hs := LocalHandlers(newCallbacks())
	got, err := call(t, hs, "ai3-step", `{"kind":"go","func":"checks.summary","steps":{
		"title":{"output":{"ok":true,"message":"fine"}},
		"labels":{"output":{"ok":false,"message":"blocking label \"wip\""}}}}`)
	if err != nil {
		t.Fatal(err)
	}
	if got["conclusion"] != "failure" || !strings.Contains(got["summary"].(string), "❌ labels") {
		t.Errorf("summary %v", got)
	}
}

func TestActionsCompleteTheirTokenAsynchronously(t *testing.T) {
	cb := newCallbacks()
	hs := LocalHandlers(cb)
	out, err := call(t, hs, "ai3-step", `{"step":"unit","kind":"github.actions","workflow_file":"ci.yml","inputs":{"job":"unit"},"TaskToken":"tok-1","input":{}}`)
	if err != nil || out["dispatched"] != "ci.yml" {
		t.Fatalf("dispatch: %v %v", out, err)
	}
	if got := cb.wait(t, "tok-1"); got != `success:{"conclusion":"success","inputs":{"job":"unit"},"workflow_file":"ci.yml"}` {
		t.Errorf("callback %s", got)
	}
	if _, err := call(t, hs, "ai3-step", `{"step":"lint","kind":"github.actions","workflow_file":"ci.yml","TaskToken":"tok-2","input":{"simulate":{"fail":["lint"]}}}`); err != nil {
		t.Fatal(err)
	}
	if got := cb.wait(t, "tok-2"); !strings.HasPrefix(got, "failure:ai3.ActionsFailed:") {
		t.Errorf("callback %s", got)
	}
	if _, err := call(t, hs, "ai3-step", `{"kind":"github.actions","workflow_file":"ci.yml","input":{}}`); err == nil {
		t.Error("github.actions without a token succeeded")
	}
}

func TestApproval(t *testing.T) {
	cb := newCallbacks()
	hs := LocalHandlers(cb)
	if _, err := call(t, hs, "ai3-step", `{"kind":"approval","TaskToken":"a1","input":{"approval":"auto"}}`); err != nil {
		t.Fatal(err)
	}
	if got := cb.wait(t, "a1"); !strings.HasPrefix(got, `success:{"approved":true`) {
		t.Errorf("auto approval: %s", got)
	}
	if _, err := call(t, hs, "ai3-step", `{"kind":"approval","TaskToken":"a2","input":{"approval":"reject"}}`); err != nil {
		t.Fatal(err)
	}
	if got := cb.wait(t, "a2"); got != "failure:ai3.ApprovalRejected:the release was rejected" {
		t.Errorf("rejection: %s", got)
	}
	// Without instructions the approval waits for a person: nothing completes.
	if _, err := call(t, hs, "ai3-step", `{"kind":"approval","TaskToken":"a3","input":{}}`); err != nil {
		t.Fatal(err)
	}
	select {
	case tok := <-cb.done:
		t.Errorf("token %s completed without a person", tok)
	case <-time.After(100 * time.Millisecond):
	}
}

func TestSimulatedTransientFailuresThenSuccess(t *testing.T) {
	hs := LocalHandlers(newCallbacks())
	p := `{"step":"smoke_test","kind":"http.check","url":"https://staging.example","execution":"e9","input":{"simulate":{"transient":{"smoke_test":2}}}}`
	for i := range 2 {
		_, err := call(t, hs, "ai3-step", p)
		var te *steps.TransientError
		if !errors.As(err, &te) {
			t.Fatalf("attempt %d: got %v, want a TransientError", i+1, err)
		}
	}
	got, err := call(t, hs, "ai3-step", p)
	if err != nil {
		t.Fatal(err)
	}
	if got["url"] != "https://staging.example" || got["simulated"] != true {
		t.Errorf("smoke test %v", got)
	}
	if _, err := call(t, hs, "ai3-step", `{"step":"smoke_test","kind":"http.check","input":{"simulate":{"fail":["smoke_test"]}}}`); err == nil {
		t.Error("simulated smoke test failure succeeded")
	}
}
