package localsfn

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/testenv"
)

// TestConformanceHistories compares the executor's history of every
// recorded case with AWS's GetExecutionHistory events, event for event:
// types, order, id, previousEventId and every details object. Placeholders
// of the recording (timestamp, snf_role_arn, <…> tokens) match any value;
// input and output compare as JSON values.
//
// The cases in historyKnownGaps still differ, for the reasons given there;
// any other case that differs fails the test, and so does a known gap that
// now matches (remove it from the list). CI=true only turns a missing
// ../shared/asl-conformance from a skip into a failure.
func TestConformanceHistories(t *testing.T) {
	cases := loadCases(t)
	recorded, equal := 0, 0
	var differ []string
	for _, c := range cases {
		if c.History == nil {
			continue
		}
		recorded++
		problem := historyProblem(t, c)
		_, known := historyKnownGaps[c.Name]
		switch {
		case problem == "" && known:
			t.Errorf("%s: matches AWS's history now: remove it from historyKnownGaps", c.Name)
			equal++
		case problem == "":
			equal++
		case known:
			differ = append(differ, c.Name)
			t.Logf("known gap %s: %s", c.Name, problem)
		default:
			differ = append(differ, c.Name)
			t.Errorf("%s: %s", c.Name, problem)
		}
	}
	sort.Strings(differ)
	t.Logf("histories: %d recorded, %d equal to AWS's event for event, %d differ: %s", recorded, equal, len(differ), strings.Join(differ, " "))
	if recorded != 120 {
		t.Errorf("expected 120 recorded histories, found %d", recorded)
	}
	if testenv.InCI() && recorded == 0 {
		t.Fatal("no recorded histories")
	}
}

// historyProblem runs the case and says how its history differs from AWS's ("" when not).
func historyProblem(t *testing.T, c *conformanceCase) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	typ := c.Source.Type
	if typ == "" {
		typ = Standard
	}
	// The recordings were made in account 111111111111 (AWS's answer kept
	// it in ARNs the recording did not mask): run in the same account.
	ex, err := New(ctx, Options{Clock: NewAutoClock(time.Date(2024, 3, 22, 21, 0, 0, 0, time.UTC)), ExpressHistory: true, Account: recordedAccountID})
	if err != nil {
		t.Fatal(err)
	}
	defer ex.Close()
	d, err := ex.Run(ctx, "conformance", c.Def, typ, string(c.Input))
	if err != nil {
		return "run: " + err.Error()
	}
	events, err := ex.GetExecutionHistory(ctx, d.ExecutionArn)
	if err != nil {
		return "history: " + err.Error()
	}
	return compareHistory(c.History, events)
}

func compareHistory(want []map[string]any, got []Event) string {
	n := min(len(want), len(got))
	for i := range n {
		data, _ := json.Marshal(got[i])
		var g map[string]any
		_ = json.Unmarshal(data, &g)
		if p := matchValue(fmt.Sprintf("event %d (%v)", i+1, want[i]["type"]), want[i], g); p != "" {
			return p
		}
	}
	if len(want) != len(got) {
		return fmt.Sprintf("%d events, AWS has %d; types %v, AWS's %v", len(got), len(want), gotTypes(got), wantTypes(want))
	}
	return ""
}

func gotTypes(events []Event) []string { return eventTypes(events) }

func wantTypes(events []map[string]any) []string {
	out := make([]string, len(events))
	for i, e := range events {
		out[i], _ = e["type"].(string)
	}
	return out
}

// recordedAccountID is the account the recordings were made in.
const recordedAccountID = "111111111111"

var recordedToken = regexp.MustCompile(`<[^<>]+>`)

// matchValue compares a recorded value with ours, placeholders matching anything.
func matchValue(at string, want, got any) string {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return fmt.Sprintf("%s: %s, AWS has an object %s", at, short(got), short(want))
		}
		keys := make([]string, 0, len(w)+len(g))
		for k := range w {
			keys = append(keys, k)
		}
		for k := range g {
			if _, ok := w[k]; !ok {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		for _, k := range keys {
			wv, inW := w[k]
			gv, inG := g[k]
			switch {
			case k == "timestamp":
			case !inW:
				return fmt.Sprintf("%s.%s: %s, AWS has none", at, k, short(gv))
			case !inG:
				return fmt.Sprintf("%s.%s: missing, AWS has %s", at, k, short(wv))
			case ((k == "input" || k == "output") && strings.HasSuffix(at, "EventDetails") || strings.HasSuffix(at, ".assignedVariables")) && isText(gv):
				var decoded any
				if err := json.Unmarshal([]byte(gv.(string)), &decoded); err != nil {
					return fmt.Sprintf("%s.%s: not JSON: %s", at, k, short(gv))
				}
				if text, ok := wv.(string); ok && !jsonEqual(wv, decoded) {
					// the recording kept JSON text (arrays, scalars): decode it once
					var once any
					if json.Unmarshal([]byte(text), &once) == nil {
						wv = once
					}
				}
				if p := matchValue(at+"."+k, wv, decoded); p != "" {
					return p
				}
			default:
				if p := matchValue(at+"."+k, wv, gv); p != "" {
					return p
				}
			}
		}
		return ""
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return fmt.Sprintf("%s: %s, AWS has %s", at, short(got), short(want))
		}
		for i := range w {
			if p := matchValue(fmt.Sprintf("%s[%d]", at, i), w[i], g[i]); p != "" {
				return p
			}
		}
		return ""
	case string:
		if w == "timestamp" || w == "snf_role_arn" {
			return ""
		}
		g, ok := got.(string)
		if ok && recordedToken.MatchString(w) {
			parts := recordedToken.Split(w, -1)
			for i, p := range parts {
				parts[i] = regexp.QuoteMeta(p)
			}
			if regexp.MustCompile("^(?s)" + strings.Join(parts, ".*") + "$").MatchString(g) {
				return ""
			}
		}
		if ok && g == w {
			return ""
		}
		return fmt.Sprintf("%s: %s, AWS has %s", at, short(got), short(want))
	default:
		if !jsonEqual(want, got) {
			return fmt.Sprintf("%s: %s, AWS has %s", at, short(got), short(want))
		}
		return ""
	}
}

func isText(v any) bool { _, ok := v.(string); return ok }

func short(v any) string {
	b, _ := json.Marshal(v)
	if len(b) > 300 {
		return string(b[:300]) + "…"
	}
	return string(b)
}
