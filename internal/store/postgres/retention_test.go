package postgres

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/voicehook/voicehook/internal/engine"

	"github.com/voicehook/voicehook/internal/store/postgres/pgtest"
	"github.com/voicehook/voicehook/internal/store/storetest"
)

func TestExpire(t *testing.T) {
	storetest.RunExpire(t, func(t *testing.T) storetest.ExpireStore {
		return open(t, pgtest.NewDatabase(t))
	})
}

// TestExpireTwoNodes: two stores on one database, as two nodes, sweep at
// once: every old call, conference and recording goes, each reported by
// one of them only.
func TestExpireTwoNodes(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	a, b := open(t, dsn), open(t, dsn)
	ctx := t.Context()
	end := time.Now().Add(-8 * 24 * time.Hour)
	const n = 150
	for i := range n {
		id := fmt.Sprintf("c-%04d", i)
		c := &engine.Call{CallID: id, AccountID: "acct", State: engine.StateDisconnected, EndTime: end.Add(time.Duration(i) * time.Second)}
		h := []engine.HistoryEntry{{CallID: id, Kind: "state", Summary: "disconnected", Time: c.EndTime}}
		if _, err := a.Write(ctx, engine.Write{Call: c, History: h}); err != nil {
			t.Fatal(err)
		}
		if err := a.SaveConference(ctx, engine.Conference{ID: "conf-" + id, Name: id, AccountID: "acct", CreatedTime: end,
			CompletedTime: end.Add(time.Minute), CreatorCallID: id}); err != nil {
			t.Fatal(err)
		}
		if err := a.SaveRecording(ctx, &engine.Recording{RecordingID: fmt.Sprintf("r-%04d", i), AccountID: "acct", CallID: id,
			StartTime: end.Add(-30 * 24 * time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	before := engine.ExpireBefore{Calls: time.Now().Add(-7 * 24 * time.Hour), Recordings: time.Now().Add(-30 * 24 * time.Hour)}
	seen := map[string]int{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, s := range []*Store{a, b} {
		wg.Go(func() {
			for {
				e, err := s.Expire(ctx, before, 10)
				if err != nil {
					t.Errorf("Expire: %v", err)
					return
				}
				mu.Lock()
				for _, id := range e.Calls {
					seen["call "+id]++
				}
				for _, id := range e.Conferences {
					seen["conference "+id]++
				}
				for _, r := range e.Recordings {
					seen["recording "+r.RecordingID]++
				}
				mu.Unlock()
				if !e.Full(10) {
					return
				}
			}
		})
	}
	wg.Wait()
	if len(seen) != 3*n {
		t.Errorf("the two nodes removed %d rows; want %d", len(seen), 3*n)
	}
	for k, times := range seen {
		if times != 1 {
			t.Errorf("%s reported removed %d times", k, times)
		}
	}
	for table, want := range map[string]int{"calls": 0, "history": 0, "outbox": 0, "conferences": 0, "recordings": 0} {
		var got int
		if err := a.pool.QueryRow(ctx, "SELECT COUNT(*) FROM "+table).Scan(&got); err != nil || got != want {
			t.Errorf("rows left in %s: %d, %v; want %d", table, got, err, want)
		}
	}
}
