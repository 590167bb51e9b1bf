package localsfn

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"
)

// ListExecutionsInput selects the executions ListExecutions returns.
type ListExecutionsInput struct {
	StateMachineArn string
	// Status keeps only executions in that status ("" keeps all).
	Status string
}

// ListExecutions returns a machine's executions, newest first (by start
// date, then ARN), without their input and output. Durable executions come
// from the database; in-memory ones while the executor remembers them (see
// Options.KeepFinished).
func (e *Executor) ListExecutions(ctx context.Context, in ListExecutionsInput) ([]*ExecutionDescription, error) {
	if _, err := e.machine(ctx, in.StateMachineArn); err != nil {
		return nil, err
	}
	byARN := map[string]*ExecutionDescription{}
	if e.db != nil {
		list, err := listStoredExecutions(ctx, e.db, in)
		if err != nil {
			return nil, err
		}
		for _, d := range list {
			byARN[d.ExecutionArn] = d
		}
	}
	e.mu.Lock()
	var live []*execution
	for _, x := range e.executions {
		if x.rec.arn == in.StateMachineArn {
			live = append(live, x)
		}
	}
	e.mu.Unlock()
	for _, x := range live {
		d := x.describe() // fresher than the database while it runs here
		d.Input, d.Output = "", ""
		if in.Status != "" && d.Status != in.Status {
			delete(byARN, d.ExecutionArn)
			continue
		}
		byARN[d.ExecutionArn] = d
	}
	out := make([]*ExecutionDescription, 0, len(byARN))
	for _, d := range byARN {
		out = append(out, d)
	}
	slices.SortFunc(out, func(a, b *ExecutionDescription) int {
		if c := b.StartDate.Compare(a.StartDate); c != 0 {
			return c
		}
		return strings.Compare(b.ExecutionArn, a.ExecutionArn)
	})
	return out, nil
}

func listStoredExecutions(ctx context.Context, db *sql.DB, in ListExecutionsInput) ([]*ExecutionDescription, error) {
	q := `SELECT arn, name, status, error, cause, start_ns, stop_ns FROM sfn_executions WHERE machine_arn=?`
	args := []any{in.StateMachineArn}
	if in.Status != "" {
		q += ` AND status=?`
		args = append(args, in.Status)
	}
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list executions: %w", err)
	}
	defer rows.Close()
	var out []*ExecutionDescription
	for rows.Next() {
		d := &ExecutionDescription{StateMachineArn: in.StateMachineArn}
		var errName, cause sql.NullString
		var start, stop int64
		if err := rows.Scan(&d.ExecutionArn, &d.Name, &d.Status, &errName, &cause, &start, &stop); err != nil {
			return nil, fmt.Errorf("list executions: %w", err)
		}
		d.Error, d.HasError, d.Cause, d.HasCause = errName.String, errName.Valid, cause.String, cause.Valid
		d.StartDate = time.Unix(0, start).UTC()
		if stop != 0 {
			d.StopDate = time.Unix(0, stop).UTC()
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// HistoryQuery selects a page of an execution's history.
type HistoryQuery struct {
	// After skips events up to this id (in reverse order: from this id
	// down); 0 starts at the first (or, reversed, the last) event.
	After int64
	// Limit is the most events returned; 0 means all.
	Limit int
	// Reverse returns the newest events first.
	Reverse bool
}

// ExecutionHistoryPage returns one page of GetExecutionHistory and whether
// more events follow it. Finished durable executions are paged in the
// database, so a page of a long history costs its own size only.
func (e *Executor) ExecutionHistoryPage(ctx context.Context, arn string, q HistoryQuery) ([]Event, bool, error) {
	e.mu.Lock()
	_, live := e.executions[arn]
	e.mu.Unlock()
	if !live && e.db != nil && q.Limit > 0 {
		return loadEventPage(ctx, e.db, arn, q)
	}
	all, err := e.GetExecutionHistory(ctx, arn)
	if err != nil {
		return nil, false, err
	}
	if q.Reverse {
		slices.Reverse(all)
	}
	i := 0
	if q.After > 0 {
		i = len(all)
		for j, ev := range all {
			if (!q.Reverse && ev.ID > q.After) || (q.Reverse && ev.ID < q.After) {
				i = j
				break
			}
		}
	}
	all = all[i:]
	if q.Limit > 0 && len(all) > q.Limit {
		return all[:q.Limit], true, nil
	}
	return all, false, nil
}

func loadEventPage(ctx context.Context, db *sql.DB, arn string, q HistoryQuery) ([]Event, bool, error) {
	if _, err := loadDescription(ctx, db, arn); err != nil {
		return nil, false, err
	}
	query := `SELECT body FROM sfn_events WHERE execution_arn=? AND id>? ORDER BY id LIMIT ?`
	after := q.After
	if q.Reverse {
		query = `SELECT body FROM sfn_events WHERE execution_arn=? AND id<? ORDER BY id DESC LIMIT ?`
		if after == 0 {
			after = 1 << 62
		}
	}
	events, err := queryEvents(ctx, db, arn, query, arn, after, q.Limit+1)
	if err != nil {
		return nil, false, err
	}
	if len(events) > q.Limit {
		return events[:q.Limit], true, nil
	}
	return events, false, nil
}
