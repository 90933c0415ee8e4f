package recordings

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
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
	f, err := os.CreateTemp(k.dir, ".rec-*.mp3")
	if err != nil {
		return k.failed(ctx, r, err)
	}
	tmp := f.Name()
	f.Close()
	status := callback.RecordingStatusComplete
	encErr := k.mp3.Encode(ctx, tmp, a.Rate, a.Channels)
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
