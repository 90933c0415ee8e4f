package recordings_test

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/voicehook/voicehook/callback"
	"github.com/voicehook/voicehook/internal/audio"
	"github.com/voicehook/voicehook/internal/engine"
	"github.com/voicehook/voicehook/internal/pcm"
	"github.com/voicehook/voicehook/internal/recordings"
	"github.com/voicehook/voicehook/internal/store/sqlite"
)

func TestKeeper(t *testing.T) {
	ctx := context.Background()
	store, err := sqlite.Open(ctx, ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	dir := filepath.Join(t.TempDir(), "rec")
	k, err := recordings.New(dir, store)
	if err != nil {
		t.Fatal(err)
	}
	r := &engine.Recording{RecordingID: callback.NewRecordingID(), AccountID: "1", CallID: "c-1", Duration: 2 * time.Second, Channels: 1}
	speech := []audio.Segment{{Start: 500 * time.Millisecond, Length: time.Second, Sound: audio.Speech}}
	if err := k.Save(ctx, r, 2*time.Second, [][]audio.Segment{speech}); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || entries[0].Name() != r.RecordingID+".wav" {
		t.Errorf("the directory holds %v, want only the recording's file (no temporary left)", entries)
	}
	f, err := k.Media(ctx, "1", r.RecordingID)
	if err != nil {
		t.Fatal(err)
	}
	h, err := audio.ReadHeader(bufio.NewReader(f))
	f.Close()
	if err != nil || h.Length() != 2*time.Second {
		t.Errorf("media: %+v %v", h, err)
	}
	if _, err := k.Media(ctx, "2", r.RecordingID); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("another account's media: %v", err)
	}
	// A hostile id never reaches outside the directory.
	bad := &engine.Recording{RecordingID: "../../etc/passwd", AccountID: "1"}
	if err := k.Save(ctx, bad, time.Second, [][]audio.Segment{nil}); err == nil {
		t.Error("saved a recording with id ../../etc/passwd")
	}
	if err := k.DeleteMedia(ctx, "1", r.RecordingID); err != nil {
		t.Fatal(err)
	}
	if got, _ := k.Get(ctx, "1", r.RecordingID); got == nil || !got.MediaDeleted || got.Status != callback.RecordingStatusDeleted {
		t.Errorf("after deleting the media: %+v", got)
	}
	if _, err := k.Media(ctx, "1", r.RecordingID); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("media after deletion: %v", err)
	}
	if err := k.Delete(ctx, "1", r.RecordingID); err != nil {
		t.Fatal(err)
	}
	if _, err := k.Get(ctx, "1", r.RecordingID); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("after Delete: %v", err)
	}
}

// A recording of a real call keeps the samples captured: each channel
// comes back as it went in.
func TestKeeperSavesRealAudio(t *testing.T) {
	ctx := context.Background()
	store, err := sqlite.Open(ctx, ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	k, err := recordings.New(t.TempDir(), store)
	if err != nil {
		t.Fatal(err)
	}
	heard := pcm.Tone(440, 8000, time.Second, 0.5)
	played := pcm.Tone(1000, 8000, time.Second, 0.25)
	r := &engine.Recording{RecordingID: callback.NewRecordingID(), AccountID: "1", CallID: "c-2", Duration: time.Second, Channels: 2}
	if err := k.SaveAudio(ctx, r, engine.Audio{Rate: 8000, Channels: [][]int16{heard, played}}); err != nil {
		t.Fatal(err)
	}
	f, err := k.Media(ctx, "1", r.RecordingID)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h, err := audio.ReadHeader(bufio.NewReader(f))
	if err != nil {
		t.Fatal(err)
	}
	if h.Channels != 2 || h.SampleRate != 8000 || h.Length() != time.Second {
		t.Errorf("header %+v", h)
	}
	if _, err := f.Seek(h.DataOffset, 0); err != nil {
		t.Fatal(err)
	}
	data := make([]byte, 8000*4)
	if _, err := io.ReadFull(f, data); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 8000; i += 997 {
		l, r := int16(binary.LittleEndian.Uint16(data[i*4:])), int16(binary.LittleEndian.Uint16(data[i*4+2:]))
		if l != heard[i] || r != played[i] {
			t.Fatalf("sample %d: %d/%d, want %d/%d", i, l, r, heard[i], played[i])
		}
	}
}
