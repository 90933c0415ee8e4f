// Package stream is the wire format of Bandwidth media streams
// (<StartStream>): the JSON text frames voicehook sends a stream's
// destination over its WebSocket — start, media, stop — and the ones a
// bidirectional stream's destination sends back — playAudio and clear.
//
// What voicehook sends follows Bandwidth's StartStream documentation:
// start carries the stream's metadata and its <StreamParam>s, media one
// 20 ms packet of PCMU at 8 kHz for one track, base64 in payload, and,
// from AppendMedia, a sequenceNumber (Bandwidth's documentation does not
// list it; integrations such as Pipecat's describe Bandwidth's media as
// carrying one, and a consumer that does not know it ignores it). The
// messages a destination sends back are documented only in part;
// playAudio's content types (audio/pcmu, and 16-bit linear PCM at 8, 16 or
// 24 kHz) and clear follow what Bandwidth's published integrations send.
// Read refuses anything else with an error that names what was wrong.
//
// The same socket carries a real-time transcription (<StartTranscription
// destination=…>) to its destination, one way: TranscriptionStart (the
// call, the transcription, its tracks, stabilized, and the
// <CustomParam>s as customParams), one AppendTranscription message per
// final transcript (its text, and an item per word and per punctuation
// mark that ends one), and Stop. Bandwidth's documentation names the
// fields (startTime, endTime, items with content, confidence, stable and
// type PRONUNCIATION or PUNCTUATION) but not the unit of the times:
// voicehook sends seconds since the transcription began, as JSON numbers
// with millisecond precision (1.23), the unit of the speech services whose
// item shape Bandwidth's follows. isPartial is always false and every item
// stable: voicehook makes final transcripts only, whether or not the
// transcription is stabilized.
//
// The package is pure: no sockets, no clock, no goroutines. The engine's
// stream adapter (internal/streamer) carries these frames.
package stream

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	jsonv2 "github.com/go-json-experiment/json"
)

// Event types of the frames.
const (
	EventStart     = "start"
	EventMedia     = "media"
	EventStop      = "stop"
	EventPlayAudio = "playAudio"
	EventClear     = "clear"
)

// Tracks of a stream: what the far end says, and what the call plays to
// it.
const (
	TrackInbound  = "inbound"
	TrackOutbound = "outbound"
)

// PCMU is the one media format a stream sends: G.711 µ-law, 8 kHz.
var PCMU = MediaFormat{Encoding: "audio/PCMU", SampleRate: 8000}

// MediaFormat is how a track's payloads are encoded.
type MediaFormat struct {
	Encoding   string `json:"encoding"`
	SampleRate int    `json:"sampleRate"`
}

// Track is one direction of the call's audio in a stream.
type Track struct {
	Name        string      `json:"name"`
	MediaFormat MediaFormat `json:"mediaFormat"`
}

// Metadata says which call and stream a start is for.
type Metadata struct {
	AccountID  string  `json:"accountId"`
	CallID     string  `json:"callId"`
	StreamID   string  `json:"streamId"`
	StreamName string  `json:"streamName"`
	Tracks     []Track `json:"tracks"`
}

// Start is the stream's first frame.
type Start struct {
	Metadata Metadata
	// Params are the <StreamParam>s, in document order. A name given
	// twice keeps its first place and its last value: JSON objects do not
	// repeat names.
	Params []Param
}

// Param is a <StreamParam>: one member of start's streamParams.
type Param struct{ Name, Value string }

// MarshalJSON writes the start frame, streamParams in the order of Params
// (encoding/json would sort a map's keys).
func (s Start) MarshalJSON() ([]byte, error) {
	meta, err := json.Marshal(s.Metadata)
	if err != nil {
		return nil, err
	}
	b := make([]byte, 0, 64+len(meta))
	b = append(b, `{"eventType":"start","metadata":`...)
	b = append(b, meta...)
	if len(s.Params) > 0 {
		b = append(b, `,"streamParams":`...)
		b = appendParams(b, s.Params)
	}
	return append(b, '}'), nil
}

// appendParams appends params as a JSON object, in their order; a name
// given twice keeps its first place and its last value.
func appendParams(b []byte, params []Param) []byte {
	seen := make(map[string]int, len(params))
	var order []Param
	for _, p := range params {
		if i, ok := seen[p.Name]; ok {
			order[i].Value = p.Value
			continue
		}
		seen[p.Name] = len(order)
		order = append(order, p)
	}
	b = append(b, '{')
	for i, p := range order {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, p.Name)
		b = append(b, ':')
		b = appendString(b, p.Value)
	}
	return append(b, '}')
}

// appendString appends s as a JSON string, escaped as encoding/json
// escapes it.
func appendString(b []byte, s string) []byte {
	if safeTrack(s) {
		b = append(b, '"')
		b = append(b, s...)
		return append(b, '"')
	}
	q, _ := json.Marshal(s) // a string always marshals
	return append(b, q...)
}

// Media writes the media frame of one packet of track: its PCMU bytes,
// base64 in payload.
func Media(track string, pcmu []byte) []byte { return AppendMedia(nil, track, 0, pcmu) }

// AppendMedia appends the media frame of one packet of track to dst and
// returns the result: its PCMU bytes base64 in payload and, when seq is
// not zero, seq as sequenceNumber. It uses no reflection and, given a dst
// with room, allocates nothing: a stream sends 50 of these a second per
// track.
func AppendMedia(dst []byte, track string, seq uint64, pcmu []byte) []byte {
	dst = append(dst, `{"eventType":"media","track":`...)
	if safeTrack(track) {
		dst = append(dst, '"')
		dst = append(dst, track...)
		dst = append(dst, '"')
	} else {
		dst = appendString(dst, track)
	}
	if seq != 0 {
		dst = append(dst, `,"sequenceNumber":`...)
		dst = strconv.AppendUint(dst, seq, 10)
	}
	dst = append(dst, `,"payload":"`...)
	dst = base64.StdEncoding.AppendEncode(dst, pcmu)
	return append(dst, `"}`...)
}

// safeTrack reports whether track (or any string) needs no escaping in a
// JSON string.
func safeTrack(track string) bool {
	for i := 0; i < len(track); i++ {
		if c := track[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}

// Stop writes the stream's last frame.
func Stop() []byte { return []byte(`{"eventType":"stop"}`) }

// Audio is what a playAudio frame plays: 16-bit samples at Rate (8000,
// 16000 or 24000), or, with Rate 8000 and ULaw set, µ-law bytes in Data.
type Audio struct {
	Rate    int
	ULaw    bool
	Data    []byte  // the µ-law bytes, when ULaw
	Samples []int16 // the linear samples otherwise
}

// Message is a frame a bidirectional stream's destination sent: a
// playAudio (Play set) or a clear (Clear set).
type Message struct {
	Play  *Audio
	Clear bool
}

// MaxFrame bounds the size of a frame Read takes: 1 MiB, some 20 s of
// 24 kHz audio in base64.
const MaxFrame = 1 << 20

// ErrTooLarge reports a frame over MaxFrame.
var ErrTooLarge = fmt.Errorf("stream: frame larger than %d bytes", MaxFrame)

// Read decodes a frame a destination sent.
func Read(frame []byte) (Message, error) {
	if len(frame) > MaxFrame {
		return Message{}, ErrTooLarge
	}
	var f struct {
		EventType *string `json:"eventType"`
		Media     *struct {
			ContentType string `json:"contentType"`
			Payload     string `json:"payload"`
		} `json:"media"`
	}
	if err := jsonv2.Unmarshal(frame, &f); err != nil {
		return Message{}, fmt.Errorf("stream: frame is not a JSON object: %w", err)
	}
	if f.EventType == nil {
		return Message{}, errors.New(`stream: frame has no "eventType"`)
	}
	switch *f.EventType {
	case EventClear:
		return Message{Clear: true}, nil
	case EventPlayAudio:
	default:
		return Message{}, fmt.Errorf(`stream: eventType %q: a destination sends "playAudio" or "clear"`, clipped(*f.EventType))
	}
	if f.Media == nil {
		return Message{}, errors.New(`stream: playAudio has no "media"`)
	}
	a, err := ParseContentType(f.Media.ContentType)
	if err != nil {
		return Message{}, err
	}
	data, err := base64.StdEncoding.DecodeString(f.Media.Payload)
	if err != nil {
		return Message{}, fmt.Errorf("stream: playAudio media.payload is not base64: %w", err)
	}
	if a.ULaw {
		a.Data = data
		return Message{Play: &a}, nil
	}
	if len(data)%2 != 0 {
		return Message{}, fmt.Errorf("stream: playAudio media.payload holds %d bytes: 16-bit samples come in pairs of bytes", len(data))
	}
	a.Samples = make([]int16, len(data)/2)
	for i := range a.Samples {
		a.Samples[i] = int16(binary.LittleEndian.Uint16(data[2*i:]))
	}
	return Message{Play: &a}, nil
}

// ParseContentType reads a playAudio content type: "audio/pcmu", or
// "audio/pcm" with rate 8000, 16000 or 24000 and, if given, channels=1,
// bit-depth=16, endian=little and encoding=signed.
func ParseContentType(ct string) (Audio, error) {
	parts := strings.Split(ct, ";")
	ct = clipped(ct) // errors quote it: a hostile one stays short
	kind := strings.ToLower(strings.TrimSpace(parts[0]))
	switch kind {
	case "audio/pcmu":
		if len(parts) > 1 {
			return Audio{}, fmt.Errorf("stream: content type %q: audio/pcmu takes no parameters (it is 8 kHz)", ct)
		}
		return Audio{Rate: 8000, ULaw: true}, nil
	case "audio/pcm":
	default:
		return Audio{}, fmt.Errorf(`stream: content type %q: want "audio/pcmu" or "audio/pcm;rate=8000|16000|24000"`, ct)
	}
	a := Audio{}
	want := map[string]string{"channels": "1", "bit-depth": "16", "endian": "little", "encoding": "signed"}
	for _, p := range parts[1:] {
		name, value, ok := strings.Cut(strings.TrimSpace(p), "=")
		name, value = strings.ToLower(strings.TrimSpace(name)), strings.ToLower(strings.TrimSpace(value))
		switch {
		case !ok:
			return Audio{}, fmt.Errorf("stream: content type %q: parameter %q has no value", ct, clipped(p))
		case name == "rate":
			r, err := strconv.Atoi(value)
			if err != nil || (r != 8000 && r != 16000 && r != 24000) {
				return Audio{}, fmt.Errorf("stream: content type %q: rate %q: want 8000, 16000 or 24000", ct, clipped(value))
			}
			a.Rate = r
		case want[name] != "":
			if value != want[name] {
				return Audio{}, fmt.Errorf("stream: content type %q: %s=%s: only %s=%s is played", ct, clipped(name), clipped(value), name, want[name])
			}
		default:
			return Audio{}, fmt.Errorf("stream: content type %q: unknown parameter %q", ct, clipped(name))
		}
	}
	if a.Rate == 0 {
		return Audio{}, fmt.Errorf("stream: content type %q: audio/pcm needs its rate (8000, 16000 or 24000)", ct)
	}
	return a, nil
}

// clipped is s cut to 64 bytes, at a rune's start, for an error that
// quotes what a destination sent.
func clipped(s string) string {
	const n = 64
	if len(s) <= n {
		return s
	}
	i := n
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "…"
}
