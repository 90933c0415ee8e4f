package engine

import "strings"

// The transcriptionAvailable webhook carries the transcription's metadata
// (the webhook page's shape: id, url, status, completedTime) and its words
// (the OpenAPI document's: text, confidence); voicehook sends both, and
// nothing either leaves out.

// text is the transcription's words for its webhook: the channels' texts,
// the first channel's first, joined by a space; "" while there are none.
func (t *Transcription) text() string {
	var parts []string
	for _, s := range t.Texts {
		if s = strings.TrimSpace(s); s != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, " ")
}

// confidence is the webhook's confidence, as GET …/transcription reports
// it: 1, the words being taken as they were said; absent with no words.
func (t *Transcription) confidence() *float64 {
	if t.text() == "" {
		return nil
	}
	one := 1.0
	return &one
}
