package sfnapi

import (
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/sbalswa/ai3-mvp/internal/asl"
	"github.com/sbalswa/ai3-mvp/internal/localsfn"
)

type machineTypeField struct {
	Type string `json:"type"`
}

func (s *Server) createStateMachine(r *http.Request, body []byte) (any, error) {
	var in struct {
		Name       string  `json:"name"`
		Definition *string `json:"definition"`
		RoleArn    *string `json:"roleArn"`
		machineTypeField
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	var v validation
	v.length("name", in.Name, 1, 80)
	v.required("definition", in.Definition != nil)
	v.required("roleArn", in.RoleArn != nil)
	v.oneOf("type", in.Type, localsfn.Standard, localsfn.Express)
	if in.Definition != nil {
		v.length("definition", *in.Definition, 1, asl.MaxDefinitionBytes)
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	typ := orDefault(in.Type, localsfn.Standard)
	if err := checkDefinition(*in.Definition, typ); err != nil {
		return nil, err
	}
	m, err := s.ex.CreateStateMachineOnce(r.Context(), localsfn.CreateStateMachineInput{
		Name: in.Name, Definition: []byte(*in.Definition), Type: typ, RoleARN: *in.RoleArn,
	})
	if err != nil {
		subject := in.Name
		if errors.Is(err, localsfn.ErrStateMachineAlreadyExists) {
			subject = s.ex.MachineARN(in.Name)
		}
		return nil, toAPIError(err, subject)
	}
	return map[string]any{"stateMachineArn": m.ARN, "creationDate": epoch(m.CreationDate)}, nil
}

// checkDefinition runs internal/asl's validator and answers its first
// problems as AWS's InvalidDefinition does.
func checkDefinition(def, typ string) error {
	diags := diagnose(def, typ)
	if len(diags) == 0 {
		return nil
	}
	msgs := make([]string, 0, len(diags))
	for _, d := range diags {
		m := d.Code + ": " + d.Message
		if d.Location != "" {
			m += " at " + d.Location
		}
		msgs = append(msgs, m)
	}
	return invalidDefinition(strings.Join(msgs, ", "))
}

// diagnostic is one entry of ValidateStateMachineDefinition's diagnostics.
type diagnostic struct {
	Severity string `json:"severity"`
	Code     string `json:"code"`
	Message  string `json:"message"`
	Location string `json:"location,omitempty"`
}

func diagnose(def, typ string) []diagnostic {
	_, err := asl.ParseAndValidate([]byte(def), asl.MachineType(typ))
	if err == nil {
		return nil
	}
	var ve *asl.ValidationError
	if !errors.As(err, &ve) {
		return []diagnostic{{Severity: "ERROR", Code: "INVALID_JSON_DESCRIPTION", Message: err.Error()}}
	}
	out := make([]diagnostic, 0, len(ve.Problems))
	for _, p := range ve.Problems {
		out = append(out, diagnostic{Severity: "ERROR", Code: diagnosticCode(p.Message), Message: p.Message, Location: location(p.Path)})
	}
	return out
}

// diagnosticCode names a problem with the code AWS's validator uses for it.
func diagnosticCode(msg string) string {
	switch {
	case strings.HasPrefix(msg, "definition:"):
		return "INVALID_JSON_DESCRIPTION"
	case strings.HasPrefix(msg, "transition to"), strings.HasPrefix(msg, "StartAt") && strings.Contains(msg, "names no state"):
		return "MISSING_TRANSITION_TARGET"
	case strings.HasPrefix(msg, "duplicate state name"):
		return "DUPLICATE_STATE_NAME"
	case strings.HasPrefix(msg, "unreachable"):
		return "UNREACHABLE_STATE"
	case strings.HasPrefix(msg, "no path to a terminal state"):
		return "NO_TERMINAL_STATE"
	}
	return "SCHEMA_VALIDATION_FAILED"
}

// location turns internal/asl's path (States["a"].Branches[0].States["b"].Next)
// into AWS's (/States/a/Branches[0]/States/b/Next).
func location(path string) string {
	if path == "" {
		return ""
	}
	var b strings.Builder
	for i := 0; i < len(path); {
		switch {
		case strings.HasPrefix(path[i:], `["`):
			end := strings.Index(path[i+2:], `"]`)
			if end < 0 {
				b.WriteString(path[i:])
				return "/" + strings.TrimPrefix(b.String(), "/")
			}
			b.WriteString("/" + path[i+2:i+2+end])
			i += end + 4
		case path[i] == '.':
			b.WriteByte('/')
			i++
		default:
			b.WriteByte(path[i])
			i++
		}
	}
	return "/" + strings.TrimPrefix(b.String(), "/")
}

func (s *Server) validateStateMachineDefinition(r *http.Request, body []byte) (any, error) {
	var in struct {
		Definition *string `json:"definition"`
		Severity   string  `json:"severity"`
		MaxResults *int    `json:"maxResults"`
		machineTypeField
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	var v validation
	v.required("definition", in.Definition != nil)
	v.oneOf("type", in.Type, localsfn.Standard, localsfn.Express)
	v.oneOf("severity", in.Severity, "ERROR", "WARNING")
	v.between("maxResults", in.MaxResults, 0, 100)
	if err := v.err(); err != nil {
		return nil, err
	}
	diags := diagnose(*in.Definition, orDefault(in.Type, localsfn.Standard))
	result := "OK"
	if len(diags) > 0 {
		result = "FAIL"
	}
	limit := 100
	if in.MaxResults != nil && *in.MaxResults > 0 {
		limit = *in.MaxResults
	}
	truncated := len(diags) > limit
	if truncated {
		diags = diags[:limit]
	}
	if diags == nil {
		diags = []diagnostic{}
	}
	return map[string]any{"result": result, "diagnostics": diags, "truncated": truncated}, nil
}

func (s *Server) role(m *localsfn.StateMachine) string {
	if m.RoleARN != "" {
		return m.RoleARN
	}
	return "arn:aws:iam::" + s.opts.Account + ":role/ai3-local-states"
}

// machineDoc is what DescribeStateMachine(ForExecution) share.
func (s *Server) machineDoc(m *localsfn.StateMachine) map[string]any {
	return map[string]any{
		"stateMachineArn":      m.ARN,
		"name":                 m.Name,
		"definition":           string(m.Definition),
		"roleArn":              s.role(m),
		"loggingConfiguration": map[string]any{"level": "OFF", "includeExecutionData": false},
		"tracingConfiguration": map[string]any{"enabled": false},
	}
}

func (s *Server) describeStateMachine(r *http.Request, body []byte) (any, error) {
	var in struct {
		StateMachineArn string `json:"stateMachineArn"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := checkARN("stateMachineArn", in.StateMachineArn, "stateMachine"); err != nil {
		return nil, err
	}
	m, err := s.ex.DescribeStateMachine(r.Context(), in.StateMachineArn)
	if err != nil {
		return nil, toAPIError(err, in.StateMachineArn)
	}
	doc := s.machineDoc(m)
	doc["status"] = "ACTIVE"
	doc["type"] = m.Type
	doc["creationDate"] = epoch(m.CreationDate)
	return doc, nil
}

func (s *Server) describeStateMachineForExecution(r *http.Request, body []byte) (any, error) {
	var in struct {
		ExecutionArn string `json:"executionArn"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := checkARN("executionArn", in.ExecutionArn, "execution", "express"); err != nil {
		return nil, err
	}
	m, err := s.ex.DescribeStateMachineForExecution(r.Context(), in.ExecutionArn)
	if err != nil {
		return nil, toAPIError(err, in.ExecutionArn)
	}
	doc := s.machineDoc(m)
	doc["updateDate"] = epoch(m.UpdateDate)
	return doc, nil
}

func (s *Server) updateStateMachine(r *http.Request, body []byte) (any, error) {
	var in struct {
		StateMachineArn string  `json:"stateMachineArn"`
		Definition      *string `json:"definition"`
		RoleArn         *string `json:"roleArn"`
		Logging         any     `json:"loggingConfiguration"`
		Tracing         any     `json:"tracingConfiguration"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := checkARN("stateMachineArn", in.StateMachineArn, "stateMachine"); err != nil {
		return nil, err
	}
	if in.Definition == nil && in.RoleArn == nil && in.Logging == nil && in.Tracing == nil {
		return nil, &apiError{Type: "MissingRequiredParameter", Message: "Either the definition, the role ARN, the LoggingConfiguration, or the TracingConfiguration must be specified"}
	}
	old, err := s.ex.DescribeStateMachine(r.Context(), in.StateMachineArn)
	if err != nil {
		return nil, toAPIError(err, in.StateMachineArn)
	}
	var def []byte
	if in.Definition != nil {
		if err := checkDefinition(*in.Definition, old.Type); err != nil {
			return nil, err
		}
		def = []byte(*in.Definition)
	}
	role := ""
	if in.RoleArn != nil {
		role = *in.RoleArn
	}
	m, err := s.ex.UpdateStateMachine(r.Context(), in.StateMachineArn, def, role)
	if err != nil {
		return nil, toAPIError(err, in.StateMachineArn)
	}
	return map[string]any{"updateDate": epoch(m.UpdateDate)}, nil
}

func (s *Server) deleteStateMachine(r *http.Request, body []byte) (any, error) {
	var in struct {
		StateMachineArn string `json:"stateMachineArn"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := checkARN("stateMachineArn", in.StateMachineArn, "stateMachine"); err != nil {
		return nil, err
	}
	return nil, s.ex.DeleteStateMachine(r.Context(), in.StateMachineArn)
}

func (s *Server) listStateMachines(r *http.Request, body []byte) (any, error) {
	var in pageRequest
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := in.check(1000); err != nil {
		return nil, err
	}
	all, err := s.ex.ListStateMachines(r.Context())
	if err != nil {
		return nil, err
	}
	start, err := in.after(func(key string) int {
		return slices.IndexFunc(all, func(m *localsfn.StateMachine) bool { return m.Name > key })
	}, len(all))
	if err != nil {
		return nil, err
	}
	page := all[start:]
	next := ""
	if n := in.limit(100); len(page) > n {
		page = page[:n]
		next = encodeToken(page[n-1].Name)
	}
	items := make([]map[string]any, 0, len(page))
	for _, m := range page {
		items = append(items, map[string]any{"stateMachineArn": m.ARN, "name": m.Name, "type": m.Type, "creationDate": epoch(m.CreationDate)})
	}
	return withToken(map[string]any{"stateMachines": items}, next), nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
