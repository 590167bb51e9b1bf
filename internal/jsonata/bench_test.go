package jsonata

import (
	"encoding/json"
	"fmt"
	"testing"
)

// benchExpressions are typical Step Functions JSONata fields.
func benchExpressions() []struct{ name, expr string } {
	return []struct{ name, expr string }{
		{"path", "$states.input.order.customer.id"},
		{"choice", "$states.input.order.total >= 20 and $states.input.order.total < 30"},
		{"arguments", `{"orderId": $states.input.order.id, "total": $sum($states.input.order.items.(price * qty)), "skus": $states.input.order.items.sku, "when": $states.context.Execution.StartTime}`},
		{"filter", "$count($states.input.order.items[status = 'failed'])"},
		{"output", `$merge([$states.input, {"result": $states.result.Payload, "step": $step + 1}])`},
		{"hof", `$states.input.order.items ~> $map(function($i) { $uppercase($i.sku) & '-' & $string($i.qty) }) ~> $join(',')`},
	}
}

func benchVars(b *testing.B) map[string]any {
	b.Helper()
	items := make([]any, 20)
	for i := range items {
		status := "ok"
		if i%7 == 0 {
			status = "failed"
		}
		items[i] = map[string]any{"sku": fmt.Sprintf("sku-%d", i), "price": float64(i) + 0.5, "qty": float64(i%3 + 1), "status": status}
	}
	raw, err := json.Marshal(map[string]any{
		"input":   map[string]any{"order": map[string]any{"id": "o-1", "total": 25.0, "customer": map[string]any{"id": "c-9"}, "items": items}},
		"result":  map[string]any{"Payload": map[string]any{"ok": true}},
		"context": map[string]any{"Execution": map[string]any{"StartTime": "2026-11-28T12:00:00Z"}},
	})
	if err != nil {
		b.Fatal(err)
	}
	var states any
	if err := json.Unmarshal(raw, &states); err != nil {
		b.Fatal(err)
	}
	return map[string]any{"states": states, "step": 3.0}
}

func BenchmarkCompile(b *testing.B) {
	for _, be := range benchExpressions() {
		b.Run(be.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Compile(be.expr, AWSFunctions()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkEval(b *testing.B) {
	vars := benchVars(b)
	for _, be := range benchExpressions() {
		e, err := Compile(be.expr, AWSFunctions())
		if err != nil {
			b.Fatal(err)
		}
		b.Run(be.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := e.Eval(nil, vars); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
