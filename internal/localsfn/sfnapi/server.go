// Package sfnapi serves the AWS Step Functions API (the awsJson1_0
// protocol: POST with X-Amz-Target: AWSStepFunctions.<Operation>) over an
// embedded *localsfn.Executor, so the AWS SDKs, the aws CLI and ai3's own
// AWS adapter drive the embedded executor as they drive Step Functions.
//
// It answers AWS's request validation and error shapes ({"__type",
// "message"}). Requests need not be signed; signed ones are accepted and
// their signature is not checked: it is a local development endpoint, meant
// to listen on the loopback interface.
package sfnapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"github.com/sbalswa/ai3-mvp/internal/localsfn"
)

// Options configures the API.
type Options struct {
	// Region and Account must be the executor's (localsfn.Options; default
	// us-east-1 and 000000000000): they name the role reported for machines
	// created without one through the Go API.
	Region, Account string
	// Logger receives one line per failed request; nil discards.
	Logger *slog.Logger
	// MaxBodyBytes caps a request body (default 2 MiB: a 1 MB definition
	// escaped in JSON, or a 256 KB input, fits).
	MaxBodyBytes int64
}

// Server is the Step Functions API over one executor.
type Server struct {
	ex   *localsfn.Executor
	opts Options
	log  *slog.Logger
	ops  map[string]operation
}

// operation decodes its own request from body and returns the response
// document (nil: {}).
type operation func(r *http.Request, body []byte) (any, error)

// targetPrefix starts every X-Amz-Target of the Step Functions API.
const targetPrefix = "AWSStepFunctions."

// New returns the API for exec as an http.Handler. It serves every path, so
// it can be mounted at a prefix with http.StripPrefix or on its own port.
func New(exec *localsfn.Executor, opts Options) http.Handler {
	return NewServer(exec, opts)
}

// NewServer is New with the concrete type.
func NewServer(exec *localsfn.Executor, opts Options) *Server {
	if opts.Region == "" {
		opts.Region = "us-east-1"
	}
	if opts.Account == "" {
		opts.Account = "000000000000"
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = 2 << 20
	}
	s := &Server{ex: exec, opts: opts, log: opts.Logger}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.ops = map[string]operation{
		"CreateStateMachine":               s.createStateMachine,
		"UpdateStateMachine":               s.updateStateMachine,
		"DescribeStateMachine":             s.describeStateMachine,
		"DescribeStateMachineForExecution": s.describeStateMachineForExecution,
		"ListStateMachines":                s.listStateMachines,
		"DeleteStateMachine":               s.deleteStateMachine,
		"ValidateStateMachineDefinition":   s.validateStateMachineDefinition,
		"StartExecution":                   s.startExecution,
		"StartSyncExecution":               s.startSyncExecution,
		"DescribeExecution":                s.describeExecution,
		"ListExecutions":                   s.listExecutions,
		"StopExecution":                    s.stopExecution,
		"GetExecutionHistory":              s.getExecutionHistory,
		"SendTaskSuccess":                  s.sendTaskSuccess,
		"SendTaskFailure":                  s.sendTaskFailure,
		"SendTaskHeartbeat":                s.sendTaskHeartbeat,
	}
	return s
}

// ServeHTTP answers one API request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("x-amzn-RequestId", newRequestID())
	target := r.Header.Get("X-Amz-Target")
	name, ok := strings.CutPrefix(target, targetPrefix)
	op := s.ops[name]
	if r.Method != http.MethodPost || !ok || op == nil {
		s.fail(w, r, target, &apiError{Type: "UnknownOperationException", Status: http.StatusBadRequest})
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.opts.MaxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			s.fail(w, r, name, &apiError{Type: "ValidationException", Status: http.StatusRequestEntityTooLarge,
				Message: fmt.Sprintf("Request body is larger than %d bytes", s.opts.MaxBodyBytes)})
			return
		}
		s.fail(w, r, name, &apiError{Type: "SerializationException", Message: "cannot read the request body: " + err.Error()})
		return
	}
	out, err := op(r, body)
	if err != nil {
		s.fail(w, r, name, toAPIError(err, ""))
		return
	}
	if out == nil {
		out = struct{}{}
	}
	data, err := json.Marshal(out)
	if err != nil {
		s.fail(w, r, name, &apiError{Type: "InternalFailure", Status: http.StatusInternalServerError, Message: err.Error()})
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	_, _ = w.Write(data)
}

func (s *Server) fail(w http.ResponseWriter, r *http.Request, op string, e *apiError) {
	if e.Status == 0 {
		e.Status = http.StatusBadRequest
	}
	level := slog.LevelInfo
	if e.Status >= 500 {
		level = slog.LevelError
	}
	s.log.Log(r.Context(), level, "step functions api error", "operation", op, "type", e.Type, "message", e.Message)
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.Header().Set("X-Amzn-ErrorType", e.Type)
	w.WriteHeader(e.Status)
	doc := map[string]string{"__type": e.Type}
	if e.Message != "" {
		doc["message"] = e.Message
	}
	data, _ := json.Marshal(doc)
	_, _ = w.Write(data)
}

// decode reads a request document into v, refusing what is not a JSON object.
func decode(body []byte, v any) error {
	if len(body) == 0 {
		body = []byte("{}")
	}
	if err := json.Unmarshal(body, v); err != nil {
		return &apiError{Type: "SerializationException", Message: "the request is not a valid JSON document for this operation: " + err.Error()}
	}
	return nil
}
