package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

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
	callList   = strings.Join(callColumns, ", ")
	selectCall = "SELECT " + callList + " FROM calls"
	getCall    = selectCall + " WHERE call_id = $1 AND account_id = $2"

	// upsertCall inserts a call, owned by the node and epoch of its two
	// last parameters, or, when its id is known, replaces every column but
	// seq and the owner — but only while that node, in that epoch, owns it
	// (the fence): a call keeps its place in the creation order.
	upsertCall = func() string {
		params := make([]string, len(callColumns)+2)
		for i := range params {
			params[i] = "$" + strconv.Itoa(i+1)
		}
		var set []string
		for _, c := range callColumns[1:] {
			set = append(set, c+" = excluded."+c)
		}
		return "INSERT INTO calls (" + strings.Join(callColumns, ", ") + ", owner_node, owner_epoch) VALUES (" +
			strings.Join(params, ", ") + ") ON CONFLICT (call_id) DO UPDATE SET " + strings.Join(set, ", ") +
			" WHERE calls.owner_node = excluded.owner_node AND calls.owner_epoch = excluded.owner_epoch"
	}()

	// liveCalls, of the node $1, compares state with a literal, not a
	// parameter, so that the planner can use the partial index
	// calls_owner_live.
	liveCalls = selectCall + " WHERE owner_node = $1 AND state <> '" + string(engine.StateDisconnected) + "' ORDER BY seq"
)

// SaveCall inserts the call or replaces the stored copy. A new call goes
// last in the creation order; a replaced one keeps its place.
func (s *Store) SaveCall(ctx context.Context, c *engine.Call) error {
	if c == nil {
		return errors.New("postgres: save call: nil call")
	}
	if c.CallID == "" {
		return errors.New("postgres: save call: empty call id")
	}
	args, err := s.callArgs(c)
	if err != nil {
		return fmt.Errorf("postgres: save call %s: %w", c.CallID, err)
	}
	ctx, cancel, err := writeContext(ctx)
	if err != nil {
		return fmt.Errorf("postgres: save call %s: %w", c.CallID, err)
	}
	defer cancel()
	b := &pgx.Batch{}
	fences := s.fence(b, engine.Write{Call: c})
	b.Queue(upsertCall, args...)
	failed, err := s.runBatch(ctx, b, nil)
	switch {
	case failed >= 0 && failed < fences:
		return fmt.Errorf("postgres: save call %s: %w", c.CallID, s.fenceError(err))
	case err != nil:
		return fmt.Errorf("postgres: save call %s: %w", c.CallID, err)
	}
	return nil
}

// GetCall returns the call, or an error wrapping engine.ErrNotFound when no
// call of the account has that id.
func (s *Store) GetCall(ctx context.Context, accountID, callID string) (*engine.Call, error) {
	c, err := scanCall(s.pool.QueryRow(ctx, getCall, callID, accountID))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("postgres: get call %s: %w", callID, engine.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: get call %s: %w", callID, err)
	}
	return c, nil
}

// ListCalls returns the calls that match f, in creation order (newest
// first with f.Newest). Bounds on the start time are inclusive; a call
// without a start time matches neither. f.After must name a call (of
// f.AccountID, when set): otherwise the error wraps engine.ErrNotFound.
func (s *Store) ListCalls(ctx context.Context, f engine.CallFilter) ([]*engine.Call, error) {
	if f.Limit < 0 {
		return nil, fmt.Errorf("postgres: list calls: negative limit %d", f.Limit)
	}
	var where []string
	var args []any
	// arg adds a parameter and returns its placeholder.
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	for _, eq := range []struct{ col, v string }{
		{"account_id", f.AccountID},
		{"to_number", f.To},
		{"from_number", f.From},
		{"disconnect_cause", string(f.DisconnectCause)},
		{"state", string(f.State)},
		{"parent_call_id", f.ParentCallID},
	} {
		if eq.v != "" {
			where = append(where, eq.col+" = "+arg(eq.v))
		}
	}
	if !f.MinStartTime.IsZero() {
		where = append(where, "start_time >= "+arg(timeBound(f.MinStartTime)))
	}
	if !f.MaxStartTime.IsZero() {
		where = append(where, "start_time <= "+arg(timeBound(f.MaxStartTime)))
	}
	if f.Number != "" {
		p := arg(f.Number)
		where = append(where, "(to_number = "+p+" OR from_number = "+p+")")
	}
	if f.After != "" {
		q := "SELECT seq FROM calls WHERE call_id = $1"
		qargs := []any{f.After}
		if f.AccountID != "" {
			q += " AND account_id = $2"
			qargs = append(qargs, f.AccountID)
		}
		var seq int64
		err := s.pool.QueryRow(ctx, q, qargs...).Scan(&seq)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, fmt.Errorf("postgres: list calls: after call %s: %w", f.After, engine.ErrNotFound)
		}
		if err != nil {
			return nil, fmt.Errorf("postgres: list calls: after call %s: %w", f.After, err)
		}
		if f.Newest {
			where = append(where, "seq < "+arg(seq))
		} else {
			where = append(where, "seq > "+arg(seq))
		}
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
		q += " LIMIT " + arg(f.Limit)
	}
	calls, err := s.queryCalls(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: list calls: %w", err)
	}
	return calls, nil
}

// LiveCalls returns the calls of this node (see Join) not yet
// disconnected, of every account, in creation order.
func (s *Store) LiveCalls(ctx context.Context) ([]*engine.Call, error) {
	node, _ := s.owner()
	calls, err := s.queryCalls(ctx, liveCalls, node)
	if err != nil {
		return nil, fmt.Errorf("postgres: live calls: %w", err)
	}
	return calls, nil
}

// queryCalls runs a query of selectCall and returns its calls.
func (s *Store) queryCalls(ctx context.Context, q string, args ...any) ([]*engine.Call, error) {
	return s.queryCallsTx(ctx, s.pool, q, args...)
}

// queryCallsTx runs a query of callColumns on db and returns its calls.
func (s *Store) queryCallsTx(ctx context.Context, db querier, q string, args ...any) ([]*engine.Call, error) {
	rows, err := db.Query(ctx, q, args...)
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

// callArgs returns the parameters of upsertCall for c: the values of
// callColumns, then this node and its epoch.
func (s *Store) callArgs(c *engine.Call) ([]any, error) {
	args, err := callArgs(c)
	if err != nil {
		return nil, err
	}
	node, epoch := s.owner()
	return append(args, node, epoch), nil
}

// callArgs returns the values of callColumns for c.
func callArgs(c *engine.Call) ([]any, error) {
	var times [5]pgtype.Timestamptz
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
	return []any{
		c.CallID, c.AccountID, c.ApplicationID, c.ParentCallID,
		c.To, c.From, string(c.Direction), string(c.State),
		times[0], times[1], times[2], times[3], times[4],
		string(c.DisconnectCause), c.ErrorMessage, c.ErrorID, int32(c.SIPResponseCode), c.Tag,
		c.AnswerURL, c.AnswerMethod, c.AnswerFallbackURL, c.AnswerFallbackMethod,
		c.Username, c.Password, c.FallbackUsername, c.FallbackPassword,
		c.DisconnectURL, c.DisconnectMethod,
		int64(c.CallTimeout), int64(c.CallbackTimeout), int64(c.Priority), c.DisplayName, c.UUI, c.Privacy,
		c.Dialog,
	}, nil
}

// scanCall reads one row of callColumns.
func scanCall(r pgx.Row) (*engine.Call, error) {
	var (
		c                                     engine.Call
		direction, state, cause               string
		enqueued, start, answer, end, updated pgtype.Timestamptz
		sipCode                               int32
		callTimeout, callbackTimeout          int64
		priority                              int64
	)
	err := r.Scan(
		&c.CallID, &c.AccountID, &c.ApplicationID, &c.ParentCallID,
		&c.To, &c.From, &direction, &state,
		&enqueued, &start, &answer, &end, &updated,
		&cause, &c.ErrorMessage, &c.ErrorID, &sipCode, &c.Tag,
		&c.AnswerURL, &c.AnswerMethod, &c.AnswerFallbackURL, &c.AnswerFallbackMethod,
		&c.Username, &c.Password, &c.FallbackUsername, &c.FallbackPassword,
		&c.DisconnectURL, &c.DisconnectMethod,
		&callTimeout, &callbackTimeout, &priority, &c.DisplayName, &c.UUI, &c.Privacy,
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
	c.SIPResponseCode = int(sipCode)
	c.CallTimeout = time.Duration(callTimeout)
	c.CallbackTimeout = time.Duration(callbackTimeout)
	c.Priority = int(priority)
	return &c, nil
}

// The instants a time column takes: years 1 to 9999, which every
// encoding of a time (RFC 3339 in webhooks) can write.
var (
	minTime = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)
	maxTime = time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)
)

// timeArg returns the column value of t: NULL for the zero time. Times
// outside the years 1 to 9999 are an error.
func timeArg(t time.Time) (pgtype.Timestamptz, error) {
	if t.IsZero() {
		return pgtype.Timestamptz{}, nil
	}
	if t.Before(minTime) || t.After(maxTime) {
		return pgtype.Timestamptz{}, fmt.Errorf("%s out of range (years 1 to 9999)", t.UTC().Format(time.RFC3339))
	}
	return pgtype.Timestamptz{Time: t, Valid: true}, nil
}

// timeBound returns t clamped to the range a column holds: as a bound of a
// filter any time makes sense.
func timeBound(t time.Time) time.Time {
	switch {
	case t.Before(minTime):
		return minTime
	case t.After(maxTime):
		return maxTime
	}
	return t
}

// timeOf is the inverse of timeArg: the time, in UTC, of a column value.
func timeOf(t pgtype.Timestamptz) time.Time {
	if !t.Valid {
		return time.Time{}
	}
	return t.Time.UTC()
}
