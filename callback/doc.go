// Package callback is the wire model of the Bandwidth Voice API v2 webhooks
// ("callbacks"): one Go type per event, with every field the official
// OpenAPI document and the webhook pages define, and the codecs that turn
// them into the bodies Bandwidth sends and back.
//
// voicehook's engine produces these events and Go voice apps consume them;
// the package depends on nothing else of voicehook, so an app can import it
// on its own.
//
// # Decoding
//
// [Decode] reads a JSON body (a POST callback) and [DecodeQuery] the query
// parameters of a GET callback; both return an [Event], which is one of the
// pointer types of this package. Switch on it:
//
//	ev, err := callback.Decode(body)
//	switch ev := ev.(type) {
//	case *callback.Answer:
//	case *callback.Disconnect: // ev.Cause, ev.ErrorMessage, …
//	}
//
// Errors are [*FieldError]s that name the field at fault and say what was
// expected. A body whose eventType is unknown or missing still decodes, to
// an [*Unknown] holding every member, alongside an error matching
// [ErrUnknownEventType] or [ErrMissingEventType]: nothing is lost.
//
// # Encoding
//
// [Encode] and [EncodeQuery] produce exactly what voicehook sends: members
// in a fixed order with eventType first, absent fields left out, times in UTC
// with milliseconds ("2019-06-20T15:55:55.533Z"), durations in ISO 8601
// ("PT13.67S"). Decoding what Encode produced gives back an equal event, up
// to the millisecond precision of times.
//
// # Presence
//
// All fields are optional in the OpenAPI document. A string, number or time
// at its zero value is absent. Where the empty string means something of its
// own, the field is a *string: Tag (nil when no tag is set; a tag cannot be
// "" on the wire, but a decoded one keeps its form), ErrorMessage and
// ErrorID. Gather's Digits and TerminatingDigit are always encoded, as
// Bandwidth sends "" for "nothing pressed".
//
// # Where the sources disagree
//
// Decoding accepts every form the docs or the OpenAPI document publish;
// encoding emits one:
//   - <Record>'s completion is "recordComplete" (every docs example); the
//     OpenAPI spelling "recordingComplete" decodes to the same type and keeps
//     its name through a round trip.
//   - Real-time transcription events also appear as "realtimeTranscription…",
//     with the object under "transcription" or "realtimeTranscription";
//     they decode to the same types and encode as "realTimeTranscription".
//   - An older page gives machineDetectionResult as a bare string; it
//     decodes as the Value.
//   - transcriptionAvailable's transcription has a metadata shape in the docs
//     and a text shape in the OpenAPI document; [Transcription] holds both.
//
// # Validation helpers
//
// [ValidateE164], [ValidateCallerID], [IsCallerIDKeyword], [ValidateSIPURI],
// [ValidateCallID], [ValidateRecordingID] and [ValidateConferenceID] check
// the value formats of the dialect; [NewCallID] and its siblings make ids.
//
// # Concurrency
//
// The functions of this package are safe for concurrent use. Events are
// plain values, owned by whoever holds them.
//
// JSON is handled by github.com/go-json-experiment/json, the Go team's JSON
// v2 (the future encoding/json/v2): it decodes an event about three times as
// fast as encoding/json, with a third of the allocations and no generated
// code. The types also implement the encoding/json interfaces where they need
// custom forms (Time, Duration), but only Decode and Encode apply the rules
// above.
package callback
