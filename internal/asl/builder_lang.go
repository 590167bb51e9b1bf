package asl

// The 2024 language on the state builders: QueryLanguage, Assign and the
// JSONata fields. Expressions are strings written "{% … %}" (see Expr);
// Build compiles each one and reports those that do not parse.

// QueryLanguage sets the state's query language (JSONPath or JSONata); a JSONata
// machine cannot hold JSONPath states.
func (s *TaskState) QueryLanguage(v string) *TaskState { s.t.QueryLanguage = v; return s }

// Output sets the state's output (JSONata states): a value whose strings may
// be "{% … %}" expressions over $states and the variables.
func (s *TaskState) Output(v any) *TaskState { s.t.Output = v; return s }

// Assign sets workflow variables when the state completes. Values are
// evaluated from the state's entry values (the same ones Output sees);
// JSONPath states write "name.$" keys for paths and intrinsics.
func (s *TaskState) Assign(v map[string]any) *TaskState { s.t.Assign = v; return s }

// Arguments sets the state's arguments (JSONata states), the JSONata
// counterpart of Parameters.
func (s *TaskState) Arguments(v any) *TaskState { s.t.Arguments = v; return s }

// CatchTo sends the listed errors to handler, with the catcher's
// ResultPath (JSONPath), Output (JSONata) and Assign taken from c.
func (s *TaskState) CatchTo(errors []string, c Catch, handler Chainable) *TaskState {
	s.rc.catches = append(s.rc.catches, catchSpec{errors, c.ResultPath, handler, c.Output, c.Assign})
	return s
}

// QueryLanguage sets the state's query language (JSONPath or JSONata); a JSONata
// machine cannot hold JSONPath states.
func (s *PassState) QueryLanguage(v string) *PassState { s.p.QueryLanguage = v; return s }

// Output sets the state's output (JSONata states): a value whose strings may
// be "{% … %}" expressions over $states and the variables.
func (s *PassState) Output(v any) *PassState { s.p.Output = v; return s }

// Assign sets workflow variables when the state completes. Values are
// evaluated from the state's entry values (the same ones Output sees);
// JSONPath states write "name.$" keys for paths and intrinsics.
func (s *PassState) Assign(v map[string]any) *PassState { s.p.Assign = v; return s }

// QueryLanguage sets the state's query language (JSONPath or JSONata); a JSONata
// machine cannot hold JSONPath states.
func (s *WaitState) QueryLanguage(v string) *WaitState { s.w.QueryLanguage = v; return s }

// Output sets the state's output (JSONata states): a value whose strings may
// be "{% … %}" expressions over $states and the variables.
func (s *WaitState) Output(v any) *WaitState { s.w.Output = v; return s }

// Assign sets workflow variables when the state completes. Values are
// evaluated from the state's entry values (the same ones Output sees);
// JSONPath states write "name.$" keys for paths and intrinsics.
func (s *WaitState) Assign(v map[string]any) *WaitState { s.w.Assign = v; return s }

// QueryLanguage sets the state's query language (JSONPath or JSONata); a JSONata
// machine cannot hold JSONPath states.
func (s *SucceedState) QueryLanguage(v string) *SucceedState { s.s.QueryLanguage = v; return s }

// Output sets the state's output (JSONata states): a value whose strings may
// be "{% … %}" expressions over $states and the variables.
func (s *SucceedState) Output(v any) *SucceedState { s.s.Output = v; return s }

// QueryLanguage sets the state's query language (JSONPath or JSONata); a JSONata
// machine cannot hold JSONPath states.
func (s *FailState) QueryLanguage(v string) *FailState { s.f.QueryLanguage = v; return s }

// QueryLanguage sets the state's query language (JSONPath or JSONata); a JSONata
// machine cannot hold JSONPath states.
func (s *ChoiceState) QueryLanguage(v string) *ChoiceState { s.c.QueryLanguage = v; return s }

// Output sets the state's output (JSONata states): a value whose strings may
// be "{% … %}" expressions over $states and the variables.
func (s *ChoiceState) Output(v any) *ChoiceState { s.c.Output = v; return s }

// Assign sets workflow variables when the state completes. Values are
// evaluated from the state's entry values (the same ones Output sees);
// JSONPath states write "name.$" keys for paths and intrinsics.
func (s *ChoiceState) Assign(v map[string]any) *ChoiceState { s.c.Assign = v; return s }

// QueryLanguage sets the state's query language (JSONPath or JSONata); a JSONata
// machine cannot hold JSONPath states.
func (s *ParallelState) QueryLanguage(v string) *ParallelState { s.p.QueryLanguage = v; return s }

// Output sets the state's output (JSONata states): a value whose strings may
// be "{% … %}" expressions over $states and the variables.
func (s *ParallelState) Output(v any) *ParallelState { s.p.Output = v; return s }

// Assign sets workflow variables when the state completes. Values are
// evaluated from the state's entry values (the same ones Output sees);
// JSONPath states write "name.$" keys for paths and intrinsics.
func (s *ParallelState) Assign(v map[string]any) *ParallelState { s.p.Assign = v; return s }

// Arguments sets the state's arguments (JSONata states), the JSONata
// counterpart of Parameters.
func (s *ParallelState) Arguments(v any) *ParallelState { s.p.Arguments = v; return s }

// CatchTo sends the listed errors to handler, with the catcher's
// ResultPath (JSONPath), Output (JSONata) and Assign taken from c.
func (s *ParallelState) CatchTo(errors []string, c Catch, handler Chainable) *ParallelState {
	s.rc.catches = append(s.rc.catches, catchSpec{errors, c.ResultPath, handler, c.Output, c.Assign})
	return s
}

// QueryLanguage sets the state's query language (JSONPath or JSONata); a JSONata
// machine cannot hold JSONPath states.
func (s *MapState) QueryLanguage(v string) *MapState { s.m.QueryLanguage = v; return s }

// Output sets the state's output (JSONata states): a value whose strings may
// be "{% … %}" expressions over $states and the variables.
func (s *MapState) Output(v any) *MapState { s.m.Output = v; return s }

// Assign sets workflow variables when the state completes. Values are
// evaluated from the state's entry values (the same ones Output sees);
// JSONPath states write "name.$" keys for paths and intrinsics.
func (s *MapState) Assign(v map[string]any) *MapState { s.m.Assign = v; return s }

// CatchTo sends the listed errors to handler, with the catcher's
// ResultPath (JSONPath), Output (JSONata) and Assign taken from c.
func (s *MapState) CatchTo(errors []string, c Catch, handler Chainable) *MapState {
	s.rc.catches = append(s.rc.catches, catchSpec{errors, c.ResultPath, handler, c.Output, c.Assign})
	return s
}

// TimeoutExpr sets TimeoutSeconds to a JSONata expression ("{% … %}").
func (s *TaskState) TimeoutExpr(v string) *TaskState { s.t.TimeoutSecondsExpr = v; return s }

// HeartbeatExpr sets HeartbeatSeconds to a JSONata expression ("{% … %}").
func (s *TaskState) HeartbeatExpr(v string) *TaskState { s.t.HeartbeatSecondsExpr = v; return s }

// Items sets the items to iterate (JSONata states): an array or a "{% … %}"
// expression; the JSONata counterpart of ItemsPath.
func (s *MapState) Items(v any) *MapState { s.m.Items = v; return s }

// MaxConcurrencyExpr sets MaxConcurrency to a JSONata expression ("{% … %}").
func (s *MapState) MaxConcurrencyExpr(v string) *MapState { s.m.MaxConcurrencyExpr = v; return s }

// ToleratedFailureCountExpr sets ToleratedFailureCount to a JSONata expression.
func (s *MapState) ToleratedFailureCountExpr(v string) *MapState {
	s.m.ToleratedFailureCountExpr = v
	return s
}

// ToleratedFailurePercentageExpr sets ToleratedFailurePercentage to a JSONata expression.
func (s *MapState) ToleratedFailurePercentageExpr(v string) *MapState {
	s.m.ToleratedFailurePercentageExpr = v
	return s
}

// Catch holds a catcher's optional fields for CatchTo.
type Catch struct {
	ResultPath Path           // JSONPath states: where the error output goes
	Output     any            // JSONata states: the catcher's output
	Assign     map[string]any // variables set from the error output
}
