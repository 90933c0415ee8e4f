package recordings_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/voicehook/voicehook/callback"
	"github.com/voicehook/voicehook/internal/engine"
	"github.com/voicehook/voicehook/internal/recordings"
)

// liveTranscription is an ended transcription of callID that began at
// start, with an utterance on each track.
func liveTranscription(callID string, start time.Time) *engine.LiveTranscription {
	return &engine.LiveTranscription{
		ID: callback.NewTranscriptionID(), Name: "live", AccountID: "9900000", CallID: callID,
		Tracks: []string{"inbound", "outbound"}, StartTime: start, CompletedTime: start.Add(6 * time.Second),
		Transcripts: []engine.Transcript{
			{Track: "outbound", Start: 0, End: 1266666666, Text: "Welcome to the shop", Confidence: 1, Words: []engine.TranscriptWord{
				{Text: "Welcome", End: 316666666, Confidence: 1}, {Text: "to", Start: 316666666, End: 633333333, Confidence: 1},
				{Text: "the", Start: 633333333, End: 950000000, Confidence: 1}, {Text: "shop", Start: 950000000, End: 1266666666, Confidence: 1}}},
			{Track: "inbound", Start: time.Second, End: 3 * time.Second, Text: "cancel it", Confidence: 0.75, Words: []engine.TranscriptWord{
				{Text: "cancel", Start: time.Second, End: 2 * time.Second, Confidence: 0.5}, {Text: "it", Start: 2 * time.Second, End: 3 * time.Second, Confidence: 1}}},
			{Track: "inbound", Start: 4 * time.Second, End: 5 * time.Second, Err: "the recognizer timed out"},
		},
	}
}

func newKeeper(t *testing.T, dir string) *recordings.Keeper {
	t.Helper()
	k, err := recordings.New(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// A transcription is kept whole, listed oldest first, read back by its
// account only, and deleted; a new Keeper on the same directory finds what
// the last one kept.
func TestKeeperKeepsTranscriptions(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	k := newKeeper(t, dir)
	callID := callback.NewCallID()
	start := time.Date(2026, 11, 27, 21, 0, 0, 123456789, time.UTC)
	later, earlier := liveTranscription(callID, start.Add(time.Minute)), liveTranscription(callID, start)
	other := liveTranscription(callback.NewCallID(), start)
	for _, x := range []*engine.LiveTranscription{later, earlier, other} {
		if err := k.SaveTranscription(ctx, x); err != nil {
			t.Fatal(err)
		}
	}
	entries, _ := os.ReadDir(filepath.Join(dir, "transcriptions", callID))
	if len(entries) != 2 {
		t.Errorf("the call's directory holds %v, want its two files and no temporary", entries)
	}

	// A new Keeper reads what the first wrote.
	k = newKeeper(t, dir)
	list, err := k.Transcriptions(ctx, "9900000", callID)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].ID != earlier.ID || list[1].ID != later.ID {
		t.Fatalf("listed %d transcriptions, want the call's two, earlier first", len(list))
	}
	if !reflect.DeepEqual(list[0], earlier) {
		t.Errorf("kept\n%+v\nwant\n%+v", list[0], earlier)
	}
	got, err := k.Transcription(ctx, "9900000", callID, later.ID)
	if err != nil || !reflect.DeepEqual(got, later) {
		t.Errorf("Transcription: %+v, %v", got, err)
	}

	// Another account, or another call, sees none of it.
	if list, err := k.Transcriptions(ctx, "9900001", callID); err != nil || len(list) != 0 {
		t.Errorf("another account lists %d, %v", len(list), err)
	}
	if _, err := k.Transcription(ctx, "9900001", callID, later.ID); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("another account's Transcription: %v, want ErrNotFound", err)
	}
	if _, err := k.Transcription(ctx, "9900000", other.CallID, later.ID); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("under another call: %v, want ErrNotFound", err)
	}
	if err := k.DeleteTranscription(ctx, "9900001", callID, later.ID); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("another account's DeleteTranscription: %v, want ErrNotFound", err)
	}
	if _, err := k.Transcription(ctx, "9900000", callID, later.ID); err != nil {
		t.Errorf("after another account's delete: %v", err)
	}

	// Deleting.
	if err := k.DeleteTranscription(ctx, "9900000", callID, later.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := k.Transcription(ctx, "9900000", callID, later.ID); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("after delete: %v, want ErrNotFound", err)
	}
	if err := k.DeleteTranscription(ctx, "9900000", callID, later.ID); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("deleting twice: %v, want ErrNotFound", err)
	}
	if list, _ := k.Transcriptions(ctx, "9900000", callID); len(list) != 1 || list[0].ID != earlier.ID {
		t.Errorf("after delete, listed %d", len(list))
	}
	if err := k.DeleteTranscription(ctx, "9900000", callID, earlier.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "transcriptions", callID)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the call's directory outlives its last transcription: %v", err)
	}
	if list, err := k.Transcriptions(ctx, "9900000", callID); err != nil || len(list) != 0 {
		t.Errorf("after deleting all: %d, %v", len(list), err)
	}
	// A transcription saved after its call's directory went is kept.
	if err := k.SaveTranscription(ctx, earlier); err != nil {
		t.Fatal(err)
	}
	if _, err := k.Transcription(ctx, "9900000", callID, earlier.ID); err != nil {
		t.Errorf("saved again: %v", err)
	}
}

// Ids that are not voicehook's never reach the file system: saving is
// refused, and reading or deleting finds nothing.
func TestKeeperRefusesHostileTranscriptionIDs(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	dir := filepath.Join(root, "rec")
	k := newKeeper(t, dir)
	callID := callback.NewCallID()
	for _, ids := range [][2]string{{callID, "../x"}, {"../x", callback.NewTranscriptionID()}, {callID, "t-../../x"},
		{callID, "t-1/2"}, {"c-..", callback.NewTranscriptionID()}, {callID, ""}, {"", callback.NewTranscriptionID()}} {
		x := liveTranscription(ids[0], time.Now())
		x.ID = ids[1]
		if err := k.SaveTranscription(ctx, x); err == nil {
			t.Errorf("saved a transcription with call id %q and id %q", ids[0], ids[1])
		}
		if _, err := k.Transcription(ctx, "9900000", ids[0], ids[1]); !errors.Is(err, engine.ErrNotFound) {
			t.Errorf("Transcription(%q, %q): %v, want ErrNotFound", ids[0], ids[1], err)
		}
		if err := k.DeleteTranscription(ctx, "9900000", ids[0], ids[1]); !errors.Is(err, engine.ErrNotFound) {
			t.Errorf("DeleteTranscription(%q, %q): %v, want ErrNotFound", ids[0], ids[1], err)
		}
	}
	// A file planted beside the directory is not reached through "../".
	if err := os.WriteFile(filepath.Join(root, "x.json"), []byte(`{"version":1,"id":"../x","accountId":"9900000"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := k.Transcription(ctx, "9900000", "..", "x"); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("reached a file outside the directory: %v", err)
	}
	if list, err := k.Transcriptions(ctx, "9900000", "../.."); err != nil || len(list) != 0 {
		t.Errorf("listing call ../..: %d, %v", len(list), err)
	}
	var files []string
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, p)
		}
		return nil
	})
	if len(files) != 1 {
		t.Errorf("files written: %v, want only the planted one", files)
	}
}
