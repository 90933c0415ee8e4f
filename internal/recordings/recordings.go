// Package recordings keeps call recordings: the audio as WAV or MP3 files
// in a directory, the records in the store. It implements engine.Recorder.
// MP3 files are made by an Encoder (package lame) given with UseMP3; a
// record's Status says what was kept (see Save). It
// also keeps the transcripts of real-time transcriptions, as JSON files in
// the same directory (engine.Transcripts).
//
// A Keeper starts no goroutines and is safe for concurrent use; the files
// under its directory are its own.
package recordings

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/voicehook/voicehook/callback"
	"github.com/voicehook/voicehook/internal/audio"
	"github.com/voicehook/voicehook/internal/engine"
	"github.com/voicehook/voicehook/internal/pcm"
)

// Records is where the records of recordings are kept (the SQLite store).
type Records interface {
	SaveRecording(ctx context.Context, r *engine.Recording) error
	GetRecording(ctx context.Context, accountID, recordingID string) (*engine.Recording, error)
	ListRecordings(ctx context.Context, f engine.RecordingFilter) ([]*engine.Recording, error)
	DeleteRecording(ctx context.Context, accountID, recordingID string) error
}

// Keeper keeps recordings in a directory.
type Keeper struct {
	dir     string
	records Records
	// mp3 encodes MP3 recordings; nil when missing says why there is none.
	mp3     Encoder
	missing error
	// node is the node whose encodings Recover finishes (SetNode).
	node string
	// mu orders the creation and removal of transcriptions' directories.
	mu sync.Mutex
}

// New returns a Keeper writing files to dir, which it creates. records
// keeps the records of recordings; transcriptions need none.
func New(dir string, records Records) (*Keeper, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("recordings: %w", err)
	}
	return &Keeper{dir: dir, records: records}, nil
}

// path is the file of a recording in format f. Ids are checked, so no id
// reaches outside the directory.
func (k *Keeper) path(id string, f callback.FileFormat) (string, error) {
	if err := callback.ValidateRecordingID(id); err != nil {
		return "", err
	}
	ext := ".wav"
	if f == callback.MP3 {
		ext = ".mp3"
	}
	return filepath.Join(k.dir, id+ext), nil
}

// Save writes the audio in the record's FileFormat (WAV when unset), then
// the record: a record with status complete or partial always has its
// file. The file is written under a temporary name and renamed, so a crash
// never leaves half a file under a recording's name.
//
// Save sets r.Status to what was kept: complete; partial when the MP3
// encoder failed part way and the frames it wrote still play (r.Duration
// and r.EndTime then say how much they hold); error when nothing usable
// was written, in which case the record is still stored, without media,
// if the store takes it. It returns an error whenever not all was kept.
func (k *Keeper) Save(ctx context.Context, r *engine.Recording, length time.Duration, channels [][]audio.Segment) error {
	if r.FileFormat == callback.MP3 {
		a, err := render(length, channels)
		if err != nil {
			return k.failed(ctx, r, err)
		}
		return k.saveMP3(ctx, r, a)
	}
	return k.save(ctx, r, func(w io.Writer) error { return audio.WriteWAV(w, length, channels...) })
}

// SaveAudio writes a recording of real audio, then its record, as Save.
func (k *Keeper) SaveAudio(ctx context.Context, r *engine.Recording, a engine.Audio) error {
	if r.FileFormat == callback.MP3 {
		return k.saveMP3(ctx, r, a)
	}
	return k.save(ctx, r, func(w io.Writer) error { return pcm.WriteWAV(w, a.Rate, a.Channels...) })
}

func (k *Keeper) save(ctx context.Context, r *engine.Recording, write func(io.Writer) error) error {
	p, err := k.path(r.RecordingID, callback.WAV)
	if err != nil {
		return fmt.Errorf("recordings: save: %w", err)
	}
	f, err := os.CreateTemp(k.dir, ".rec-*")
	if err != nil {
		return k.failed(ctx, r, err)
	}
	err = write(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), p)
	}
	if err != nil {
		os.Remove(f.Name())
		return k.failed(ctx, r, err)
	}
	return k.keep(ctx, r, p, callback.RecordingStatusComplete)
}

// keep stores the record of a recording whose file is at p, with status.
func (k *Keeper) keep(ctx context.Context, r *engine.Recording, p string, status callback.RecordingStatus) error {
	r.Status = status
	// The file is written: its record is stored even if the call that
	// made it is being stopped.
	if err := k.records.SaveRecording(context.WithoutCancel(ctx), r); err != nil {
		os.Remove(p)
		r.Status = callback.RecordingStatusError
		return err
	}
	return nil
}

// failed stores the record of a recording none of whose audio was kept,
// with status error, and returns why.
func (k *Keeper) failed(ctx context.Context, r *engine.Recording, why error) error {
	r.Status = callback.RecordingStatusError
	err := fmt.Errorf("recordings: save %s: %w", r.RecordingID, why)
	if serr := k.records.SaveRecording(context.WithoutCancel(ctx), r); serr != nil {
		return errors.Join(err, serr)
	}
	return err
}

// Get returns a recording's record.
func (k *Keeper) Get(ctx context.Context, accountID, id string) (*engine.Recording, error) {
	return k.records.GetRecording(ctx, accountID, id)
}

// List returns the records matching f.
func (k *Keeper) List(ctx context.Context, f engine.RecordingFilter) ([]*engine.Recording, error) {
	return k.records.ListRecordings(ctx, f)
}

// Delete removes the file and the record.
func (k *Keeper) Delete(ctx context.Context, accountID, id string) error {
	if err := k.removeFile(id); err != nil {
		return err
	}
	return k.records.DeleteRecording(ctx, accountID, id)
}

// DeleteMedia removes the file and marks the record.
func (k *Keeper) DeleteMedia(ctx context.Context, accountID, id string) error {
	r, err := k.records.GetRecording(ctx, accountID, id)
	if err != nil {
		return err
	}
	if err := k.removeFile(id); err != nil {
		return err
	}
	r.MediaDeleted = true
	r.Status = callback.RecordingStatusDeleted
	return k.records.SaveRecording(ctx, r)
}

func (k *Keeper) removeFile(id string) error {
	for _, f := range []callback.FileFormat{callback.WAV, callback.MP3} {
		p, err := k.path(id, f)
		if err != nil {
			return fmt.Errorf("recordings: delete: %w", err)
		}
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("recordings: delete %s: %w", id, err)
		}
	}
	return nil
}

// Media opens a recording's file.
func (k *Keeper) Media(ctx context.Context, accountID, id string) (io.ReadSeekCloser, error) {
	r, err := k.records.GetRecording(ctx, accountID, id)
	if err != nil {
		return nil, err
	}
	p, err := k.path(id, r.FileFormat)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("recordings: the file of %s is missing: %w", id, engine.ErrNotFound)
	}
	return f, err
}

// Audio reads a recording's audio back (WAV or MP3), its channels mixed
// in one.
func (k *Keeper) Audio(ctx context.Context, accountID, id string) (engine.Audio, error) {
	f, err := k.Media(ctx, accountID, id)
	if err != nil {
		return engine.Audio{}, err
	}
	defer f.Close()
	clip, err := pcm.Decode(f, maxAudio)
	if err != nil {
		return engine.Audio{}, fmt.Errorf("recording %s: %w", id, err)
	}
	return engine.Audio{Rate: clip.Rate, Channels: [][]int16{clip.Samples}}, nil
}

// maxAudio bounds what Audio reads: Bandwidth's recordings last 4 h at most.
const maxAudio = 4 * time.Hour

// Update replaces a recording's record.
func (k *Keeper) Update(ctx context.Context, r *engine.Recording) error {
	return k.records.SaveRecording(ctx, r)
}

var _ engine.Recorder = (*Keeper)(nil)
