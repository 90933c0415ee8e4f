package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/voicehook/voicehook/internal/engine"
)

// Several nodes share one database. Each holds a lease, a row of nodes
// that it renews, and owns the calls it created, in the epoch of its
// lease: the store writes a call only for its owner in that epoch (the
// fence, function voicehook_fence), so a node that froze past its lease
// and woke up cannot overwrite a call another node adopted.
//
// A Store that has not joined (Join) is node "" in epoch 0: one node alone,
// with no lease, as a single voicehook on PostgreSQL runs.

// ErrFenced is wrapped by the error of a write to a call that this node no
// longer owns: its lease expired and another node adopted the call, or
// another process joined under the same node id.
var ErrFenced = errors.New("this node no longer owns the call")

// ErrLeaseLost is returned by Renew when the node's lease is gone: it
// expired and another node adopted its calls, or another process joined
// under the same id.
var ErrLeaseLost = errors.New("this node's lease is lost")

// ErrNodeTaken is wrapped by Join's error when a live process holds the
// node's lease: two processes run under one node id, or the earlier life
// of a node that was killed has not yet reached the end of its lease.
var ErrNodeTaken = errors.New("another process holds this node's lease")

// querier runs queries: the pool or a transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// Node is a node of the cluster, as the nodes table has it.
type Node struct {
	ID         string
	URL        string
	Epoch      int64
	LeaseUntil time.Time
	Started    time.Time
}

// owner returns the node this store writes as, and its epoch.
func (s *Store) owner() (string, int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.node, s.epoch
}

// Join registers this store's process as node id, reachable by the other
// nodes at url, with a lease of ttl, in a new epoch. It takes over the
// node's calls left live or with webhooks queued by an earlier life of
// the node (a restart), and those of no node (stored by a voicehook from
// before nodes), so that LiveCalls and Queued return them, and returns
// the epoch. Renew must follow within ttl, again and again.
func (s *Store) Join(ctx context.Context, id, url string, ttl time.Duration) (int64, error) {
	if id == "" {
		return 0, errors.New("postgres: join: empty node id")
	}
	tx, err := s.lease.Begin(ctx)
	if err != nil {
		return 0, fmt.Errorf("postgres: join as node %s: %w", id, err)
	}
	defer tx.Rollback(ctx)
	var epoch int64
	err = tx.QueryRow(ctx, `INSERT INTO nodes (id, url, epoch, lease_until, started)
		VALUES ($1, $2, nextval('node_epochs'), now() + $3::interval, now())
		ON CONFLICT (id) DO UPDATE SET url = excluded.url, epoch = excluded.epoch, lease_until = excluded.lease_until, started = excluded.started
		WHERE nodes.lease_until < now()
		RETURNING epoch`, id, url, ttl).Scan(&epoch)
	if errors.Is(err, pgx.ErrNoRows) {
		var holder string
		var until time.Time
		_ = tx.QueryRow(ctx, "SELECT url, lease_until FROM nodes WHERE id = $1", id).Scan(&holder, &until)
		return 0, fmt.Errorf("postgres: join as node %s: %w (at %s, until %s)", id, ErrNodeTaken, holder, until.UTC().Format(time.RFC3339))
	}
	if err != nil {
		return 0, fmt.Errorf("postgres: join as node %s: %w", id, err)
	}
	// Calls of no node were left by a voicehook from before nodes: the
	// first node to join ends them.
	if _, err := tx.Exec(ctx, `UPDATE calls SET owner_node = $1, owner_epoch = $2 WHERE (owner_node = $1 OR owner_node = '') AND owner_epoch <> $2
		AND (state <> 'disconnected' OR EXISTS (SELECT 1 FROM outbox o WHERE o.call_id = calls.call_id))`, id, epoch); err != nil {
		return 0, fmt.Errorf("postgres: join as node %s: take back its calls: %w", id, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, fmt.Errorf("postgres: join as node %s: %w", id, err)
	}
	s.mu.Lock()
	s.node, s.epoch = id, epoch
	s.mu.Unlock()
	return epoch, nil
}

// Renew extends this node's lease to ttl from now, as the database's
// clock reads. It returns an error wrapping ErrLeaseLost when the lease is
// no longer this node's.
func (s *Store) Renew(ctx context.Context, ttl time.Duration) error {
	node, epoch := s.owner()
	tag, err := s.lease.Exec(ctx, "UPDATE nodes SET lease_until = now() + $3::interval WHERE id = $1 AND epoch = $2", node, epoch, ttl)
	if err != nil {
		return fmt.Errorf("postgres: renew the lease of node %s: %w", node, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: renew the lease of node %s (epoch %d): %w", node, epoch, ErrLeaseLost)
	}
	return nil
}

// Leave ends this node's lease as it stops. With no call of its own left
// live and no webhook queued, it leaves the cluster; otherwise its lease
// ends now, so that another node, or this one started again, takes its
// calls at once. It reports whether the node left.
func (s *Store) Leave(ctx context.Context) (bool, error) {
	node, epoch := s.owner()
	tag, err := s.pool.Exec(ctx, `DELETE FROM nodes WHERE id = $1 AND epoch = $2
		AND NOT EXISTS (SELECT 1 FROM calls c WHERE c.owner_node = $1 AND c.state <> 'disconnected')
		AND NOT EXISTS (SELECT 1 FROM outbox o JOIN calls c USING (call_id) WHERE c.owner_node = $1)`, node, epoch)
	if err != nil {
		return false, fmt.Errorf("postgres: node %s leaves: %w", node, err)
	}
	if tag.RowsAffected() == 1 {
		return true, nil
	}
	if _, err := s.pool.Exec(ctx, "UPDATE nodes SET lease_until = now() - interval '1 millisecond' WHERE id = $1 AND epoch = $2", node, epoch); err != nil {
		return false, fmt.Errorf("postgres: node %s ends its lease: %w", node, err)
	}
	return false, nil
}

// Nodes returns the nodes with a lease, live or expired and not yet
// adopted, by id.
func (s *Store) Nodes(ctx context.Context) ([]Node, error) {
	rows, err := s.pool.Query(ctx, "SELECT id, url, epoch, lease_until, started FROM nodes ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("postgres: nodes: %w", err)
	}
	nodes, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Node, error) {
		var n Node
		err := r.Scan(&n.ID, &n.URL, &n.Epoch, &n.LeaseUntil, &n.Started)
		return n, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: nodes: %w", err)
	}
	return nodes, nil
}

// Expired returns the ids of the other nodes whose lease has expired, as
// the database's clock reads, oldest expiry first, then those of nodes
// with no lease at all that own live calls (a node that started a call
// just as it lost its lease).
func (s *Store) Expired(ctx context.Context) ([]string, error) {
	node, _ := s.owner()
	rows, err := s.pool.Query(ctx, `SELECT id FROM (SELECT id, lease_until FROM nodes WHERE lease_until < now() AND id <> $1
		UNION ALL SELECT DISTINCT c.owner_node, NULL::timestamptz FROM calls c WHERE c.state <> 'disconnected' AND c.owner_node NOT IN ('', $1)
			AND NOT EXISTS (SELECT 1 FROM nodes n WHERE n.id = c.owner_node)) e
		ORDER BY lease_until NULLS LAST`, node)
	if err != nil {
		return nil, fmt.Errorf("postgres: expired nodes: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("postgres: expired nodes: %w", err)
	}
	return ids, nil
}

// Adoption is what a node takes over from a dead one.
type Adoption struct {
	// Node is the dead node; Epoch was its epoch.
	Node  string
	Epoch int64
	// Live are its calls not yet disconnected, in creation order.
	Live []*engine.Call
	// Queued are the webhooks its calls had queued, in order.
	Queued []engine.QueuedWebhook
}

// Adopt takes over the calls of node dead, whose lease has expired (or
// which holds none): its lease is removed and its calls that are live or
// have webhooks queued become this node's, in one transaction. Of several
// nodes adopting at once one wins; the others get ok false, or nothing to
// adopt, as does a node whose lease was renewed in time.
func (s *Store) Adopt(ctx context.Context, dead string) (a Adoption, ok bool, err error) {
	node, epoch := s.owner()
	if node == "" {
		return a, false, errors.New("postgres: adopt: this store has not joined")
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return a, false, fmt.Errorf("postgres: adopt node %s: %w", dead, err)
	}
	defer tx.Rollback(ctx)
	orphan := false // it held no lease at all
	err = tx.QueryRow(ctx, "DELETE FROM nodes WHERE id = $1 AND lease_until < now() RETURNING epoch", dead).Scan(&a.Epoch)
	if errors.Is(err, pgx.ErrNoRows) {
		// Either it holds its lease, or it has none at all: then its
		// calls are anyone's to end.
		var leased bool
		if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM nodes WHERE id = $1)", dead).Scan(&leased); err != nil {
			return a, false, fmt.Errorf("postgres: adopt node %s: %w", dead, err)
		}
		if leased {
			return a, false, nil
		}
		orphan, err = true, nil
	}
	if err != nil {
		return a, false, fmt.Errorf("postgres: adopt node %s: %w", dead, err)
	}
	a.Node = dead
	moved, err := s.queryCallsTx(ctx, tx, `WITH moved AS (
		UPDATE calls SET owner_node = $2, owner_epoch = $3 WHERE owner_node = $1
			AND (state <> 'disconnected' OR EXISTS (SELECT 1 FROM outbox o WHERE o.call_id = calls.call_id))
		RETURNING *)
		SELECT `+callList+` FROM moved ORDER BY seq`, dead, node, epoch)
	if err != nil {
		return a, false, fmt.Errorf("postgres: adopt the calls of node %s: %w", dead, err)
	}
	if orphan && len(moved) == 0 {
		return a, false, nil // another node adopted them first
	}
	ids := make([]string, len(moved))
	for i, c := range moved {
		ids[i] = c.CallID
	}
	a.Live = slices.DeleteFunc(moved, func(c *engine.Call) bool { return c.State == engine.StateDisconnected })
	a.Queued, err = s.queued(ctx, tx, "SELECT id, call_id, event_id, data FROM outbox WHERE call_id = ANY($1) ORDER BY id", ids)
	if err != nil {
		return a, false, fmt.Errorf("postgres: adopt the webhooks of node %s: %w", dead, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return a, false, fmt.Errorf("postgres: adopt node %s: %w", dead, err)
	}
	return a, true, nil
}

// Owner returns the node that owns a call and the URL it serves at, and
// whether its lease is current. A call of a node that stopped or was
// adopted has no URL. The error wraps engine.ErrNotFound for an unknown
// call.
func (s *Store) Owner(ctx context.Context, callID string) (node, url string, live bool, err error) {
	var u *string
	var alive *bool
	err = s.pool.QueryRow(ctx, `SELECT c.owner_node, n.url, n.lease_until > now() FROM calls c
		LEFT JOIN nodes n ON n.id = c.owner_node WHERE c.call_id = $1`, callID).Scan(&node, &u, &alive)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", "", false, fmt.Errorf("postgres: owner of call %s: %w", callID, engine.ErrNotFound)
	}
	if err != nil {
		return "", "", false, fmt.Errorf("postgres: owner of call %s: %w", callID, err)
	}
	if u != nil {
		url = *u
	}
	return node, url, alive != nil && *alive, nil
}

// fence queues, at the start of b, the check that this node owns every
// call w writes, and returns how many statements it queued. A store that
// has not joined checks nothing.
func (s *Store) fence(b *pgx.Batch, w engine.Write) int {
	node, epoch := s.owner()
	if node == "" {
		return 0
	}
	var ids []string
	add := func(id string) {
		if id != "" && !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	if w.Call != nil {
		add(w.Call.CallID)
	}
	for _, h := range w.History {
		add(h.CallID)
	}
	for _, q := range w.Enqueue {
		add(q.CallID)
	}
	for _, id := range ids {
		b.Queue("SELECT voicehook_fence($1, $2, $3)", id, node, epoch)
	}
	return len(ids)
}

// fenceError is the error of a fence statement that failed: ErrFenced when
// the fence refused, as the database said why.
func (s *Store) fenceError(err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "VH001" {
		return fmt.Errorf("%w: %s", ErrFenced, pgErr.Message)
	}
	return err
}

// ConferenceOwner returns the node that runs a conference — the owner of
// the call that created it — as Owner does for a call.
func (s *Store) ConferenceOwner(ctx context.Context, conferenceID string) (node, url string, live bool, err error) {
	var u *string
	var alive *bool
	err = s.pool.QueryRow(ctx, `SELECT c.owner_node, n.url, n.lease_until > now() FROM conferences f
		JOIN calls c ON c.call_id = f.creator_call_id
		LEFT JOIN nodes n ON n.id = c.owner_node WHERE f.id = $1`, conferenceID).Scan(&node, &u, &alive)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", "", false, fmt.Errorf("postgres: owner of conference %s: %w", conferenceID, engine.ErrNotFound)
	}
	if err != nil {
		return "", "", false, fmt.Errorf("postgres: owner of conference %s: %w", conferenceID, err)
	}
	if u != nil {
		url = *u
	}
	return node, url, alive != nil && *alive, nil
}

// Touched returns the calls whose history grew past the entry after, of
// any node, at most limit of them, and the last entry seen: a node's
// console polls it to show the other nodes' calls as they change.
// Entries of transactions still open are not seen yet: a poller that
// starts each time a little before the last entry it saw (the ids are
// given out at insert, not at commit) misses none in practice.
//
// With after negative it returns no call, and the last entry as it stands.
func (s *Store) Touched(ctx context.Context, after int64, limit int) ([]string, int64, error) {
	if after < 0 {
		var last int64
		if err := s.pool.QueryRow(ctx, "SELECT coalesce(max(id), 0) FROM history").Scan(&last); err != nil {
			return nil, after, fmt.Errorf("postgres: calls changed: %w", err)
		}
		return nil, last, nil
	}
	rows, err := s.pool.Query(ctx, `SELECT call_id, max(id) FROM history WHERE id > $1
		GROUP BY call_id ORDER BY max(id) LIMIT $2`, after, limit)
	if err != nil {
		return nil, after, fmt.Errorf("postgres: calls changed: %w", err)
	}
	defer rows.Close()
	var ids []string
	last := after
	for rows.Next() {
		var id string
		var n int64
		if err := rows.Scan(&id, &n); err != nil {
			return nil, after, fmt.Errorf("postgres: calls changed: %w", err)
		}
		ids = append(ids, id)
		last = max(last, n)
	}
	if err := rows.Err(); err != nil {
		return nil, after, fmt.Errorf("postgres: calls changed: %w", err)
	}
	return ids, last, nil
}
