package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/voicehook/voicehook/internal/engine"
)

// insertHistory appends an entry to a call's history. Its id, from an
// identity column, orders it after every entry committed before.
const insertHistory = "INSERT INTO history (call_id, time, kind, summary, detail) VALUES ($1, $2, $3, $4, $5)"

// selectHistory reads a call's history.
const selectHistory = "SELECT time, kind, summary, detail FROM history WHERE call_id = $1 ORDER BY id"

// historyArgs returns the values of insertHistory for each entry.
func historyArgs(entries []engine.HistoryEntry) ([][]any, error) {
	args := make([][]any, len(entries))
	for i, e := range entries {
		t, err := timeArg(e.Time)
		if err != nil {
			return nil, fmt.Errorf("postgres: append history of call %s: time: %w", e.CallID, err)
		}
		args[i] = []any{e.CallID, t, e.Kind, e.Summary, e.Detail}
	}
	return args, nil
}

// AppendHistory adds entries to calls' histories, in order, all or none.
// Every call must have been saved: otherwise the error wraps
// engine.ErrNotFound.
func (s *Store) AppendHistory(ctx context.Context, entries ...engine.HistoryEntry) error {
	ctx, cancel, err := writeContext(ctx)
	if err != nil {
		return fmt.Errorf("postgres: append history: %w", err)
	}
	defer cancel()
	if len(entries) == 0 {
		return nil
	}
	args, err := historyArgs(entries)
	if err != nil {
		return err
	}
	b := &pgx.Batch{}
	fences := s.fence(b, engine.Write{History: entries})
	for _, a := range args {
		b.Queue(insertHistory, a...)
	}
	failed, err := s.runBatch(ctx, b, nil)
	if failed >= 0 && failed < fences {
		return fmt.Errorf("postgres: append history: %w", s.fenceError(err))
	}
	if failed >= 0 {
		return historyError(entries[failed-fences].CallID, err)
	}
	if err != nil {
		return fmt.Errorf("postgres: append history: %w", err)
	}
	return nil
}

// runBatch sends b, which PostgreSQL runs as one implicit transaction, and
// reads its results in order. scan, when set, reads the rows of the
// queries it returns true for, by index; the others are executed. It
// returns the index of the query that failed (-1 for none) and the error.
func (s *Store) runBatch(ctx context.Context, b *pgx.Batch, scan func(i int, r pgx.BatchResults) (bool, error)) (int, error) {
	br := s.pool.SendBatch(ctx, b)
	failed := -1
	var first error
	for i := range b.Len() {
		var err error
		done := false
		if scan != nil {
			done, err = scan(i, br)
		}
		if !done {
			_, err = br.Exec()
		}
		if err != nil {
			failed, first = i, err
			break
		}
	}
	if err := br.Close(); err != nil && first == nil {
		first = err
	}
	if first != nil && ctx.Err() != nil && !errors.Is(first, ctx.Err()) {
		first = errors.Join(ctx.Err(), first)
	}
	return failed, first
}

// historyError describes a failed insert into callID's history. A foreign
// key violation means the call is unknown.
func historyError(callID string, err error) error {
	if isForeignKeyViolation(err) {
		err = engine.ErrNotFound
	}
	return fmt.Errorf("postgres: append history of call %s: %w", callID, err)
}

// isForeignKeyViolation reports whether err is PostgreSQL's
// foreign_key_violation.
func isForeignKeyViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23503" // foreign_key_violation
}

// History returns a call's history in the order it was appended: empty
// for a call without one, an error wrapping engine.ErrNotFound for an
// unknown call.
func (s *Store) History(ctx context.Context, callID string) ([]engine.HistoryEntry, error) {
	entries, err := s.history(ctx, callID)
	if err != nil {
		return nil, fmt.Errorf("postgres: history of call %s: %w", callID, err)
	}
	return entries, nil
}

func (s *Store) history(ctx context.Context, callID string) ([]engine.HistoryEntry, error) {
	rows, err := s.pool.Query(ctx, selectHistory, callID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	entries := []engine.HistoryEntry{}
	for rows.Next() {
		e := engine.HistoryEntry{CallID: callID}
		var t pgtype.Timestamptz
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
	err = s.pool.QueryRow(ctx, "SELECT 1 FROM calls WHERE call_id = $1", callID).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, engine.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return entries, nil
}
