package monitor

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

// checkEMF validates one line against the Embedded Metric Format rules
// CloudWatch enforces, and returns the parsed document.
func checkEMF(t *testing.T, line []byte) map[string]any {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(line, &doc); err != nil {
		t.Fatalf("EMF line is not JSON: %v: %s", err, line)
	}
	meta, ok := doc["_aws"].(map[string]any)
	if !ok {
		t.Fatalf("no _aws object: %s", line)
	}
	if ts, ok := meta["Timestamp"].(float64); !ok || ts <= 0 || ts != float64(int64(ts)) {
		t.Fatalf("_aws.Timestamp %v is not epoch milliseconds", meta["Timestamp"])
	}
	directives, ok := meta["CloudWatchMetrics"].([]any)
	if !ok || len(directives) == 0 {
		t.Fatalf("_aws.CloudWatchMetrics missing: %s", line)
	}
	for _, d := range directives {
		dir := d.(map[string]any)
		if ns, _ := dir["Namespace"].(string); ns == "" {
			t.Fatalf("directive without Namespace: %s", line)
		}
		dimSets, ok := dir["Dimensions"].([]any)
		if !ok {
			t.Fatalf("Dimensions must be an array of arrays: %s", line)
		}
		for _, set := range dimSets {
			for _, name := range set.([]any) {
				if _, ok := doc[name.(string)].(string); !ok {
					t.Fatalf("dimension %v has no string member at the top level: %s", name, line)
				}
			}
		}
		for _, m := range dir["Metrics"].([]any) {
			name := m.(map[string]any)["Name"].(string)
			if _, ok := doc[name].(float64); !ok {
				t.Fatalf("metric %s has no numeric member at the top level: %s", name, line)
			}
		}
	}
	return doc
}

func fixedEMF(w *bytes.Buffer) *EMF {
	e := NewEMF(w, Namespace)
	e.now = func() time.Time { return time.UnixMilli(1795867200123) }
	return e
}

func TestEMFGolden(t *testing.T) {
	var buf bytes.Buffer
	e := fixedEMF(&buf)
	ctx := context.Background()
	for _, m := range []Metric{
		{Name: "EventsReceived", Value: 1, Unit: Count, Dimensions: map[string]string{"Event": "issue_comment"}, Properties: map[string]string{"delivery_id": "d-1"}},
		{Name: "Heartbeat", Value: 1, Unit: Count},
		{Name: "Latency", Value: 12.5, Unit: Milliseconds, Dimensions: map[string]string{"Target": "stub", "Event": "push"}},
	} {
		if err := e.Put(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	for _, line := range bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n")) {
		checkEMF(t, line)
	}
	golden := "testdata/emf.golden"
	if *update {
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (go test -update creates it)", err)
	}
	if buf.String() != string(want) {
		t.Fatalf("EMF output changed:\n got %s\nwant %s", buf.String(), want)
	}
}

func TestEMFRefusesBadMetrics(t *testing.T) {
	var buf bytes.Buffer
	e := fixedEMF(&buf)
	many := map[string]string{}
	for i := range 31 {
		many[fmt.Sprintf("D%d", i)] = "x"
	}
	for _, m := range []Metric{
		{Name: "", Value: 1},
		{Name: "_aws", Value: 1},
		{Name: "X", Value: 1, Dimensions: map[string]string{"X": "collides"}},
		{Name: "X", Value: 1, Dimensions: map[string]string{"Empty": ""}},
		{Name: "X", Value: 1, Dimensions: many},
	} {
		if err := e.Put(context.Background(), m); err == nil {
			t.Errorf("Put(%+v) succeeded", m)
		}
	}
	if buf.Len() != 0 {
		t.Fatalf("refused metrics wrote %q", buf.String())
	}
}

func TestEMFConcurrentLinesDoNotInterleave(t *testing.T) {
	var buf bytes.Buffer
	e := fixedEMF(&buf)
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Go(func() {
			_ = e.Put(context.Background(), Metric{Name: "N", Value: float64(i), Dimensions: map[string]string{"Who": strings.Repeat("w", i+1)}})
		})
	}
	wg.Wait()
	lines := bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n"))
	if len(lines) != 50 {
		t.Fatalf("%d lines, want 50", len(lines))
	}
	for _, l := range lines {
		checkEMF(t, l)
	}
}
