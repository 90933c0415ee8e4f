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
