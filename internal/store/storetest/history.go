package storetest

import (
	"bytes"
	"testing"

	"github.com/voicehook/voicehook/internal/engine"
)

func testHistory(t *testing.T, s engine.Store) {
	ctx := t.Context()
	saveAll(t, s, emptyCall("c-1", "A"), emptyCall("c-2", "B"))

	big := entry("c-2", 6)
	big.Detail = append([]byte(`{"body":"`), append(bytes.Repeat([]byte("x"), 64<<10), `"}`...)...)
	bare := engine.HistoryEntry{CallID: "c-1"} // zero time, no kind, summary or detail
	appends := [][]engine.HistoryEntry{
		{entry("c-1", 1)},
		{entry("c-2", 2), entry("c-1", 3), entry("c-2", 4)},
		{},
		{entry("c-1", 5), bare},
		{big},
	}
	for _, a := range appends {
		if err := s.AppendHistory(ctx, a...); err != nil {
			t.Fatalf("AppendHistory(%d entries): %v", len(a), err)
		}
	}
	// The store keeps copies of the entries.
	appends[0][0].Detail[0] = 'X'

	want := map[string][]engine.HistoryEntry{
		"c-1": {entry("c-1", 1), entry("c-1", 3), entry("c-1", 5), bare},
		"c-2": {entry("c-2", 2), entry("c-2", 4), big},
	}
	for id, w := range want {
		got, err := s.History(ctx, id)
		if err != nil {
			t.Fatalf("History(%s): %v", id, err)
		}
		checkHistory(t, got, w)
	}
}

func testHistoryEmpty(t *testing.T, s engine.Store) {
	saveAll(t, s, emptyCall("c-1", "A"))
	h, err := s.History(t.Context(), "c-1")
	if err != nil {
		t.Fatalf("History of a call without history: %v", err)
	}
	if len(h) != 0 {
		t.Errorf("History of a call without history = %+v, want none", h)
	}
}

func testHistoryUnknownCall(t *testing.T, s engine.Store) {
	ctx := t.Context()
	saveAll(t, s, emptyCall("c-1", "A"))
	_, err := s.History(ctx, "c-none")
	checkNotFound(t, "History of an unknown call", err)
	checkNotFound(t, "AppendHistory to an unknown call", s.AppendHistory(ctx, entry("c-none", 1)))

	// All or none: the entry of the known call is not appended either.
	err = s.AppendHistory(ctx, entry("c-1", 1), entry("c-none", 2), entry("c-1", 3))
	checkNotFound(t, "AppendHistory to a known and an unknown call", err)
	h, err := s.History(ctx, "c-1")
	if err != nil {
		t.Fatalf("History: %v", err)
	}
	if len(h) != 0 {
		t.Errorf("a failed AppendHistory appended %+v", h)
	}
	_, err = s.History(ctx, "c-none")
	checkNotFound(t, "History of an unknown call after appending to it", err)
}
