package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/jobs"
	"github.com/sbalswa/ai3-mvp/internal/sandbox"
	"github.com/sbalswa/ai3-mvp/internal/tokens"
)

// Sandbox control: what a person does on github.com in a browser, for the
// stand-in (`ai3 send comment`, demos, end-to-end tests). Only in sandbox
// mode, under /sandbox/control/.
//
//	POST /sandbox/control/pulls     {"repo","title","user","head","additions","deletions","labels","conflicting"} → {"number"}
//	POST /sandbox/control/comments  {"repo","issue","user","body"}                       → {"id"} (delivers issue_comment)
//	POST /sandbox/control/users     {"login","member","permission","repo","logged_in","login_expired"} → {"id","login"}
//	POST /sandbox/control/actions   {"repo","workflow_file","conclusion"}                → 204
//	POST /sandbox/control/signin    {"login"}                                            → 204 (the browser's GitHub user for /oauth/login)
//	POST /sandbox/control/faults    {"method","path","count","status","delay_ms"}        → 204 (path as path.Match reads it, from the stand-in's root)
//	GET  /sandbox/control/writes                                                         → [{method,path,token,login,...}]
//	GET  /sandbox/control/runs                                                           → [{ID,Repo,Workflow,DisplayTitle,Status,...}] (persisted)
func mountSandboxControl(env *devEnv, sb *sandbox.Sandbox) {
	handleLocal(env, "POST /sandbox/control/pulls", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Repo, Title, User, Head string
			Additions, Deletions    int
			Labels                  []string
			Conflicting             bool
		}
		if !decode(w, r, &in) {
			return
		}
		n, err := sb.CreatePull(in.Repo, sandbox.PullOptions{Title: in.Title, User: in.User, Head: in.Head,
			Additions: in.Additions, Deletions: in.Deletions, Labels: in.Labels, Conflicting: in.Conflicting})
		answer(w, map[string]any{"number": n}, err)
	})
	handleLocal(env, "POST /sandbox/control/comments", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Repo  string
			Issue int
			User  string
			Body  string
		}
		if !decode(w, r, &in) {
			return
		}
		sb.EnsureUser(in.User)
		id, err := sb.CommentAs(in.Repo, in.Issue, in.User, in.Body)
		answer(w, map[string]any{"id": id}, err)
	})
	handleLocal(env, "POST /sandbox/control/users", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Login      string
			Member     *bool
			Permission string
			Repo       string
			LoggedIn   *bool `json:"logged_in"`
			// LoginExpired stores a login whose access and refresh tokens
			// have both expired: the next use asks the person to log in again.
			LoginExpired bool `json:"login_expired"`
		}
		if !decode(w, r, &in) {
			return
		}
		u := sb.EnsureUser(in.Login)
		if in.Member != nil {
			state := "active"
			if !*in.Member {
				state = ""
			}
			sb.SetMembership(sb.Org(), in.Login, state, "member")
		}
		if in.Permission != "" && in.Repo != "" {
			sb.SetPermission(in.Repo, in.Login, in.Permission)
		}
		if in.LoggedIn != nil {
			if err := setSandboxLogin(r.Context(), env, u, *in.LoggedIn); err != nil {
				answer(w, nil, err)
				return
			}
		}
		if in.LoginExpired {
			if err := expireSandboxLogin(r.Context(), env, u); err != nil {
				answer(w, nil, err)
				return
			}
		}
		answer(w, map[string]any{"id": u.ID, "login": u.Login}, nil)
	})
	handleLocal(env, "POST /sandbox/control/actions", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Repo         string
			WorkflowFile string `json:"workflow_file"`
			Conclusion   string
		}
		if !decode(w, r, &in) {
			return
		}
		sb.SetConclusion(in.Repo, in.WorkflowFile, in.Conclusion)
		w.WriteHeader(http.StatusNoContent)
	})
	handleLocal(env, "POST /sandbox/control/signin", func(w http.ResponseWriter, r *http.Request) {
		var in struct{ Login string }
		if !decode(w, r, &in) {
			return
		}
		if in.Login == "" {
			answer(w, nil, errors.New("login is required"))
			return
		}
		sb.SignIn(in.Login)
		w.WriteHeader(http.StatusNoContent)
	})
	handleLocal(env, "POST /sandbox/control/faults", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Method, Path string
			Count        int
			Status       int
			DelayMS      int `json:"delay_ms"`
		}
		if !decode(w, r, &in) {
			return
		}
		if in.Count < 1 {
			in.Count = 1
		}
		err := sb.FailNext(in.Method, in.Path, in.Count, sandbox.Fault{Status: in.Status, Delay: time.Duration(in.DelayMS) * time.Millisecond})
		if err != nil {
			answer(w, nil, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	handleLocal(env, "GET /sandbox/control/runs", func(w http.ResponseWriter, r *http.Request) {
		answer(w, sb.Runs(), nil)
	})
	handleLocal(env, "GET /sandbox/control/writes", func(w http.ResponseWriter, r *http.Request) {
		answer(w, sb.Writes(), nil)
	})
}

// noLoginKey marks a sandbox user who chose not to be logged in.
func noLoginKey(login string) string { return "sandbox#nologin#" + login }

// setSandboxLogin connects or disconnects a sandbox user: logged out, their
// stored token is deleted and they stay out (sandboxLogins skips them).
func setSandboxLogin(ctx context.Context, env *devEnv, u sandbox.User, in bool) error {
	if env.Jobs == nil || env.Vault == nil {
		return errors.New("commands are not mounted")
	}
	key := noLoginKey(u.Login)
	if in {
		err := env.Jobs.SwapRef(ctx, key, "1", "")
		if errors.Is(err, jobs.ErrConflict) {
			return nil
		}
		return err
	}
	if _, err := env.Jobs.PutRef(ctx, key, "1", 0); err != nil && !errors.Is(err, jobs.ErrExists) {
		return err
	}
	if err := env.Vault.Delete(ctx, u.ID); err != nil && !errors.Is(err, tokens.ErrNotFound) {
		return err
	}
	return nil
}

// expireSandboxLogin stores for u a login that can no longer be refreshed
// (both tokens past their expiry), as the vault holds one a person last used
// months ago.
func expireSandboxLogin(ctx context.Context, env *devEnv, u sandbox.User) error {
	if env.Jobs == nil || env.Vault == nil {
		return errors.New("commands are not mounted")
	}
	if err := env.Jobs.SwapRef(ctx, noLoginKey(u.Login), "1", ""); err != nil && !errors.Is(err, jobs.ErrConflict) {
		return err
	}
	past := time.Now().Add(-time.Hour)
	return env.Vault.Save(ctx, tokens.User{ID: u.ID, Login: u.Login}, tokens.Grant{
		AccessToken: "ghu_sandboxExpired" + strconv.FormatInt(u.ID, 10), RefreshToken: "ghr_sandboxExpired" + strconv.FormatInt(u.ID, 10),
		AccessExpiresAt: past, RefreshExpiresAt: past})
}

func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	if err := json.NewDecoder(r.Body).Decode(v); err != nil {
		http.Error(w, `{"error":"the body is not the JSON this route takes"}`, http.StatusBadRequest)
		return false
	}
	return true
}

func answer(w http.ResponseWriter, v any, err error) {
	w.Header().Set("Content-Type", "application/json")
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": err.Error()})
		return
	}
	_ = json.NewEncoder(w).Encode(v)
}

// mountJobsAPI serves the jobs for scripts and the dashboard:
// GET /api/jobs?limit=N&before=RFC3339 ({"jobs":[...]}, newest first) and
// GET /api/jobs/{id} (the job with its execution history). Both are local
// only: they answer direct clients on this machine and 403 to anyone
// through a proxy or tunnel (localOnly). No answer carries a task token:
// the job record's are "(held)", and so are those in the history
// (redactHistory).
func mountJobsAPI(env *devEnv, store jobs.Store) {
	env.Mux.Handle("GET /api/jobs", localOnly(env.Log, apiLocalOnly, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		limit := 50
		if s := r.URL.Query().Get("limit"); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 1 || n > 500 {
				http.Error(w, `{"error":"limit is a whole number from 1 to 500"}`, http.StatusBadRequest)
				return
			}
			limit = n
		}
		var before time.Time
		if s := r.URL.Query().Get("before"); s != "" {
			t, err := time.Parse(time.RFC3339Nano, s)
			if err != nil {
				http.Error(w, `{"error":"before is an RFC 3339 time"}`, http.StatusBadRequest)
				return
			}
			before = t
		}
		list, err := store.List(r.Context(), limit, before)
		if list == nil {
			list = []*jobs.Job{}
		}
		for _, j := range list {
			redactTokens(j)
		}
		answer(w, map[string]any{"jobs": list}, err)
	})))
	env.Mux.Handle("GET /api/jobs/{id}", localOnly(env.Log, apiLocalOnly, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		j, err := store.Get(r.Context(), r.PathValue("id"))
		if errors.Is(err, jobs.ErrNotFound) {
			http.Error(w, `{"error":"no such job"}`, http.StatusNotFound)
			return
		}
		if err != nil {
			answer(w, nil, fmt.Errorf("read job: %w", err))
			return
		}
		var held []string
		for _, s := range j.Steps {
			held = append(held, s.TaskToken)
		}
		redactTokens(j)
		out := map[string]any{"job": j}
		if j.ExecutionARN != "" && env.Executor != nil {
			if h, err := env.Executor.GetExecutionHistory(r.Context(), j.ExecutionARN); err == nil {
				out["history"] = redactHistory(h, held)
			}
		}
		answer(w, out, nil)
	})))
}

// redactTokens hides task tokens: whoever holds one can complete the step.
func redactTokens(j *jobs.Job) {
	for _, s := range j.Steps {
		if s.TaskToken != "" {
			s.TaskToken = "(held)"
		}
	}
}
