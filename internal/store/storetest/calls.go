package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/voicehook/voicehook/callback"
	"github.com/voicehook/voicehook/internal/engine"
)

func testSaveAndGet(t *testing.T, s engine.Store) {
	want := fullCall("c-1", "acct-1")
	saveAll(t, s, want)
	checkCall(t, get(t, s, "acct-1", "c-1"), want)
}

func testEmptyCall(t *testing.T, s engine.Store) {
	want := emptyCall("c-1", "acct-1")
	saveAll(t, s, want)
	got := get(t, s, "acct-1", "c-1")
	checkCall(t, got, want)
	if got.Tag != nil || got.Privacy != nil {
		t.Errorf("Tag = %s, Privacy = %s, want nil and nil", show(got.Tag), show(got.Privacy))
	}
}

func testTag(t *testing.T, s engine.Store) {
	for _, tag := range []*string{nil, ptr(""), ptr("x"), ptr(" ")} {
		t.Run(show(tag), func(t *testing.T) {
			c := fullCall("c-tag-"+show(tag), "acct-1")
			c.Tag = tag
			saveAll(t, s, c)
			checkCall(t, get(t, s, c.AccountID, c.CallID), c)
		})
	}
	// A tag goes from set to empty to unset and back.
	c := fullCall("c-1", "acct-1")
	for _, tag := range []*string{ptr("a"), ptr(""), nil, ptr("")} {
		c.Tag = tag
		saveAll(t, s, c)
		checkCall(t, get(t, s, c.AccountID, c.CallID), c)
	}
}

func testPrivacy(t *testing.T, s engine.Store) {
	c := fullCall("c-1", "acct-1")
	for _, p := range []*bool{nil, ptr(true), ptr(false), nil, ptr(false), ptr(true)} {
		c.Privacy = p
		saveAll(t, s, c)
		got := get(t, s, c.AccountID, c.CallID)
		if !samePtr(got.Privacy, p) {
			t.Errorf("Privacy = %s after saving %s", show(got.Privacy), show(p))
		}
	}
}

func samePtr[T comparable](a, b *T) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}

func testTimes(t *testing.T, s engine.Store) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		ny = time.FixedZone("EST", -5*60*60)
	}
	cases := []struct {
		name string
		set  func(c *engine.Call)
	}{
		{"all zero", func(c *engine.Call) {
			c.EnqueuedTime, c.StartTime, c.AnswerTime, c.EndTime, c.LastUpdate = time.Time{}, time.Time{}, time.Time{}, time.Time{}, time.Time{}
		}},
		{"some zero", func(c *engine.Call) { c.AnswerTime, c.EndTime = time.Time{}, time.Time{} }},
		{"nanoseconds", func(c *engine.Call) { c.StartTime = t0.Add(999999999) }},
		{"other zone", func(c *engine.Call) { c.StartTime = t0.In(ny).Add(1500 * time.Microsecond) }},
		{"monotonic", func(c *engine.Call) { c.LastUpdate = time.Now() }},
		{"epoch", func(c *engine.Call) { c.EnqueuedTime = time.Unix(0, 0) }},
		{"before epoch", func(c *engine.Call) { c.EnqueuedTime = time.Date(1969, 12, 31, 23, 59, 59, 1e6, time.UTC) }},
		{"far", func(c *engine.Call) { c.EndTime = time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC) }},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := fullCall("c-"+string(rune('a'+i)), "acct-1")
			tc.set(c)
			saveAll(t, s, c)
			checkCall(t, get(t, s, c.AccountID, c.CallID), c)
		})
	}
}

func testDurations(t *testing.T, s engine.Store) {
	for i, d := range []time.Duration{0, 1, time.Millisecond + 1, 30*time.Second + 123456789, 24 * time.Hour, -time.Second} {
		c := fullCall("c-"+string(rune('a'+i)), "acct-1")
		c.CallTimeout, c.CallbackTimeout = d, d/3
		saveAll(t, s, c)
		got := get(t, s, c.AccountID, c.CallID)
		if got.CallTimeout != c.CallTimeout || got.CallbackTimeout != c.CallbackTimeout {
			t.Errorf("durations = %d, %d; want %d, %d", got.CallTimeout, got.CallbackTimeout, c.CallTimeout, c.CallbackTimeout)
		}
	}
}

func testSaveReplaces(t *testing.T, s engine.Store) {
	a, b, c := fullCall("c-a", "acct-1"), fullCall("c-b", "acct-1"), fullCall("c-c", "acct-1")
	a.State, b.State, c.State = engine.StateInitiated, engine.StateInitiated, engine.StateInitiated
	saveAll(t, s, a, b, c)

	// Every field changes: the stored copy is replaced, not merged.
	b2 := emptyCall("c-b", "acct-1")
	b2.State = engine.StateDisconnected
	b2.DisconnectCause = callback.CauseBusy
	b2.EndTime = t0.Add(time.Hour)
	saveAll(t, s, b2)
	checkCall(t, get(t, s, "acct-1", "c-b"), b2)
	saveAll(t, s, b)
	checkCall(t, get(t, s, "acct-1", "c-b"), b)

	list, err := s.ListCalls(t.Context(), engine.CallFilter{AccountID: "acct-1"})
	if err != nil {
		t.Fatalf("ListCalls: %v", err)
	}
	checkIDs(t, "ListCalls after re-saving c-b", list, "c-a", "c-b", "c-c")
}

func testCopies(t *testing.T, s engine.Store) {
	want := fullCall("c-1", "acct-1")
	c := fullCall("c-1", "acct-1")
	saveAll(t, s, c)
	c.State = engine.StateDisconnected
	*c.Tag = "changed after save"
	*c.Privacy = false

	got := get(t, s, "acct-1", "c-1")
	checkCall(t, got, want)
	got.State = engine.StateDisconnected
	*got.Tag = "changed after get"
	*got.Privacy = false
	checkCall(t, get(t, s, "acct-1", "c-1"), want)
}

func testGetUnknown(t *testing.T, s engine.Store) {
	_, err := s.GetCall(t.Context(), "acct-1", "c-none")
	checkNotFound(t, "GetCall of an unknown call", err)
}

func testGetWrongAccount(t *testing.T, s engine.Store) {
	saveAll(t, s, fullCall("c-1", "acct-1"))
	for _, account := range []string{"acct-2", "", "ACCT-1", "acct-1 "} {
		c, err := s.GetCall(t.Context(), account, "c-1")
		checkNotFound(t, "GetCall of account "+account, err)
		if c != nil {
			t.Errorf("GetCall of account %q returned a call", account)
		}
	}
}

func testSaveInvalid(t *testing.T, s engine.Store) {
	if err := s.SaveCall(t.Context(), nil); err == nil {
		t.Error("SaveCall(nil) succeeded")
	}
	if err := s.SaveCall(t.Context(), emptyCall("", "acct-1")); err == nil {
		t.Error("SaveCall of a call without id succeeded")
	}
}

// filterCalls saves five calls, in an order that is neither that of their
// ids nor that of their start times: c-a3, c-b1, c-a1, c-a4, c-a2.
func filterCalls(t *testing.T, s engine.Store) {
	mk := func(id, account, to, from string, start time.Time, cause callback.Cause) *engine.Call {
		c := emptyCall(id, account)
		c.To, c.From, c.StartTime, c.DisconnectCause = to, from, start, cause
		if cause != "" {
			c.State = engine.StateDisconnected
		}
		return c
	}
	leg := mk("c-a4", "A", "+1", "+9", time.Time{}, "")
	leg.ParentCallID = "c-a3"
	saveAll(t, s,
		mk("c-a3", "A", "+1", "+8", t0.Add(2*time.Second), ""),
		mk("c-b1", "B", "+1", "+9", t0.Add(time.Second), callback.CauseHangup),
		mk("c-a1", "A", "+1", "+9", t0, callback.CauseHangup),
		leg,
		mk("c-a2", "A", "+2", "+9", t0.Add(time.Second), callback.CauseBusy),
	)
}

func testListOrder(t *testing.T, s engine.Store) {
	filterCalls(t, s)
	list, err := s.ListCalls(t.Context(), engine.CallFilter{})
	if err != nil {
		t.Fatalf("ListCalls: %v", err)
	}
	checkIDs(t, "ListCalls", list, "c-a3", "c-b1", "c-a1", "c-a4", "c-a2")
	// The calls are whole.
	for _, c := range list {
		checkCall(t, c, get(t, s, c.AccountID, c.CallID))
	}
}

func testListFilters(t *testing.T, s engine.Store) {
	filterCalls(t, s)
	sec := time.Second
	cases := []struct {
		name string
		f    engine.CallFilter
		want []string
	}{
		{"account", engine.CallFilter{AccountID: "A"}, []string{"c-a3", "c-a1", "c-a4", "c-a2"}},
		{"other account", engine.CallFilter{AccountID: "B"}, []string{"c-b1"}},
		{"unknown account", engine.CallFilter{AccountID: "C"}, nil},
		{"to", engine.CallFilter{AccountID: "A", To: "+1"}, []string{"c-a3", "c-a1", "c-a4"}},
		{"from", engine.CallFilter{From: "+8"}, []string{"c-a3"}},
		{"min start inclusive", engine.CallFilter{AccountID: "A", MinStartTime: t0.Add(sec)}, []string{"c-a3", "c-a2"}},
		{"max start inclusive", engine.CallFilter{AccountID: "A", MaxStartTime: t0.Add(sec)}, []string{"c-a1", "c-a2"}},
		{"min = max", engine.CallFilter{MinStartTime: t0.Add(sec), MaxStartTime: t0.Add(sec)}, []string{"c-b1", "c-a2"}},
		{"min > max", engine.CallFilter{MinStartTime: t0.Add(sec), MaxStartTime: t0}, nil},
		{"start in another zone", engine.CallFilter{MinStartTime: t0.Add(sec).In(time.FixedZone("UTC+3", 3*60*60))}, []string{"c-a3", "c-b1", "c-a2"}},
		{"start far apart", engine.CallFilter{MinStartTime: time.Date(1000, 1, 1, 0, 0, 0, 0, time.UTC), MaxStartTime: time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)}, []string{"c-a3", "c-b1", "c-a1", "c-a2"}},
		{"cause", engine.CallFilter{DisconnectCause: callback.CauseHangup}, []string{"c-b1", "c-a1"}},
		{"all", engine.CallFilter{AccountID: "A", To: "+1", From: "+9", MinStartTime: t0, MaxStartTime: t0, DisconnectCause: callback.CauseHangup}, []string{"c-a1"}},
		{"all but one", engine.CallFilter{AccountID: "A", To: "+1", From: "+9", MinStartTime: t0, MaxStartTime: t0, DisconnectCause: callback.CauseBusy}, nil},
		{"number, to or from", engine.CallFilter{Number: "+8"}, []string{"c-a3"}},
		{"number matches to", engine.CallFilter{Number: "+2"}, []string{"c-a2"}},
		{"state", engine.CallFilter{State: engine.StateDisconnected}, []string{"c-b1", "c-a1", "c-a2"}},
		{"newest first", engine.CallFilter{AccountID: "A", Newest: true}, []string{"c-a2", "c-a4", "c-a1", "c-a3"}},
		{"newest first, after", engine.CallFilter{Newest: true, After: "c-a1", Limit: 2}, []string{"c-b1", "c-a3"}},
		{"legs", engine.CallFilter{ParentCallID: "c-a3"}, []string{"c-a4"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			list, err := s.ListCalls(t.Context(), tc.f)
			if err != nil {
				t.Fatalf("ListCalls(%+v): %v", tc.f, err)
			}
			checkIDs(t, "ListCalls", list, tc.want...)
		})
	}
}

func testListPaging(t *testing.T, s engine.Store) {
	ctx := t.Context()
	// Account A has c-1 … c-5; account B's calls come in between.
	for i := 1; i <= 5; i++ {
		a := emptyCall("c-"+string(rune('0'+i)), "A")
		a.To = []string{"+1", "+2"}[i%2]
		saveAll(t, s, a, emptyCall("c-b"+string(rune('0'+i)), "B"))
	}

	var pages [][]string
	after := ""
	for range 10 {
		list, err := s.ListCalls(ctx, engine.CallFilter{AccountID: "A", After: after, Limit: 2})
		if err != nil {
			t.Fatalf("ListCalls after %q: %v", after, err)
		}
		if len(list) == 0 {
			break
		}
		pages = append(pages, ids(list))
		after = list[len(list)-1].CallID
	}
	if got, want := len(pages), 3; got != want {
		t.Fatalf("paging by 2 gave pages %q, want 3 pages", pages)
	}
	checkPages(t, pages, [][]string{{"c-1", "c-2"}, {"c-3", "c-4"}, {"c-5"}})

	cases := []struct {
		name string
		f    engine.CallFilter
		want []string
	}{
		{"limit only", engine.CallFilter{Limit: 3}, []string{"c-1", "c-b1", "c-2"}},
		{"limit above count", engine.CallFilter{AccountID: "B", Limit: 100}, []string{"c-b1", "c-b2", "c-b3", "c-b4", "c-b5"}},
		{"no limit", engine.CallFilter{After: "c-b4"}, []string{"c-5", "c-b5"}},
		{"after the last", engine.CallFilter{AccountID: "A", After: "c-5"}, nil},
		// After is a position: the call need not match the other filters.
		{"after a call filtered out", engine.CallFilter{AccountID: "A", To: "+2", After: "c-2"}, []string{"c-3", "c-5"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			list, err := s.ListCalls(ctx, tc.f)
			if err != nil {
				t.Fatalf("ListCalls(%+v): %v", tc.f, err)
			}
			checkIDs(t, "ListCalls", list, tc.want...)
		})
	}

	_, err := s.ListCalls(ctx, engine.CallFilter{AccountID: "A", After: "c-none"})
	checkNotFound(t, "ListCalls after an unknown call", err)
	_, err = s.ListCalls(ctx, engine.CallFilter{AccountID: "A", After: "c-b1"})
	checkNotFound(t, "ListCalls after a call of another account", err)
}

func checkPages(t *testing.T, got, want [][]string) {
	t.Helper()
	for i := range want {
		if i >= len(got) || len(got[i]) != len(want[i]) {
			t.Errorf("pages = %q, want %q", got, want)
			return
		}
		for j := range want[i] {
			if got[i][j] != want[i][j] {
				t.Errorf("pages = %q, want %q", got, want)
				return
			}
		}
	}
}

func testListInvalid(t *testing.T, s engine.Store) {
	saveAll(t, s, emptyCall("c-1", "A"))
	if _, err := s.ListCalls(t.Context(), engine.CallFilter{Limit: -1}); err == nil {
		t.Error("ListCalls with Limit -1 succeeded")
	}
}

func testLiveCalls(t *testing.T, s engine.Store) {
	ctx := t.Context()
	list, err := s.LiveCalls(ctx)
	if err != nil {
		t.Fatalf("LiveCalls of an empty store: %v", err)
	}
	checkIDSet(t, "LiveCalls of an empty store", list)

	states := map[string]engine.State{
		"c-queued": engine.StateQueued, "c-initiated": engine.StateInitiated,
		"c-answered": engine.StateAnswered, "c-ended": engine.StateDisconnected,
		"c-nostate": "",
	}
	account := "A"
	for _, id := range []string{"c-queued", "c-ended", "c-initiated", "c-answered", "c-nostate"} {
		c := fullCall(id, account)
		c.State = states[id]
		saveAll(t, s, c)
		account = "B" // every account
	}
	list, err = s.LiveCalls(ctx)
	if err != nil {
		t.Fatalf("LiveCalls: %v", err)
	}
	checkIDSet(t, "LiveCalls", list, "c-queued", "c-initiated", "c-answered", "c-nostate")
	for _, c := range list {
		checkCall(t, c, get(t, s, c.AccountID, c.CallID))
	}

	// A call leaves when it is disconnected.
	c := get(t, s, "B", "c-answered")
	c.State = engine.StateDisconnected
	saveAll(t, s, c)
	list, err = s.LiveCalls(ctx)
	if err != nil {
		t.Fatalf("LiveCalls: %v", err)
	}
	checkIDSet(t, "LiveCalls after disconnecting c-answered", list, "c-queued", "c-initiated", "c-nostate")
}

func testCanceled(t *testing.T, s engine.Store) {
	saveAll(t, s, fullCall("c-1", "A"))
	ctx := canceled(t)
	check := func(what string, err error) {
		t.Helper()
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a canceled context: error %v, want one wrapping context.Canceled", what, err)
		}
	}
	check("SaveCall", s.SaveCall(ctx, fullCall("c-2", "A")))
	_, err := s.GetCall(ctx, "A", "c-1")
	check("GetCall", err)
	_, err = s.ListCalls(ctx, engine.CallFilter{})
	check("ListCalls", err)
	_, err = s.LiveCalls(ctx)
	check("LiveCalls", err)
	check("AppendHistory", s.AppendHistory(ctx, entry("c-1", 1)))
	check("AppendHistory of two", s.AppendHistory(ctx, entry("c-1", 1), entry("c-1", 2)))
	_, err = s.History(ctx, "c-1")
	check("History", err)

	_, err = s.GetCall(t.Context(), "A", "c-2")
	checkNotFound(t, "GetCall of a call saved with a canceled context", err)
	h, err := s.History(t.Context(), "c-1")
	if err != nil || len(h) != 0 {
		t.Errorf("History after appending with a canceled context = %d entries, %v; want none", len(h), err)
	}
}
