package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/voicehook/voicehook/internal/engine"
)

// Retention on a database several nodes share: any node may sweep, and
// two may sweep at once. Each statement picks its rows with FOR UPDATE
// SKIP LOCKED, so a row another sweep is deleting is left to it, not
// waited for, and no row is reported removed twice. The state and
// completed literals match the partial indexes of migration 4.
const (
	selectEndedCalls = "SELECT call_id FROM calls WHERE state = '" + string(engine.StateDisconnected) +
		"' AND end_time < $1 ORDER BY end_time LIMIT $2 FOR UPDATE SKIP LOCKED"
	deleteCallsOutbox = "DELETE FROM outbox WHERE call_id = ANY($1)"
	// Histories go with their calls (ON DELETE CASCADE).
	deleteCalls = "DELETE FROM calls WHERE call_id = ANY($1)"

	deleteCompletedConferences = `DELETE FROM conferences WHERE id IN (
		SELECT id FROM conferences WHERE completed IS NOT NULL AND completed < $1 ORDER BY completed LIMIT $2 FOR UPDATE SKIP LOCKED)
		RETURNING id`
	deleteOldRecordings = `DELETE FROM recordings WHERE recording_id IN (
		SELECT recording_id FROM recordings WHERE start_time < $1 ORDER BY start_time LIMIT $2 FOR UPDATE SKIP LOCKED)
		RETURNING account_id, recording_id`
)

// Expire removes at most limit ended calls, limit completed conferences
// and limit recordings past the cutoffs (engine.Expirer), each kind in a
// transaction of its own that locks only the rows it removes. A call's
// row lock makes a node's fenced write to that call wait until the
// transaction ends; live calls are never among the rows.
func (s *Store) Expire(ctx context.Context, before engine.ExpireBefore, limit int) (engine.Expired, error) {
	var out engine.Expired
	if limit <= 0 {
		return out, fmt.Errorf("postgres: expire: limit %d: want 1 or more", limit)
	}
	ctx, cancel, err := writeContext(ctx)
	if err != nil {
		return out, fmt.Errorf("postgres: expire: %w", err)
	}
	defer cancel()
	if !before.Calls.IsZero() {
		cutoff := timeBound(before.Calls)
		if out.Calls, err = s.expireCalls(ctx, cutoff, limit); err != nil {
			return out, fmt.Errorf("postgres: expire calls ended before %s: %w", cutoff.Format(time.RFC3339), err)
		}
		if out.Conferences, err = queryStrings(ctx, s.pool, deleteCompletedConferences, cutoff, limit); err != nil {
			return out, fmt.Errorf("postgres: expire conferences completed before %s: %w", cutoff.Format(time.RFC3339), err)
		}
	}
	if !before.Recordings.IsZero() {
		cutoff := timeBound(before.Recordings)
		rows, err := s.pool.Query(ctx, deleteOldRecordings, cutoff, limit)
		if err == nil {
			out.Recordings, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (engine.ExpiredRecording, error) {
				var e engine.ExpiredRecording
				err := r.Scan(&e.AccountID, &e.RecordingID)
				return e, err
			})
		}
		if err != nil {
			return out, fmt.Errorf("postgres: expire recordings started before %s: %w", cutoff.Format(time.RFC3339), err)
		}
	}
	return out, nil
}

// expireCalls deletes, in one transaction, up to limit calls that ended
// before cutoff with their queued webhooks (whose foreign key does not
// cascade) and histories.
func (s *Store) expireCalls(ctx context.Context, cutoff time.Time, limit int) ([]string, error) {
	var ids []string
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		if ids, err = queryStrings(ctx, tx, selectEndedCalls, cutoff, limit); err != nil || len(ids) == 0 {
			return err
		}
		if _, err := tx.Exec(ctx, deleteCallsOutbox, ids); err != nil {
			return fmt.Errorf("delete the queued webhooks: %w", err)
		}
		if _, err := tx.Exec(ctx, deleteCalls, ids); err != nil {
			return fmt.Errorf("delete the calls: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return ids, nil
}

// queryStrings runs q and returns its rows' one text column.
func queryStrings(ctx context.Context, db querier, q string, args ...any) ([]string, error) {
	rows, err := db.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

var _ engine.Expirer = (*Store)(nil)
