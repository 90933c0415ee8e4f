package sqlite_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/voicehook/voicehook/internal/engine"
	"github.com/voicehook/voicehook/internal/store/sqlite"
)

// TestGroupCommitIsolatesFailures: writes share transactions under load,
// but one that fails (history for an unknown call) fails alone; the writes
// committed beside it stay.
func TestGroupCommitIsolatesFailures(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "group.db")
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	const n = 400
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := fmt.Sprintf("c-%08x-00000000-0000-0000-0000-000000000000", i)
			if i%4 == 3 { // no such call: must fail, alone
				errs[i] = s.AppendHistory(ctx, engine.HistoryEntry{CallID: id, Time: time.Now(), Kind: "state", Summary: "x"})
				return
			}
			c := &engine.Call{CallID: id, AccountID: "9900000", State: engine.StateInitiated, StartTime: time.Now()}
			if errs[i] = s.SaveCall(ctx, c); errs[i] == nil {
				errs[i] = s.AppendHistory(ctx, engine.HistoryEntry{CallID: id, Time: time.Now(), Kind: "state", Summary: "saved"})
			}
		}()
	}
	wg.Wait()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i := range n {
		id := fmt.Sprintf("c-%08x-00000000-0000-0000-0000-000000000000", i)
		_, getErr := s.GetCall(ctx, "9900000", id)
		h, _ := s.History(ctx, id)
		if i%4 == 3 {
			if !errors.Is(errs[i], engine.ErrNotFound) || len(h) != 0 {
				t.Errorf("write %d: err %v, history %d entries; want ErrNotFound and none", i, errs[i], len(h))
			}
			continue
		}
		if errs[i] != nil || getErr != nil || len(h) != 1 {
			t.Errorf("write %d: err %v, get %v, history %d entries", i, errs[i], getErr, len(h))
		}
	}
}

// TestCloseKeepsReturnedWrites: writes racing with Close either fail or
// are on disk after reopening; none is lost after it returned nil.
func TestCloseKeepsReturnedWrites(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "close.db")
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	const n = 200
	var wg sync.WaitGroup
	ok := make([]bool, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &engine.Call{CallID: fmt.Sprintf("c-%08x", i), AccountID: "9900000", State: engine.StateInitiated}
			ok[i] = s.SaveCall(ctx, c) == nil
		}()
	}
	time.Sleep(time.Millisecond)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	s, err = sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i := range n {
		if !ok[i] {
			continue
		}
		if _, err := s.GetCall(ctx, "9900000", fmt.Sprintf("c-%08x", i)); err != nil {
			t.Errorf("write %d returned nil but is gone: %v", i, err)
		}
	}
}
