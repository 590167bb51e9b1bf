package sandbox

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
)

// event is one webhook to deliver.
type event struct {
	name    string
	key     string // delivery order key (OrderKey)
	payload map[string]any
	then    func() // runs once the event was handed over (the next step of a run)
}

type orderKeyType struct{}

// OrderKey returns the key of the sequence a webhook belongs to (one issue's
// comments, one workflow run's changes): deliveries with the same key must
// reach the receiver in the order they were handed to Config.Deliver.
func OrderKey(ctx context.Context) string {
	k, _ := ctx.Value(orderKeyType{}).(string)
	return k
}

// WithOrderKey returns ctx carrying an order key (see OrderKey).
func WithOrderKey(ctx context.Context, key string) context.Context {
	return context.WithValue(ctx, orderKeyType{}, key)
}

// emit queues ev to be delivered once the handler's change is saved and
// answered; under s.mu.
func (s *Sandbox) emit(w http.ResponseWriter, ev event) {
	if b, ok := w.(*bufferedResponse); ok {
		b.events = append(b.events, ev)
		return
	}
	go s.deliver(ev)
}

// deliver hands ev to the configured sink; never under s.mu.
func (s *Sandbox) deliver(ev event) {
	if ev.then != nil {
		defer ev.then()
	}
	if s.cfg.Deliver == nil {
		return
	}
	body, err := json.Marshal(ev.payload)
	if err != nil {
		s.log.Error("sandbox: encode webhook", "event", ev.name, "err", err)
		return
	}
	s.cfg.Deliver(WithOrderKey(context.Background(), ev.key), ev.name, newGUID(), body)
}

// newGUID is a random version 4 UUID, the form of X-GitHub-Delivery.
func newGUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// defaultInstallation is the installation webhooks name; under s.mu.
func (s *Sandbox) defaultInstallation() int64 {
	if s.cfg.InstallationID != 0 {
		return s.cfg.InstallationID
	}
	ids := make([]int64, 0, len(s.st.Installs))
	for id := range s.st.Installs {
		ids = append(ids, id)
	}
	if len(ids) == 0 {
		return 0
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids[0]
}

// envelope adds what every webhook carries: repository, organization,
// installation and sender; under s.mu.
func (s *Sandbox) envelope(p map[string]any, rp *repo, sender *User) map[string]any {
	p["repository"] = s.repoJSON(rp)
	if rp.Owner == s.cfg.Org {
		p["organization"] = s.orgJSON(rp.Owner)
	}
	if id := s.defaultInstallation(); id != 0 {
		p["installation"] = map[string]any{"id": id, "node_id": nodeID("MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9u", id)}
	}
	p["sender"] = s.userJSON(sender)
	return p
}

// commentEvent is the webhook announcing a comment's change; under s.mu.
func (s *Sandbox) commentEvent(action string, cm *comment, sender *User, changes map[string]any) event {
	rp := s.st.Repos[cm.Repo]
	p := map[string]any{"action": action, "comment": s.commentJSON(cm)}
	if changes != nil {
		p["changes"] = changes
	}
	name, key := "issue_comment", fmt.Sprintf("%s#%d", cm.Repo, cm.Number)
	switch cm.Kind {
	case kindIssue:
		p["issue"] = s.issueJSON(rp, rp.Issues[cm.Number])
	case kindReview:
		name = "pull_request_review_comment"
		p["pull_request"] = s.pullHookJSON(rp, rp.Issues[cm.Number])
	case kindCommit:
		name, key = "commit_comment", cm.Repo+"@"+cm.CommitID
		delete(p["comment"].(map[string]any), "reactions")
	}
	return event{name: name, key: key, payload: s.envelope(p, rp, sender)}
}

// commentJSON is a comment as the REST API and webhooks show it; under s.mu.
func (s *Sandbox) commentJSON(cm *comment) map[string]any {
	rp := s.st.Repos[cm.Repo]
	owner, name := rp.Owner, rp.Name
	u := s.addUser(cm.User)
	var app any
	if cm.ViaApp {
		app = s.appJSON()
	}
	by := map[string][]string{}
	for _, x := range cm.Reactions {
		by[x.Content] = append(by[x.Content], x.User)
	}
	id := fmt.Sprint(cm.ID)
	m := map[string]any{"id": cm.ID, "user": s.userJSON(u), "body": cm.Body, "created_at": stamp(cm.CreatedAt),
		"updated_at": stamp(cm.UpdatedAt), "author_association": s.association(cm.User)}
	num := fmt.Sprint(cm.Number)
	switch cm.Kind {
	case kindIssue:
		m["url"] = s.api("repos", owner, name, "issues", "comments", id)
		m["html_url"] = s.web(owner, name, "issues", num) + "#issuecomment-" + id
		m["issue_url"] = s.api("repos", owner, name, "issues", num)
		m["node_id"] = nodeID("IC_", cm.ID)
		m["performed_via_github_app"] = app
		m["reactions"] = reactionsJSON(m["url"].(string)+"/reactions", by)
	case kindReview:
		self := s.api("repos", owner, name, "pulls", "comments", id)
		html := s.web(owner, name, "pull", num) + "#discussion_r" + id
		pr := s.api("repos", owner, name, "pulls", num)
		for k, v := range map[string]any{"url": self, "html_url": html, "pull_request_url": pr, "node_id": nodeID("PRRC_", cm.ID),
			"pull_request_review_id": cm.ID + 1, "diff_hunk": "@@ -1,1 +1,1 @@", "path": cm.Path, "position": cm.Line,
			"original_position": cm.Line, "commit_id": cm.CommitID, "original_commit_id": cm.CommitID, "start_line": nil,
			"original_start_line": nil, "start_side": nil, "line": cm.Line, "original_line": cm.Line, "side": "RIGHT",
			"subject_type": "line", "reactions": reactionsJSON(self+"/reactions", by),
			"_links": map[string]any{"self": map[string]string{"href": self}, "html": map[string]string{"href": html},
				"pull_request": map[string]string{"href": pr}}} {
			m[k] = v
		}
		if cm.InReplyTo != 0 {
			m["in_reply_to_id"] = cm.InReplyTo
		}
	case kindCommit:
		m["url"] = s.api("repos", owner, name, "comments", id)
		m["html_url"] = s.web(owner, name, "commit", cm.CommitID) + "#commitcomment-" + id
		m["node_id"] = nodeID("CC_", cm.ID)
		m["commit_id"] = cm.CommitID
		m["path"], m["position"], m["line"] = nilIfEmpty(cm.Path), nilIfZero(cm.Line), nilIfZero(cm.Line)
		m["reactions"] = reactionsJSON(m["url"].(string)+"/reactions", by)
	}
	return m
}

func nilIfZero(n int) any {
	if n == 0 {
		return nil
	}
	return n
}

func sortComments(cs []*comment) {
	sort.Slice(cs, func(i, j int) bool { return cs[i].ID < cs[j].ID })
}
