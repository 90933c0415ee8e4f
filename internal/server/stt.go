package server

import (
	"context"

	"github.com/voicehook/voicehook/internal/pcm"
	"github.com/voicehook/voicehook/internal/stt"
)

// STT configures speech recognition of real calls.
type STT struct {
	// URL, when set, is the base URL of an OpenAI-compatible
	// /v1/audio/transcriptions service (a local Whisper server, a hosted
	// provider), used instead of pocketsphinx; Key is its API key, Model
	// its model (default whisper-1).
	URL, Key, Model string
}

// recognizer is the speech-to-text of real calls: the configured service,
// or pocketsphinx (Debian packages pocketsphinx and pocketsphinx-en-us),
// which runs offline and says so when it is not installed.
func (s *Server) recognizer() stt.Recognizer {
	if c := s.cfg.STT; c.URL != "" {
		// The operator names the service: it may be on loopback or a
		// private address, so it is not behind the webhooks' guard.
		return &stt.OpenAI{BaseURL: c.URL, Key: c.Key, Model: c.Model}
	}
	return &stt.Pocketsphinx{}
}

// recognizer adapts a stt.Recognizer to the engine's port.
type recognizer struct{ r stt.Recognizer }

func (r recognizer) Recognize(ctx context.Context, samples []int16, rate int) (string, error) {
	res, err := r.r.Recognize(ctx, pcm.Clip{Rate: rate, Samples: samples}, stt.Options{})
	return res.Text, err
}
