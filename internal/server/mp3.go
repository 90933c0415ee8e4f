package server

import (
	"context"

	"github.com/voicehook/voicehook/internal/lame"
	"github.com/voicehook/voicehook/internal/recordings"
)

// useMP3 readies the keeper's mp3 recordings: it finishes the files this
// node was encoding when it last stopped and the encodings certainly
// abandoned (recordings.Keeper.Recover), and gives the keeper the LAME
// encoder (cfg.LAME, or lame in PATH), or logs, once, why mp3 recordings
// are unavailable.
func useMP3(ctx context.Context, k *recordings.Keeper, cfg Config) {
	log := cfg.Logger
	k.SetNode(cfg.Node)
	n, err := k.Recover(ctx)
	if err != nil {
		log.Error("finish the mp3 recordings left by the last run", "err", err)
	}
	if n > 0 {
		log.Warn("mp3 recordings left unfinished by a stopped node were finished: kept as partial, or error where nothing could be kept", "recordings", n)
	}
	enc, err := lame.Find(cfg.LAME)
	if err != nil {
		log.Warn(`mp3 recordings are unavailable: <Record> and <StartRecording> with fileFormat="mp3" end the call with application-error`,
			"err", err)
		k.UseMP3(nil, err)
		return
	}
	k.UseMP3(enc, nil)
}
