// Package storetest is the conformance suite of engine.Store. Every store
// (internal/store/sqlite, a future PostgreSQL one) runs it from its own
// tests against a real database:
//
//	func TestStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) engine.Store {
//			s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "voicehook.db"))
//			if err != nil {
//				t.Fatal(err)
//			}
//			t.Cleanup(func() { s.Close() })
//			return s
//		})
//	}
//
// Beyond the doc comments of engine.Store, the suite holds a store to these
// rules, which the engine and the API rely on:
//   - Every field of a call round-trips: a nil Tag stays nil and an empty
//     one empty; Privacy keeps nil, true and false apart; times come back in
//     UTC, within a millisecond, and the zero time stays zero; durations are
//     exact. The store keeps copies: mutating a call after SaveCall, or
//     one GetCall returned, changes nothing stored.
//   - Creation order is the order of each call's first SaveCall; saving it
//     again keeps its place.
//   - GetCall of another account's call, History of an unknown call,
//     AppendHistory to an unknown call (which appends none of the entries)
//     and ListCalls after an unknown call (or one of another account than
//     the filter's) return errors wrapping engine.ErrNotFound.
//   - ListCalls bounds on the start time are inclusive, and a call without a
//     start time matches neither; a negative Limit is an error.
//   - Bad input (a nil call, an empty call id) and a canceled context are
//     errors, never panics.
//
// RunRecordings, RunConferences and RunExpire check the stores of
// recordings' records, of conferences, and retention (engine.Expirer).
package storetest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/voicehook/voicehook/callback"
	"github.com/voicehook/voicehook/internal/engine"
)

// Run runs the suite, each test in a subtest of t on a store of its own.
// open must return a new, empty store each time it is called, and release
// it when the test given ends (t.Cleanup).
func Run(t *testing.T, open func(t *testing.T) engine.Store) {
	tests := []struct {
		name string
		run  func(t *testing.T, s engine.Store)
	}{
		{"SaveAndGet", testSaveAndGet},
		{"EmptyCall", testEmptyCall},
		{"Tag", testTag},
		{"Privacy", testPrivacy},
		{"Times", testTimes},
		{"Durations", testDurations},
		{"SaveReplaces", testSaveReplaces},
		{"Copies", testCopies},
		{"GetUnknown", testGetUnknown},
		{"GetWrongAccount", testGetWrongAccount},
		{"SaveInvalid", testSaveInvalid},
		{"ListOrder", testListOrder},
		{"ListFilters", testListFilters},
		{"ListPaging", testListPaging},
		{"ListInvalid", testListInvalid},
		{"LiveCalls", testLiveCalls},
		{"History", testHistory},
		{"HistoryEmpty", testHistoryEmpty},
		{"HistoryUnknownCall", testHistoryUnknownCall},
		{"Canceled", testCanceled},
		{"Concurrent", testConcurrent},
		{"Write", testWrite},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.run(t, open(t))
		})
	}
}

// RunRestart checks that a store keeps calls and histories across a
// restart, and that LiveCalls then returns the calls that were live. open
// is called twice in t and must return stores over the same data; the
// suite closes the first store, which must implement io.Closer, before it
// opens the second.
func RunRestart(t *testing.T, open func(t *testing.T) engine.Store) {
	ctx := t.Context()
	s := open(t)
	live := fullCall("c-live", "acct-1")
	live.State = engine.StateAnswered
	queued := emptyCall("c-queued", "acct-2")
	queued.State = engine.StateQueued
	ended := fullCall("c-ended", "acct-1")
	ended.State = engine.StateDisconnected
	saveAll(t, s, live, ended, queued)
	entries := []engine.HistoryEntry{
		entry("c-live", 1), entry("c-ended", 2), entry("c-live", 3),
	}
	if err := s.AppendHistory(ctx, entries...); err != nil {
		t.Fatalf("AppendHistory: %v", err)
	}

	c, ok := s.(io.Closer)
	if !ok {
		t.Fatalf("%T does not implement io.Closer", s)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	s = open(t)
	for _, want := range []*engine.Call{live, ended, queued} {
		got, err := s.GetCall(ctx, want.AccountID, want.CallID)
		if err != nil {
			t.Fatalf("GetCall(%s) after restart: %v", want.CallID, err)
		}
		checkCall(t, got, want)
	}
	gotLive, err := s.LiveCalls(ctx)
	if err != nil {
		t.Fatalf("LiveCalls after restart: %v", err)
	}
	checkIDSet(t, "LiveCalls after restart", gotLive, "c-live", "c-queued")
	h, err := s.History(ctx, "c-live")
	if err != nil {
		t.Fatalf("History after restart: %v", err)
	}
	checkHistory(t, h, []engine.HistoryEntry{entries[0], entries[2]})

	// Creation order goes on where it stopped, and so do histories.
	saveAll(t, s, emptyCall("c-after", "acct-1"))
	list, err := s.ListCalls(ctx, engine.CallFilter{})
	if err != nil {
		t.Fatalf("ListCalls after restart: %v", err)
	}
	checkIDs(t, "ListCalls after restart", list, "c-live", "c-ended", "c-queued", "c-after")
	more := entry("c-live", 4)
	if err := s.AppendHistory(ctx, more); err != nil {
		t.Fatalf("AppendHistory after restart: %v", err)
	}
	h, err = s.History(ctx, "c-live")
	if err != nil {
		t.Fatalf("History after restart: %v", err)
	}
	checkHistory(t, h, []engine.HistoryEntry{entries[0], entries[2], more})
}

// t0 is a time with a whole number of milliseconds: filters on it are
// exact for any store that keeps milliseconds.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// fullCall returns a call with every field set to a value that is not the
// zero value, times with nanoseconds and in a zone other than UTC.
func fullCall(id, account string) *engine.Call {
	zone := time.FixedZone("UTC-5", -5*60*60)
	start := t0.Add(123456789 * time.Nanosecond).In(zone)
	return &engine.Call{
		AccountID:            account,
		ApplicationID:        "app-" + id,
		CallID:               id,
		ParentCallID:         "c-parent",
		To:                   "+15553334444",
		From:                 "+15551112222",
		Direction:            callback.Outbound,
		State:                engine.StateAnswered,
		EnqueuedTime:         start.Add(-time.Second),
		StartTime:            start,
		AnswerTime:           start.Add(5*time.Second + 1),
		EndTime:              start.Add(65 * time.Second),
		LastUpdate:           start.Add(65*time.Second + 999*time.Microsecond),
		DisconnectCause:      callback.CauseHangup,
		ErrorMessage:         "an error message, with 'quotes' and \"double quotes\"",
		ErrorID:              "err-1",
		SIPResponseCode:      486,
		Tag:                  ptr("tag ✓ " + id),
		AnswerURL:            "https://app.example/answer",
		AnswerMethod:         "POST",
		AnswerFallbackURL:    "https://fallback.example/answer",
		AnswerFallbackMethod: "GET",
		Username:             "user",
		Password:             "pass",
		FallbackUsername:     "fuser",
		FallbackPassword:     "fpass",
		DisconnectURL:        "https://app.example/disconnect",
		DisconnectMethod:     "POST",
		CallTimeout:          30*time.Second + 7,
		CallbackTimeout:      15*time.Second + 250*time.Millisecond,
		Priority:             3,
		DisplayName:          "Display Name",
		UUI:                  "bWF5IHRoZSBmb3JjZSBiZSB3aXRoIHlvdQ==;encoding=base64",
		Privacy:              ptr(true),
		Dialog:               []byte(`{"v":1,"callId":"` + id + `@127.0.0.1","tags":["a","b"]}`),
	}
}

// emptyCall returns a call with only its ids set.
func emptyCall(id, account string) *engine.Call {
	return &engine.Call{AccountID: account, CallID: id}
}

// entry returns a history entry of call id, made distinct by n.
func entry(id string, n int) engine.HistoryEntry {
	return engine.HistoryEntry{
		CallID:  id,
		Time:    t0.Add(time.Duration(n)*time.Second + time.Duration(n)*time.Microsecond),
		Kind:    []string{"state", "webhook", "attempt", "verb"}[n%4],
		Summary: fmt.Sprintf("entry %d of %s → https://app/answer: 200 in 3ms", n, id),
		Detail:  fmt.Appendf(nil, `{"n":%d,"call":%q}`, n, id),
	}
}

func ptr[T any](v T) *T { return &v }

// saveAll saves the calls in order.
func saveAll(t *testing.T, s engine.Store, calls ...*engine.Call) {
	t.Helper()
	for _, c := range calls {
		if err := s.SaveCall(t.Context(), c); err != nil {
			t.Fatalf("SaveCall(%s): %v", c.CallID, err)
		}
	}
}

// get returns the stored call or fails t.
func get(t *testing.T, s engine.Store, accountID, callID string) *engine.Call {
	t.Helper()
	c, err := s.GetCall(t.Context(), accountID, callID)
	if err != nil {
		t.Fatalf("GetCall(%s, %s): %v", accountID, callID, err)
	}
	return c
}

// checkCall reports every field in which got differs from want. Times
// compare as instants within a millisecond and must be in UTC.
func checkCall(t *testing.T, got, want *engine.Call) {
	t.Helper()
	if got == nil {
		t.Fatalf("call %s: got nil", want.CallID)
	}
	gv, wv := reflect.ValueOf(got).Elem(), reflect.ValueOf(want).Elem()
	for i := range gv.NumField() {
		name := gv.Type().Field(i).Name
		g, w := gv.Field(i).Interface(), wv.Field(i).Interface()
		if gt, ok := g.(time.Time); ok {
			if err := sameInstant(gt, w.(time.Time)); err != nil {
				t.Errorf("call %s: %s: %v", want.CallID, name, err)
			}
			continue
		}
		if !reflect.DeepEqual(g, w) {
			t.Errorf("call %s: %s = %s, want %s", want.CallID, name, show(g), show(w))
		}
	}
}

// sameInstant reports whether got is want as a store returns it.
func sameInstant(got, want time.Time) error {
	if want.IsZero() {
		if !got.IsZero() {
			return fmt.Errorf("got %v, want the zero time", got)
		}
		return nil
	}
	if got.Location() != time.UTC {
		return fmt.Errorf("got %v in %v, want UTC", got, got.Location())
	}
	if d := got.Sub(want).Abs(); d >= time.Millisecond {
		return fmt.Errorf("got %v, want %v (%v apart)", got, want.UTC(), d)
	}
	return nil
}

// show formats a field value, following pointers so that nil and a pointer
// to "" read differently.
func show(v any) string {
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return "nil"
		}
		return fmt.Sprintf("&%#v", rv.Elem().Interface())
	}
	return fmt.Sprintf("%#v", v)
}

// ids returns the call ids of calls.
func ids(calls []*engine.Call) []string {
	out := make([]string, len(calls))
	for i, c := range calls {
		out[i] = c.CallID
	}
	return out
}

// checkIDs reports unless calls have exactly the ids want, in order.
func checkIDs(t *testing.T, what string, calls []*engine.Call, want ...string) {
	t.Helper()
	got := ids(calls)
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("%s = %q, want %q", what, got, want)
	}
}

// checkIDSet reports unless calls have exactly the ids want, in any order.
func checkIDSet(t *testing.T, what string, calls []*engine.Call, want ...string) {
	t.Helper()
	got := map[string]int{}
	for _, c := range calls {
		got[c.CallID]++
	}
	ok := len(calls) == len(want)
	for _, id := range want {
		if got[id] != 1 {
			ok = false
		}
	}
	if !ok {
		t.Errorf("%s = %q, want %q in any order", what, ids(calls), want)
	}
}

// checkHistory reports unless got is want, entry by entry.
func checkHistory(t *testing.T, got, want []engine.HistoryEntry) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("history has %d entries, want %d: %+v", len(got), len(want), got)
		return
	}
	for i := range want {
		g, w := got[i], want[i]
		if err := sameInstant(g.Time, w.Time); err != nil {
			t.Errorf("history[%d].Time: %v", i, err)
		}
		if g.CallID != w.CallID || g.Kind != w.Kind || g.Summary != w.Summary || string(g.Detail) != string(w.Detail) {
			t.Errorf("history[%d] = {%s %s %q %s}, want {%s %s %q %s}", i,
				g.CallID, g.Kind, g.Summary, g.Detail, w.CallID, w.Kind, w.Summary, w.Detail)
		}
	}
}

// checkNotFound reports unless err wraps engine.ErrNotFound.
func checkNotFound(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("%s: error %v, want one wrapping engine.ErrNotFound", what, err)
	}
}

// canceled returns a context that is already canceled.
func canceled(t *testing.T) context.Context {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	return ctx
}
