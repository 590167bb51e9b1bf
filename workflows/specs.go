package workflows

import (
	"fmt"

	"github.com/sbalswa/ai3-mvp/internal/asl"
	"slices"
	"strconv"
	"strings"
)

// Param is one `key=value` argument a workflow accepts from `@ai3-mvp run`.
type Param struct {
	Name    string
	Kind    string   // "string", "int", "bool" or "enum"
	Values  []string // the allowed values of an enum
	Default string   // "" means no value unless given
	// Required refuses a run that does not give the argument.
	Required bool
	Usage    string
}

// Spec is what a workflow needs from the command that starts it: its typed
// arguments and its run settings.
type Spec struct {
	Params []Param
	// Concurrency "repo" allows one active run of the workflow per
	// repository; a second is refused naming the running job.
	Concurrency string
	// ApproverMustDiffer refuses an approval by the person who started the job.
	ApproverMustDiffer bool
}

// Has reports whether the workflow takes the argument name.
func (s Spec) Has(name string) bool {
	for _, p := range s.Params {
		if p.Name == name {
			return true
		}
	}
	return false
}

// specs are the workflows' run settings, by workflow name.
var specs = map[string]Spec{
	"checks": {Params: []Param{
		{Name: "max_diff_lines", Kind: "int", Default: "800", Usage: "largest diff (added + deleted lines) that passes"},
	}},
	"ci": {Params: []Param{
		{Name: "ref", Kind: "string", Usage: "git ref to test (default: the pull request's head branch, else the default branch)"},
	}},
	"deploy": {Concurrency: "repo", ApproverMustDiffer: true, Params: []Param{
		{Name: "ref", Kind: "string", Usage: "git ref to release (default: the pull request's head branch, else the default branch)"},
		{Name: "smoke_url", Kind: "string", Required: true, Usage: "URL the staging smoke test checks"},
	}},
}

// SpecOf returns the run settings of the workflow called name.
func SpecOf(name string) (Spec, error) {
	if _, err := Get(name); err != nil {
		return Spec{}, err
	}
	return specs[name], nil
}

// Usage is the one-line usage of `run <name>` with its arguments.
func (s Spec) Usage(name string) string {
	var b strings.Builder
	b.WriteString("run " + name)
	for _, p := range s.Params {
		v := p.Kind
		if p.Kind == "enum" {
			v = strings.Join(p.Values, "|")
		}
		if p.Required {
			fmt.Fprintf(&b, " %s=%s", p.Name, v)
		} else {
			fmt.Fprintf(&b, " [%s=%s]", p.Name, v)
		}
	}
	return b.String()
}

// Parse checks `key=value` arguments against the spec and returns every
// parameter's value (defaults filled in). Unknown keys, repeated keys,
// arguments without '=', values of the wrong type and missing required
// arguments are refused.
func (s Spec) Parse(args []string) (map[string]string, error) {
	out := map[string]string{}
	for _, p := range s.Params {
		if p.Default != "" {
			out[p.Name] = p.Default
		}
	}
	seen := map[string]bool{}
	for _, a := range args {
		k, v, ok := strings.Cut(a, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("argument %q is not key=value", a)
		}
		i := slices.IndexFunc(s.Params, func(p Param) bool { return p.Name == k })
		if i < 0 {
			return nil, fmt.Errorf("unknown argument %q (known: %s)", k, strings.Join(s.names(), ", "))
		}
		if seen[k] {
			return nil, fmt.Errorf("argument %q given twice", k)
		}
		seen[k] = true
		if err := s.Params[i].check(v); err != nil {
			return nil, err
		}
		out[k] = v
	}
	var missing []string
	for _, p := range s.Params {
		if p.Required && !seen[p.Name] {
			missing = append(missing, p.Name+"=")
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("missing argument %s", strings.Join(missing, ", "))
	}
	return out, nil
}

func (s Spec) names() []string {
	if len(s.Params) == 0 {
		return []string{"none"}
	}
	var n []string
	for _, p := range s.Params {
		n = append(n, p.Name)
	}
	return n
}

func (p Param) check(v string) error {
	switch p.Kind {
	case "int":
		if n, err := strconv.Atoi(v); err != nil || n < 0 {
			return fmt.Errorf("%s=%q: want a whole number ≥ 0", p.Name, v)
		}
	case "bool":
		if _, err := strconv.ParseBool(v); err != nil {
			return fmt.Errorf("%s=%q: want true or false", p.Name, v)
		}
	case "enum":
		if !slices.Contains(p.Values, v) {
			return fmt.Errorf("%s=%q: want one of %s", p.Name, v, strings.Join(p.Values, ", "))
		}
	default:
		if v == "" || len(v) > 200 || strings.ContainsAny(v, "\x00\n\r") {
			return fmt.Errorf("%s: want a non-empty value of at most 200 characters on one line", p.Name)
		}
	}
	return nil
}

// Express reports whether the workflow called name runs as an EXPRESS state
// machine (false for unknown names).
func Express(name string) bool {
	w, err := Get(name)
	return err == nil && w.Type() == asl.Express
}
