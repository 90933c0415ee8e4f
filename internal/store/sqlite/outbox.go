package sqlite

import (
	"context"
	"errors"
	"fmt"

	"github.com/voicehook/voicehook/internal/engine"
)

// The statements of the outbox, prepared once on the writing connection.
const (
	insertOutbox = "INSERT INTO outbox (call_id, event_id, data) VALUES (?, ?, ?)"
	deleteOutbox = "DELETE FROM outbox WHERE id = ?"
)

// Write stores what one event changed — the call, history entries and
// queued webhooks — in one transaction of the group-commit writer, so that
// a webhook is queued exactly when the state it reports is stored.
func (s *Store) Write(ctx context.Context, w engine.Write) ([]int64, error) {
	var callArgsList []any
	if w.Call != nil {
		if w.Call.CallID == "" {
			return nil, errors.New("sqlite: write: empty call id")
		}
		args, err := callArgs(w.Call)
		if err != nil {
			return nil, fmt.Errorf("sqlite: write call %s: %w", w.Call.CallID, err)
		}
		callArgsList = args
	}
	history := make([][]any, len(w.History))
	for i, e := range w.History {
		t, err := timeArg(e.Time)
		if err != nil {
			return nil, fmt.Errorf("sqlite: write history of call %s: time: %w", e.CallID, err)
		}
		history[i] = []any{e.CallID, e.CallID, t, e.Kind, e.Summary, e.Detail}
	}
	ids := make([]int64, len(w.Enqueue))
	failedHistory := -1
	err := s.do(ctx, func(tx *txn) error {
		failedHistory = -1 // a batch may run a write twice
		if callArgsList != nil {
			if _, err := tx.stmt(s.stmtSave).Exec(callArgsList...); err != nil {
				return fmt.Errorf("save call %s: %w", w.Call.CallID, err)
			}
		}
		stmt := tx.stmt(s.stmtAppend)
		for i, a := range history {
			if _, err := stmt.Exec(a...); err != nil {
				failedHistory = i
				return err
			}
		}
		enqueue := tx.stmt(s.stmtEnqueue)
		for i, q := range w.Enqueue {
			res, err := enqueue.Exec(q.CallID, q.EventID, q.Data)
			if err != nil {
				return fmt.Errorf("queue a webhook of call %s: %w", q.CallID, err)
			}
			if ids[i], err = res.LastInsertId(); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		if failedHistory >= 0 {
			return nil, historyError(w.History[failedHistory].CallID, err)
		}
		return nil, fmt.Errorf("sqlite: write: %w", err)
	}
	return ids, nil
}

// Queued returns the webhooks not yet delivered, oldest first.
func (s *Store) Queued(ctx context.Context) ([]engine.QueuedWebhook, error) {
	rows, err := s.read.QueryContext(ctx, "SELECT id, call_id, event_id, data FROM outbox ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("sqlite: queued webhooks: %w", err)
	}
	defer rows.Close()
	var out []engine.QueuedWebhook
	for rows.Next() {
		var q engine.QueuedWebhook
		if err := rows.Scan(&q.ID, &q.CallID, &q.EventID, &q.Data); err != nil {
			return nil, fmt.Errorf("sqlite: queued webhooks: %w", err)
		}
		out = append(out, q)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: queued webhooks: %w", err)
	}
	return out, nil
}

// Delivered removes a queued webhook; an unknown id is not an error.
func (s *Store) Delivered(ctx context.Context, id int64) error {
	err := s.do(ctx, func(tx *txn) error {
		_, err := tx.stmt(s.stmtDelivered).Exec(id)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: mark webhook %d delivered: %w", id, err)
	}
	return nil
}
