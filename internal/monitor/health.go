package monitor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"time"
)

// Check is a dependency probe: nil when the dependency answers.
type Check func(ctx context.Context) error

// Health runs on a schedule: it emits a Heartbeat metric (an alarm on its
// absence catches a dead scheduler) and one DependencyUp metric (1 or 0) per
// check.
type Health struct {
	log     *slog.Logger
	metrics Metrics
	checks  map[string]Check
	timeout time.Duration
}

// NewHealth returns the health handler over named checks.
func NewHealth(log *slog.Logger, metrics Metrics, checks map[string]Check) *Health {
	return &Health{log: log, metrics: metrics, checks: checks, timeout: 5 * time.Second}
}

// Beat runs every check (concurrently, each with a 5 s deadline), emits the
// metrics, and returns an error naming the dependencies that failed.
func (h *Health) Beat(ctx context.Context) error {
	names := slices.Sorted(maps.Keys(h.checks))
	results := make([]error, len(names))
	for i := range results {
		results[i] = fmt.Errorf("no answer within %s", h.timeout)
	}
	type result struct {
		i   int
		err error
	}
	// Buffered, so a check that ignores its context and never returns
	// leaks only its own goroutine, not the heartbeat.
	answers := make(chan result, len(names))
	for i, name := range names {
		go func() {
			cctx, cancel := context.WithTimeout(ctx, h.timeout)
			defer cancel()
			answers <- result{i, safeCheck(cctx, h.checks[name])}
		}()
	}
	deadline := time.After(h.timeout + time.Second)
collect:
	for range names {
		select {
		case a := <-answers:
			results[a.i] = a.err
		case <-deadline:
			break collect
		}
	}
	var errs []error
	if err := h.metrics.Put(ctx, Metric{Name: "Heartbeat", Value: 1, Unit: Count}); err != nil {
		errs = append(errs, err)
	}
	for i, name := range names {
		up := 1.0
		if results[i] != nil {
			up = 0
			h.log.ErrorContext(ctx, "dependency check failed", "dependency", name, "err", results[i])
			errs = append(errs, fmt.Errorf("dependency %s: %w", name, results[i]))
		}
		if err := h.metrics.Put(ctx, Metric{Name: "DependencyUp", Value: up, Unit: Count, Dimensions: map[string]string{"Dependency": name}}); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("health: %w", errors.Join(errs...))
	}
	h.log.InfoContext(ctx, "health ok", "dependencies", names)
	return nil
}

func safeCheck(ctx context.Context, c Check) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("check panicked: %v", r)
		}
	}()
	return c(ctx)
}

// Run beats at once and then every interval until ctx ends (the embedded
// shape's scheduler; in AWS an EventBridge schedule invokes the Lambda).
func (h *Health) Run(ctx context.Context, interval time.Duration) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		_ = h.Beat(ctx) // failures are logged and measured by Beat
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}
