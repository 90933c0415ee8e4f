package stream

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Event type of a real-time transcription's transcripts (its start and
// stop use EventStart and EventStop).
const EventTranscription = "transcription"

// Types of the items of a transcription message.
const (
	ItemPronunciation = "PRONUNCIATION"
	ItemPunctuation   = "PUNCTUATION"
)

// TranscriptionStart is the first frame of a real-time transcription's
// destination socket.
type TranscriptionStart struct {
	Metadata TranscriptionMetadata
	// Params are the <CustomParam>s, in document order; a name given twice
	// keeps its first place and its last value.
	Params []Param
}

// TranscriptionMetadata says which call and transcription a
// TranscriptionStart is for.
type TranscriptionMetadata struct {
	AccountID               string               `json:"accountId"`
	CallID                  string               `json:"callId"`
	RealTimeTranscriptionID string               `json:"realTimeTranscriptionId"`
	TranscriptionName       string               `json:"transcriptionName"`
	Tracks                  []TranscriptionTrack `json:"tracks"`
	// Stabilized: only final transcripts are sent.
	Stabilized bool `json:"stabilized"`
}

// TranscriptionTrack is a track a transcription transcribes: inbound or
// outbound.
type TranscriptionTrack struct {
	Name string `json:"name"`
}

// MarshalJSON writes the start frame: customParams always, {} when there
// are none, in the order of Params.
func (s TranscriptionStart) MarshalJSON() ([]byte, error) {
	if s.Metadata.Tracks == nil {
		s.Metadata.Tracks = []TranscriptionTrack{}
	}
	meta, err := json.Marshal(s.Metadata)
	if err != nil {
		return nil, err
	}
	b := make([]byte, 0, 64+len(meta))
	b = append(b, `{"eventType":"start","metadata":`...)
	b = append(b, meta...)
	b = append(b, `,"customParams":`...)
	b = appendParams(b, s.Params)
	return append(b, '}'), nil
}

// Transcription is one final transcript of a track: a transcription
// message.
type Transcription struct {
	Track string
	// Start and End are counted from the transcription's start.
	Start, End time.Duration
	// Language is the BCP 47 tag of the speech ("en-US").
	Language string
	Text     string
	Words    []Word
}

// Word is a word of a Transcription, timed like it. Punctuation at the
// end of its Text (". , ; : ! ? …") is sent as an item of its own.
type Word struct {
	Text       string
	Start, End time.Duration
	// Confidence is 0 to 1.
	Confidence float64
}

// AppendTranscription appends t's transcription message to dst and
// returns the result. isPartial is false and every item stable: only
// final transcripts are sent. Times are seconds, to the millisecond
// (1.23); each word is a PRONUNCIATION item, and the punctuation that
// ends it a PUNCTUATION item at the word's end time, with the word's
// confidence.
func AppendTranscription(dst []byte, t Transcription) []byte {
	dst = append(dst, `{"eventType":"transcription","track":`...)
	dst = appendString(dst, t.Track)
	dst = append(dst, `,"startTime":`...)
	dst = appendSeconds(dst, t.Start)
	dst = append(dst, `,"endTime":`...)
	dst = appendSeconds(dst, t.End)
	dst = append(dst, `,"isPartial":false,"language":`...)
	dst = appendString(dst, t.Language)
	dst = append(dst, `,"transcript":`...)
	dst = appendString(dst, t.Text)
	dst = append(dst, `,"items":[`...)
	first := true
	item := func(content string, start, end time.Duration, confidence float64, typ string) {
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = append(dst, `{"content":`...)
		dst = appendString(dst, content)
		dst = append(dst, `,"startTime":`...)
		dst = appendSeconds(dst, start)
		dst = append(dst, `,"endTime":`...)
		dst = appendSeconds(dst, end)
		dst = append(dst, `,"confidence":`...)
		dst = appendConfidence(dst, confidence)
		dst = append(dst, `,"stable":true,"type":"`...)
		dst = append(dst, typ...)
		dst = append(dst, `"}`...)
	}
	for _, w := range t.Words {
		word, punct := splitPunctuation(w.Text)
		if word != "" {
			item(word, w.Start, w.End, w.Confidence, ItemPronunciation)
		}
		if punct != "" {
			item(punct, w.End, w.End, w.Confidence, ItemPunctuation)
		}
	}
	return append(dst, `]}`...)
}

// punctuation is what splitPunctuation takes off the end of a word.
const punctuation = ".,;:!?…"

// splitPunctuation cuts the run of punctuation that ends text: "order."
// is "order" and ".", "?!" is "" and "?!".
func splitPunctuation(text string) (word, punct string) {
	i := len(text)
	for i > 0 {
		r, n := utf8.DecodeLastRuneInString(text[:i])
		if !strings.ContainsRune(punctuation, r) {
			break
		}
		i -= n
	}
	return text[:i], text[i:]
}

// appendSeconds appends d as seconds rounded to the millisecond, in
// decimal without trailing zeros: 1.23, 2.5, 0. A negative d is 0.
func appendSeconds(dst []byte, d time.Duration) []byte {
	ms := max(d.Round(time.Millisecond).Milliseconds(), 0)
	dst = strconv.AppendInt(dst, ms/1000, 10)
	frac := ms % 1000
	if frac == 0 {
		return dst
	}
	digits := [4]byte{'.', byte('0' + frac/100), byte('0' + frac/10%10), byte('0' + frac%10)}
	n := len(digits)
	for digits[n-1] == '0' {
		n--
	}
	return append(dst, digits[:n]...)
}

// appendConfidence appends c, held to 0…1 (NaN is 0), as the shortest
// decimal that reads back as it.
func appendConfidence(dst []byte, c float64) []byte {
	if !(c >= 0) { // NaN too
		c = 0
	}
	return strconv.AppendFloat(dst, min(c, 1), 'f', -1, 64)
}
