package callback

import (
	"fmt"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// This file holds the groups of fields that several events share, embedded
// rather than repeated, and the nested objects events carry.
//
// Presence rules: a string, number or time left at its zero value is absent
// on the wire (omitted when encoding; absent or null when decoding gives the
// zero value). Where the docs give the empty string a meaning of its own, the
// field is a pointer (Tag, ErrorMessage, ErrorID: nil is absent, a pointer to
// "" is present and empty) or always encoded (Gather's Digits and
// TerminatingDigit, which Bandwidth sends as "" when nothing was pressed).

// Header holds the two fields every event carries.
type Header struct {
	// EventType is the wire name of the event. Decode keeps it as received
	// (so an alias such as "recordingComplete" survives a round trip);
	// Encode fills it in from the Go type when it is empty.
	EventType EventType `json:"eventType,omitzero"`
	// EventTime is the approximate time the event was generated.
	EventTime Time `json:"eventTime,omitzero"`
}

func (h *Header) header() *Header { return h }

// Leg identifies a call leg. Every event about a call carries it.
type Leg struct {
	AccountID     string `json:"accountId,omitzero"`
	ApplicationID string `json:"applicationId,omitzero"`
	// From is the caller id: an E.164 number, a SIP URI, or one of Private,
	// Restricted, Anonymous and Unavailable.
	From string `json:"from,omitzero"`
	// To is the called number (E.164) or SIP URI.
	To        string    `json:"to,omitzero"`
	Direction Direction `json:"direction,omitzero"`
	// CallID is the call's id: "c-", 8 hex digits, "-" and a UUID.
	CallID string `json:"callId,omitzero"`
	// CallURL is the REST URL of the call.
	CallURL string `json:"callUrl,omitzero"`
	// StartTime is when the call started; on recording events, when the
	// recording started.
	StartTime Time `json:"startTime,omitzero"`
}

// Call is the set of fields most call events carry: the leg, when it was
// queued and answered, and its tag.
type Call struct {
	Leg
	// EnqueuedTime is set only for outbound calls that waited in the queue.
	EnqueuedTime Time `json:"enqueuedTime,omitzero"`
	// AnswerTime is zero while the call is unanswered.
	AnswerTime Time `json:"answerTime,omitzero"`
	// Tag is the call's current tag; nil when none was set or it was cleared.
	Tag *string `json:"tag,omitzero"`
}

// Transfer holds the fields events of a <Transfer> B-leg add.
type Transfer struct {
	// ParentCallID is the A-leg that ran the <Transfer>.
	ParentCallID string `json:"parentCallId,omitzero"`
	// TransferCallerID is the B-leg's from.
	TransferCallerID string `json:"transferCallerId,omitzero"`
	// TransferTo is the B-leg's to.
	TransferTo string `json:"transferTo,omitzero"`
}

// Outcome says how a call, leg or bridge ended.
type Outcome struct {
	Cause Cause `json:"cause,omitzero"`
	// ErrorMessage explains an error end; nil otherwise.
	ErrorMessage *string `json:"errorMessage,omitzero"`
	// ErrorID references the error event; nil otherwise.
	ErrorID *string `json:"errorId,omitzero"`
}

// Recording describes a finished recording.
type Recording struct {
	// RecordingID is "r-", 8 hex digits, "-" and a UUID.
	RecordingID string `json:"recordingId,omitzero"`
	// MediaURL downloads the audio.
	MediaURL string `json:"mediaUrl,omitzero"`
	// EndTime is when the recording ended.
	EndTime    Time       `json:"endTime,omitzero"`
	Duration   Duration   `json:"duration,omitzero"`
	FileFormat FileFormat `json:"fileFormat,omitzero"`
}

// Conference identifies a conference.
type Conference struct {
	// ConferenceID is "conf-", 8 hex digits, "-" and a UUID.
	ConferenceID string `json:"conferenceId,omitzero"`
	// Name is the name given in <Conference>.
	Name string `json:"name,omitzero"`
}

// MachineDetectionResult is the outcome of answering-machine detection.
type MachineDetectionResult struct {
	Value MachineDetectionValue `json:"value,omitzero"`
	// Duration is how long detection took.
	Duration Duration `json:"duration,omitzero"`
}

// UnmarshalJSONFrom also accepts the bare-string form ("human") that an
// older version of the machineDetectionComplete page shows; it decodes as
// the Value and encodes back in object form.
func (r *MachineDetectionResult) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	switch dec.PeekKind() {
	case '"':
		tok, err := dec.ReadToken()
		if err != nil {
			return err
		}
		*r = MachineDetectionResult{Value: MachineDetectionValue(tok.String())}
		return nil
	case '{', 'n':
		type plain MachineDetectionResult
		return json.UnmarshalDecode(dec, (*plain)(r))
	}
	return fmt.Errorf("want an object or a string, got %s", kindName(dec.PeekKind()))
}

// Diversion holds the parameters of the most recent SIP Diversion header of
// an inbound call, one key per parameter. The docs require tolerance of
// keys and values they do not list, so it is a map; the methods read the
// documented keys.
type Diversion map[string]string

// OrigTo is the number the call was last diverted from. It is always present.
func (d Diversion) OrigTo() string { return d["origTo"] }

// Reason is why the call was diverted: unknown, user-busy, no-answer,
// unavailable, unconditional, time-of-day, do-not-disturb, deflection,
// follow-me, out-of-service or away.
func (d Diversion) Reason() string { return d["reason"] }

// Privacy is "off" or "full".
func (d Diversion) Privacy() string { return d["privacy"] }

// Screen is "no" if the user provided the number, "yes" if the network did.
func (d Diversion) Screen() string { return d["screen"] }

// Counter is how many diversions have occurred.
func (d Diversion) Counter() string { return d["counter"] }

// Limit is the most diversions allowed for this session.
func (d Diversion) Limit() string { return d["limit"] }

// StirShaken is the caller-id verification of an inbound call.
type StirShaken struct {
	// Verstat is TN-Validation-Passed or TN-Validation-Failed.
	Verstat string `json:"verstat,omitzero"`
	// AttestationIndicator is A (full), B (partial) or C (gateway).
	AttestationIndicator string `json:"attestationIndicator,omitzero"`
	// OriginatingID is a unique origination identifier.
	OriginatingID string `json:"originatingId,omitzero"`
}

// Transcription is the transcription a transcriptionAvailable event
// announces. The sources disagree on its shape: the webhook page sends its
// metadata (ID, URL, Status, CompletedTime), the OpenAPI document its text
// (Speaker, Text, Confidence). Both shapes decode; voicehook fills in the
// metadata, Text and Confidence (it knows no speakers).
type Transcription struct {
	// ID is "t-" and a UUID.
	ID            string              `json:"id,omitzero"`
	URL           string              `json:"url,omitzero"`
	Status        TranscriptionStatus `json:"status,omitzero"`
	CompletedTime Time                `json:"completedTime,omitzero"`
	// Speaker is the zero-based speaker index; nil when absent.
	Speaker *int   `json:"speaker,omitzero"`
	Text    string `json:"text,omitzero"`
	// Confidence is 0.0 to 1.0; nil when absent.
	Confidence *float64 `json:"confidence,omitzero"`
}

// MediaStream describes a <StartStream> WebSocket stream.
type MediaStream struct {
	// ID is "s-" and an id; absent on rejections.
	ID          string  `json:"id,omitzero"`
	Name        string  `json:"name,omitzero"`
	Destination string  `json:"destination,omitzero"`
	StartTime   Time    `json:"startTime,omitzero"`
	Tracks      []Track `json:"tracks,omitzero"`
	// Type is "WebSocket".
	Type string `json:"type,omitzero"`
	// Duration is set when the stream has stopped.
	Duration Duration `json:"duration,omitzero"`
}

// RealTimeTranscription describes a <StartTranscription> transcription.
type RealTimeTranscription struct {
	// ID is "t-" and an id.
	ID          string  `json:"id,omitzero"`
	Name        string  `json:"name,omitzero"`
	StartTime   Time    `json:"startTime,omitzero"`
	Tracks      []Track `json:"tracks,omitzero"`
	Destination string  `json:"destination,omitzero"`
	// Stabilized is "true" or "false": the docs send it as a string.
	Stabilized string `json:"stabilized,omitzero"`
	// Status, URL and CompletedTime are set on realTimeTranscriptionAvailable.
	Status        TranscriptionStatus `json:"status,omitzero"`
	URL           string              `json:"url,omitzero"`
	CompletedTime Time                `json:"completedTime,omitzero"`
	// Duration is set when the transcription has stopped.
	Duration Duration `json:"duration,omitzero"`
}

// IsStabilized reports whether Stabilized is "true".
func (r *RealTimeTranscription) IsStabilized() bool { return r.Stabilized == "true" }
