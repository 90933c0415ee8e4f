package engine

import (
	"context"
	"time"
)

// Retention. Bandwidth keeps a call's record 7 days after it ends and a
// recording 30 days; voicehook forgets what it keeps on the same terms.
// The engine itself expires nothing: the server sweeps the store through
// Expirer, in small batches, and removes the files the store names.

// Expirer is a store that forgets calls, conferences and recordings past
// their retention. It must be safe for concurrent use, also by several
// nodes sharing one database: a row is removed once, and two sweeps at
// once share the work rather than waiting for each other.
type Expirer interface {
	// Expire removes at most limit calls, limit conferences and limit
	// recordings past before (see ExpireBefore), oldest first, each kind
	// in a short transaction of its own, and says what it removed. A
	// call goes with its history, never with its recordings, which have a
	// retention of their own. A live call is never removed, however old,
	// nor one with webhooks still queued: it goes on a later call, once
	// they are delivered or dropped. A recording still processing, or one
	// of a live call or an active conference, waits likewise. Those that
	// wait do not count against limit. limit must be positive.
	Expire(ctx context.Context, before ExpireBefore, limit int) (Expired, error)
}

// ExpireBefore are the cutoffs of Expire. A zero time removes nothing of
// its kind: keep forever.
type ExpireBefore struct {
	// Calls removes the calls that ended (disconnected, with an end time)
	// before it, and the conferences completed before it.
	Calls time.Time
	// Recordings removes the recordings, of calls and of conferences,
	// that started before it: their records and transcriptions.
	Recordings time.Time
}

// Expired is what an Expire removed.
type Expired struct {
	// Calls are the ids of the calls removed: the files kept by call
	// (real-time transcriptions) go too.
	Calls []string
	// Conferences are the ids of the conferences removed.
	Conferences []string
	// Recordings are the recordings whose records were removed: their
	// audio files go too.
	Recordings []ExpiredRecording
}

// ExpiredRecording names a recording that Expire removed.
type ExpiredRecording struct {
	AccountID, RecordingID string
}

// Full reports whether a kind removed limit rows: more may be left, and
// the sweep asks again.
func (e Expired) Full(limit int) bool {
	return len(e.Calls) >= limit || len(e.Conferences) >= limit || len(e.Recordings) >= limit
}

// Empty reports whether nothing was removed.
func (e Expired) Empty() bool {
	return len(e.Calls) == 0 && len(e.Conferences) == 0 && len(e.Recordings) == 0
}
