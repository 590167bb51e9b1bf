package sandbox

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"
)

type deployment struct {
	ID          int64              `json:"id"`
	Repo        string             `json:"repo"`
	Ref         string             `json:"ref"`
	SHA         string             `json:"sha"`
	Task        string             `json:"task"`
	Environment string             `json:"environment"`
	Description string             `json:"description"`
	Payload     any                `json:"payload"`
	Creator     string             `json:"creator"`
	ViaApp      bool               `json:"via_app"`
	CreatedAt   time.Time          `json:"created_at"`
	Statuses    []deploymentStatus `json:"statuses,omitempty"`
}

type deploymentStatus struct {
	ID             int64     `json:"id"`
	State          string    `json:"state"`
	Description    string    `json:"description"`
	EnvironmentURL string    `json:"environment_url"`
	LogURL         string    `json:"log_url"`
	Creator        string    `json:"creator"`
	CreatedAt      time.Time `json:"created_at"`
}

// deploymentInput is the body of a request that creates a deployment.
type deploymentInput struct {
	Ref         string `json:"ref"`
	Task        string `json:"task"`
	Environment string `json:"environment"`
	Description string `json:"description"`
	Payload     any    `json:"payload"`
}

func (s *Sandbox) createDeployment(q *repoRequest, in *deploymentInput) {
	w, rp := q.w, q.rp
	if in.Ref == "" {
		validationFailed(w, "\"ref\" wasn't supplied.")
		return
	}
	d := &deployment{ID: s.newID(), Repo: rp.fullName(), Ref: in.Ref, SHA: fakeSHA(rp.fullName() + ":" + in.Ref), Task: in.Task,
		Environment: in.Environment, Description: in.Description, Payload: in.Payload, Creator: q.c.user.Login, ViaApp: true,
		CreatedAt: s.now().UTC()}
	if d.Task == "" {
		d.Task = "deploy"
	}
	if d.Environment == "" {
		d.Environment = "production"
	}
	if d.Payload == nil {
		d.Payload = map[string]any{}
	}
	s.st.Deployments[d.ID] = d
	s.changed()
	q.record()
	writeJSON(w, http.StatusCreated, s.deploymentJSON(rp, d))
}

func (s *Sandbox) listDeployments(q *repoRequest) {
	f := q.r.URL.Query() // the filters
	var ds []*deployment
	for _, d := range s.st.Deployments {
		if d.Repo == q.rp.fullName() && (f.Get("environment") == "" || f.Get("environment") == d.Environment) &&
			(f.Get("ref") == "" || f.Get("ref") == d.Ref) && (f.Get("task") == "" || f.Get("task") == d.Task) {
			ds = append(ds, d)
		}
	}
	slices.SortFunc(ds, func(a, b *deployment) int { return int(b.ID - a.ID) })
	if out, ok := pageJSON(q, ds, func(d *deployment) map[string]any { return s.deploymentJSON(q.rp, d) }); ok {
		writeJSON(q.w, http.StatusOK, out)
	}
}

var deploymentStates = []string{"error", "failure", "inactive", "in_progress", "queued", "pending", "success"}

// deploymentStatusInput is the body of a request that adds a deployment
// status.
type deploymentStatusInput struct {
	State          string `json:"state"`
	Description    string `json:"description"`
	EnvironmentURL string `json:"environment_url"`
	LogURL         string `json:"log_url"`
}

func (s *Sandbox) createDeploymentStatus(q *repoRequest, in *deploymentStatusInput) {
	w, rp := q.w, q.rp
	id, _ := strconv.ParseInt(q.r.PathValue("id"), 10, 64)
	d, found := s.st.Deployments[id]
	if !found || d.Repo != rp.fullName() {
		notFound(w)
		return
	}
	if !slices.Contains(deploymentStates, in.State) {
		validationFailed(w, fmt.Sprintf("state %q is not one of %v", in.State, deploymentStates))
		return
	}
	st := deploymentStatus{ID: s.newID(), State: in.State, Description: in.Description, EnvironmentURL: in.EnvironmentURL,
		LogURL: in.LogURL, Creator: q.c.user.Login, CreatedAt: s.now().UTC()}
	d.Statuses = append(d.Statuses, st)
	s.changed()
	q.record()
	au := s.api("repos", rp.Owner, rp.Name, "deployments", fmt.Sprint(d.ID))
	writeJSON(w, http.StatusCreated, map[string]any{
		"url": au + "/statuses/" + fmt.Sprint(st.ID), "id": st.ID, "node_id": nodeID("DES_", st.ID), "state": st.State,
		"creator": s.userByLogin(st.Creator), "description": st.Description, "environment": d.Environment,
		"target_url": st.LogURL, "created_at": stamp(st.CreatedAt), "updated_at": stamp(st.CreatedAt), "deployment_url": au,
		"repository_url": s.api("repos", rp.Owner, rp.Name), "environment_url": st.EnvironmentURL, "log_url": st.LogURL,
		"performed_via_github_app": s.appJSON(),
	})
}

func (s *Sandbox) deploymentJSON(rp *repo, d *deployment) map[string]any {
	au := s.api("repos", rp.Owner, rp.Name, "deployments", fmt.Sprint(d.ID))
	var app any
	if d.ViaApp {
		app = s.appJSON()
	}
	return map[string]any{
		"url": au, "id": d.ID, "node_id": nodeID("DE_", d.ID), "sha": d.SHA, "ref": d.Ref, "task": d.Task, "payload": d.Payload,
		"original_environment": d.Environment, "environment": d.Environment, "description": nilIfEmpty(d.Description),
		"creator": s.userByLogin(d.Creator), "created_at": stamp(d.CreatedAt), "updated_at": stamp(d.CreatedAt),
		"statuses_url": au + "/statuses", "repository_url": s.api("repos", rp.Owner, rp.Name),
		"transient_environment": false, "production_environment": d.Environment == "production", "performed_via_github_app": app,
	}
}
