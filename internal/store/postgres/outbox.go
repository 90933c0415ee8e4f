package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/voicehook/voicehook/internal/engine"
)

// Write stores what one event changed — the call, history entries and
// queued webhooks — in one pipelined batch, which PostgreSQL runs as one
// transaction: a webhook is queued exactly when the state it reports is
// stored.
func (s *Store) Write(ctx context.Context, w engine.Write) ([]int64, error) {
	ctx, cancel, err := writeContext(ctx)
	if err != nil {
		return nil, fmt.Errorf("postgres: write: %w", err)
	}
	defer cancel()
	b := &pgx.Batch{}
	fences := s.fence(b, w)
	if w.Call != nil {
		if w.Call.CallID == "" {
			return nil, errors.New("postgres: write: empty call id")
		}
		args, err := s.callArgs(w.Call)
		if err != nil {
			return nil, fmt.Errorf("postgres: write call %s: %w", w.Call.CallID, err)
		}
		b.Queue(upsertCall, args...)
	}
	history, err := historyArgs(w.History)
	if err != nil {
		return nil, err
	}
	firstHistory := b.Len()
	for _, a := range history {
		b.Queue(insertHistory, a...)
	}
	firstQueued := b.Len()
	for _, q := range w.Enqueue {
		b.Queue("INSERT INTO outbox (call_id, event_id, data) VALUES ($1, $2, $3) RETURNING id", q.CallID, q.EventID, q.Data)
	}
	ids := make([]int64, len(w.Enqueue))
	if b.Len() == 0 {
		return ids, nil
	}
	failed, err := s.runBatch(ctx, b, func(i int, r pgx.BatchResults) (bool, error) {
		if i < firstQueued {
			return false, nil
		}
		return true, r.QueryRow().Scan(&ids[i-firstQueued])
	})
	switch {
	case err == nil:
		return ids, nil
	case failed >= 0 && failed < fences:
		return nil, fmt.Errorf("postgres: write: %w", s.fenceError(err))
	case failed >= firstHistory && failed < firstQueued:
		return nil, historyError(w.History[failed-firstHistory].CallID, err)
	case failed >= firstQueued:
		q := w.Enqueue[failed-firstQueued]
		if isForeignKeyViolation(err) {
			err = engine.ErrNotFound
		}
		return nil, fmt.Errorf("postgres: write: queue a webhook of call %s: %w", q.CallID, err)
	case failed == fences && w.Call != nil:
		return nil, fmt.Errorf("postgres: write call %s: %w", w.Call.CallID, err)
	}
	return nil, fmt.Errorf("postgres: write: %w", err)
}

// Queued returns the webhooks of this node's calls (see Join) not yet
// delivered, oldest first.
func (s *Store) Queued(ctx context.Context) ([]engine.QueuedWebhook, error) {
	node, _ := s.owner()
	return s.queued(ctx, s.pool, "SELECT o.id, o.call_id, o.event_id, o.data FROM outbox o JOIN calls c USING (call_id) WHERE c.owner_node = $1 ORDER BY o.id", node)
}

// queued runs a query of the outbox's rows.
func (s *Store) queued(ctx context.Context, db querier, q string, args ...any) ([]engine.QueuedWebhook, error) {
	rows, err := db.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: queued webhooks: %w", err)
	}
	defer rows.Close()
	var out []engine.QueuedWebhook
	for rows.Next() {
		var q engine.QueuedWebhook
		if err := rows.Scan(&q.ID, &q.CallID, &q.EventID, &q.Data); err != nil {
			return nil, fmt.Errorf("postgres: queued webhooks: %w", err)
		}
		out = append(out, q)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: queued webhooks: %w", err)
	}
	return out, nil
}

// Delivered removes a queued webhook; an unknown id is not an error, nor
// is a webhook of a call this node no longer owns, which stays.
func (s *Store) Delivered(ctx context.Context, id int64) error {
	ctx, cancel, err := writeContext(ctx)
	if err != nil {
		return fmt.Errorf("postgres: mark webhook %d delivered: %w", id, err)
	}
	defer cancel()
	// A node removes only the webhooks of calls it still owns: one that
	// lost its lease leaves them to the node that adopted them.
	q, args := "DELETE FROM outbox WHERE id = $1", []any{id}
	if node, epoch := s.owner(); node != "" {
		q = `DELETE FROM outbox o USING calls c WHERE o.id = $1 AND c.call_id = o.call_id
			AND c.owner_node = $2 AND c.owner_epoch = $3`
		args = append(args, node, epoch)
	}
	if _, err := s.pool.Exec(ctx, q, args...); err != nil {
		return fmt.Errorf("postgres: mark webhook %d delivered: %w", id, err)
	}
	return nil
}
