package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/voicehook/voicehook/callback"
	"github.com/voicehook/voicehook/internal/engine"
	"github.com/voicehook/voicehook/internal/recordings"
)

// RunRecordings checks a store of recording records: filters, order,
// replacement, deletion. reopen, when set, closes the store and opens it
// again, to check the records outlive it.
func RunRecordings(t *testing.T, open func(t *testing.T) recordings.Records, reopen func(t *testing.T, s recordings.Records) recordings.Records) {
	ctx := context.Background()
	s := open(t)
	t0 := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	recs := []*engine.Recording{
		{RecordingID: callback.NewRecordingID(), AccountID: "1", CallID: "c-a", To: "+15550000001", From: "+15551110000", StartTime: t0},
		{RecordingID: callback.NewRecordingID(), AccountID: "1", CallID: "c-b", To: "+15550000002", From: "+15551110000", StartTime: t0.Add(time.Hour),
			Transcription: &engine.Transcription{ID: "t-1", Texts: []string{"hello"}}},
		{RecordingID: callback.NewRecordingID(), AccountID: "1", ConferenceID: "conf-x", StartTime: t0.Add(2 * time.Hour)},
		{RecordingID: callback.NewRecordingID(), AccountID: "2", CallID: "c-c", To: "+15550000001", StartTime: t0},
	}
	for _, r := range recs {
		if err := s.SaveRecording(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	ids := func(f engine.RecordingFilter) []string {
		t.Helper()
		list, err := s.ListRecordings(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, r := range list {
			out = append(out, r.RecordingID)
		}
		return out
	}
	for name, c := range map[string]struct {
		f    engine.RecordingFilter
		want []string
	}{
		"the account's call recordings": {engine.RecordingFilter{AccountID: "1"}, []string{recs[0].RecordingID, recs[1].RecordingID}},
		"by call":                       {engine.RecordingFilter{AccountID: "1", CallID: "c-b"}, []string{recs[1].RecordingID}},
		"by to":                         {engine.RecordingFilter{AccountID: "1", To: "+15550000001"}, []string{recs[0].RecordingID}},
		"from a time":                   {engine.RecordingFilter{AccountID: "1", MinStartTime: t0.Add(time.Minute)}, []string{recs[1].RecordingID}},
		"up to a time":                  {engine.RecordingFilter{AccountID: "1", MaxStartTime: t0}, []string{recs[0].RecordingID}},
		"a conference's":                {engine.RecordingFilter{AccountID: "1", ConferenceID: "conf-x"}, []string{recs[2].RecordingID}},
		"limited":                       {engine.RecordingFilter{AccountID: "1", Limit: 1}, []string{recs[0].RecordingID}},
	} {
		if got := ids(c.f); len(got) != len(c.want) || (len(got) > 0 && got[0] != c.want[0]) {
			t.Errorf("%s: %v, want %v", name, got, c.want)
		}
	}
	// Records survive a restart, transcription included; a replaced one
	// keeps its place.
	recs[0].Status = callback.RecordingStatusDeleted
	if err := s.SaveRecording(ctx, recs[0]); err != nil {
		t.Fatal(err)
	}
	if reopen != nil {
		s = reopen(t, s)
	}
	got, err := s.GetRecording(ctx, "1", recs[1].RecordingID)
	if err != nil || got.Transcription == nil || got.Transcription.Texts[0] != "hello" || !got.StartTime.Equal(t0.Add(time.Hour)) {
		t.Errorf("after a restart: %+v, %v", got, err)
	}
	if list := ids(engine.RecordingFilter{AccountID: "1"}); len(list) != 2 || list[0] != recs[0].RecordingID {
		t.Errorf("order after replacing the first: %v", list)
	}
	if _, err := s.GetRecording(ctx, "2", recs[1].RecordingID); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("another account's recording: %v", err)
	}
	if err := s.DeleteRecording(ctx, "1", recs[1].RecordingID); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteRecording(ctx, "1", recs[1].RecordingID); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("deleting twice: %v", err)
	}
}
