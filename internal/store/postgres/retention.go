package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/voicehook/voicehook/callback"
	"github.com/voicehook/voicehook/internal/engine"
)

// Retention on a database several nodes share: any node may sweep, and
// two may sweep at once. Each statement picks its rows with FOR UPDATE
// SKIP LOCKED, so a row another sweep is deleting is left to it, not
// waited for, and no row is reported removed twice. The state and
// completed literals match the partial indexes of migration 4.
//
// A call whose webhooks are still queued (its disconnect waiting for an
// application that is down, retried for as long as --retry-webhooks says)
// is not expired: it goes on a later sweep, once the outbox no longer
// holds any of its webhooks (outbox_by_call, migration 2). A recording
// waits while it is processing (its audio still being encoded) and while
// its call is live or its conference active.
const (
	selectEndedCalls = "SELECT call_id FROM calls WHERE state = '" + string(engine.StateDisconnected) +
		"' AND end_time < $1 AND NOT EXISTS (SELECT 1 FROM outbox WHERE outbox.call_id = calls.call_id)" +
		" ORDER BY end_time LIMIT $2 FOR UPDATE SKIP LOCKED"
	// Histories go with their calls (ON DELETE CASCADE). The outbox is
	// looked at again: a webhook queued since the select, committed
	// before this statement began, keeps its call.
	deleteCalls = "DELETE FROM calls WHERE call_id = ANY($1) AND NOT EXISTS (SELECT 1 FROM outbox WHERE outbox.call_id = calls.call_id) RETURNING call_id"

	deleteCompletedConferences = `DELETE FROM conferences WHERE id IN (
		SELECT id FROM conferences WHERE completed IS NOT NULL AND completed < $1 ORDER BY completed LIMIT $2 FOR UPDATE SKIP LOCKED)
		RETURNING id`
	deleteOldRecordings = `DELETE FROM recordings WHERE recording_id IN (
		SELECT r.recording_id FROM recordings r WHERE r.start_time < $1
		AND r.data->>'Status' IS DISTINCT FROM '` + string(callback.RecordingStatusProcessing) + `'
		AND NOT EXISTS (SELECT 1 FROM calls c WHERE c.call_id = r.call_id AND c.state <> '` + string(engine.StateDisconnected) + `')
		AND NOT EXISTS (SELECT 1 FROM conferences f WHERE f.id = r.conference_id AND f.completed IS NULL)
		ORDER BY r.start_time LIMIT $2 FOR UPDATE OF r SKIP LOCKED)
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
// before cutoff and have no webhook queued, with their histories. The
// ids returned are those deleted, oldest first.
func (s *Store) expireCalls(ctx context.Context, cutoff time.Time, limit int) ([]string, error) {
	var ids []string
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		picked, err := queryStrings(ctx, tx, selectEndedCalls, cutoff, limit)
		if err != nil || len(picked) == 0 {
			return err
		}
		deleted, err := queryStrings(ctx, tx, deleteCalls, picked)
		if err != nil {
			return fmt.Errorf("delete the calls: %w", err)
		}
		gone := make(map[string]bool, len(deleted))
		for _, id := range deleted {
			gone[id] = true
		}
		ids = ids[:0]
		for _, id := range picked {
			if gone[id] {
				ids = append(ids, id)
			}
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
