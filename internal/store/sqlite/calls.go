package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/voicehook/voicehook/callback"
	"github.com/voicehook/voicehook/internal/engine"
)

// callColumns are the columns of a call, in the order callArgs and scanCall
// use. seq, the creation order, is not among them: it is assigned once.
var callColumns = []string{
	"call_id", "account_id", "application_id", "parent_call_id",
	"to_number", "from_number", "direction", "state",
	"enqueued_time", "start_time", "answer_time", "end_time", "last_update",
	"disconnect_cause", "error_message", "error_id", "sip_response_code", "tag",
	"answer_url", "answer_method", "answer_fallback_url", "answer_fallback_method",
	"username", "password", "fallback_username", "fallback_password",
	"disconnect_url", "disconnect_method",
	"call_timeout", "callback_timeout", "priority", "display_name", "uui", "privacy",
	"dialog",
}

var (
	selectCall = "SELECT " + strings.Join(callColumns, ", ") + " FROM calls"
	getCall    = selectCall + " WHERE call_id = ? AND account_id = ?"

	// upsertCall inserts a call or, when its id is known, replaces every
	// column but seq: a call keeps its place in the creation order.
	upsertCall = func() string {
		var set []string
		for _, c := range callColumns[1:] {
			set = append(set, c+" = excluded."+c)
		}
		return "INSERT INTO calls (" + strings.Join(callColumns, ", ") + ") VALUES (" +
			strings.TrimSuffix(strings.Repeat("?, ", len(callColumns)), ", ") +
			") ON CONFLICT (call_id) DO UPDATE SET " + strings.Join(set, ", ")
	}()

	// liveCalls compares state with a literal, not a parameter, so that
	// SQLite uses the partial index calls_live.
	liveCalls = selectCall + " WHERE state <> '" + string(engine.StateDisconnected) + "' ORDER BY seq"
)

// SaveCall inserts the call or replaces the stored copy. A new call goes
// last in the creation order; a replaced one keeps its place.
func (s *Store) SaveCall(ctx context.Context, c *engine.Call) error {
	if c == nil {
		return errors.New("sqlite: save call: nil call")
	}
	if c.CallID == "" {
		return errors.New("sqlite: save call: empty call id")
	}
	args, err := callArgs(c)
	if err != nil {
		return fmt.Errorf("sqlite: save call %s: %w", c.CallID, err)
	}
	err = s.do(ctx, func(tx *txn) error {
		_, err := tx.stmt(s.stmtSave).Exec(args...)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: save call %s: %w", c.CallID, err)
	}
	return nil
}

// GetCall returns the call, or an error wrapping engine.ErrNotFound when no
// call of the account has that id.
func (s *Store) GetCall(ctx context.Context, accountID, callID string) (*engine.Call, error) {
	c, err := scanCall(s.stmtGet.QueryRowContext(ctx, callID, accountID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("sqlite: get call %s: %w", callID, engine.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: get call %s: %w", callID, err)
	}
	return c, nil
}

// ListCalls returns the calls that match f, in creation order (newest
// first with f.Newest). Bounds on
// the start time are inclusive; a call without a start time matches
// neither. f.After must name a call (of f.AccountID, when set): otherwise
// the error wraps engine.ErrNotFound.
func (s *Store) ListCalls(ctx context.Context, f engine.CallFilter) ([]*engine.Call, error) {
	if f.Limit < 0 {
		return nil, fmt.Errorf("sqlite: list calls: negative limit %d", f.Limit)
	}
	var where []string
	var args []any
	if f.AccountID != "" {
		where = append(where, "account_id = ?")
		args = append(args, f.AccountID)
	}
	if f.To != "" {
		where = append(where, "to_number = ?")
		args = append(args, f.To)
	}
	if f.From != "" {
		where = append(where, "from_number = ?")
		args = append(args, f.From)
	}
	if !f.MinStartTime.IsZero() {
		where = append(where, "start_time >= ?")
		args = append(args, timeBound(f.MinStartTime))
	}
	if !f.MaxStartTime.IsZero() {
		where = append(where, "start_time <= ?")
		args = append(args, timeBound(f.MaxStartTime))
	}
	if f.DisconnectCause != "" {
		where = append(where, "disconnect_cause = ?")
		args = append(args, string(f.DisconnectCause))
	}
	if f.Number != "" {
		where = append(where, "(to_number = ? OR from_number = ?)")
		args = append(args, f.Number, f.Number)
	}
	if f.State != "" {
		where = append(where, "state = ?")
		args = append(args, string(f.State))
	}
	if f.ParentCallID != "" {
		where = append(where, "parent_call_id = ?")
		args = append(args, f.ParentCallID)
	}
	if f.After != "" {
		q := "SELECT seq FROM calls WHERE call_id = ?"
		qargs := []any{f.After}
		if f.AccountID != "" {
			q += " AND account_id = ?"
			qargs = append(qargs, f.AccountID)
		}
		var seq int64
		err := s.read.QueryRowContext(ctx, q, qargs...).Scan(&seq)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("sqlite: list calls: after call %s: %w", f.After, engine.ErrNotFound)
		}
		if err != nil {
			return nil, fmt.Errorf("sqlite: list calls: after call %s: %w", f.After, err)
		}
		if f.Newest {
			where = append(where, "seq < ?")
		} else {
			where = append(where, "seq > ?")
		}
		args = append(args, seq)
	}

	q := selectCall
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY seq"
	if f.Newest {
		q += " DESC"
	}
	if f.Limit > 0 {
		q += " LIMIT ?"
		args = append(args, f.Limit)
	}
	calls, err := s.queryCalls(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list calls: %w", err)
	}
	return calls, nil
}

// LiveCalls returns the calls not yet disconnected, of every account, in
// creation order.
func (s *Store) LiveCalls(ctx context.Context) ([]*engine.Call, error) {
	calls, err := s.queryCalls(ctx, liveCalls)
	if err != nil {
		return nil, fmt.Errorf("sqlite: live calls: %w", err)
	}
	return calls, nil
}

// queryCalls runs a query of selectCall and returns its calls.
func (s *Store) queryCalls(ctx context.Context, q string, args ...any) ([]*engine.Call, error) {
	rows, err := s.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	calls := []*engine.Call{}
	for rows.Next() {
		c, err := scanCall(rows)
		if err != nil {
			return nil, err
		}
		calls = append(calls, c)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return calls, nil
}

// callArgs returns the values of callColumns for c.
func callArgs(c *engine.Call) ([]any, error) {
	var times [5]any
	for i, t := range []struct {
		name string
		t    time.Time
	}{
		{"enqueued time", c.EnqueuedTime},
		{"start time", c.StartTime},
		{"answer time", c.AnswerTime},
		{"end time", c.EndTime},
		{"last update", c.LastUpdate},
	} {
		v, err := timeArg(t.t)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", t.name, err)
		}
		times[i] = v
	}
	var tag any
	if c.Tag != nil {
		tag = *c.Tag
	}
	var privacy any
	if c.Privacy != nil {
		privacy = boolInt(*c.Privacy)
	}
	return []any{
		c.CallID, c.AccountID, c.ApplicationID, c.ParentCallID,
		c.To, c.From, string(c.Direction), string(c.State),
		times[0], times[1], times[2], times[3], times[4],
		string(c.DisconnectCause), c.ErrorMessage, c.ErrorID, c.SIPResponseCode, tag,
		c.AnswerURL, c.AnswerMethod, c.AnswerFallbackURL, c.AnswerFallbackMethod,
		c.Username, c.Password, c.FallbackUsername, c.FallbackPassword,
		c.DisconnectURL, c.DisconnectMethod,
		int64(c.CallTimeout), int64(c.CallbackTimeout), c.Priority, c.DisplayName, c.UUI, privacy,
		c.Dialog,
	}, nil
}

// scanCall reads one row of callColumns.
func scanCall(r interface{ Scan(dest ...any) error }) (*engine.Call, error) {
	var (
		c                                     engine.Call
		direction, state, cause               string
		enqueued, start, answer, end, updated sql.NullInt64
		tag                                   sql.NullString
		callTimeout, callbackTimeout          int64
		privacy                               sql.NullInt64
	)
	err := r.Scan(
		&c.CallID, &c.AccountID, &c.ApplicationID, &c.ParentCallID,
		&c.To, &c.From, &direction, &state,
		&enqueued, &start, &answer, &end, &updated,
		&cause, &c.ErrorMessage, &c.ErrorID, &c.SIPResponseCode, &tag,
		&c.AnswerURL, &c.AnswerMethod, &c.AnswerFallbackURL, &c.AnswerFallbackMethod,
		&c.Username, &c.Password, &c.FallbackUsername, &c.FallbackPassword,
		&c.DisconnectURL, &c.DisconnectMethod,
		&callTimeout, &callbackTimeout, &c.Priority, &c.DisplayName, &c.UUI, &privacy,
		&c.Dialog,
	)
	if err != nil {
		return nil, err
	}
	c.Direction = callback.Direction(direction)
	c.State = engine.State(state)
	c.DisconnectCause = callback.Cause(cause)
	c.EnqueuedTime = timeOf(enqueued)
	c.StartTime = timeOf(start)
	c.AnswerTime = timeOf(answer)
	c.EndTime = timeOf(end)
	c.LastUpdate = timeOf(updated)
	if tag.Valid {
		c.Tag = &tag.String
	}
	c.CallTimeout = time.Duration(callTimeout)
	c.CallbackTimeout = time.Duration(callbackTimeout)
	if privacy.Valid {
		p := privacy.Int64 != 0
		c.Privacy = &p
	}
	return &c, nil
}

// The instants a time column can hold: Unix nanoseconds in an int64.
var (
	minTime = time.Unix(0, math.MinInt64)
	maxTime = time.Unix(0, math.MaxInt64)
)

// timeArg returns the column value of t: NULL for the zero time, else Unix
// nanoseconds. Times outside the years 1678 to 2262 are an error.
func timeArg(t time.Time) (any, error) {
	if t.IsZero() {
		return nil, nil
	}
	if t.Before(minTime) || t.After(maxTime) {
		return nil, fmt.Errorf("%s out of range (years 1678 to 2262)", t.UTC().Format(time.RFC3339))
	}
	return t.UnixNano(), nil
}

// timeBound returns t in Unix nanoseconds, clamped to the range a column
// holds: as a bound of a filter any time makes sense.
func timeBound(t time.Time) int64 {
	switch {
	case t.Before(minTime):
		return math.MinInt64
	case t.After(maxTime):
		return math.MaxInt64
	}
	return t.UnixNano()
}

// timeOf is the inverse of timeArg: the time, in UTC, of a column value.
func timeOf(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return time.Unix(0, n.Int64).UTC()
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}
