package callback

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"

	"github.com/google/uuid"
)

// Ids of the dialect are a prefix, 8 lower-case hex digits, a dash and a
// lower-case UUID: "c-15ac29a2-1331029c-2cb0-4a07-b215-b22865662d85" is a
// call (47 characters), "r-…" a recording, "conf-…" a conference.

// Id prefixes.
const (
	CallIDPrefix          = "c-"
	RecordingIDPrefix     = "r-"
	ConferenceIDPrefix    = "conf-"
	StreamIDPrefix        = "s-"
	TranscriptionIDPrefix = "t-"
)

// NewCallID returns a fresh random call id.
func NewCallID() string { return newID(CallIDPrefix) }

// NewRecordingID returns a fresh random recording id.
func NewRecordingID() string { return newID(RecordingIDPrefix) }

// NewConferenceID returns a fresh random conference id.
func NewConferenceID() string { return newID(ConferenceIDPrefix) }

// NewStreamID returns a fresh random media stream id.
func NewStreamID() string { return newID(StreamIDPrefix) }

// NewTranscriptionID returns a fresh random real-time transcription id.
func NewTranscriptionID() string { return newID(TranscriptionIDPrefix) }

func newID(prefix string) string {
	var node [4]byte
	_, _ = rand.Read(node[:]) // crypto/rand.Read never fails
	b := make([]byte, 0, len(prefix)+45)
	b = append(b, prefix...)
	b = hex.AppendEncode(b, node[:])
	b = append(b, '-')
	b = append(b, uuid.New().String()...)
	return string(b)
}

// ValidateCallID reports whether s is a well-formed call id.
func ValidateCallID(s string) error { return validateID("call id", CallIDPrefix, s) }

// ValidateRecordingID reports whether s is a well-formed recording id.
func ValidateRecordingID(s string) error { return validateID("recording id", RecordingIDPrefix, s) }

// ValidateConferenceID reports whether s is a well-formed conference id.
func ValidateConferenceID(s string) error {
	return validateID("conference id", ConferenceIDPrefix, s)
}

// validateID checks prefix + 8 hex + "-" + 8-4-4-4-12 hex, all lower case.
func validateID(what, prefix, s string) error {
	const body = "xxxxxxxx-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"
	if len(s) != len(prefix)+len(body) || s[:len(prefix)] != prefix {
		return fmt.Errorf("invalid %s %q: want %s%s (x a lower-case hex digit)", what, s, prefix, body)
	}
	for i, c := range []byte(s[len(prefix):]) {
		want := body[i]
		if want == '-' && c == '-' || want == 'x' && (c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			continue
		}
		return fmt.Errorf("invalid %s %q: want %s%s (x a lower-case hex digit)", what, s, prefix, body)
	}
	return nil
}
