package recordings

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/voicehook/voicehook/callback"
	"github.com/voicehook/voicehook/internal/engine"
)

// Forget removes the files of what the store expired (engine.Expirer):
// the audio of the recordings, and the real-time transcriptions of the
// calls. A file already gone is no error; the errors of the others are
// joined, and the rest are removed still.
func (k *Keeper) Forget(e engine.Expired) error {
	var errs []error
	for _, r := range e.Recordings {
		errs = append(errs, k.removeFile(r.RecordingID))
	}
	for _, id := range e.Calls {
		errs = append(errs, k.removeTranscriptions(id))
	}
	return errors.Join(errs...)
}

// removeTranscriptions removes the directory of a call's transcriptions.
func (k *Keeper) removeTranscriptions(callID string) error {
	dir, err := k.callDir(callID)
	if err != nil {
		return nil // no file of ours can have that name
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("recordings: remove the transcriptions of %s: %w", callID, err)
	}
	return nil
}

// RemoveAudioBefore removes the audio files of recordings last written
// before t, and returns how many it removed. A file is written when its
// recording ends, so a recording whose file is older than the recordings'
// cutoff started before it too: its record has expired or is about to.
// This catches the files Forget could not remove, and, on nodes that do
// not share their recordings directory, those whose record another node
// expired. Files that are not a recording's audio are left alone, and so
// are the files of records the store still keeps (a recording of a call
// live for longer than the cutoff, which the store's expiry holds back).
func (k *Keeper) RemoveAudioBefore(ctx context.Context, t time.Time) (int, error) {
	entries, err := os.ReadDir(k.dir)
	if err != nil {
		return 0, fmt.Errorf("recordings: list %s: %w", k.dir, err)
	}
	n := 0
	var errs []error
	for _, e := range entries {
		id, isAudio := audioID(e.Name())
		if !e.Type().IsRegular() || !isAudio {
			continue
		}
		info, err := e.Info()
		if errors.Is(err, fs.ErrNotExist) {
			continue // removed since ReadDir
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if !info.ModTime().Before(t) {
			continue
		}
		if kept, err := k.recordKept(ctx, id); err != nil || kept {
			// A record the store keeps past the cutoff is in use (its call
			// is live, its conference active): its audio stays.
			if err != nil {
				errs = append(errs, err)
			}
			continue
		}
		err = os.Remove(filepath.Join(k.dir, e.Name()))
		switch {
		case err == nil:
			n++
		case !errors.Is(err, fs.ErrNotExist):
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return n, fmt.Errorf("recordings: remove old audio: %w", err)
	}
	return n, nil
}

// audioID is the recording id of name, if it is a recording's audio file:
// a recording id with the extension of an audio format.
func audioID(name string) (string, bool) {
	ext := filepath.Ext(name)
	switch strings.ToLower(ext) {
	case ".wav", ".mp3":
	default:
		return "", false
	}
	id := strings.TrimSuffix(name, ext)
	return id, callback.ValidateRecordingID(id) == nil
}

// recordFinder is what a store offers to tell whether a recording's record
// is kept, in any account (both stores implement it).
type recordFinder interface {
	HasRecording(ctx context.Context, recordingID string) (bool, error)
}

// recordKept reports whether the store keeps the record of recording id.
// A store that cannot tell keeps nothing back.
func (k *Keeper) recordKept(ctx context.Context, id string) (bool, error) {
	f, ok := k.records.(recordFinder)
	if !ok {
		return false, nil
	}
	return f.HasRecording(ctx, id)
}
