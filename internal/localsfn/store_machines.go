package localsfn

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// machineColumns are the columns added to sfn_state_machines after its
// first release; migrate adds them to older databases.
var machineColumns = []struct{ name, decl string }{
	{"role_arn", "TEXT NOT NULL DEFAULT ''"},
	{"created_ns", "INTEGER NOT NULL DEFAULT 0"},
	{"updated_ns", "INTEGER NOT NULL DEFAULT 0"},
	{"deleted", "INTEGER NOT NULL DEFAULT 0"},
}

func migrateMachines(ctx context.Context, db *sql.DB) error {
	rows, err := db.QueryContext(ctx, `SELECT name FROM pragma_table_info('sfn_state_machines')`)
	if err != nil {
		return fmt.Errorf("read state machine table: %w", err)
	}
	have := map[string]bool{}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return fmt.Errorf("read state machine table: %w", err)
		}
		have[n] = true
	}
	rows.Close()
	for _, c := range machineColumns {
		if have[c.name] {
			continue
		}
		if _, err := db.ExecContext(ctx, `ALTER TABLE sfn_state_machines ADD COLUMN `+c.name+` `+c.decl); err != nil {
			return fmt.Errorf("add column %s to the state machine table: %w", c.name, err)
		}
	}
	return nil
}

func saveMachine(ctx context.Context, db *sql.DB, rec *machineRecord) error {
	_, err := db.ExecContext(ctx, `INSERT INTO sfn_state_machines(arn, name, type, definition, role_arn, created_ns, updated_ns, deleted) VALUES(?,?,?,?,?,?,?,0)
ON CONFLICT(arn) DO UPDATE SET type=excluded.type, definition=excluded.definition, role_arn=excluded.role_arn,
  created_ns=excluded.created_ns, updated_ns=excluded.updated_ns, deleted=0`,
		rec.arn, rec.name, rec.typ, rec.definition, rec.role, rec.created.UnixNano(), rec.updated.UnixNano())
	if err != nil {
		return fmt.Errorf("save state machine %s: %w", rec.name, err)
	}
	return nil
}

func markMachineDeleted(ctx context.Context, db *sql.DB, arn string) error {
	if _, err := db.ExecContext(ctx, `UPDATE sfn_state_machines SET deleted=1 WHERE arn=?`, arn); err != nil {
		return fmt.Errorf("delete state machine %s: %w", arn, err)
	}
	return nil
}

const machineSelect = `SELECT arn, name, type, definition, role_arn, created_ns, updated_ns FROM sfn_state_machines `

func scanMachine(row interface{ Scan(...any) error }) (*machineRecord, error) {
	rec := &machineRecord{}
	var created, updated int64
	if err := row.Scan(&rec.arn, &rec.name, &rec.typ, &rec.definition, &rec.role, &created, &updated); err != nil {
		return nil, err
	}
	rec.created, rec.updated = time.Unix(0, created).UTC(), time.Unix(0, updated).UTC()
	var err error
	if rec.machine, err = Parse(rec.definition); err != nil {
		return nil, fmt.Errorf("load state machine %s: %w", rec.arn, err)
	}
	return rec, nil
}

// loadMachine reads a machine that has not been deleted.
func loadMachine(ctx context.Context, db *sql.DB, arn string) (*machineRecord, error) {
	return loadMachineWhere(ctx, db, arn, `WHERE arn=? AND deleted=0`)
}

// loadMachineAny reads a machine, deleted or not (its executions may still run).
func loadMachineAny(ctx context.Context, db *sql.DB, arn string) (*machineRecord, error) {
	if db == nil {
		return nil, fmt.Errorf("state machine %s: %w", arn, ErrStateMachineDoesNotExist)
	}
	return loadMachineWhere(ctx, db, arn, `WHERE arn=?`)
}

func loadMachineWhere(ctx context.Context, db *sql.DB, arn, where string) (*machineRecord, error) {
	rec, err := scanMachine(db.QueryRowContext(ctx, machineSelect+where, arn))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("state machine %s: %w", arn, ErrStateMachineDoesNotExist)
	}
	if err != nil {
		return nil, fmt.Errorf("load state machine %s: %w", arn, err)
	}
	return rec, nil
}

func listMachines(ctx context.Context, db *sql.DB) ([]*machineRecord, error) {
	rows, err := db.QueryContext(ctx, machineSelect+`WHERE deleted=0`)
	if err != nil {
		return nil, fmt.Errorf("list state machines: %w", err)
	}
	defer rows.Close()
	var out []*machineRecord
	for rows.Next() {
		rec, err := scanMachine(rows)
		if err != nil {
			return nil, fmt.Errorf("list state machines: %w", err)
		}
		out = append(out, rec)
	}
	return out, rows.Err()
}
