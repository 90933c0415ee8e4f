package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/voicehook/voicehook/callback"
	"github.com/voicehook/voicehook/internal/engine"
)

// ProcessingRecordings returns the records, of every account, whose
// status is still processing and whose recording started before t,
// oldest first, at most limit of them. At start, the Keeper marks those
// whose encoding is over as error (recordings.Keeper.Recover).
func (s *Store) ProcessingRecordings(ctx context.Context, startedBefore time.Time, limit int) ([]*engine.Recording, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("postgres: processing recordings: limit %d, want a positive one", limit)
	}
	list, err := s.queryRecordings(ctx, "WHERE start_time < $1 AND data->>'Status' = $2 ORDER BY seq LIMIT $3",
		timeBound(startedBefore), string(callback.RecordingStatusProcessing), limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: processing recordings: %w", err)
	}
	return list, nil
}

// HasRecording reports whether the record of a recording, of any account,
// is kept: the sweep of old audio files leaves the files of kept records
// alone (recordings.Keeper.RemoveAudioBefore).
func (s *Store) HasRecording(ctx context.Context, recordingID string) (bool, error) {
	var has bool
	err := s.pool.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM recordings WHERE recording_id = $1)", recordingID).Scan(&has)
	if err != nil {
		return false, fmt.Errorf("postgres: look up recording %s: %w", recordingID, err)
	}
	return has, nil
}
