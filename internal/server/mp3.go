package server

import (
	"log/slog"

	"github.com/voicehook/voicehook/internal/lame"
	"github.com/voicehook/voicehook/internal/recordings"
)

// useMP3 gives the keeper the LAME encoder at path (lame in PATH when ""),
// or logs, once, why mp3 recordings are unavailable.
func useMP3(k *recordings.Keeper, path string, log *slog.Logger) {
	enc, err := lame.Find(path)
	if err != nil {
		log.Warn(`mp3 recordings are unavailable: <Record> and <StartRecording> with fileFormat="mp3" end the call with application-error`,
			"err", err)
		k.UseMP3(nil, err)
		return
	}
	k.UseMP3(enc, nil)
}
