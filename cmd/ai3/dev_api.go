package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-github/v62/github"

	"github.com/sbalswa/ai3-mvp/internal/events"
	"github.com/sbalswa/ai3-mvp/internal/githubapp"
	"github.com/sbalswa/ai3-mvp/internal/local/archive"
)

// mountOperatorAPI serves what operators and `ai3 send`/`ai3 sandbox` read:
//
//	GET /api/deliveries?limit=N                       recent webhook deliveries, newest first (local only: localOnly)
//	GET /sandbox/control/info                         (sandbox mode) the stand-in's org, bot and URLs
//	GET /sandbox/control/comments?repo=o/r&issue=N    (sandbox mode) one thread's comments
//
// The stand-in's own REST route GET /sandbox/github/api/v3/repos/o/r/issues/N/comments
// answers too, but as GitHub it wants a token; the control route needs none.
func mountOperatorAPI(env *devEnv) {
	if env.Bus != nil {
		env.Mux.Handle("GET /api/deliveries", localOnly(env.Log, apiLocalOnly, http.HandlerFunc(env.deliveries)))
	}
	if gh := env.GitHub; gh != nil && gh.Sandbox != nil {
		handleLocal(env, "GET /sandbox/control/info", func(w http.ResponseWriter, r *http.Request) {
			answer(w, sandboxInfo{Sandbox: true, Org: gh.Org, Bot: gh.Bot, APIURL: gh.APIURL, WebURL: gh.WebURL}, nil)
		})
		env.Mux.Handle("GET /sandbox/control/comments", localOnly(env.Log, apiLocalOnly, http.HandlerFunc(env.sandboxThread)))
	}
}

// sandboxInfo is GET /sandbox/control/info: proof of sandbox mode and where
// its stand-in lives.
type sandboxInfo struct {
	Sandbox bool   `json:"sandbox"`
	Org     string `json:"org"`
	Bot     string `json:"bot"`
	APIURL  string `json:"api_url"`
	WebURL  string `json:"web_url"`
}

// delivery is one row of GET /api/deliveries.
type delivery struct {
	DeliveryID string    `json:"delivery_id"`
	HookID     string    `json:"hook_id"`
	Event      string    `json:"event"`
	Action     string    `json:"action,omitempty"`
	Repository string    `json:"repository,omitempty"`
	Sender     string    `json:"sender,omitempty"`
	ReceivedAt time.Time `json:"received_at"`
	// State is the delivery's overall state: dead-lettered when a handler
	// gave up on it, else pending while a handler has yet to finish it,
	// else delivered.
	State    string         `json:"state"`
	Handlers []handlerState `json:"handlers"`
}

// handlerState is one handler's progress with a delivery.
type handlerState struct {
	Handler   string `json:"handler"`
	State     string `json:"state"` // delivered, pending, dead-lettered
	Attempts  int    `json:"attempts,omitempty"`
	LastError string `json:"last_error,omitempty"`
}

// deliveries answers GET /api/deliveries: the bus keeps each accepted
// delivery's envelope for a day (bus_events), the handlers still owing it
// (bus_deliveries) and those that gave up (bus_dead_letters); a handler the
// routing rules sent it to that is in neither has finished it.
func (e *devEnv) deliveries(w http.ResponseWriter, r *http.Request) {
	limit := 50
	if s := r.URL.Query().Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 1000 {
			http.Error(w, `{"error":"limit is a whole number from 1 to 1000"}`, http.StatusBadRequest)
			return
		}
		limit = n
	}
	out, err := listDeliveries(r.Context(), e.DB, e.Payloads, limit)
	if err != nil {
		answer(w, nil, fmt.Errorf("read deliveries: %w", err))
		return
	}
	answer(w, map[string]any{"deliveries": out}, nil)
}

// listDeliveries reads the newest deliveries. A delivered event's envelope
// is dropped from the bus, so what it said (action, repository, sender) is
// read back from the archived payload.
func listDeliveries(ctx context.Context, db *sql.DB, payloads events.Archive, limit int) ([]delivery, error) {
	rows, err := db.QueryContext(ctx, `SELECT id, publish_key, delivery_id, detail_type, envelope, published_at
		FROM bus_events ORDER BY id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, err
	}
	type event struct {
		id  int64
		d   delivery
		env *events.Envelope
	}
	var evs []event
	for rows.Next() {
		var ev event
		var raw []byte
		var published int64
		var key string
		if err := rows.Scan(&ev.id, &key, &ev.d.DeliveryID, &ev.d.Event, &raw, &published); err != nil {
			rows.Close()
			return nil, err
		}
		ev.d.ReceivedAt = time.UnixMilli(published).UTC()
		ev.d.HookID, _, _ = strings.Cut(key, "/") // the publish key is hook id + "/" + delivery id
		if len(raw) > 0 {
			if env, err := events.Decode(raw); err == nil {
				ev.env = env
				ev.d.HookID, ev.d.Action, ev.d.Repository, ev.d.Sender = env.HookID, env.Action, env.Repository, env.Sender
				if !env.ReceivedAt.IsZero() {
					ev.d.ReceivedAt = env.ReceivedAt.UTC()
				}
			}
		}
		evs = append(evs, ev)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make([]delivery, 0, len(evs))
	for _, ev := range evs {
		if ev.env == nil && payloads != nil {
			ev.env = fromArchive(ctx, payloads, &ev.d)
		}
		pending, err := handlerRows(ctx, db, `SELECT target, attempts, last_error FROM bus_deliveries WHERE event_id = ? ORDER BY target`, ev.id)
		if err != nil {
			return nil, err
		}
		dead, err := handlerRows(ctx, db, `SELECT target, attempts, reason FROM bus_dead_letters
			WHERE delivery_id = ? AND detail_type = ? ORDER BY id`, ev.d.DeliveryID, ev.d.Event)
		if err != nil {
			return nil, err
		}
		var routed []string
		if ev.env != nil {
			routed = events.Targets(events.Rules(), ev.env)
		}
		seen := map[string]bool{}
		add := func(h handlerState) {
			if !seen[h.Handler] {
				seen[h.Handler] = true
				ev.d.Handlers = append(ev.d.Handlers, h)
			}
		}
		for _, h := range dead {
			h.State = "dead-lettered"
			add(h)
		}
		for _, h := range pending {
			h.State = "pending"
			add(h)
		}
		for _, t := range routed {
			add(handlerState{Handler: t, State: "delivered"})
		}
		slices.SortFunc(ev.d.Handlers, func(a, b handlerState) int { return strings.Compare(a.Handler, b.Handler) })
		ev.d.State = "delivered"
		switch {
		case len(dead) > 0:
			ev.d.State = "dead-lettered"
		case len(pending) > 0:
			ev.d.State = "pending"
		}
		if ev.d.Handlers == nil {
			ev.d.Handlers = []handlerState{}
		}
		out = append(out, ev.d)
	}
	return out, nil
}

// fromArchive rebuilds what an envelope said from the archived payload
// (keyed by the day it was received: the day it was published, or a minute
// earlier for a publish just after midnight); nil when it is not there.
func fromArchive(ctx context.Context, a events.Archive, d *delivery) *events.Envelope {
	for _, day := range []time.Time{d.ReceivedAt, d.ReceivedAt.Add(-time.Minute)} {
		key, err := events.ArchiveKey(events.Delivery{ID: d.DeliveryID, Event: d.Event, HookID: d.HookID, ReceivedAt: day})
		if err != nil {
			return nil
		}
		body, err := a.Get(ctx, events.Ref{Bucket: archive.Bucket, Key: key})
		if err != nil {
			continue
		}
		var p struct {
			Action     string
			Repository struct {
				FullName string `json:"full_name"`
			}
			Sender struct{ Login string }
		}
		if json.Unmarshal(body, &p) != nil {
			return nil
		}
		d.Action, d.Repository, d.Sender = p.Action, p.Repository.FullName, p.Sender.Login
		return &events.Envelope{DeliveryID: d.DeliveryID, Event: d.Event, Action: p.Action, HookID: d.HookID}
	}
	return nil
}

func handlerRows(ctx context.Context, db *sql.DB, query string, args ...any) ([]handlerState, error) {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []handlerState
	for rows.Next() {
		var h handlerState
		if err := rows.Scan(&h.Handler, &h.Attempts, &h.LastError); err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, rows.Err()
}

// threadView is GET /sandbox/control/comments: an issue or pull request and
// its comments, oldest first.
type threadView struct {
	Repo        string        `json:"repo"`
	Number      int           `json:"number"`
	Title       string        `json:"title"`
	State       string        `json:"state"`
	PullRequest bool          `json:"pull_request"`
	Comments    []commentView `json:"comments"`
}

// commentView is one comment of a thread.
type commentView struct {
	ID        int64          `json:"id"`
	Author    string         `json:"author"`
	Bot       bool           `json:"bot,omitempty"`
	ViaApp    bool           `json:"via_app"` // written with the App's user or installation token
	CreatedAt time.Time      `json:"created_at"`
	EditedAt  *time.Time     `json:"edited_at,omitempty"`
	Reactions map[string]int `json:"reactions,omitempty"`
	Body      string         `json:"body"`
}

// sandboxThread reads a thread through the stand-in's REST API with the
// App's installation token, as the bot would.
func (e *devEnv) sandboxThread(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	repo := q.Get("repo")
	n, err := strconv.Atoi(q.Get("issue"))
	if err != nil || checkThread(repo, n) != nil {
		http.Error(w, `{"error":"want ?repo=owner/name&issue=N (N a number from 1)"}`, http.StatusBadRequest)
		return
	}
	gh := e.GitHub
	c, err := githubapp.Clients{Installations: gh.Installations, APIURL: gh.APIURL}.Installation(r.Context(), sandboxInstallation)
	if err != nil {
		answer(w, nil, err)
		return
	}
	t, err := readThread(r.Context(), c, repo, n)
	answer(w, t, err)
}

func readThread(ctx context.Context, c *github.Client, repo string, n int) (*threadView, error) {
	var issue struct {
		Title, State string
		PullRequest  *struct{} `json:"pull_request"`
	}
	if err := getJSON(ctx, c, fmt.Sprintf("repos/%s/issues/%d", repo, n), &issue); err != nil {
		return nil, err
	}
	t := &threadView{Repo: repo, Number: n, Title: issue.Title, State: issue.State, PullRequest: issue.PullRequest != nil,
		Comments: []commentView{}}
	for page := 1; page > 0; {
		var list []struct {
			ID   int64
			Body string
			User struct {
				Login, Type string
			}
			CreatedAt time.Time       `json:"created_at"`
			UpdatedAt time.Time       `json:"updated_at"`
			ViaApp    *struct{}       `json:"performed_via_github_app"`
			Reactions *map[string]any `json:"reactions"`
		}
		req, err := c.NewRequest("GET", fmt.Sprintf("repos/%s/issues/%d/comments?per_page=100&page=%d", repo, n, page), nil)
		if err != nil {
			return nil, err
		}
		resp, err := c.Do(ctx, req, &list)
		if err != nil {
			return nil, fmt.Errorf("list comments of %s#%d: %w", repo, n, err)
		}
		for _, cm := range list {
			v := commentView{ID: cm.ID, Author: cm.User.Login, Bot: cm.User.Type == "Bot", ViaApp: cm.ViaApp != nil,
				CreatedAt: cm.CreatedAt, Body: cm.Body}
			if cm.UpdatedAt.After(cm.CreatedAt) {
				at := cm.UpdatedAt
				v.EditedAt = &at
			}
			if cm.Reactions != nil {
				for k, x := range *cm.Reactions {
					if f, ok := x.(float64); ok && f > 0 && k != "total_count" {
						if v.Reactions == nil {
							v.Reactions = map[string]int{}
						}
						v.Reactions[k] = int(f)
					}
				}
			}
			t.Comments = append(t.Comments, v)
		}
		page = resp.NextPage
	}
	return t, nil
}

func getJSON(ctx context.Context, c *github.Client, path string, v any) error {
	req, err := c.NewRequest("GET", path, nil)
	if err != nil {
		return err
	}
	if _, err := c.Do(ctx, req, v); err != nil {
		return fmt.Errorf("GET %s: %w", path, err)
	}
	return nil
}
