package jobs

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
)

// Input is the execution input of every job's state machine. Every step
// receives it under "input" (the compiler passes the execution input to each
// step), so a step knows whose job it is, where to report and what it was
// asked for without another lookup:
//
//	{
//	  "job": {
//	    "id": "deploy-3f9a1c2", "workflow": "deploy",
//	    "thread": {"repo": "octo/app", "kind": "pull_request", "number": 7, "comment_id": 42},
//	    "head_sha": "…", "ref": "feature-x",
//	    "user": {"id": 1001, "login": "alice"},
//	    "installation_id": 77,
//	    "status_comment_id": 9001
//	  },
//	  "args": {"environment": "staging"}
//	}
type Input struct {
	Job  Context           `json:"job"`
	Args map[string]string `json:"args"`
}

// Context is the part of a Job that steps need.
type Context struct {
	ID              string `json:"id"`
	Workflow        string `json:"workflow"`
	Thread          Thread `json:"thread"`
	HeadSHA         string `json:"head_sha,omitempty"`
	Ref             string `json:"ref,omitempty"`
	User            User   `json:"user"`
	InstallationID  int64  `json:"installation_id"`
	StatusCommentID int64  `json:"status_comment_id,omitempty"`
}

// InputOf returns the execution input of j.
func InputOf(j *Job) Input {
	args := j.Args
	if args == nil {
		args = map[string]string{}
	}
	return Input{Job: Context{
		ID: j.ID, Workflow: j.Workflow, Thread: j.Thread, HeadSHA: j.HeadSHA, Ref: j.Ref,
		User: j.User, InstallationID: j.InstallationID, StatusCommentID: j.StatusCommentID,
	}, Args: args}
}

// JSON encodes the input.
func (in Input) JSON() json.RawMessage {
	b, err := json.Marshal(in)
	if err != nil {
		panic(err) // strings, ints and maps of strings always marshal
	}
	return b
}

// Marker is the hidden HTML comment every comment the bot writes carries.
// Because the bot writes with the user's token, GitHub credits its comments
// to the human; the marker (with performed_via_github_app) is how the bot
// knows its own comments and never acts on them. Kind is "status" (a job's
// status comment; ID is the job id) or "reply" (an answer to a command; ID is
// the delivery id and the command's index, "<delivery>#<n>", so a retried
// delivery finds the reply it already posted).
type Marker struct {
	Kind string
	ID   string
}

// String renders the marker as it is embedded in a comment body.
func (m Marker) String() string {
	return fmt.Sprintf("<!-- ai3-mvp:bot kind=%s id=%s -->", m.Kind, m.ID)
}

var markerRE = regexp.MustCompile(`<!-- ai3-mvp:bot kind=([a-z]+) id=([A-Za-z0-9._#:/-]+) -->`)

// ParseMarker finds the bot marker in a comment body.
func ParseMarker(body string) (Marker, bool) {
	if !strings.Contains(body, "ai3-mvp:bot") {
		return Marker{}, false
	}
	m := markerRE.FindStringSubmatch(body)
	if m == nil {
		return Marker{}, false
	}
	return Marker{Kind: m[1], ID: m[2]}, true
}
