package postgres

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/voicehook/voicehook/callback"
	"github.com/voicehook/voicehook/internal/engine"
	"github.com/voicehook/voicehook/internal/store/postgres/pgtest"
)

// join opens a store on dsn and joins it as node id, with a lease of ttl.
func join(t *testing.T, dsn, id string, ttl time.Duration) (*Store, int64) {
	t.Helper()
	s := open(t, dsn)
	epoch, err := s.Join(t.Context(), id, "http://"+id+".test", ttl) // only stored: nothing dials it
	if err != nil {
		t.Fatal(err)
	}
	return s, epoch
}

func liveCall(id string) *engine.Call {
	return &engine.Call{CallID: id, AccountID: "9900000", State: engine.StateAnswered, Direction: callback.Outbound}
}

// TestFence: a node writes only the calls it owns; once another node has
// adopted its calls it can write none of them, nor renew its lease, and
// the adopter gets its live calls and queued webhooks, in order.
func TestFence(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	a, epochA := join(t, dsn, "node-a", time.Minute)
	b, epochB := join(t, dsn, "node-b", time.Minute)
	if epochB <= epochA {
		t.Fatalf("epochs %d then %d: want them increasing", epochA, epochB)
	}
	ctx := t.Context()
	if err := a.SaveCall(ctx, liveCall("c-1")); err != nil {
		t.Fatal(err)
	}
	ended := liveCall("c-2")
	ended.State = engine.StateDisconnected
	if err := a.SaveCall(ctx, ended); err != nil {
		t.Fatal(err)
	}
	ids, err := a.Write(ctx, engine.Write{Enqueue: []engine.QueuedWebhook{
		{CallID: "c-1", EventID: "e1", Data: []byte("1")},
		{CallID: "c-2", EventID: "e2", Data: []byte("2")},
		{CallID: "c-1", EventID: "e3", Data: []byte("3")},
	}})
	if err != nil {
		t.Fatal(err)
	}
	// Node b may not write a's call.
	c := liveCall("c-1")
	c.ErrorMessage = "b was here"
	if err := b.SaveCall(ctx, c); !errors.Is(err, ErrFenced) {
		t.Fatalf("b saves a's call: err = %v, want ErrFenced", err)
	}
	if _, err := b.Write(ctx, engine.Write{Call: c, History: []engine.HistoryEntry{{CallID: "c-1", Kind: "state", Summary: "b"}}}); !errors.Is(err, ErrFenced) {
		t.Fatalf("b writes a's call: err = %v, want ErrFenced", err)
	}
	if expired, err := b.Expired(ctx); err != nil || len(expired) != 0 {
		t.Fatalf("Expired = %v, %v before a's lease ends; want none", expired, err)
	}
	if _, ok, err := b.Adopt(ctx, "node-a"); ok || err != nil {
		t.Fatalf("Adopt of a live node = %v, %v; want not adopted", ok, err)
	}
	// a's lease runs out: it renews for a moment only.
	if err := a.Renew(ctx, time.Microsecond); err != nil {
		t.Fatal(err)
	}
	time.Sleep(10 * time.Millisecond)
	expired, err := b.Expired(ctx)
	if err != nil || len(expired) != 1 || expired[0] != "node-a" {
		t.Fatalf("Expired = %v, %v; want [node-a]", expired, err)
	}
	// Two nodes adopt at once: one wins.
	other, _ := join(t, dsn, "node-c", time.Minute)
	var wg sync.WaitGroup
	results := make([]Adoption, 2)
	won := make([]bool, 2)
	for i, s := range []*Store{b, other} {
		wg.Go(func() {
			var err error
			results[i], won[i], err = s.Adopt(ctx, "node-a")
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if won[0] == won[1] {
		t.Fatalf("adoptions won: %v; want exactly one", won)
	}
	winner, adopted := b, results[0]
	if won[1] {
		winner, adopted = other, results[1]
	}
	if adopted.Node != "node-a" || adopted.Epoch != epochA || len(adopted.Live) != 1 || adopted.Live[0].CallID != "c-1" {
		t.Fatalf("adopted %+v; want node-a's live call c-1", adopted)
	}
	var got []int64
	for _, q := range adopted.Queued {
		got = append(got, q.ID)
	}
	if len(got) != 3 || got[0] != ids[0] || got[1] != ids[1] || got[2] != ids[2] {
		t.Fatalf("adopted webhooks %v; want %v in order", got, ids)
	}
	// a wakes up: fenced everywhere.
	if err := a.Delivered(ctx, ids[0]); err != nil {
		t.Fatal(err)
	}
	if q, _ := winner.Queued(ctx); len(q) != 3 {
		t.Fatalf("after the lost node marked a webhook delivered, %d stay queued; want all 3, for the adopter", len(q))
	}
	if err := a.SaveCall(ctx, liveCall("c-new")); !errors.Is(err, ErrFenced) {
		t.Fatalf("a starts a call after losing its lease: err = %v, want ErrFenced", err)
	}
	if err := a.Renew(ctx, time.Minute); !errors.Is(err, ErrLeaseLost) {
		t.Fatalf("a renews: err = %v, want ErrLeaseLost", err)
	}
	c.ErrorMessage = "a woke up"
	if err := a.SaveCall(ctx, c); !errors.Is(err, ErrFenced) {
		t.Fatalf("a saves its lost call: err = %v, want ErrFenced", err)
	}
	if _, err := a.Write(ctx, engine.Write{Enqueue: []engine.QueuedWebhook{{CallID: "c-1", EventID: "e4", Data: []byte("4")}}}); !errors.Is(err, ErrFenced) {
		t.Fatalf("a queues a webhook of its lost call: err = %v, want ErrFenced", err)
	}
	if err := a.AppendHistory(ctx, engine.HistoryEntry{CallID: "c-1", Kind: "state", Summary: "a"}); !errors.Is(err, ErrFenced) {
		t.Fatalf("a appends to its lost call's history: err = %v, want ErrFenced", err)
	}
	// The adopter writes it, and its listings show it.
	c.ErrorMessage = "ended by the adopter"
	if err := winner.SaveCall(ctx, c); err != nil {
		t.Fatal(err)
	}
	if h, _ := winner.History(ctx, "c-1"); len(h) != 0 {
		t.Fatalf("c-1's history: %v; want none of the fenced writes", h)
	}
	node, _, live, err := a.Owner(ctx, "c-1")
	if err != nil || node == "node-a" || !live {
		t.Fatalf("Owner(c-1) = %s, live %v, %v; want the adopter, live", node, live, err)
	}
	queued, err := winner.Queued(ctx)
	if err != nil || len(queued) != 3 {
		t.Fatalf("the adopter's Queued = %d, %v; want node-a's 3", len(queued), err)
	}
}

// TestRejoin: a node that restarts under its id, once the lease of its
// earlier life ran out, takes back its calls in a new epoch; its old life
// is fenced.
func TestRejoin(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	old, epoch1 := join(t, dsn, "node-a", time.Minute)
	ctx := t.Context()
	if err := old.SaveCall(ctx, liveCall("c-1")); err != nil {
		t.Fatal(err)
	}
	// While the lease holds, the node's name is taken.
	if _, err := open(t, dsn).Join(ctx, "node-a", "http://node-a.test", time.Minute); !errors.Is(err, ErrNodeTaken) { // only stored
		t.Fatalf("a second process joins as node-a: err = %v, want ErrNodeTaken", err)
	}
	if err := old.Renew(ctx, time.Microsecond); err != nil { // it was killed: its lease runs out
		t.Fatal(err)
	}
	time.Sleep(10 * time.Millisecond)
	restarted, epoch2 := join(t, dsn, "node-a", time.Minute)
	if epoch2 <= epoch1 {
		t.Fatalf("epochs %d then %d: want a new one", epoch1, epoch2)
	}
	live, err := restarted.LiveCalls(ctx)
	if err != nil || len(live) != 1 {
		t.Fatalf("LiveCalls after the restart = %d, %v; want 1", len(live), err)
	}
	if err := old.SaveCall(ctx, liveCall("c-1")); !errors.Is(err, ErrFenced) {
		t.Fatalf("the old life saves: err = %v, want ErrFenced", err)
	}
	if err := old.Renew(ctx, time.Minute); !errors.Is(err, ErrLeaseLost) {
		t.Fatalf("the old life renews: err = %v, want ErrLeaseLost", err)
	}
	if err := restarted.SaveCall(ctx, liveCall("c-1")); err != nil {
		t.Fatal(err)
	}
	other, _ := join(t, dsn, "node-b", time.Minute)
	if live, err := other.LiveCalls(ctx); err != nil || len(live) != 0 {
		t.Fatalf("another node's LiveCalls = %d, %v; want none of node-a's", len(live), err)
	}
	// Leaving with a call live ends the lease, but keeps the node's row
	// for the adopter; with none it leaves.
	if left, err := restarted.Leave(ctx); err != nil || left {
		t.Fatalf("Leave with a live call = %v, %v; want the lease ended, not left", left, err)
	}
	if expired, err := other.Expired(ctx); err != nil || len(expired) != 1 || expired[0] != "node-a" {
		t.Fatalf("Expired after node-a stopped with a call = %v, %v; want node-a at once", expired, err)
	}
	if _, err := restarted.Join(ctx, "node-a", "http://node-a.test", time.Minute); err != nil { // only stored: nothing dials it
		t.Fatal(err)
	}
	ended := liveCall("c-1")
	ended.State = engine.StateDisconnected
	if err := restarted.SaveCall(ctx, ended); err != nil {
		t.Fatal(err)
	}
	if left, err := restarted.Leave(ctx); err != nil || !left {
		t.Fatalf("Leave with no call = %v, %v; want left", left, err)
	}
	nodes, err := other.Nodes(ctx)
	if err != nil || len(nodes) != 1 || nodes[0].ID != "node-b" {
		t.Fatalf("Nodes after node-a left = %+v, %v; want node-b alone", nodes, err)
	}
}

// TestJoinTakesUnownedCalls: calls stored before nodes had leases (no
// owner) are taken by the first node to join, which ends them.
func TestJoinTakesUnownedCalls(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	alone := open(t, dsn) // a store that never joins: node ""
	if err := alone.SaveCall(t.Context(), liveCall("c-old")); err != nil {
		t.Fatal(err)
	}
	s, _ := join(t, dsn, "node-a", time.Minute)
	live, err := s.LiveCalls(t.Context())
	if err != nil || len(live) != 1 || live[0].CallID != "c-old" {
		t.Fatalf("LiveCalls of the first node = %v, %v; want c-old", live, err)
	}
}

// TestOrphanCalls: the calls of a node with no lease at all are anyone's
// to adopt.
func TestOrphanCalls(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	ctx := t.Context()
	a, _ := join(t, dsn, "node-a", time.Minute)
	if err := a.SaveCall(ctx, liveCall("c-1")); err != nil {
		t.Fatal(err)
	}
	b, _ := join(t, dsn, "node-b", time.Minute)
	// node-a's row goes (as if it left while a write of its was landing).
	if _, err := b.pool.Exec(ctx, "DELETE FROM nodes WHERE id = 'node-a'"); err != nil {
		t.Fatal(err)
	}
	expired, err := b.Expired(ctx)
	if err != nil || len(expired) != 1 || expired[0] != "node-a" {
		t.Fatalf("Expired = %v, %v; want node-a, which owns a live call and holds no lease", expired, err)
	}
	adopted, ok, err := b.Adopt(ctx, "node-a")
	if err != nil || !ok || len(adopted.Live) != 1 {
		t.Fatalf("Adopt = %+v, %v, %v; want c-1", adopted, ok, err)
	}
}
