package localsfn

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	_ "modernc.org/sqlite" // the pure-Go SQLite driver "sqlite"
)

// OpenDB opens (or creates) the executor's SQLite database at path with WAL
// and a busy timeout, using the pure-Go driver.
func OpenDB(ctx context.Context, path string) (*sql.DB, error) {
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=synchronous(NORMAL)")
	if err != nil {
		return nil, fmt.Errorf("open executor database %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open executor database %s: %w", path, err)
	}
	return db, nil
}

func migrate(ctx context.Context, db *sql.DB) error {
	_, err := db.ExecContext(ctx, `
CREATE TABLE IF NOT EXISTS sfn_state_machines (
  arn TEXT PRIMARY KEY, name TEXT NOT NULL, type TEXT NOT NULL, definition BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS sfn_executions (
  arn TEXT PRIMARY KEY, machine_arn TEXT NOT NULL, name TEXT NOT NULL, status TEXT NOT NULL,
  input TEXT NOT NULL, output TEXT NOT NULL DEFAULT '', error TEXT, cause TEXT,
  start_ns INTEGER NOT NULL, stop_ns INTEGER NOT NULL DEFAULT 0,
  cp_state TEXT NOT NULL DEFAULT '', cp_input TEXT NOT NULL DEFAULT '', cp_entered_ns INTEGER NOT NULL DEFAULT 0,
  cp_token TEXT NOT NULL DEFAULT '', cp_vars TEXT NOT NULL DEFAULT '{}', next_event INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS sfn_executions_status ON sfn_executions(status);
CREATE INDEX IF NOT EXISTS sfn_executions_machine ON sfn_executions(machine_arn, start_ns);
CREATE TABLE IF NOT EXISTS sfn_events (
  execution_arn TEXT NOT NULL, id INTEGER NOT NULL, body TEXT NOT NULL, PRIMARY KEY (execution_arn, id));
CREATE TABLE IF NOT EXISTS sfn_partials (
  execution_arn TEXT NOT NULL, state TEXT NOT NULL, idx INTEGER NOT NULL, output TEXT NOT NULL,
  PRIMARY KEY (execution_arn, state, idx));
CREATE TABLE IF NOT EXISTS sfn_task_tokens (
  token TEXT PRIMARY KEY, execution_arn TEXT NOT NULL, done INTEGER NOT NULL DEFAULT 0,
  output TEXT, error TEXT, cause TEXT);`)
	if err != nil {
		return fmt.Errorf("create executor tables: %w", err)
	}
	return migrateMachines(ctx, db)
}

func insertExecution(ctx context.Context, db *sql.DB, x *execution) error {
	insert := func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO sfn_executions(arn, machine_arn, name, status, input, start_ns) VALUES(?,?,?,?,?,?)`,
			x.arn, x.rec.arn, x.name, StatusRunning, x.inputText, x.start.UnixNano())
		return err
	}
	what := "save execution " + x.name
	if x.durable {
		return withEvents(ctx, db, x, what, insert)
	}
	return inTx(ctx, db, what, insert)
}

func nullable(s string, ok bool) any {
	if !ok {
		return nil
	}
	return s
}

// flushEvents writes the events not yet persisted, inside tx; undo puts
// them back when the transaction does not commit.
func flushEvents(ctx context.Context, tx *sql.Tx, x *execution) (undo func(), err error) {
	events := x.hist.takeUnflushed()
	undo = func() { x.hist.putBack(events) }
	// Many rows per statement: a Map of 100 items leaves hundreds of events.
	const perStatement = 100
	for start := 0; start < len(events); start += perStatement {
		chunk := events[start:min(start+perStatement, len(events))]
		var q strings.Builder
		q.WriteString(`INSERT OR REPLACE INTO sfn_events(execution_arn, id, body) VALUES `)
		args := make([]any, 0, 3*len(chunk))
		for i, ev := range chunk {
			body, err := json.Marshal(ev)
			if err != nil {
				return undo, err
			}
			if i > 0 {
				q.WriteString(",")
			}
			q.WriteString("(?,?,?)")
			args = append(args, x.arn, ev.ID, string(body))
		}
		if _, err := tx.ExecContext(ctx, q.String(), args...); err != nil {
			return undo, err
		}
	}
	return undo, nil
}

// withEvents runs f in a transaction that also writes the pending events.
func withEvents(ctx context.Context, db *sql.DB, x *execution, what string, f func(tx *sql.Tx) error) error {
	var undo func()
	err := inTx(ctx, db, what, func(tx *sql.Tx) error {
		var err error
		if undo, err = flushEvents(ctx, tx, x); err != nil {
			return err
		}
		return f(tx)
	})
	if err != nil && undo != nil {
		undo()
	}
	return err
}

func inTx(ctx context.Context, db *sql.DB, what string, f func(tx *sql.Tx) error) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if err := f(tx); err != nil {
		tx.Rollback()
		return fmt.Errorf("%s: %w", what, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

func saveCheckpoint(ctx context.Context, db *sql.DB, x *execution, next string, input any, at time.Time) error {
	return withEvents(ctx, db, x, "checkpoint "+x.name, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM sfn_partials WHERE execution_arn=?`, x.arn); err != nil {
			return err
		}
		vars := x.vars.snapshot()
		if vars == nil {
			vars = map[string]any{}
		}
		_, err := tx.ExecContext(ctx, `UPDATE sfn_executions SET cp_state=?, cp_input=?, cp_entered_ns=?, cp_token='', cp_vars=?, next_event=? WHERE arn=?`,
			next, string(encodeJSON(input)), at.UnixNano(), string(encodeJSON(vars)), x.hist.lastID(), x.arn)
		return err
	})
}

func finishExecution(ctx context.Context, db *sql.DB, x *execution) error {
	d := x.describe()
	return withEvents(ctx, db, x, "finish execution "+x.name, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE sfn_executions SET status=?, output=?, error=?, cause=?, stop_ns=? WHERE arn=?`,
			d.Status, d.Output, nullable(d.Error, d.HasError), nullable(d.Cause, d.HasCause), d.StopDate.UnixNano(), x.arn)
		return err
	})
}

func saveToken(ctx context.Context, db *sql.DB, arn, token string) error {
	return inTx(ctx, db, "save task token", func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO sfn_task_tokens(token, execution_arn) VALUES(?,?)`, token, arn); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE sfn_executions SET cp_token=? WHERE arn=?`, token, arn)
		return err
	})
}

func tokenPending(ctx context.Context, db *sql.DB, token string) (bool, error) {
	var done int
	err := db.QueryRowContext(ctx, `SELECT done FROM sfn_task_tokens WHERE token=?`, token).Scan(&done)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read task token: %w", err)
	}
	return done == 0, nil
}

// completeStoredToken records a token's result once; it reports false when
// the token is unknown to the store or already completed.
func completeStoredToken(ctx context.Context, db *sql.DB, token string, res invokeResult, output string) (bool, error) {
	var errName, cause any
	if res.f != nil {
		errName, cause = nullable(res.f.Error, res.f.HasError), nullable(res.f.Cause, res.f.HasCause)
	}
	r, err := db.ExecContext(ctx, `UPDATE sfn_task_tokens SET done=1, output=?, error=?, cause=? WHERE token=? AND done=0`, output, errName, cause, token)
	if err != nil {
		return false, fmt.Errorf("complete task token: %w", err)
	}
	n, _ := r.RowsAffected()
	return n == 1, nil
}

func storedTokenResult(ctx context.Context, db *sql.DB, token string) (invokeResult, bool, error) {
	var done int
	var output, errName, cause sql.NullString
	err := db.QueryRowContext(ctx, `SELECT done, output, error, cause FROM sfn_task_tokens WHERE token=?`, token).Scan(&done, &output, &errName, &cause)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && done == 0) {
		return invokeResult{}, false, nil
	}
	if err != nil {
		return invokeResult{}, false, err
	}
	if errName.Valid || cause.Valid {
		return invokeResult{f: &Failure{Error: errName.String, HasError: errName.Valid, Cause: cause.String, HasCause: cause.Valid}}, true, nil
	}
	v, err := decodeJSON([]byte(output.String))
	if err != nil {
		return invokeResult{}, false, err
	}
	return invokeResult{out: v}, true, nil
}

func loadDescription(ctx context.Context, db *sql.DB, arn string) (*ExecutionDescription, error) {
	d := &ExecutionDescription{ExecutionArn: arn}
	var errName, cause sql.NullString
	var start, stop int64
	err := db.QueryRowContext(ctx, `SELECT machine_arn, name, status, input, output, error, cause, start_ns, stop_ns FROM sfn_executions WHERE arn=?`, arn).
		Scan(&d.StateMachineArn, &d.Name, &d.Status, &d.Input, &d.Output, &errName, &cause, &start, &stop)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("execution %s: %w", arn, ErrExecutionDoesNotExist)
	}
	if err != nil {
		return nil, fmt.Errorf("load execution %s: %w", arn, err)
	}
	d.Error, d.HasError, d.Cause, d.HasCause = errName.String, errName.Valid, cause.String, cause.Valid
	d.StartDate = time.Unix(0, start).UTC()
	if stop != 0 {
		d.StopDate = time.Unix(0, stop).UTC()
	}
	return d, nil
}

func loadEvents(ctx context.Context, db *sql.DB, arn string) ([]Event, error) {
	if _, err := loadDescription(ctx, db, arn); err != nil {
		return nil, err
	}
	return queryEvents(ctx, db, arn, `SELECT body FROM sfn_events WHERE execution_arn=? ORDER BY id`, arn)
}

// queryEvents runs a query selecting event bodies and decodes them.
func queryEvents(ctx context.Context, db *sql.DB, arn, query string, args ...any) ([]Event, error) {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("load history of %s: %w", arn, err)
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var body string
		if err := rows.Scan(&body); err != nil {
			return nil, err
		}
		var ev Event
		if err := json.Unmarshal([]byte(body), &ev); err != nil {
			return nil, fmt.Errorf("load history of %s: %w", arn, err)
		}
		out = append(out, ev)
	}
	return out, rows.Err()
}

// Resume restarts the executions that a previous process left RUNNING and
// returns how many: STANDARD ones from the last state they completed,
// EXPRESS ones from the start (at-least-once, as in AWS).
func (e *Executor) Resume(ctx context.Context) (int, error) {
	if e.db == nil {
		return 0, nil
	}
	type row struct {
		arn, machine, name, input, cpState, cpInput, cpToken, cpVars string
		start, cpEntered                                             int64
	}
	rows, err := e.db.QueryContext(ctx, `SELECT arn, machine_arn, name, input, start_ns, cp_state, cp_input, cp_entered_ns, cp_token, cp_vars FROM sfn_executions WHERE status=?`, StatusRunning)
	if err != nil {
		return 0, fmt.Errorf("resume executions: %w", err)
	}
	var list []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.arn, &r.machine, &r.name, &r.input, &r.start, &r.cpState, &r.cpInput, &r.cpEntered, &r.cpToken, &r.cpVars); err != nil {
			rows.Close()
			return 0, fmt.Errorf("resume executions: %w", err)
		}
		list = append(list, r)
	}
	rows.Close()
	n := 0
	for _, r := range list {
		e.mu.Lock()
		_, running := e.executions[r.arn]
		e.mu.Unlock()
		if running {
			continue
		}
		rec, err := e.machine(ctx, r.machine)
		if errors.Is(err, ErrStateMachineDoesNotExist) {
			rec, err = loadMachineAny(ctx, e.db, r.machine) // deleted since: its executions still end
		}
		if err != nil {
			return n, err
		}
		input, err := decodeJSON([]byte(r.input))
		if err != nil {
			return n, fmt.Errorf("resume %s: %w", r.arn, err)
		}
		x := newExecution(e, rec, r.arn, r.name, r.input, input, time.Unix(0, r.start).UTC())
		if vars, err := decodeJSON([]byte(r.cpVars)); err == nil {
			if m, ok := vars.(map[string]any); ok && len(m) > 0 {
				sizes := make(map[string]int, len(m))
				for k, v := range m {
					sizes[k] = jsonSize(v)
					x.varBytes += sizes[k]
				}
				x.vars.assign(m, sizes)
			}
		}
		events, err := loadEvents(ctx, e.db, r.arn) // for the last event id
		if err != nil {
			return n, err
		}
		if len(events) > 0 {
			x.hist.next = events[len(events)-1].ID
			x.main.last = x.hist.next
		}
		at, stateInput := rec.machine.StartAt, input
		var resume *resumePoint
		if r.cpState != "" {
			at = r.cpState
			if stateInput, err = decodeJSON([]byte(r.cpInput)); err != nil {
				return n, fmt.Errorf("resume %s: %w", r.arn, err)
			}
			resume = &resumePoint{entered: time.Unix(0, r.cpEntered).UTC(), token: r.cpToken}
		} else {
			// Still in the first state, entered when the execution started.
			resume = &resumePoint{entered: x.start, token: r.cpToken}
		}
		e.mu.Lock()
		e.executions[r.arn] = x
		e.mu.Unlock()
		e.log.Info("resuming execution", "execution", r.arn, "state", at)
		e.launch(x, at, stateInput, resume)
		n++
	}
	return n, nil
}

// abortStored ends a durable execution that no process is running.
func abortStored(ctx context.Context, db *sql.DB, arn string, f *Failure, now time.Time) error {
	_, err := db.ExecContext(ctx, `UPDATE sfn_executions SET status=?, error=?, cause=?, stop_ns=? WHERE arn=? AND status=?`,
		StatusAborted, nullable(f.Error, f.Error != ""), nullable(f.Cause, f.Cause != ""), now.UnixNano(), arn, StatusRunning)
	if err != nil {
		return fmt.Errorf("stop execution %s: %w", arn, err)
	}
	return nil
}

func clearPartials(ctx context.Context, db *sql.DB, arn string) error {
	if _, err := db.ExecContext(ctx, `DELETE FROM sfn_partials WHERE execution_arn=?`, arn); err != nil {
		return fmt.Errorf("clear finished iterations of %s: %w", arn, err)
	}
	return nil
}

func savePartials(ctx context.Context, db *sql.DB, arn string, rows []partialRow) error {
	return inTx(ctx, db, "record finished iterations", func(tx *sql.Tx) error {
		for _, r := range rows {
			if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO sfn_partials(execution_arn, state, idx, output) VALUES(?,?,?,?)`, arn, r.state, r.index, r.output); err != nil {
				return err
			}
		}
		return nil
	})
}

func loadPartials(ctx context.Context, db *sql.DB, arn, state string) (map[int]any, error) {
	rows, err := db.QueryContext(ctx, `SELECT idx, output FROM sfn_partials WHERE execution_arn=? AND state=?`, arn, state)
	if err != nil {
		return nil, fmt.Errorf("load finished iterations of %s: %w", arn, err)
	}
	defer rows.Close()
	out := map[int]any{}
	for rows.Next() {
		var i int
		var text string
		if err := rows.Scan(&i, &text); err != nil {
			return nil, err
		}
		v, err := decodeJSON([]byte(text))
		if err != nil {
			return nil, fmt.Errorf("load finished iterations of %s: %w", arn, err)
		}
		out[i] = v
	}
	return out, rows.Err()
}
