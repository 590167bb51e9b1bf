// Package monitor holds the small handlers that watch the bus: Stub logs
// every event, Alert consumes dead letters (the embedded bus's dead-letter
// table, or EventBridge's SQS DLQ in AWS), Health sends a heartbeat and
// checks dependencies on a schedule. Metrics are CloudWatch Embedded Metric
// Format (EMF) lines; logs are slog with delivery_id on every line of a
// delivery.
//
// Embedded wiring (cmd/ai3 dev):
//
//	m := monitor.NewEMF(os.Stderr, monitor.Namespace)
//	b.Subscribe(monitor.NewStub(log, m))
//	b.SubscribeDeadLetters(monitor.NewAlert(log, m))
//	h := monitor.NewHealth(log, m, map[string]monitor.Check{"sqlite": db.PingContext, "bus": b.Check, "archive": a.Check})
//	env.Go(func(ctx context.Context) error { return h.Run(ctx, time.Minute) })
//
// Lambda wiring: see lambdas/stub, lambdas/alert and lambdas/health.
package monitor

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"sync"
	"time"
)

// Namespace is the CloudWatch namespace of ai3's metrics.
const Namespace = "ai3"

// Units used by ai3's metrics (CloudWatch unit names).
const (
	Count        = "Count"
	Milliseconds = "Milliseconds"
)

// Metric is one measurement. Dimensions become CloudWatch dimensions (keep
// their values low-cardinality); Properties are searchable context that is
// not a dimension (delivery_id).
type Metric struct {
	Name       string
	Value      float64
	Unit       string
	Dimensions map[string]string
	Properties map[string]string
}

// Metrics records measurements.
type Metrics interface {
	Put(ctx context.Context, m Metric) error
}

// EMF writes each metric as one CloudWatch Embedded Metric Format JSON line.
// In Lambda, lines written to stdout become metrics without any API call.
type EMF struct {
	mu        sync.Mutex
	w         io.Writer
	namespace string
	now       func() time.Time
}

// NewEMF returns an EMF writer to w under namespace.
func NewEMF(w io.Writer, namespace string) *EMF {
	return &EMF{w: w, namespace: namespace, now: time.Now}
}

// reserved are top-level keys a dimension or property must not overwrite.
var reserved = []string{"_aws"}

// Put writes m as one line (a single Write, so concurrent invocations never
// interleave).
func (e *EMF) Put(ctx context.Context, m Metric) error {
	if m.Name == "" || slices.Contains(reserved, m.Name) {
		return fmt.Errorf("emf: invalid metric name %q", m.Name)
	}
	if len(m.Dimensions) > 30 {
		return fmt.Errorf("emf: metric %s has %d dimensions, CloudWatch allows 30", m.Name, len(m.Dimensions))
	}
	unit := m.Unit
	if unit == "" {
		unit = "None"
	}
	doc := map[string]any{}
	for k, v := range m.Properties {
		doc[k] = v
	}
	dims := slices.Sorted(maps.Keys(m.Dimensions))
	for _, k := range dims {
		if k == m.Name || slices.Contains(reserved, k) {
			return fmt.Errorf("emf: metric %s: dimension name %q collides", m.Name, k)
		}
		if m.Dimensions[k] == "" {
			return fmt.Errorf("emf: metric %s: dimension %s is empty", m.Name, k)
		}
		doc[k] = m.Dimensions[k]
	}
	doc[m.Name] = m.Value
	// One dimension set; an empty set publishes the metric without
	// dimensions.
	dimSets := [][]string{append([]string{}, dims...)}
	doc["_aws"] = map[string]any{
		"Timestamp": e.now().UnixMilli(),
		"CloudWatchMetrics": []any{map[string]any{
			"Namespace":  e.namespace,
			"Dimensions": dimSets,
			"Metrics":    []any{map[string]string{"Name": m.Name, "Unit": unit}},
		}},
	}
	line, err := json.Marshal(doc)
	if err != nil {
		return fmt.Errorf("emf: metric %s: %w", m.Name, err)
	}
	line = append(line, '\n')
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, err := e.w.Write(line); err != nil {
		return fmt.Errorf("emf: write metric %s: %w", m.Name, err)
	}
	return nil
}
