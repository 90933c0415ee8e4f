package recordings

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/voicehook/voicehook/callback"
	"github.com/voicehook/voicehook/internal/engine"
)

// Real-time transcriptions (<StartTranscription>) are kept as one JSON
// file each, <dir>/transcriptions/<callId>/<transcriptionId>.json, once
// they have ended. The file names its account; a transcription of another
// account is reported not found. The files are small (a transcript per
// utterance), so listing reads them all.

// transcriptionsDir is the subdirectory of the Keeper's directory that
// holds the transcriptions.
const transcriptionsDir = "transcriptions"

// maxIDLength bounds the ids taken as file names; voicehook's are 47
// characters long.
const maxIDLength = 64

// checkID reports whether id is safe as a file name: prefix, then lower-case
// hex digits and dashes only (the form of voicehook's ids). Nothing else
// ("../x", "a/b", ".", an empty id) ever reaches the file system.
func checkID(what, prefix, id string) error {
	rest, ok := strings.CutPrefix(id, prefix)
	if !ok || rest == "" || len(id) > maxIDLength ||
		strings.ContainsFunc(rest, func(r rune) bool { return !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f' || r == '-') }) {
		return fmt.Errorf("invalid %s %q: want %s followed by lower-case hex digits and dashes", what, id, prefix)
	}
	return nil
}

// callDir is the directory of a call's transcriptions.
func (k *Keeper) callDir(callID string) (string, error) {
	if err := checkID("call id", callback.CallIDPrefix, callID); err != nil {
		return "", err
	}
	return filepath.Join(k.dir, transcriptionsDir, callID), nil
}

// transcriptionPath is the file of a transcription.
func (k *Keeper) transcriptionPath(callID, id string) (string, error) {
	dir, err := k.callDir(callID)
	if err != nil {
		return "", err
	}
	if err := checkID("transcription id", callback.TranscriptionIDPrefix, id); err != nil {
		return "", err
	}
	return filepath.Join(dir, id+".json"), nil
}

// SaveTranscription keeps a transcription that has ended, replacing one of
// the same id. The file is written under a temporary name and renamed, so
// a crash never leaves half a file under a transcription's name.
func (k *Keeper) SaveTranscription(_ context.Context, t *engine.LiveTranscription) error {
	p, err := k.transcriptionPath(t.CallID, t.ID)
	if err != nil {
		return fmt.Errorf("recordings: save transcription: %w", err)
	}
	b, err := json.Marshal(toKept(t))
	if err != nil {
		return fmt.Errorf("recordings: save transcription %s: %w", t.ID, err)
	}
	// Under mu, so that a deletion emptying the call's directory does not
	// remove it between its creation and the temporary file's.
	k.mu.Lock()
	f, err := k.createTemp(filepath.Dir(p))
	k.mu.Unlock()
	if err != nil {
		return fmt.Errorf("recordings: save transcription %s: %w", t.ID, err)
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), p)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("recordings: save transcription %s: %w", t.ID, err)
	}
	return nil
}

// createTemp creates dir if need be and a temporary file in it; the
// caller holds mu.
func (k *Keeper) createTemp(dir string) (*os.File, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	return os.CreateTemp(dir, ".tx-*")
}

// Transcriptions lists a call's transcriptions of the account, oldest
// first (by start time, then id). A call with none, or an id that cannot
// be a call's, has an empty list.
func (k *Keeper) Transcriptions(_ context.Context, accountID, callID string) ([]*engine.LiveTranscription, error) {
	dir, err := k.callDir(callID)
	if err != nil {
		return nil, nil
	}
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("recordings: list transcriptions of %s: %w", callID, err)
	}
	var out []*engine.LiveTranscription
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") || !strings.HasSuffix(name, ".json") || !e.Type().IsRegular() {
			continue // a temporary file, or nothing of ours
		}
		t, err := readTranscription(filepath.Join(dir, name))
		if errors.Is(err, fs.ErrNotExist) {
			continue // deleted since ReadDir
		}
		if err != nil {
			return nil, fmt.Errorf("recordings: list transcriptions of %s: %w", callID, err)
		}
		if t.AccountID == accountID && t.CallID == callID {
			out = append(out, t)
		}
	}
	slices.SortFunc(out, func(a, b *engine.LiveTranscription) int {
		return cmp.Or(a.StartTime.Compare(b.StartTime), strings.Compare(a.ID, b.ID))
	})
	return out, nil
}

// Transcription returns a transcription of the account's call, or
// engine.ErrNotFound: for an unknown id, another account's or another
// call's, or an id that cannot be a transcription's.
func (k *Keeper) Transcription(_ context.Context, accountID, callID, id string) (*engine.LiveTranscription, error) {
	p, err := k.transcriptionPath(callID, id)
	if err != nil {
		return nil, fmt.Errorf("recordings: transcription: %w: %w", err, engine.ErrNotFound)
	}
	t, err := readTranscription(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("recordings: transcription %s: %w", id, engine.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("recordings: transcription %s: %w", id, err)
	}
	if t.AccountID != accountID || t.CallID != callID || t.ID != id {
		return nil, fmt.Errorf("recordings: transcription %s: %w", id, engine.ErrNotFound)
	}
	return t, nil
}

// DeleteTranscription removes a transcription of the account's call, or
// returns engine.ErrNotFound as Transcription does. The call's directory
// goes with its last transcription.
func (k *Keeper) DeleteTranscription(ctx context.Context, accountID, callID, id string) error {
	if _, err := k.Transcription(ctx, accountID, callID, id); err != nil {
		return err
	}
	p, _ := k.transcriptionPath(callID, id) // checked by Transcription
	k.mu.Lock()
	defer k.mu.Unlock()
	err := os.Remove(p)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("recordings: transcription %s: %w", id, engine.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("recordings: delete transcription %s: %w", id, err)
	}
	_ = os.Remove(filepath.Dir(p)) // fails, harmlessly, while others remain
	return nil
}

// maxTranscriptionFile bounds what is read of a file: a transcription of
// an hour of nonstop speech is a few megabytes.
const maxTranscriptionFile = 64 << 20

func readTranscription(p string) (*engine.LiveTranscription, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(io.LimitReader(f, maxTranscriptionFile+1)); err != nil {
		return nil, err
	}
	if buf.Len() > maxTranscriptionFile {
		return nil, fmt.Errorf("%s is larger than %d bytes", p, maxTranscriptionFile)
	}
	var kt keptTranscription
	if err := json.Unmarshal(buf.Bytes(), &kt); err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	if kt.Version != keptVersion {
		return nil, fmt.Errorf("%s: format version %d, want %d", p, kt.Version, keptVersion)
	}
	return kt.live(), nil
}

// keptVersion is the version of the file format, written in every file.
const keptVersion = 1

// keptTranscription is a transcription's file: its own JSON names, so
// that renaming a field of engine.LiveTranscription does not silently
// change what is on disk. Durations are nanoseconds from the
// transcription's start.
type keptTranscription struct {
	Version       int              `json:"version"`
	ID            string           `json:"id"`
	Name          string           `json:"name"`
	AccountID     string           `json:"accountId"`
	CallID        string           `json:"callId"`
	Tracks        []string         `json:"tracks"`
	StartTime     time.Time        `json:"startTime"`
	CompletedTime time.Time        `json:"completedTime"`
	Transcripts   []keptTranscript `json:"transcripts"`
}

type keptTranscript struct {
	Track      string     `json:"track"`
	StartNs    int64      `json:"startNs"`
	EndNs      int64      `json:"endNs"`
	Text       string     `json:"text"`
	Words      []keptWord `json:"words,omitempty"`
	Confidence float64    `json:"confidence"`
	Err        string     `json:"error,omitempty"`
}

type keptWord struct {
	Text       string  `json:"text"`
	StartNs    int64   `json:"startNs"`
	EndNs      int64   `json:"endNs"`
	Confidence float64 `json:"confidence"`
}

func toKept(t *engine.LiveTranscription) keptTranscription {
	kt := keptTranscription{Version: keptVersion, ID: t.ID, Name: t.Name, AccountID: t.AccountID, CallID: t.CallID,
		Tracks: t.Tracks, StartTime: t.StartTime, CompletedTime: t.CompletedTime, Transcripts: []keptTranscript{}}
	for _, x := range t.Transcripts {
		k := keptTranscript{Track: x.Track, StartNs: int64(x.Start), EndNs: int64(x.End), Text: x.Text, Confidence: x.Confidence, Err: x.Err}
		for _, w := range x.Words {
			k.Words = append(k.Words, keptWord{Text: w.Text, StartNs: int64(w.Start), EndNs: int64(w.End), Confidence: w.Confidence})
		}
		kt.Transcripts = append(kt.Transcripts, k)
	}
	return kt
}

func (kt *keptTranscription) live() *engine.LiveTranscription {
	t := &engine.LiveTranscription{ID: kt.ID, Name: kt.Name, AccountID: kt.AccountID, CallID: kt.CallID,
		Tracks: kt.Tracks, StartTime: kt.StartTime, CompletedTime: kt.CompletedTime}
	for _, k := range kt.Transcripts {
		x := engine.Transcript{Track: k.Track, Start: time.Duration(k.StartNs), End: time.Duration(k.EndNs), Text: k.Text,
			Confidence: k.Confidence, Err: k.Err}
		for _, w := range k.Words {
			x.Words = append(x.Words, engine.TranscriptWord{Text: w.Text, Start: time.Duration(w.StartNs), End: time.Duration(w.EndNs), Confidence: w.Confidence})
		}
		t.Transcripts = append(t.Transcripts, x)
	}
	return t
}

var _ engine.Transcripts = (*Keeper)(nil)
