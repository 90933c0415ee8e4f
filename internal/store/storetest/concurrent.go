package storetest

import (
	"fmt"
	"sync"
	"testing"

	"github.com/voicehook/voicehook/internal/engine"
)

// testConcurrent runs the engine's pattern from several goroutines at once:
// each saves its calls, appends to their histories and to one history all
// share, re-saves them, and reads. Run it with -race.
func testConcurrent(t *testing.T, s engine.Store) {
	const (
		workers = 8
		calls   = 25 // per worker
	)
	ctx := t.Context()
	saveAll(t, s, emptyCall("c-shared", "shared"))

	var wg sync.WaitGroup
	for w := range workers {
		account := fmt.Sprintf("acct-%d", w)
		wg.Go(func() {
			for i := range calls {
				id := fmt.Sprintf("c-%d-%02d", w, i)
				c := fullCall(id, account)
				c.State = engine.StateInitiated
				if err := s.SaveCall(ctx, c); err != nil {
					t.Errorf("SaveCall(%s): %v", id, err)
					return
				}
				if err := s.AppendHistory(ctx, entry(id, 1)); err != nil {
					t.Errorf("AppendHistory(%s): %v", id, err)
					return
				}
				if err := s.AppendHistory(ctx, entry(id, 2), entry("c-shared", w*calls+i), entry(id, 3)); err != nil {
					t.Errorf("AppendHistory(%s, c-shared): %v", id, err)
					return
				}
				c.State = engine.StateDisconnected
				if i%2 == 0 {
					c.State = engine.StateAnswered
				}
				if err := s.SaveCall(ctx, c); err != nil {
					t.Errorf("SaveCall(%s) again: %v", id, err)
					return
				}
				if _, err := s.GetCall(ctx, account, id); err != nil {
					t.Errorf("GetCall(%s): %v", id, err)
				}
				if _, err := s.ListCalls(ctx, engine.CallFilter{AccountID: account, Limit: 10}); err != nil {
					t.Errorf("ListCalls: %v", err)
				}
				if _, err := s.LiveCalls(ctx); err != nil {
					t.Errorf("LiveCalls: %v", err)
				}
				if _, err := s.History(ctx, "c-shared"); err != nil {
					t.Errorf("History(c-shared): %v", err)
				}
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}

	var live []string
	for w := range workers {
		account := fmt.Sprintf("acct-%d", w)
		list, err := s.ListCalls(ctx, engine.CallFilter{AccountID: account})
		if err != nil {
			t.Fatalf("ListCalls(%s): %v", account, err)
		}
		var want []string
		for i := range calls {
			id := fmt.Sprintf("c-%d-%02d", w, i)
			want = append(want, id)
			if i%2 == 0 {
				live = append(live, id)
			}
			h, err := s.History(ctx, id)
			if err != nil {
				t.Fatalf("History(%s): %v", id, err)
			}
			checkHistory(t, h, []engine.HistoryEntry{entry(id, 1), entry(id, 2), entry(id, 3)})
		}
		checkIDs(t, "ListCalls("+account+")", list, want...)
	}
	list, err := s.LiveCalls(ctx)
	if err != nil {
		t.Fatalf("LiveCalls: %v", err)
	}
	checkIDSet(t, "LiveCalls", list, append(live, "c-shared")...)

	// Each worker's entries in the shared history are in its order.
	h, err := s.History(ctx, "c-shared")
	if err != nil {
		t.Fatalf("History(c-shared): %v", err)
	}
	if len(h) != workers*calls {
		t.Fatalf("shared history has %d entries, want %d", len(h), workers*calls)
	}
	next := make([]int, workers)
	for _, e := range h {
		var n int
		if _, err := fmt.Sscanf(e.Summary, "entry %d of", &n); err != nil {
			t.Fatalf("shared history entry %q: %v", e.Summary, err)
		}
		w, i := n/calls, n%calls
		if i != next[w] {
			t.Fatalf("shared history: worker %d's entry %d came when %d was expected", w, i, next[w])
		}
		next[w]++
	}
}
