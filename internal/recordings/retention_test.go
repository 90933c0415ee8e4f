package recordings_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/voicehook/voicehook/callback"
	"github.com/voicehook/voicehook/internal/audio"
	"github.com/voicehook/voicehook/internal/engine"
	"github.com/voicehook/voicehook/internal/recordings"
	"github.com/voicehook/voicehook/internal/store/sqlite"
)

// TestForget: the files of expired recordings and of expired calls'
// transcriptions go; the others stay.
func TestForget(t *testing.T) {
	ctx := context.Background()
	store, err := sqlite.Open(ctx, sqlite.Memory)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	dir := t.TempDir()
	k, err := recordings.New(dir, store)
	if err != nil {
		t.Fatal(err)
	}
	gone, kept := saveRecording(t, k, "c-1"), saveRecording(t, k, "c-1")
	goneCall, keptCall := callback.NewCallID(), callback.NewCallID()
	for _, c := range []string{goneCall, keptCall} {
		tr := &engine.LiveTranscription{ID: callback.NewTranscriptionID(), AccountID: "1", CallID: c, StartTime: time.Now()}
		if err := k.SaveTranscription(ctx, tr); err != nil {
			t.Fatal(err)
		}
	}
	// A recording whose file is already gone, and a hostile call id, are
	// no error.
	err = k.Forget(engine.Expired{Calls: []string{goneCall, "../../x"},
		Recordings: []engine.ExpiredRecording{{AccountID: "1", RecordingID: gone}, {AccountID: "1", RecordingID: callback.NewRecordingID()}}})
	if err != nil {
		t.Fatalf("Forget: %v", err)
	}
	if got := names(t, dir); !slices.Equal(got, []string{kept + ".wav", "transcriptions"}) {
		t.Errorf("after Forget the directory holds %v; want the kept recording's file and the transcriptions", got)
	}
	if got := names(t, filepath.Join(dir, "transcriptions")); !slices.Equal(got, []string{keptCall}) {
		t.Errorf("transcriptions after Forget: %v; want the kept call's only", got)
	}
	if l, err := k.Transcriptions(ctx, "1", keptCall); err != nil || len(l) != 1 {
		t.Errorf("the kept call's transcriptions: %d, %v", len(l), err)
	}
}

// TestRemoveAudioBefore: audio files older than the cutoff whose records
// are gone go; newer ones, those whose records the store still keeps (a
// recording of a call live past the cutoff), and files that are not a
// recording's audio stay.
func TestRemoveAudioBefore(t *testing.T) {
	ctx := context.Background()
	store, err := sqlite.Open(ctx, sqlite.Memory)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	dir := t.TempDir()
	k, err := recordings.New(dir, store)
	if err != nil {
		t.Fatal(err)
	}
	old, recent, kept := saveRecording(t, k, "c-1"), saveRecording(t, k, "c-1"), saveRecording(t, k, "c-2")
	// Another node expired old's record and could not remove its file.
	if err := store.DeleteRecording(ctx, "1", old); err != nil {
		t.Fatal(err)
	}
	oldMP3 := callback.NewRecordingID() + ".mp3"
	other := "notes.wav"
	for _, n := range []string{oldMP3, other} {
		if err := os.WriteFile(filepath.Join(dir, n), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cutoff := time.Now().Add(-24 * time.Hour)
	for _, n := range []string{old + ".wav", kept + ".wav", oldMP3, other} {
		if err := os.Chtimes(filepath.Join(dir, n), cutoff.Add(-time.Hour), cutoff.Add(-time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	n, err := k.RemoveAudioBefore(ctx, cutoff)
	if err != nil || n != 2 {
		t.Errorf("RemoveAudioBefore = %d, %v; want 2 files removed", n, err)
	}
	want := []string{other, recent + ".wav", kept + ".wav"}
	slices.Sort(want)
	if got := names(t, dir); !slices.Equal(got, want) {
		t.Errorf("left: %v; want %v", got, want)
	}
}

func saveRecording(t *testing.T, k *recordings.Keeper, callID string) string {
	t.Helper()
	r := &engine.Recording{RecordingID: callback.NewRecordingID(), AccountID: "1", CallID: callID, StartTime: time.Now(), Channels: 1}
	if err := k.Save(context.Background(), r, time.Second, [][]audio.Segment{nil}); err != nil {
		t.Fatal(err)
	}
	return r.RecordingID
}

func names(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}
