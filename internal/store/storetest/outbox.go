package storetest

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/voicehook/voicehook/internal/engine"
)

// testWrite checks Write, Queued and Delivered: the call, its history and
// its webhooks land together or not at all, and queued webhooks come back
// in order, with their event ids, until delivered.
func testWrite(t *testing.T, s engine.Store) {
	ctx := context.Background()
	c := &engine.Call{CallID: "c-outbox-1", AccountID: "9900000", State: engine.StateDisconnected, StartTime: time.Now()}
	ids, err := s.Write(ctx, engine.Write{
		Call:    c,
		History: []engine.HistoryEntry{{CallID: c.CallID, Time: time.Now(), Kind: "state", Summary: "disconnected"}},
		Enqueue: []engine.QueuedWebhook{{CallID: c.CallID, EventID: "2b7c5e7a-0f4e-4a51-9a3b-6f1d2c3e4a5b", Data: []byte("dtmf")},
			{CallID: c.CallID, EventID: "9d8e7f60-1a2b-4c3d-8e4f-5a6b7c8d9e0f", Data: []byte("disconnect")}},
	})
	if err != nil || len(ids) != 2 || ids[0] >= ids[1] {
		t.Fatalf("Write = %v, %v; want two increasing ids", ids, err)
	}
	got, err := s.GetCall(ctx, "9900000", c.CallID)
	if err != nil || got.State != engine.StateDisconnected {
		t.Errorf("the call written: %+v, %v", got, err)
	}
	if h, _ := s.History(ctx, c.CallID); len(h) != 1 {
		t.Errorf("history: %v", h)
	}
	q, err := s.Queued(ctx)
	if err != nil || len(q) != 2 || string(q[0].Data) != "dtmf" || string(q[1].Data) != "disconnect" || q[0].ID != ids[0] || q[1].CallID != c.CallID {
		t.Fatalf("Queued = %+v, %v", q, err)
	}
	// The event id comes back as written: a redelivery reuses it.
	if q[0].EventID != "2b7c5e7a-0f4e-4a51-9a3b-6f1d2c3e4a5b" || q[1].EventID != "9d8e7f60-1a2b-4c3d-8e4f-5a6b7c8d9e0f" {
		t.Errorf("Queued event ids %q, %q; want those written", q[0].EventID, q[1].EventID)
	}
	if err := s.Delivered(ctx, ids[0]); err != nil {
		t.Fatal(err)
	}
	if err := s.Delivered(ctx, 999999); err != nil {
		t.Errorf("Delivered of an unknown id: %v", err)
	}
	q, _ = s.Queued(ctx)
	if len(q) != 1 || q[0].ID != ids[1] {
		t.Errorf("after one delivery: %+v", q)
	}

	// All or nothing: history for an unknown call fails the whole write.
	bad := &engine.Call{CallID: "c-outbox-2", AccountID: "9900000", State: engine.StateAnswered}
	_, err = s.Write(ctx, engine.Write{
		Call:    bad,
		History: []engine.HistoryEntry{{CallID: "c-nobody", Time: time.Now(), Kind: "state", Summary: "x"}},
		Enqueue: []engine.QueuedWebhook{{CallID: bad.CallID, Data: []byte("x")}},
	})
	if !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("a write with history of an unknown call: %v, want ErrNotFound", err)
	}
	if _, err := s.GetCall(ctx, "9900000", bad.CallID); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("the failed write saved its call: %v", err)
	}
	q, _ = s.Queued(ctx)
	if !slices.EqualFunc(q, []engine.QueuedWebhook{{ID: ids[1]}}, func(a, b engine.QueuedWebhook) bool { return a.ID == b.ID }) {
		t.Errorf("the failed write queued a webhook: %+v", q)
	}
	// An empty write is fine.
	if ids, err := s.Write(ctx, engine.Write{}); err != nil || len(ids) != 0 {
		t.Errorf("empty Write = %v, %v", ids, err)
	}
}
