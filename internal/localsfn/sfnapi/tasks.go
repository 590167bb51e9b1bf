package sfnapi

import (
	"encoding/base64"
	"encoding/json"
	"net/http"

	"github.com/sbalswa/ai3-mvp/internal/localsfn"
)

// checkToken refuses a task token the executor cannot have issued, as
// AWS answers InvalidToken for a malformed one.
func checkToken(token *string) error {
	var v validation
	v.required("taskToken", token != nil)
	if token != nil {
		v.length("taskToken", *token, 1, 2048)
	}
	if err := v.err(); err != nil {
		return err
	}
	if b, err := base64.RawURLEncoding.DecodeString(*token); err != nil || len(b) != 48 {
		return &apiError{Type: "InvalidToken", Message: "Invalid Token: 'Invalid token'"}
	}
	return nil
}

func (s *Server) sendTaskSuccess(r *http.Request, body []byte) (any, error) {
	var in struct {
		TaskToken *string `json:"taskToken"`
		Output    *string `json:"output"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	var v validation
	v.required("output", in.Output != nil)
	if in.Output != nil {
		v.length("output", *in.Output, 0, localsfn.PayloadLimit)
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	if err := checkToken(in.TaskToken); err != nil {
		return nil, err
	}
	if !json.Valid([]byte(*in.Output)) {
		return nil, &apiError{Type: "InvalidOutput", Message: "Invalid Output: 'The output is not valid JSON'"}
	}
	if err := s.ex.SendTaskSuccess(r.Context(), *in.TaskToken, json.RawMessage(*in.Output)); err != nil {
		return nil, toAPIError(err, "Provided task does not exist anymore")
	}
	return nil, nil
}

func (s *Server) sendTaskFailure(r *http.Request, body []byte) (any, error) {
	var in struct {
		TaskToken *string `json:"taskToken"`
		Error     string  `json:"error"`
		Cause     string  `json:"cause"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	var v validation
	v.length("error", in.Error, 0, 256)
	v.length("cause", in.Cause, 0, 32768)
	if err := v.err(); err != nil {
		return nil, err
	}
	if err := checkToken(in.TaskToken); err != nil {
		return nil, err
	}
	if err := s.ex.SendTaskFailure(r.Context(), *in.TaskToken, in.Error, in.Cause); err != nil {
		return nil, toAPIError(err, "Provided task does not exist anymore")
	}
	return nil, nil
}

func (s *Server) sendTaskHeartbeat(r *http.Request, body []byte) (any, error) {
	var in struct {
		TaskToken *string `json:"taskToken"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := checkToken(in.TaskToken); err != nil {
		return nil, err
	}
	if err := s.ex.SendTaskHeartbeat(r.Context(), *in.TaskToken); err != nil {
		return nil, toAPIError(err, "Provided task does not exist anymore")
	}
	return nil, nil
}
