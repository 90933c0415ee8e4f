package storetest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/voicehook/voicehook/callback"
	"github.com/voicehook/voicehook/internal/engine"
	"github.com/voicehook/voicehook/internal/recordings"
)

// ProcessingStore is a store of recording records that lists the ones
// still processing (recordings.ProcessingLister).
type ProcessingStore interface {
	recordings.Records
	recordings.ProcessingLister
	HasRecording(ctx context.Context, recordingID string) (bool, error)
}

// RunProcessing checks ProcessingRecordings: the records still processing
// of every account, call and conference, that started before the bound,
// oldest first, at most the limit; and HasRecording.
func RunProcessing(t *testing.T, s ProcessingStore) {
	ctx := context.Background()
	t0 := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	rec := func(account, conference string, start time.Time, status callback.RecordingStatus) *engine.Recording {
		r := &engine.Recording{RecordingID: callback.NewRecordingID(), AccountID: account, CallID: "c-" + account, ConferenceID: conference,
			StartTime: start, EndTime: start.Add(time.Second), Duration: time.Second, FileFormat: callback.MP3, Status: status}
		if err := s.SaveRecording(ctx, r); err != nil {
			t.Fatal(err)
		}
		return r
	}
	a := rec("1", "", t0, callback.RecordingStatusProcessing)
	rec("1", "", t0, callback.RecordingStatusComplete)
	b := rec("acme.eu", "conf-x", t0.Add(time.Minute), callback.RecordingStatusProcessing)
	rec("2", "", t0.Add(time.Hour), callback.RecordingStatusProcessing) // too recent
	done := rec("2", "", t0, callback.RecordingStatusProcessing)
	done.Status = callback.RecordingStatusError
	if err := s.SaveRecording(ctx, done); err != nil {
		t.Fatal(err)
	}
	ids := func(limit int) []string {
		t.Helper()
		list, err := s.ProcessingRecordings(ctx, t0.Add(30*time.Minute), limit)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, r := range list {
			out = append(out, r.RecordingID)
		}
		return out
	}
	if got, want := ids(10), []string{a.RecordingID, b.RecordingID}; !slices.Equal(got, want) {
		t.Errorf("processing recordings started before the bound: %v, want %v", got, want)
	}
	if got, want := ids(1), []string{a.RecordingID}; !slices.Equal(got, want) {
		t.Errorf("with limit 1: %v, want %v", got, want)
	}
	if _, err := s.ProcessingRecordings(ctx, t0, 0); err == nil {
		t.Error("limit 0 was accepted")
	}
	// HasRecording finds a record of any account, and none once deleted.
	for _, r := range []*engine.Recording{a, b} {
		if has, err := s.HasRecording(ctx, r.RecordingID); err != nil || !has {
			t.Errorf("HasRecording(%s of account %s) = %v, %v; want true", r.RecordingID, r.AccountID, has, err)
		}
	}
	if err := s.DeleteRecording(ctx, b.AccountID, b.RecordingID); err != nil {
		t.Fatal(err)
	}
	if has, err := s.HasRecording(ctx, b.RecordingID); err != nil || has {
		t.Errorf("HasRecording of a deleted record = %v, %v; want false", has, err)
	}
}
