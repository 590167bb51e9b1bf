package localsfn

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/testenv"
)

// conformanceCase is one recorded AWS execution from ../shared/asl-conformance.
type conformanceCase struct {
	Name     string          `json:"name"`
	Features []string        `json:"features"`
	Def      json.RawMessage `json:"definition"`
	Input    json.RawMessage `json:"input"`
	Source   struct {
		Type string `json:"state_machine_type"`
	} `json:"source"`
	// History is AWS's GetExecutionHistory events, where recorded.
	History []map[string]any `json:"history"`
	Expect  struct {
		Status     string          `json:"status"`
		Output     json.RawMessage `json:"output"`
		Error      *string         `json:"error"`
		Cause      *string         `json:"cause"`
		CauseMatch string          `json:"cause_match"`
	} `json:"expect"`
}

// usesAssignOrJSONata marks the cases that need workflow variables (Assign)
// or the JSONata query language (the 2024 additions). They are held to the
// same standard as the rest; the predicate only counts them in the log.
func usesAssignOrJSONata(c *conformanceCase) bool {
	return slices.ContainsFunc(c.Features, func(f string) bool {
		return f == "jsonata" || f == "assign" || strings.HasPrefix(f, "jsonata:")
	})
}

func loadCases(t *testing.T) []*conformanceCase {
	t.Helper()
	dir := testenv.ConformanceDir(t)
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no conformance cases in %s: %v", dir, err)
	}
	var out []*conformanceCase
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		c := &conformanceCase{}
		if err := json.Unmarshal(data, c); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out = append(out, c)
	}
	return out
}

func TestConformance(t *testing.T) {
	cases := loadCases(t)
	if len(cases) != 150 {
		t.Errorf("expected the 150 recorded cases, found %d", len(cases))
	}
	newer := 0
	for _, c := range cases {
		if usesAssignOrJSONata(c) {
			newer++
		}
		t.Run(c.Name, func(t *testing.T) {
			if problem := runCase(t, c); problem != "" {
				t.Error(problem)
			}
		})
	}
	t.Logf("%d cases, %d of them with Assign or JSONata; every one must pass", len(cases), newer)
}

// runCase runs one case and returns what differs from AWS's recording ("" when nothing).
func runCase(t *testing.T, c *conformanceCase) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ex, err := New(ctx, Options{Clock: NewAutoClock(time.Date(2024, 3, 22, 21, 0, 0, 0, time.UTC))})
	if err != nil {
		t.Fatal(err)
	}
	defer ex.Close()
	typ := c.Source.Type
	if typ == "" {
		typ = Standard
	}
	d, err := ex.Run(ctx, "conformance", c.Def, typ, string(c.Input))
	if err != nil {
		return "run: " + err.Error()
	}
	return compareResult(c, d)
}

func compareResult(c *conformanceCase, d *ExecutionDescription) string {
	if d.Status != c.Expect.Status {
		return "status " + d.Status + ", want " + c.Expect.Status + " (error " + d.Error + ": " + d.Cause + ")"
	}
	if d.Status == StatusSucceeded {
		got, err := decodeJSON([]byte(d.Output))
		if err != nil {
			return "output is not JSON: " + d.Output
		}
		want, err := decodeJSON(c.Expect.Output)
		if err != nil {
			return "bad expected output"
		}
		if s, ok := want.(string); ok && !jsonEqual(got, want) {
			if w, err := decodeJSON([]byte(s)); err == nil {
				want = w
			}
		}
		if !jsonEqual(got, want) {
			return "output " + d.Output + ", want " + string(c.Expect.Output)
		}
		return ""
	}
	if (c.Expect.Error == nil) == d.HasError || (c.Expect.Error != nil && *c.Expect.Error != d.Error) {
		return "error " + d.Error + ", want " + strOrNull(c.Expect.Error) + " (cause " + d.Cause + ")"
	}
	switch c.Expect.CauseMatch {
	case "absent":
		if d.HasCause {
			return "cause " + d.Cause + ", want none"
		}
	case "exact":
		if !d.HasCause || d.Cause != *c.Expect.Cause {
			return "cause " + d.Cause + ", want " + *c.Expect.Cause
		}
	case "json":
		got, err1 := decodeJSON([]byte(d.Cause))
		want, err2 := decodeJSON([]byte(*c.Expect.Cause))
		if err1 != nil || err2 != nil || !jsonEqual(got, want) {
			return "cause " + d.Cause + ", want JSON " + *c.Expect.Cause
		}
	case "placeholder":
		re := placeholderPattern(*c.Expect.Cause)
		if !re.MatchString(d.Cause) {
			return "cause " + d.Cause + ", want " + *c.Expect.Cause
		}
	}
	return ""
}

var placeholderToken = regexp.MustCompile(`<[^<>]*:\d+>`)

// placeholderPattern turns a cause with <…:N> tokens into a regexp where each
// token matches anything.
func placeholderPattern(cause string) *regexp.Regexp {
	parts := placeholderToken.Split(cause, -1)
	for i, p := range parts {
		parts[i] = regexp.QuoteMeta(p)
	}
	return regexp.MustCompile("^" + strings.Join(parts, ".*") + "$")
}

func strOrNull(s *string) string {
	if s == nil {
		return "null"
	}
	return *s
}
