package recordings

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/voicehook/voicehook/callback"
	"github.com/voicehook/voicehook/internal/audio"
	"github.com/voicehook/voicehook/internal/engine"
	"github.com/voicehook/voicehook/internal/pcm"
)

// Encoder writes audio as an MP3 file (package lame's Encoder). After a
// failure the file may hold the frames encoded so far.
type Encoder interface {
	Encode(ctx context.Context, dst string, rate int, channels [][]int16) error
}

// ErrNoMP3 is wrapped by Keeps's error when no Encoder was given.
var ErrNoMP3 = errors.New("mp3 recordings are unavailable")

// UseMP3 makes the Keeper write the recordings whose FileFormat is mp3
// with enc. With enc nil, missing says why there is no encoder (what to
// install); Keeps and the refusals repeat it. Call it before the Keeper is
// used.
func (k *Keeper) UseMP3(enc Encoder, missing error) {
	k.mp3, k.missing = enc, missing
}

// Keeps says why recordings in format f cannot be kept; nil if they can.
// It implements engine.FormatChecker.
func (k *Keeper) Keeps(f callback.FileFormat) error {
	switch {
	case f != callback.MP3:
		return nil
	case k.mp3 != nil:
		return nil
	case k.missing != nil:
		return fmt.Errorf("%w: %w", ErrNoMP3, k.missing)
	}
	return fmt.Errorf("%w: no MP3 encoder was configured", ErrNoMP3)
}

// saveMP3 encodes a as the recording's MP3 file, then stores the record.
func (k *Keeper) saveMP3(ctx context.Context, r *engine.Recording, a engine.Audio) error {
	p, err := k.path(r.RecordingID, callback.MP3)
	if err != nil {
		return fmt.Errorf("recordings: save: %w", err)
	}
	if err := k.Keeps(callback.MP3); err != nil {
		return k.failed(ctx, r, err)
	}
	// The file is encoded under a name that says whose it is, so that one
	// a crash cut short is found and finished at the next start (Recover).
	tmp := filepath.Join(k.dir, k.partName(r))
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return k.failed(ctx, r, err)
	}
	f.Close()
	status := callback.RecordingStatusComplete
	ectx, cancel := context.WithTimeout(ctx, encodeTimeout(a.Length()))
	encErr := k.mp3.Encode(ectx, tmp, a.Rate, a.Channels)
	cancel()
	if encErr != nil {
		// What the encoder wrote before it failed may still play: a
		// recording cut short, status partial.
		kept := playable(tmp)
		if kept <= 0 {
			os.Remove(tmp)
			return k.failed(ctx, r, encErr)
		}
		status = callback.RecordingStatusPartial
		r.Duration = min(r.Duration, kept)
		r.EndTime = r.StartTime.Add(r.Duration)
	}
	if err := os.Rename(tmp, p); err != nil {
		os.Remove(tmp)
		return k.failed(ctx, r, err)
	}
	if err := k.keep(ctx, r, p, status); err != nil {
		return err
	}
	if encErr != nil {
		return fmt.Errorf("recordings: %s kept partly (%v of audio): %w", r.RecordingID, r.Duration.Round(time.Millisecond), encErr)
	}
	return nil
}

// encodeTimeout bounds the encoding of d of audio: LAME encodes telephone
// audio a hundred times faster than it plays, so a minute plus a quarter
// of d is ample; an encoder that takes longer is stopped, and what it
// wrote kept as partial.
func encodeTimeout(d time.Duration) time.Duration { return time.Minute + d/4 }

// playable is how long the MP3 file at p plays; 0 when it does not.
func playable(p string) time.Duration {
	f, err := os.Open(p)
	if err != nil {
		return 0
	}
	defer f.Close()
	clip, err := pcm.DecodeMP3(f, maxAudio)
	if err != nil {
		return 0
	}
	return clip.Duration()
}

// render is the audio of a simulated recording: its segments as samples,
// one slice per channel.
func render(length time.Duration, channels [][]audio.Segment) (engine.Audio, error) {
	a := engine.Audio{Rate: audio.SampleRate}
	var buf bytes.Buffer
	for _, segs := range channels {
		buf.Reset()
		if err := audio.WriteWAV(&buf, length, segs); err != nil {
			return engine.Audio{}, err
		}
		clip, err := pcm.DecodeWAV(&buf, maxAudio)
		if err != nil {
			return engine.Audio{}, fmt.Errorf("render a simulated recording: %w", err)
		}
		a.Channels = append(a.Channels, clip.Samples)
	}
	return a, nil
}

// partName is the name of r's MP3 file while it is encoded:
// ".part.<recordingId>.<account>.<node>.mp3", node being a hash of the
// Keeper's node (SetNode) and account the account id when it is a plain
// word, or "~" and its bytes in hex when it is not, so that Recover finds
// the record of every part file.
func (k *Keeper) partName(r *engine.Recording) string {
	return ".part." + r.RecordingID + "." + partAccount(r.AccountID) + "." + k.nodeTag() + ".mp3"
}

// partAccount is how a part file's name carries an account id.
func partAccount(accountID string) string {
	if plainWord(accountID) {
		return accountID
	}
	return "~" + hex.EncodeToString([]byte(accountID))
}

// nodeTag is the short hash of the Keeper's node that its part files
// carry.
func (k *Keeper) nodeTag() string {
	sum := sha256.Sum256([]byte(k.node))
	return hex.EncodeToString(sum[:4])
}

// parsePart returns the recording and account ids of a partName of this
// Keeper's node.
func (k *Keeper) parsePart(name string) (recordingID, accountID string, ok bool) {
	rest, ok := strings.CutPrefix(name, ".part.")
	if !ok {
		return "", "", false
	}
	rest, ok = strings.CutSuffix(rest, "."+k.nodeTag()+".mp3")
	if !ok {
		return "", "", false
	}
	recordingID, accountID, ok = strings.Cut(rest, ".")
	if !ok || callback.ValidateRecordingID(recordingID) != nil {
		return "", "", false
	}
	if h, encoded := strings.CutPrefix(accountID, "~"); encoded {
		b, err := hex.DecodeString(h)
		if err != nil || len(b) == 0 {
			return "", "", false
		}
		return recordingID, string(b), true
	}
	if !plainWord(accountID) {
		return "", "", false
	}
	return recordingID, accountID, true
}

// SetNode names the node this Keeper works for, when several share the
// directory: Recover finishes only the files this node was encoding.
// Call it before the Keeper is used; the default is "", one node.
func (k *Keeper) SetNode(node string) { k.node = node }

// plainWord reports whether s is a non-empty run of letters, digits, '-'
// and '_'.
func plainWord(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// Recover finishes what a crash left in the directory: an MP3 file this
// node (SetNode) was encoding becomes its recording's file when the
// frames written play (status partial, the duration what they hold), and
// its record says error when they do not. Records still processing whose
// encoding is certainly over are finished too (finishAbandoned): from
// another node's part file, or as error when none is left. It returns how
// many recordings it finished. Call it at start, before any Save.
func (k *Keeper) Recover(ctx context.Context) (int, error) {
	entries, err := os.ReadDir(k.dir)
	if err != nil {
		return 0, fmt.Errorf("recordings: recover: %w", err)
	}
	n := 0
	var errs []error
	for _, e := range entries {
		id, account, ok := k.parsePart(e.Name())
		if !ok {
			continue
		}
		p := filepath.Join(k.dir, e.Name())
		r, err := k.records.GetRecording(ctx, account, id)
		if err != nil || r.Status != callback.RecordingStatusProcessing {
			// No record is waiting for this file.
			os.Remove(p)
			continue
		}
		if err := k.finishPart(ctx, r, p); err != nil {
			errs = append(errs, err)
			continue
		}
		n++
	}
	failed, err := k.finishAbandoned(ctx, time.Now())
	if err != nil {
		errs = append(errs, err)
	}
	return n + failed, errors.Join(errs...)
}

// ProcessingLister is implemented by Records that can list, across
// accounts, the records still processing (the SQLite and PostgreSQL
// stores): with it, Recover finishes the abandoned ones.
type ProcessingLister interface {
	ProcessingRecordings(ctx context.Context, startedBefore time.Time, limit int) ([]*engine.Recording, error)
}

// abandonGrace is how long past its encoding's timeout a record may stay
// processing before Recover takes its encoding for abandoned.
const abandonGrace = time.Minute

// maxAbandoned bounds how many abandoned records one Recover marks.
const maxAbandoned = 1000

// finishAbandoned finishes the mp3 records still processing whose
// encoding is certainly over: their encoding's time limit (encodeTimeout,
// counted from the recording's end) and abandonGrace have passed, so no
// node sharing the store or the directory is still encoding them. One
// whose part file, of any node, is left and has not changed for
// abandonGrace is finished from it as Recover finishes this node's (its
// node died and did not start again); one with neither a part file nor
// its file (the part file was removed, or a crash came between the record
// and the file) is marked error. One whose file is there is left alone.
func (k *Keeper) finishAbandoned(ctx context.Context, now time.Time) (int, error) {
	lister, ok := k.records.(ProcessingLister)
	if !ok {
		return 0, nil
	}
	list, err := lister.ProcessingRecordings(ctx, now.Add(-abandonGrace), maxAbandoned)
	if err != nil {
		return 0, fmt.Errorf("recordings: find abandoned encodings: %w", err)
	}
	n := 0
	var errs []error
	for _, r := range list {
		if r.FileFormat != callback.MP3 || now.Before(r.EndTime.Add(encodeTimeout(r.Duration)+abandonGrace)) {
			continue
		}
		final, err := k.path(r.RecordingID, callback.MP3)
		if err != nil {
			continue
		}
		if _, err := os.Stat(final); err == nil {
			continue
		}
		parts, err := filepath.Glob(filepath.Join(k.dir, ".part."+r.RecordingID+".*"))
		if err != nil {
			continue
		}
		if len(parts) > 0 {
			info, err := os.Stat(parts[0])
			if err != nil || now.Sub(info.ModTime()) < abandonGrace {
				continue // still written, or just finished
			}
			if err := k.finishPart(ctx, r, parts[0]); err != nil {
				errs = append(errs, err)
				continue
			}
			n++
			continue
		}
		r.Status = callback.RecordingStatusError
		if err := k.records.SaveRecording(ctx, r); err != nil {
			errs = append(errs, fmt.Errorf("recordings: mark abandoned %s as error: %w", r.RecordingID, err))
			continue
		}
		n++
	}
	return n, errors.Join(errs...)
}

// finishPart makes the file at p, cut short, the recording's file.
func (k *Keeper) finishPart(ctx context.Context, r *engine.Recording, p string) error {
	kept := playable(p)
	if kept <= 0 {
		os.Remove(p)
		r.Status = callback.RecordingStatusError
		return k.records.SaveRecording(ctx, r)
	}
	final, err := k.path(r.RecordingID, callback.MP3)
	if err != nil {
		return err
	}
	if err := os.Rename(p, final); err != nil {
		return fmt.Errorf("recordings: recover %s: %w", r.RecordingID, err)
	}
	r.Duration = min(r.Duration, kept)
	r.EndTime = r.StartTime.Add(r.Duration)
	return k.keep(ctx, r, final, callback.RecordingStatusPartial)
}
