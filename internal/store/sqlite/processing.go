package sqlite

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
		return nil, fmt.Errorf("sqlite: processing recordings: limit %d, want a positive one", limit)
	}
	list, err := s.queryRecordings(ctx, "WHERE start_time < ? AND json_extract(CAST(data AS TEXT), '$.Status') = ? ORDER BY seq LIMIT ?",
		startedBefore.UnixNano(), string(callback.RecordingStatusProcessing), limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: processing recordings: %w", err)
	}
	return list, nil
}

// HasRecording reports whether the record of a recording, of any account,
// is kept: the sweep of old audio files leaves the files of kept records
// alone (recordings.Keeper.RemoveAudioBefore).
func (s *Store) HasRecording(ctx context.Context, recordingID string) (bool, error) {
	var has bool
	err := s.read.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM recordings WHERE recording_id = ?)", recordingID).Scan(&has)
	if err != nil {
		return false, fmt.Errorf("sqlite: look up recording %s: %w", recordingID, err)
	}
	return has, nil
}
