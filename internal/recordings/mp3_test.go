package recordings_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/voicehook/voicehook/callback"
	"github.com/voicehook/voicehook/internal/audio"
	"github.com/voicehook/voicehook/internal/engine"
	"github.com/voicehook/voicehook/internal/lame"
	"github.com/voicehook/voicehook/internal/pcm"
	"github.com/voicehook/voicehook/internal/recordings"
	"github.com/voicehook/voicehook/internal/store/sqlite"
)

// findLAME is the lame program of this machine; CI installs it, so there a
// missing program fails the test instead of skipping it.
func findLAME(t *testing.T) *lame.Encoder {
	t.Helper()
	e, err := lame.Find("")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal(err)
		}
		t.Skipf("needs the lame program: %v", err)
	}
	return e
}

// newMP3Keeper is a Keeper over an in-memory store, in a directory of its own.
func newMP3Keeper(t *testing.T) (*recordings.Keeper, string) {
	t.Helper()
	store, err := sqlite.Open(context.Background(), ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	dir := filepath.Join(t.TempDir(), "rec")
	k, err := recordings.New(dir, store)
	if err != nil {
		t.Fatal(err)
	}
	return k, dir
}

// mp3Tolerance is how many samples (at 16 kHz) a decoded MP3 may have
// beyond what was encoded: LAME's delay, the last frame's padding and the
// LAME tag's frame, at most 4 frames of 576 samples (144 ms).
const mp3Tolerance = 4 * 576

// decodedLength decodes an MP3 file and returns how long it plays.
func decodedLength(t *testing.T, k *recordings.Keeper, id string) time.Duration {
	t.Helper()
	f, err := k.Media(context.Background(), "1", id)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	clip, err := pcm.DecodeMP3(f, 0)
	if err != nil {
		t.Fatal(err)
	}
	return clip.Duration()
}

func mp3Recording() *engine.Recording {
	start := time.Date(2026, 11, 28, 2, 0, 0, 0, time.UTC)
	return &engine.Recording{RecordingID: callback.NewRecordingID(), AccountID: "1", CallID: "c-1", StartTime: start,
		EndTime: start.Add(2 * time.Second), Duration: 2 * time.Second, Channels: 1, FileFormat: callback.MP3, Status: callback.RecordingStatusComplete}
}

func TestKeeperMP3(t *testing.T) {
	ctx := context.Background()
	k, dir := newMP3Keeper(t)
	k.UseMP3(findLAME(t), nil)
	r := mp3Recording()
	speech := []audio.Segment{{Start: 500 * time.Millisecond, Length: time.Second, Sound: audio.Speech}}
	if err := k.Save(ctx, r, 2*time.Second, [][]audio.Segment{speech}); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || entries[0].Name() != r.RecordingID+".mp3" {
		t.Errorf("the directory holds %v, want only %s.mp3", entries, r.RecordingID)
	}
	got, err := k.Get(ctx, "1", r.RecordingID)
	if err != nil || got.Status != callback.RecordingStatusComplete || got.FileFormat != callback.MP3 {
		t.Errorf("record %+v %v, want complete mp3", got, err)
	}
	if d := decodedLength(t, k, r.RecordingID); d < 2*time.Second || d > 2*time.Second+mp3Tolerance*time.Second/16000 {
		t.Errorf("the file plays %v, want 2 s (+ at most 144 ms)", d)
	}
	// Read back for transcription (k.Audio decodes the mp3): all of it.
	a, err := k.Audio(ctx, "1", r.RecordingID)
	if err != nil {
		t.Fatal(err)
	}
	if a.Length() < 2*time.Second {
		t.Errorf("Audio lasts %v, want 2 s", a.Length())
	}
	if err := k.Delete(ctx, "1", r.RecordingID); err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("after Delete the directory holds %v", entries)
	}
}

// halfEncoder encodes the first half of the audio with LAME, then fails,
// as an encoder stopped part way does.
type halfEncoder struct{ e *lame.Encoder }

func (h halfEncoder) Encode(ctx context.Context, dst string, rate int, channels [][]int16) error {
	half := make([][]int16, len(channels))
	for i, ch := range channels {
		half[i] = ch[:len(ch)/2]
	}
	if err := h.e.Encode(ctx, dst, rate, half); err != nil {
		return err
	}
	return errors.New("lame: signal: killed")
}

// failingEncoder writes nothing that plays.
type failingEncoder struct{}

func (failingEncoder) Encode(_ context.Context, dst string, _ int, _ [][]int16) error {
	os.WriteFile(dst, []byte("not mp3"), 0o644)
	return errors.New("lame: exit status 1: Error writing output")
}

func TestKeeperMP3Partial(t *testing.T) {
	ctx := context.Background()
	k, _ := newMP3Keeper(t)
	k.UseMP3(halfEncoder{findLAME(t)}, nil)
	r := mp3Recording()
	tone := pcm.Tone(440, 8000, 2*time.Second, 0.5)
	err := k.SaveAudio(ctx, r, engine.Audio{Rate: 8000, Channels: [][]int16{tone}})
	if err == nil || !strings.Contains(err.Error(), "kept partly") {
		t.Errorf("SaveAudio: %v, want it to say the recording was kept partly", err)
	}
	got, gerr := k.Get(ctx, "1", r.RecordingID)
	if gerr != nil || got.Status != callback.RecordingStatusPartial || r.Status != callback.RecordingStatusPartial {
		t.Fatalf("record %+v %v, want status partial", got, gerr)
	}
	// What was kept: the first second, as the record says.
	if got.Duration < time.Second || got.Duration > time.Second+mp3Tolerance*time.Second/16000 || !got.EndTime.Equal(got.StartTime.Add(got.Duration)) {
		t.Errorf("partial record lasts %v (%v to %v), want the 1 s kept", got.Duration, got.StartTime, got.EndTime)
	}
	if d := decodedLength(t, k, r.RecordingID); d != got.Duration {
		t.Errorf("the file plays %v, the record says %v", d, got.Duration)
	}
}

func TestKeeperMP3Error(t *testing.T) {
	ctx := context.Background()
	for name, setup := range map[string]func(k *recordings.Keeper){
		"the encoder fails":   func(k *recordings.Keeper) { k.UseMP3(failingEncoder{}, nil) },
		"there is no encoder": func(k *recordings.Keeper) { k.UseMP3(nil, lame.ErrMissing) },
	} {
		t.Run(name, func(t *testing.T) {
			k, dir := newMP3Keeper(t)
			setup(k)
			r := mp3Recording()
			if err := k.Save(ctx, r, 2*time.Second, [][]audio.Segment{nil}); err == nil {
				t.Error("Save kept nothing and returned nil")
			}
			got, err := k.Get(ctx, "1", r.RecordingID)
			if err != nil || got.Status != callback.RecordingStatusError || r.Status != callback.RecordingStatusError {
				t.Fatalf("record %+v %v, want it stored with status error", got, err)
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Errorf("the directory holds %v, want nothing", entries)
			}
			if _, err := k.Media(ctx, "1", r.RecordingID); !errors.Is(err, engine.ErrNotFound) {
				t.Errorf("media of a failed recording: %v, want not found", err)
			}
		})
	}
}

func TestKeeperKeeps(t *testing.T) {
	k, _ := newMP3Keeper(t)
	if err := k.Keeps(callback.WAV); err != nil {
		t.Errorf("Keeps(wav): %v", err)
	}
	if err := k.Keeps(callback.MP3); !errors.Is(err, recordings.ErrNoMP3) {
		t.Errorf("Keeps(mp3) without an encoder: %v, want ErrNoMP3", err)
	}
	_, missing := lame.Find(filepath.Join(t.TempDir(), "lame"))
	k.UseMP3(nil, missing)
	if err := k.Keeps(callback.MP3); err == nil || !strings.Contains(err.Error(), "apt-get install lame") {
		t.Errorf("Keeps(mp3) with lame missing: %v, want what to install", err)
	}
	k.UseMP3(failingEncoder{}, nil)
	if err := k.Keeps(callback.MP3); err != nil {
		t.Errorf("Keeps(mp3) with an encoder: %v", err)
	}
}

// A WAV recording that cannot be written at all (its directory is gone,
// as on a full or lost disk) is stored with status error.
func TestKeeperWAVError(t *testing.T) {
	ctx := context.Background()
	k, dir := newMP3Keeper(t)
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	r := mp3Recording()
	r.FileFormat = callback.WAV
	if err := k.Save(ctx, r, 2*time.Second, [][]audio.Segment{nil}); err == nil {
		t.Fatal("Save into a missing directory returned nil")
	}
	if got, err := k.Get(ctx, "1", r.RecordingID); err != nil || got.Status != callback.RecordingStatusError {
		t.Errorf("record %+v %v, want status error", got, err)
	}
}

// stuckEncoder encodes the first half of the audio, hands the file's name
// to started and waits for release: a process that stopped in the middle
// of encoding, as at a crash.
type stuckEncoder struct {
	e       *lame.Encoder
	started chan string
	release chan struct{}
}

func (s stuckEncoder) Encode(ctx context.Context, dst string, rate int, channels [][]int16) error {
	if err := (halfEncoder{s.e}).Encode(ctx, dst, rate, channels); err != nil && !strings.Contains(err.Error(), "killed") {
		return err
	}
	s.started <- dst
	<-s.release
	return errors.New("lame: signal: killed")
}

// A recording whose encoding a crash cut short is finished when voicehook
// starts again: partial, with what its frames hold; another node's file,
// in a directory nodes share, is left to that node.
func TestKeeperRecoversAfterACrash(t *testing.T) {
	ctx := context.Background()
	store, err := sqlite.Open(ctx, ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	dir := t.TempDir()
	open := func(node string) *recordings.Keeper {
		k, err := recordings.New(dir, store)
		if err != nil {
			t.Fatal(err)
		}
		k.SetNode(node)
		return k
	}
	enc := stuckEncoder{findLAME(t), make(chan string, 1), make(chan struct{})}
	crashed := open("node-a")
	crashed.UseMP3(enc, nil)
	r := mp3Recording()
	r.Status = callback.RecordingStatusProcessing // as the engine stores it first
	if err := crashed.Update(ctx, r); err != nil {
		t.Fatal(err)
	}
	saved := make(chan struct{})
	go func() {
		defer close(saved)
		crashed.SaveAudio(ctx, r, engine.Audio{Rate: 8000, Channels: [][]int16{pcm.Tone(440, 8000, 2*time.Second, 0.5)}})
	}()
	part := <-enc.started
	defer func() { close(enc.release); <-saved }()

	if n, err := open("node-b").Recover(ctx); n != 0 || err != nil {
		t.Errorf("another node recovered %d recordings (%v), want none", n, err)
	}
	if _, err := os.Stat(part); err != nil {
		t.Fatalf("another node's Recover touched the file being encoded: %v", err)
	}
	restarted := open("node-a")
	if n, err := restarted.Recover(ctx); n != 1 || err != nil {
		t.Fatalf("Recover finished %d recordings (%v), want 1", n, err)
	}
	got, err := restarted.Get(ctx, "1", r.RecordingID)
	if err != nil || got.Status != callback.RecordingStatusPartial {
		t.Fatalf("record %+v %v, want status partial", got, err)
	}
	if got.Duration < time.Second || got.Duration > time.Second+mp3Tolerance*time.Second/16000 {
		t.Errorf("recovered recording lasts %v, want the 1 s encoded", got.Duration)
	}
	if d := decodedLength(t, restarted, r.RecordingID); d != got.Duration {
		t.Errorf("the file plays %v, the record says %v", d, got.Duration)
	}
	if _, err := os.Stat(part); !os.IsNotExist(err) {
		t.Errorf("the part file is still there: %v", err)
	}
}

// A file a crash left with nothing that plays: the record says error.
func TestKeeperRecoversNothingPlayable(t *testing.T) {
	ctx := context.Background()
	k, dir := newMP3Keeper(t)
	r := mp3Recording()
	r.Status = callback.RecordingStatusProcessing
	if err := k.Update(ctx, r); err != nil {
		t.Fatal(err)
	}
	// The name an encoding of node "" has (see partName).
	var part string
	k.UseMP3(nameEncoder{&part}, nil)
	other := mp3Recording()
	k.SaveAudio(ctx, other, engine.Audio{Rate: 8000, Channels: [][]int16{make([]int16, 80)}})
	part = strings.Replace(filepath.Base(part), other.RecordingID, r.RecordingID, 1)
	if err := os.WriteFile(filepath.Join(dir, part), []byte("ID3 but nothing else"), 0o644); err != nil {
		t.Fatal(err)
	}
	if n, err := k.Recover(ctx); n != 1 || err != nil {
		t.Fatalf("Recover finished %d recordings (%v), want 1", n, err)
	}
	if got, err := k.Get(ctx, "1", r.RecordingID); err != nil || got.Status != callback.RecordingStatusError {
		t.Errorf("record %+v %v, want status error", got, err)
	}
	if _, err := os.Stat(filepath.Join(dir, part)); !os.IsNotExist(err) {
		t.Errorf("the part file is still there: %v", err)
	}
}

// nameEncoder notes the name it is asked to write, and fails.
type nameEncoder struct{ dst *string }

func (n nameEncoder) Encode(_ context.Context, dst string, _ int, _ [][]int16) error {
	*n.dst = dst
	return errors.New("lame: exit status 1")
}

// An account id that is not a plain word (dots, slashes, spaces) still
// gets a part file Recover finds, so its recording does not stay
// processing after a crash.
func TestKeeperRecoversAnyAccountID(t *testing.T) {
	ctx := context.Background()
	for _, account := range []string{"acme.eu", "a/b c", "~7e", "dépôt"} {
		t.Run(account, func(t *testing.T) {
			k, dir := newMP3Keeper(t)
			r := mp3Recording()
			r.AccountID = account
			r.Status = callback.RecordingStatusProcessing
			if err := k.Update(ctx, r); err != nil {
				t.Fatal(err)
			}
			// The encoder fails at once, writing nothing: the part
			// file's name is what we want, and a crash would leave it.
			var part string
			k.UseMP3(nameEncoder{&part}, nil)
			other := mp3Recording()
			other.AccountID = account
			k.SaveAudio(ctx, other, engine.Audio{Rate: 8000, Channels: [][]int16{make([]int16, 80)}})
			if filepath.Dir(part) != dir || strings.ContainsAny(filepath.Base(part), "/ ") {
				t.Fatalf("part file %q is not a plain name in %s", part, dir)
			}
			part = strings.Replace(filepath.Base(part), other.RecordingID, r.RecordingID, 1)
			if err := os.WriteFile(filepath.Join(dir, part), []byte("ID3 but nothing else"), 0o644); err != nil {
				t.Fatal(err)
			}
			if n, err := k.Recover(ctx); n != 1 || err != nil {
				t.Fatalf("Recover finished %d recordings (%v), want 1", n, err)
			}
			if got, err := k.Get(ctx, account, r.RecordingID); err != nil || got.Status != callback.RecordingStatusError {
				t.Errorf("record %+v %v, want status error, not processing", got, err)
			}
		})
	}
}

// At start, a record still processing whose encoding is certainly over
// (its encoding's time long past) is finished: error with no part file
// left, from a part file of a dead node that has not changed for long;
// one another node may still be encoding, or whose part file was just
// written, is left as it is.
func TestKeeperMarksAbandonedEncodings(t *testing.T) {
	ctx := context.Background()
	k, dir := newMP3Keeper(t)
	processing := func(ended time.Time) *engine.Recording {
		r := mp3Recording()
		r.StartTime, r.EndTime = ended.Add(-r.Duration), ended
		r.Status = callback.RecordingStatusProcessing
		if err := k.Update(ctx, r); err != nil {
			t.Fatal(err)
		}
		return r
	}
	now := time.Now()
	lost := processing(now.Add(-time.Hour))
	othersPart := processing(now.Add(-time.Hour))
	if err := os.WriteFile(filepath.Join(dir, ".part."+othersPart.RecordingID+".1.0badc0de.mp3"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	// A node that died an hour ago and has not started again left this
	// one, with nothing playable in it.
	deadsPart := processing(now.Add(-time.Hour))
	dead := filepath.Join(dir, ".part."+deadsPart.RecordingID+".1.0badc0de.mp3")
	if err := os.WriteFile(dead, []byte("ID3 but nothing else"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(dead, now.Add(-time.Hour), now.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	recent := processing(now.Add(-30 * time.Second)) // its encoding may run on another node
	wav := processing(now.Add(-time.Hour))
	wav.FileFormat = callback.WAV
	if err := k.Update(ctx, wav); err != nil {
		t.Fatal(err)
	}

	if n, err := k.Recover(ctx); n != 2 || err != nil {
		t.Fatalf("Recover finished %d recordings (%v), want 2", n, err)
	}
	if _, err := os.Stat(dead); !os.IsNotExist(err) {
		t.Errorf("the dead node's part file is still there: %v", err)
	}
	for _, c := range []struct {
		r    *engine.Recording
		want callback.RecordingStatus
	}{{lost, callback.RecordingStatusError}, {othersPart, callback.RecordingStatusProcessing}, {deadsPart, callback.RecordingStatusError},
		{recent, callback.RecordingStatusProcessing}, {wav, callback.RecordingStatusProcessing}} {
		if got, err := k.Get(ctx, "1", c.r.RecordingID); err != nil || got.Status != c.want {
			t.Errorf("recording ended %v ago: %+v %v, want status %s", now.Sub(c.r.EndTime).Round(time.Second), got, err, c.want)
		}
	}
}
