package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/voicehook/voicehook/internal/engine"
	msqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// callSeq is the seq of the call whose id is the parameter: history
// names its call by it.
const callSeq = "(SELECT seq FROM calls WHERE call_id = ?)"

// insertHistory appends an entry to a call's history: its seq follows the
// call's last. Its parameters are the call id twice, then the entry's time,
// kind, summary and detail. The subqueries and the insert are one
// statement, run under SQLite's write lock, so no other writer (of this
// process or another) can take the same seq. An unknown call id makes
// call_seq NULL, which the table refuses.
const insertHistory = `INSERT INTO history (call_seq, seq, time, kind, summary, detail)
VALUES (` + callSeq + `, (SELECT COALESCE(MAX(seq), 0) + 1 FROM history WHERE call_seq = ` + callSeq + `), ?, ?, ?, ?)`

// selectHistory reads a call's history.
const selectHistory = "SELECT time, kind, summary, detail FROM history WHERE call_seq = " + callSeq + " ORDER BY seq"

// AppendHistory adds entries to calls' histories, in order, all or none.
// Every call must have been saved: otherwise the error wraps
// engine.ErrNotFound.
func (s *Store) AppendHistory(ctx context.Context, entries ...engine.HistoryEntry) error {
	if len(entries) == 0 {
		return nil
	}
	args := make([][]any, len(entries))
	for i, e := range entries {
		t, err := timeArg(e.Time)
		if err != nil {
			return fmt.Errorf("sqlite: append history of call %s: time: %w", e.CallID, err)
		}
		args[i] = []any{e.CallID, e.CallID, t, e.Kind, e.Summary, e.Detail}
	}

	failed := -1
	err := s.do(ctx, func(tx *txn) error {
		failed = -1 // a batch may run a write twice
		stmt := tx.stmt(s.stmtAppend)
		for i, a := range args {
			if _, err := stmt.Exec(a...); err != nil {
				failed = i
				return err
			}
		}
		return nil
	})
	if err != nil {
		if failed >= 0 {
			return historyError(entries[failed].CallID, err)
		}
		return fmt.Errorf("sqlite: append history: %w", err)
	}
	return nil
}

// historyError describes a failed insert into callID's history. A call
// seq left NULL (or a foreign key violation) means the call is unknown.
func historyError(callID string, err error) error {
	var se *msqlite.Error
	if errors.As(err, &se) && (se.Code() == sqlite3.SQLITE_CONSTRAINT_NOTNULL || se.Code() == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY) {
		err = engine.ErrNotFound
	}
	return fmt.Errorf("sqlite: append history of call %s: %w", callID, err)
}

// History returns a call's history in the order it was appended: empty
// for a call without one, an error wrapping engine.ErrNotFound for an
// unknown call.
func (s *Store) History(ctx context.Context, callID string) ([]engine.HistoryEntry, error) {
	entries, err := s.history(ctx, callID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: history of call %s: %w", callID, err)
	}
	return entries, nil
}

func (s *Store) history(ctx context.Context, callID string) ([]engine.HistoryEntry, error) {
	rows, err := s.stmtHistory.QueryContext(ctx, callID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	entries := []engine.HistoryEntry{}
	for rows.Next() {
		e := engine.HistoryEntry{CallID: callID}
		var t sql.NullInt64
		if err := rows.Scan(&t, &e.Kind, &e.Summary, &e.Detail); err != nil {
			return nil, err
		}
		e.Time = timeOf(t)
		entries = append(entries, e)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(entries) > 0 {
		return entries, nil
	}
	var one int
	err = s.read.QueryRowContext(ctx, "SELECT 1 FROM calls WHERE call_id = ?", callID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, engine.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return entries, nil
}
