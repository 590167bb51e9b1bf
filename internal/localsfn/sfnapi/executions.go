package sfnapi

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/sbalswa/ai3-mvp/internal/localsfn"
)

// startRequest is StartExecution's and StartSyncExecution's request.
type startRequest struct {
	StateMachineArn string  `json:"stateMachineArn"`
	Name            *string `json:"name"`
	Input           *string `json:"input"`
	TraceHeader     string  `json:"traceHeader"`
}

func (in *startRequest) check() error {
	if err := checkARN("stateMachineArn", in.StateMachineArn, "stateMachine"); err != nil {
		return err
	}
	var v validation
	if in.Name != nil {
		v.length("name", *in.Name, 1, 80)
	}
	if in.Input != nil {
		v.length("input", *in.Input, 0, localsfn.PayloadLimit)
	}
	v.length("traceHeader", in.TraceHeader, 0, 256)
	return v.err()
}

func (in *startRequest) executorInput() localsfn.StartExecutionInput {
	out := localsfn.StartExecutionInput{StateMachineArn: in.StateMachineArn}
	if in.Name != nil {
		out.Name = *in.Name
	}
	if in.Input != nil {
		out.Input = *in.Input
	}
	return out
}

func (s *Server) start(r *http.Request, in *startRequest) (*localsfn.StartExecutionOutput, error) {
	out, err := s.ex.StartExecution(r.Context(), in.executorInput())
	if err != nil {
		subject := in.StateMachineArn
		switch {
		case in.Name != nil && isErr(err, localsfn.ErrInvalidName, localsfn.ErrExecutionAlreadyExists):
			subject = *in.Name
			if isErr(err, localsfn.ErrExecutionAlreadyExists) {
				subject = executionARN(in.StateMachineArn, *in.Name)
			}
		case isErr(err, localsfn.ErrInvalidExecutionInput):
			subject = ""
		}
		return nil, toAPIError(err, subject)
	}
	return out, nil
}

// isErr reports whether err is any of targets.
func isErr(err error, targets ...error) bool {
	for _, t := range targets {
		if errors.Is(err, t) {
			return true
		}
	}
	return false
}

// executionARN is the ARN of the STANDARD execution name of a machine.
func executionARN(machineARN, name string) string {
	if i := strings.LastIndex(machineARN, ":stateMachine:"); i >= 0 {
		return machineARN[:i] + ":execution:" + machineARN[i+len(":stateMachine:"):] + ":" + name
	}
	return name
}

func (s *Server) startExecution(r *http.Request, body []byte) (any, error) {
	var in startRequest
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := in.check(); err != nil {
		return nil, err
	}
	out, err := s.start(r, &in)
	if err != nil {
		return nil, err
	}
	return map[string]any{"executionArn": out.ExecutionArn, "startDate": epoch(out.StartDate)}, nil
}

func (s *Server) startSyncExecution(r *http.Request, body []byte) (any, error) {
	var in startRequest
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := in.check(); err != nil {
		return nil, err
	}
	m, err := s.ex.DescribeStateMachine(r.Context(), in.StateMachineArn)
	if err != nil {
		return nil, toAPIError(err, in.StateMachineArn)
	}
	if m.Type != localsfn.Express {
		return nil, &apiError{Type: "StateMachineTypeNotSupported", Message: "This operation is not supported by this type of state machine"}
	}
	out, err := s.start(r, &in)
	if err != nil {
		return nil, err
	}
	d, err := s.ex.WaitExecution(r.Context(), out.ExecutionArn)
	if err != nil {
		return nil, fmt.Errorf("wait for %s: %w", out.ExecutionArn, err)
	}
	doc := map[string]any{
		"executionArn": d.ExecutionArn, "stateMachineArn": d.StateMachineArn, "name": d.Name,
		"startDate": epoch(d.StartDate), "stopDate": epoch(d.StopDate), "status": d.Status,
		"input": d.Input, "inputDetails": dataDetails{Included: true},
		"billingDetails": map[string]any{
			"billedMemoryUsedInMB":         64,
			"billedDurationInMilliseconds": max(100, (d.StopDate.Sub(d.StartDate).Milliseconds()+99)/100*100),
		},
	}
	addResult(doc, d)
	return doc, nil
}

// addResult adds output, error and cause as DescribeExecution reports them.
func addResult(doc map[string]any, d *localsfn.ExecutionDescription) {
	if d.Status == localsfn.StatusSucceeded {
		doc["output"] = d.Output
		doc["outputDetails"] = dataDetails{Included: true}
	}
	if d.HasError {
		doc["error"] = d.Error
	}
	if d.HasCause {
		doc["cause"] = d.Cause
	}
}

type executionRequest struct {
	ExecutionArn string `json:"executionArn"`
}

func (in *executionRequest) check() error {
	return checkARN("executionArn", in.ExecutionArn, "execution", "express")
}

func (s *Server) describeExecution(r *http.Request, body []byte) (any, error) {
	var in executionRequest
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := in.check(); err != nil {
		return nil, err
	}
	d, err := s.ex.DescribeExecution(r.Context(), in.ExecutionArn)
	if err != nil {
		return nil, toAPIError(err, in.ExecutionArn)
	}
	doc := map[string]any{
		"executionArn": d.ExecutionArn, "stateMachineArn": d.StateMachineArn, "name": d.Name,
		"status": d.Status, "startDate": epoch(d.StartDate),
		"input": d.Input, "inputDetails": dataDetails{Included: true},
		"redriveCount": 0,
	}
	if !d.StopDate.IsZero() {
		doc["stopDate"] = epoch(d.StopDate)
	}
	addResult(doc, d)
	return doc, nil
}

func (s *Server) stopExecution(r *http.Request, body []byte) (any, error) {
	var in struct {
		executionRequest
		Error *string `json:"error"`
		Cause *string `json:"cause"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := in.check(); err != nil {
		return nil, err
	}
	var v validation
	errName, cause := "", ""
	if in.Error != nil {
		errName = *in.Error
		v.length("error", errName, 0, 256)
	}
	if in.Cause != nil {
		cause = *in.Cause
		v.length("cause", cause, 0, 32768)
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	if err := s.ex.StopExecution(r.Context(), in.ExecutionArn, errName, cause); err != nil {
		return nil, toAPIError(err, in.ExecutionArn)
	}
	d, err := s.ex.DescribeExecution(r.Context(), in.ExecutionArn)
	if err != nil {
		return nil, toAPIError(err, in.ExecutionArn)
	}
	return map[string]any{"stopDate": stamp(d.StopDate)}, nil
}

var statuses = []string{localsfn.StatusRunning, localsfn.StatusSucceeded, localsfn.StatusFailed, localsfn.StatusTimedOut, localsfn.StatusAborted, "PENDING_REDRIVE"}

func (s *Server) listExecutions(r *http.Request, body []byte) (any, error) {
	var in struct {
		pageRequest
		StateMachineArn string `json:"stateMachineArn"`
		MapRunArn       string `json:"mapRunArn"`
		StatusFilter    string `json:"statusFilter"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if in.MapRunArn != "" {
		return nil, &apiError{Type: "ResourceNotFound", Message: "Resource not found: '" + clip(in.MapRunArn) + "' (the embedded executor keeps no Map Runs)"}
	}
	if err := checkARN("stateMachineArn", in.StateMachineArn, "stateMachine"); err != nil {
		return nil, err
	}
	var v validation
	v.oneOf("statusFilter", in.StatusFilter, statuses...)
	if err := v.err(); err != nil {
		return nil, err
	}
	if err := in.check(1000); err != nil {
		return nil, err
	}
	all, err := s.ex.ListExecutions(r.Context(), localsfn.ListExecutionsInput{StateMachineArn: in.StateMachineArn, Status: in.StatusFilter})
	if err != nil {
		return nil, toAPIError(err, in.StateMachineArn)
	}
	start, err := in.after(func(key string) int {
		// newest first: the page starts at the first item that sorts below the key
		return slices.IndexFunc(all, func(d *localsfn.ExecutionDescription) bool { return executionKey(d) < key })
	}, len(all))
	if err != nil {
		return nil, err
	}
	page := all[start:]
	next := ""
	if n := in.limit(100); len(page) > n {
		page = page[:n]
		next = encodeToken(executionKey(page[n-1]))
	}
	items := make([]map[string]any, 0, len(page))
	for _, d := range page {
		item := map[string]any{
			"executionArn": d.ExecutionArn, "stateMachineArn": d.StateMachineArn, "name": d.Name,
			"status": d.Status, "startDate": epoch(d.StartDate),
		}
		if !d.StopDate.IsZero() {
			item["stopDate"] = epoch(d.StopDate)
		}
		items = append(items, item)
	}
	return withToken(map[string]any{"executions": items}, next), nil
}

// executionKey orders executions as ListExecutions does (start date, then
// ARN) in a string that compares the same way.
func executionKey(d *localsfn.ExecutionDescription) string {
	return fmt.Sprintf("%020d|%s", d.StartDate.UnixNano(), d.ExecutionArn)
}
