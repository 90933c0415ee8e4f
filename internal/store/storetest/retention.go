package storetest

import (
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/voicehook/voicehook/callback"
	"github.com/voicehook/voicehook/internal/engine"
	"github.com/voicehook/voicehook/internal/recordings"
)

// ExpireStore is a store that keeps calls, conferences and recordings and
// forgets them past their retention.
type ExpireStore interface {
	engine.Store
	engine.ConferenceStore
	recordings.Records
	engine.Expirer
}

// RunExpire checks engine.Expirer: calls that ended before the cutoff go
// with their histories, newer and live ones stay (however old a live one
// is), and so do those with webhooks still queued, until the last is
// delivered; completed conferences go, active ones stay; recordings stay
// until their own cutoff, also when their call is gone, and past it while
// processing or while their call is live or their conference active; each
// kind goes oldest first, at most limit at a time; zero cutoffs remove
// nothing; two sweeps at once remove each row once. open must return a
// new, empty store.
func RunExpire(t *testing.T, open func(t *testing.T) ExpireStore) {
	t.Run("Calls", func(t *testing.T) { testExpireCalls(t, open(t)) })
	t.Run("QueuedWebhooks", func(t *testing.T) { testExpireQueuedWebhooks(t, open(t)) })
	t.Run("Recordings", func(t *testing.T) { testExpireRecordings(t, open(t)) })
	t.Run("RecordingsInUse", func(t *testing.T) { testExpireRecordingsInUse(t, open(t)) })
	t.Run("Conferences", func(t *testing.T) { testExpireConferences(t, open(t)) })
	t.Run("Batches", func(t *testing.T) { testExpireBatches(t, open(t)) })
	t.Run("Together", func(t *testing.T) { testExpireTogether(t, open(t)) })
	t.Run("Invalid", func(t *testing.T) { testExpireInvalid(t, open(t)) })
}

// now is the time of the retention tests; calls are kept for a week,
// recordings for 30 days.
var (
	now           = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	callCutoff    = now.Add(-7 * 24 * time.Hour)
	recordCutoff  = now.Add(-30 * 24 * time.Hour)
	keepByDefault = engine.ExpireBefore{Calls: callCutoff, Recordings: recordCutoff}
)

// endedCall is a call that ended at end, after a minute.
func endedCall(id string, end time.Time) *engine.Call {
	c := emptyCall(id, "acct-1")
	c.State = engine.StateDisconnected
	c.StartTime, c.AnswerTime, c.EndTime = end.Add(-time.Minute), end.Add(-50*time.Second), end
	c.DisconnectCause = callback.CauseHangup
	return c
}

func testExpireCalls(t *testing.T, s ExpireStore) {
	ctx := t.Context()
	old := endedCall("c-old", callCutoff.Add(-time.Hour))
	recent := endedCall("c-recent", callCutoff.Add(time.Hour))
	// Live for 40 days, and with an end time set: state decides.
	live := fullCall("c-live", "acct-1")
	live.StartTime, live.EndTime = now.Add(-40*24*time.Hour), now.Add(-39*24*time.Hour)
	queued := emptyCall("c-queued", "acct-1")
	queued.State, queued.EnqueuedTime = engine.StateQueued, now.Add(-40*24*time.Hour)
	saveAll(t, s, old, recent, live, queued)
	for _, id := range []string{"c-old", "c-recent", "c-live"} {
		w := engine.Write{History: []engine.HistoryEntry{entry(id, 1), entry(id, 2)}}
		if id != "c-old" { // the old call's webhooks were delivered
			w.Enqueue = []engine.QueuedWebhook{{CallID: id, EventID: "e-" + id, Data: []byte(`{"disconnect":"` + id + `"}`)}}
		}
		if _, err := s.Write(ctx, w); err != nil {
			t.Fatalf("Write to %s: %v", id, err)
		}
	}
	// A recording of the old call has its own, longer retention.
	rec := &engine.Recording{RecordingID: callback.NewRecordingID(), AccountID: "acct-1", CallID: "c-old", StartTime: old.StartTime}
	if err := s.SaveRecording(ctx, rec); err != nil {
		t.Fatal(err)
	}

	got, err := s.Expire(ctx, keepByDefault, 100)
	if err != nil {
		t.Fatalf("Expire: %v", err)
	}
	if !slices.Equal(got.Calls, []string{"c-old"}) || len(got.Recordings) != 0 || len(got.Conferences) != 0 {
		t.Errorf("Expire removed %+v; want the call c-old alone", got)
	}
	if _, err := s.GetCall(ctx, "acct-1", "c-old"); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("GetCall of the expired call: %v; want ErrNotFound", err)
	}
	if _, err := s.History(ctx, "c-old"); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("History of the expired call: %v; want ErrNotFound", err)
	}
	list, err := s.ListCalls(ctx, engine.CallFilter{AccountID: "acct-1"})
	if err != nil {
		t.Fatal(err)
	}
	checkIDs(t, "ListCalls after Expire", list, "c-recent", "c-live", "c-queued")
	liveNow, err := s.LiveCalls(ctx)
	if err != nil {
		t.Fatal(err)
	}
	checkIDSet(t, "LiveCalls after Expire", liveNow, "c-live", "c-queued")
	checkCall(t, get(t, s, "acct-1", "c-live"), live)
	for _, id := range []string{"c-recent", "c-live"} {
		if h, err := s.History(ctx, id); err != nil || len(h) != 2 {
			t.Errorf("History of %s, kept: %d entries, %v; want 2", id, len(h), err)
		}
	}
	q, err := s.Queued(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var queuedFor []string
	for _, w := range q {
		queuedFor = append(queuedFor, w.CallID)
	}
	if slices.Sort(queuedFor); !slices.Equal(queuedFor, []string{"c-live", "c-recent"}) {
		t.Errorf("webhooks queued after Expire are of %v; want those of c-live and c-recent", queuedFor)
	}
	// The call's recording outlives it.
	if r, err := s.GetRecording(ctx, "acct-1", rec.RecordingID); err != nil || r.CallID != "c-old" {
		t.Errorf("recording of the expired call: %+v, %v; want it kept", r, err)
	}
	if l, err := s.ListRecordings(ctx, engine.RecordingFilter{AccountID: "acct-1"}); err != nil || len(l) != 1 {
		t.Errorf("ListRecordings after the call expired: %d, %v; want 1", len(l), err)
	}

	// Again: nothing is left to remove.
	if got, err := s.Expire(ctx, keepByDefault, 100); err != nil || !got.Empty() {
		t.Errorf("second Expire: %+v, %v; want nothing removed", got, err)
	}
	// A new call may take an expired call's id: it starts afresh.
	fresh := endedCall("c-old", now)
	saveAll(t, s, fresh)
	if h, err := s.History(ctx, "c-old"); err != nil || len(h) != 0 {
		t.Errorf("history of a new call under an expired id: %d entries, %v; want none", len(h), err)
	}
}

// testExpireQueuedWebhooks: an old call whose disconnect is still queued
// (the application down, --retry-webhooks retrying) is kept with its
// webhooks until the last is delivered or dropped, then goes.
func testExpireQueuedWebhooks(t *testing.T, s ExpireStore) {
	ctx := t.Context()
	// The waiting call is the older: it does not hold the batch up.
	waiting := endedCall("c-waiting", callCutoff.Add(-3*time.Hour))
	done := endedCall("c-done", callCutoff.Add(-2*time.Hour))
	saveAll(t, s, waiting, done)
	_, err := s.Write(ctx, engine.Write{History: []engine.HistoryEntry{entry("c-waiting", 1)},
		Enqueue: []engine.QueuedWebhook{{CallID: "c-waiting", EventID: "e-1", Data: []byte(`{"eventType":"transferComplete"}`)},
			{CallID: "c-waiting", EventID: "e-2", Data: []byte(`{"eventType":"disconnect"}`)}}})
	if err != nil {
		t.Fatalf("Write: %v", err)
	}
	got, err := s.Expire(ctx, keepByDefault, 1)
	if err != nil {
		t.Fatalf("Expire: %v", err)
	}
	if !slices.Equal(got.Calls, []string{"c-done"}) {
		t.Errorf("Expire removed calls %v; want [c-done] alone: c-waiting has webhooks queued", got.Calls)
	}
	get(t, s, "acct-1", "c-waiting")
	if h, err := s.History(ctx, "c-waiting"); err != nil || len(h) != 1 {
		t.Errorf("History of the waiting call: %d entries, %v; want 1", len(h), err)
	}
	q, err := s.Queued(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(q) != 2 || string(q[0].Data) != `{"eventType":"transferComplete"}` || string(q[1].Data) != `{"eventType":"disconnect"}` {
		t.Fatalf("webhooks queued after Expire: %+v; want the two of c-waiting, in order", q)
	}

	// One delivered, one left: the call still waits.
	if err := s.Delivered(ctx, q[0].ID); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Expire(ctx, keepByDefault, 100); err != nil || len(got.Calls) != 0 {
		t.Errorf("Expire with one webhook left: removed %v, %v; want none", got.Calls, err)
	}
	// The last one delivered (or dropped): the call goes.
	if err := s.Delivered(ctx, q[1].ID); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Expire(ctx, keepByDefault, 100); err != nil || !slices.Equal(got.Calls, []string{"c-waiting"}) {
		t.Errorf("Expire once delivered: removed %v, %v; want [c-waiting]", got.Calls, err)
	}
	if _, err := s.GetCall(ctx, "acct-1", "c-waiting"); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("GetCall of the call expired once delivered: %v; want ErrNotFound", err)
	}
}

func testExpireRecordings(t *testing.T, s ExpireStore) {
	ctx := t.Context()
	mk := func(call, conf string, start time.Time) *engine.Recording {
		r := &engine.Recording{RecordingID: callback.NewRecordingID(), AccountID: "acct-1", CallID: call, ConferenceID: conf,
			StartTime: start, EndTime: start.Add(time.Minute), Transcription: &engine.Transcription{ID: "t-1", Texts: []string{"hi"}}}
		if err := s.SaveRecording(ctx, r); err != nil {
			t.Fatal(err)
		}
		return r
	}
	oldCall := mk("c-1", "", recordCutoff.Add(-time.Hour))
	oldConf := mk("", "conf-1", recordCutoff.Add(-2*time.Hour))
	newCall := mk("c-1", "", recordCutoff.Add(time.Hour))
	newConf := mk("", "conf-1", recordCutoff.Add(time.Hour))

	// Calls only: no recording goes.
	if got, err := s.Expire(ctx, engine.ExpireBefore{Calls: now}, 100); err != nil || len(got.Recordings) != 0 {
		t.Errorf("Expire of calls only removed recordings %+v, %v", got.Recordings, err)
	}
	got, err := s.Expire(ctx, keepByDefault, 100)
	if err != nil {
		t.Fatalf("Expire: %v", err)
	}
	want := []engine.ExpiredRecording{{AccountID: "acct-1", RecordingID: oldConf.RecordingID}, {AccountID: "acct-1", RecordingID: oldCall.RecordingID}}
	if !sameRecordings(got.Recordings, want) {
		t.Errorf("Expire removed recordings %+v; want %+v", got.Recordings, want)
	}
	for _, r := range []*engine.Recording{oldCall, oldConf} {
		if _, err := s.GetRecording(ctx, "acct-1", r.RecordingID); !errors.Is(err, engine.ErrNotFound) {
			t.Errorf("GetRecording of expired %s: %v; want ErrNotFound", r.RecordingID, err)
		}
	}
	for _, r := range []*engine.Recording{newCall, newConf} {
		if got, err := s.GetRecording(ctx, "acct-1", r.RecordingID); err != nil || got.Transcription == nil {
			t.Errorf("GetRecording of kept %s: %+v, %v", r.RecordingID, got, err)
		}
	}
	if l, err := s.ListRecordings(ctx, engine.RecordingFilter{AccountID: "acct-1", CallID: "c-1"}); err != nil || len(l) != 1 || l[0].RecordingID != newCall.RecordingID {
		t.Errorf("the call's recordings after Expire: %d, %v; want the newer one", len(l), err)
	}
}

// testExpireRecordingsInUse: past its cutoff, a recording still
// processing (its MP3 being encoded), one of a live call and one of an
// active conference stay; those of ended calls, completed conferences and
// calls already gone go. The waiting ones go once they no longer wait.
func testExpireRecordingsInUse(t *testing.T, s ExpireStore) {
	ctx := t.Context()
	live := fullCall("c-live", "acct-1")
	ended := endedCall("c-ended", now.Add(-40*24*time.Hour))
	saveAll(t, s, live, ended)
	active := engine.Conference{ID: "conf-active", Name: "a", AccountID: "acct-1", CreatedTime: now.Add(-40 * 24 * time.Hour),
		CreatorCallID: "c-live", Members: []engine.ConferenceMember{{CallID: "c-live"}}, Joined: []string{"c-live"}}
	completed := engine.Conference{ID: "conf-done", Name: "b", AccountID: "acct-1", CreatedTime: now.Add(-40 * 24 * time.Hour),
		CompletedTime: now.Add(-39 * 24 * time.Hour), CreatorCallID: "c-ended", Joined: []string{"c-ended"}}
	for _, c := range []engine.Conference{active, completed} {
		if err := s.SaveConference(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	// Those that wait are the oldest: they must not hold a batch up.
	n := 0
	mk := func(call, conf string, status callback.RecordingStatus) *engine.Recording {
		n++
		start := recordCutoff.Add(-time.Duration(100-n) * time.Hour)
		r := &engine.Recording{RecordingID: callback.NewRecordingID(), AccountID: "acct-1", CallID: call, ConferenceID: conf,
			StartTime: start, EndTime: start.Add(time.Minute), FileFormat: callback.MP3, Status: status}
		if err := s.SaveRecording(ctx, r); err != nil {
			t.Fatal(err)
		}
		return r
	}
	processing := mk("c-ended", "", callback.RecordingStatusProcessing)
	ofLive := mk("c-live", "", callback.RecordingStatusComplete)
	ofActive := mk("", "conf-active", callback.RecordingStatusComplete)
	ofEnded := mk("c-ended", "", callback.RecordingStatusComplete)
	ofCompleted := mk("", "conf-done", callback.RecordingStatusPartial)
	ofGone := mk("c-gone", "", callback.RecordingStatusError)

	recordingsOnly := engine.ExpireBefore{Recordings: recordCutoff}
	got, err := s.Expire(ctx, recordingsOnly, 3)
	if err != nil {
		t.Fatalf("Expire: %v", err)
	}
	want := []engine.ExpiredRecording{{AccountID: "acct-1", RecordingID: ofEnded.RecordingID},
		{AccountID: "acct-1", RecordingID: ofCompleted.RecordingID}, {AccountID: "acct-1", RecordingID: ofGone.RecordingID}}
	if !sameRecordings(got.Recordings, want) {
		t.Errorf("Expire removed recordings %+v; want those of c-ended (complete), conf-done and c-gone %+v", got.Recordings, want)
	}
	for what, r := range map[string]*engine.Recording{"processing": processing, "of a live call": ofLive, "of an active conference": ofActive} {
		if _, err := s.GetRecording(ctx, "acct-1", r.RecordingID); err != nil {
			t.Errorf("GetRecording of the recording %s, past its cutoff: %v; want it kept", what, err)
		}
	}
	if got, err := s.Expire(ctx, recordingsOnly, 100); err != nil || len(got.Recordings) != 0 {
		t.Errorf("second Expire: removed %+v, %v; want none", got.Recordings, err)
	}

	// The MP3 is encoded, the call ends, the conference completes: they go.
	processing.Status = callback.RecordingStatusComplete
	if err := s.SaveRecording(ctx, processing); err != nil {
		t.Fatal(err)
	}
	live.State, live.EndTime = engine.StateDisconnected, now
	saveAll(t, s, live)
	active.CompletedTime, active.Members = now, nil
	if err := s.SaveConference(ctx, active); err != nil {
		t.Fatal(err)
	}
	got, err = s.Expire(ctx, recordingsOnly, 100)
	if err != nil {
		t.Fatalf("Expire: %v", err)
	}
	want = []engine.ExpiredRecording{{AccountID: "acct-1", RecordingID: processing.RecordingID},
		{AccountID: "acct-1", RecordingID: ofLive.RecordingID}, {AccountID: "acct-1", RecordingID: ofActive.RecordingID}}
	if !sameRecordings(got.Recordings, want) {
		t.Errorf("Expire once they no longer wait removed %+v; want %+v", got.Recordings, want)
	}
}

// sameRecordings compares as sets.
func sameRecordings(got, want []engine.ExpiredRecording) bool {
	key := func(r engine.ExpiredRecording) string { return r.AccountID + "/" + r.RecordingID }
	var g, w []string
	for _, r := range got {
		g = append(g, key(r))
	}
	for _, r := range want {
		w = append(w, key(r))
	}
	slices.Sort(g)
	slices.Sort(w)
	return slices.Equal(g, w)
}

func testExpireConferences(t *testing.T, s ExpireStore) {
	ctx := t.Context()
	old := engine.Conference{ID: "conf-old", Name: "a", AccountID: "acct-1", CreatedTime: callCutoff.Add(-2 * time.Hour),
		CompletedTime: callCutoff.Add(-time.Hour), CreatorCallID: "c-1", Joined: []string{"c-1", "c-2"}}
	recent := engine.Conference{ID: "conf-recent", Name: "b", AccountID: "acct-1", CreatedTime: callCutoff.Add(-time.Hour),
		CompletedTime: callCutoff.Add(time.Hour), CreatorCallID: "c-3", Joined: []string{"c-3"}}
	active := engine.Conference{ID: "conf-active", Name: "c", AccountID: "acct-1", CreatedTime: now.Add(-40 * 24 * time.Hour),
		CreatorCallID: "c-4", Members: []engine.ConferenceMember{{CallID: "c-4"}}, Joined: []string{"c-4"}}
	for _, c := range []engine.Conference{old, recent, active} {
		if err := s.SaveConference(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	// Recordings only: no conference goes.
	if got, err := s.Expire(ctx, engine.ExpireBefore{Recordings: now}, 100); err != nil || len(got.Conferences) != 0 {
		t.Errorf("Expire of recordings only removed conferences %v, %v", got.Conferences, err)
	}
	got, err := s.Expire(ctx, keepByDefault, 100)
	if err != nil {
		t.Fatalf("Expire: %v", err)
	}
	if !slices.Equal(got.Conferences, []string{"conf-old"}) {
		t.Errorf("Expire removed conferences %v; want [conf-old]", got.Conferences)
	}
	if _, err := s.GetConference(ctx, "acct-1", "conf-old"); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("GetConference of the expired conference: %v; want ErrNotFound", err)
	}
	list, err := s.ListConferences(ctx, engine.ConferenceFilter{AccountID: "acct-1"})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, c := range list {
		ids = append(ids, c.ID)
	}
	if !slices.Equal(ids, []string{"conf-recent", "conf-active"}) {
		t.Errorf("conferences after Expire: %v; want [conf-recent conf-active]", ids)
	}
	if a, err := s.ActiveConferences(ctx); err != nil || len(a) != 1 || a[0].ID != "conf-active" {
		t.Errorf("ActiveConferences after Expire: %+v, %v; want conf-active", a, err)
	}
}

func testExpireBatches(t *testing.T, s ExpireStore) {
	ctx := t.Context()
	// Five old calls saved newest first: they go oldest first.
	var want []string
	for i := 5; i >= 1; i-- {
		id := "c-" + string(rune('0'+i))
		saveAll(t, s, endedCall(id, callCutoff.Add(-time.Duration(6-i)*time.Hour)))
		want = append(want, id)
	}
	saveAll(t, s, endedCall("c-new", now))
	var batches [][]string
	for range 4 {
		got, err := s.Expire(ctx, keepByDefault, 2)
		if err != nil {
			t.Fatalf("Expire: %v", err)
		}
		batches = append(batches, got.Calls)
		if !got.Full(2) {
			break
		}
	}
	// c-1 ended 5 hours before the cutoff, c-5 one hour.
	slices.Reverse(want)
	wantBatches := [][]string{want[:2], want[2:4], want[4:]}
	if len(batches) != len(wantBatches) {
		t.Fatalf("batches of 2: %v; want %v", batches, wantBatches)
	}
	for i := range batches {
		if !slices.Equal(batches[i], wantBatches[i]) {
			t.Errorf("batches of 2: %v; want %v", batches, wantBatches)
			break
		}
	}
	list, err := s.ListCalls(ctx, engine.CallFilter{})
	if err != nil {
		t.Fatal(err)
	}
	checkIDs(t, "ListCalls after the batches", list, "c-new")
}

// testExpireTogether runs two sweeps at once, as two nodes do: every old
// call goes, and each is reported by one sweep only.
func testExpireTogether(t *testing.T, s ExpireStore) {
	ctx := t.Context()
	const n = 60
	for i := range n {
		saveAll(t, s, endedCall(callback.NewCallID(), callCutoff.Add(-time.Duration(i+1)*time.Minute)))
	}
	var mu sync.Mutex
	var removed []string
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			for {
				got, err := s.Expire(ctx, keepByDefault, 7)
				if err != nil {
					t.Errorf("Expire: %v", err)
					return
				}
				mu.Lock()
				removed = append(removed, got.Calls...)
				mu.Unlock()
				if len(got.Calls) == 0 {
					return
				}
			}
		})
	}
	wg.Wait()
	slices.Sort(removed)
	if len(removed) != n || len(slices.Compact(slices.Clone(removed))) != n {
		t.Errorf("two sweeps removed %d calls, %d distinct; want %d, each once", len(removed), len(slices.Compact(removed)), n)
	}
	if list, err := s.ListCalls(ctx, engine.CallFilter{}); err != nil || len(list) != 0 {
		t.Errorf("calls left: %d, %v; want none", len(list), err)
	}
}

func testExpireInvalid(t *testing.T, s ExpireStore) {
	saveAll(t, s, endedCall("c-old", callCutoff.Add(-time.Hour)))
	for _, limit := range []int{0, -1} {
		if _, err := s.Expire(t.Context(), keepByDefault, limit); err == nil {
			t.Errorf("Expire with limit %d: no error", limit)
		}
	}
	// Zero cutoffs keep everything.
	if got, err := s.Expire(t.Context(), engine.ExpireBefore{}, 10); err != nil || !got.Empty() {
		t.Errorf("Expire with zero cutoffs: %+v, %v; want nothing removed", got, err)
	}
	if _, err := s.Expire(canceled(t), keepByDefault, 10); err == nil {
		t.Error("Expire with a canceled context: no error")
	}
	get(t, s, "acct-1", "c-old")
}
