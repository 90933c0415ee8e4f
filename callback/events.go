package callback

import "encoding/json"

// Each type below is one event, with exactly the fields its schema in the
// official OpenAPI document and its webhook page define. Fields the docs
// define that the schema lacks are marked "docs only".

// Answer is sent to answerUrl when an outbound call is answered. Reply with
// BXML.
type Answer struct {
	Header
	Call
	// MachineDetectionResult is set when machine detection ran in sync mode.
	MachineDetectionResult *MachineDetectionResult `json:"machineDetectionResult,omitzero"`
	// SIPCallID is the SIP Call-ID of the dialog (newer spec; docs only here).
	SIPCallID string `json:"sipCallId,omitzero"`
}

// BridgeComplete is sent to bridgeCompleteUrl when the target call leaves a
// <Bridge>, or when the bridge failed (then Cause is busy, rejected or
// unknown). Reply with BXML for the call that ran <Bridge>.
type BridgeComplete struct {
	Header
	Call
	Outcome
	// TransferCallerID and TransferTo appear in the docs' failed-bridge
	// example (docs only).
	TransferCallerID string `json:"transferCallerId,omitzero"`
	TransferTo       string `json:"transferTo,omitzero"`
}

// BridgeTargetComplete is sent to bridgeTargetCompleteUrl when the
// originating call leaves a <Bridge>. The call is the target. Reply with
// BXML for the target.
type BridgeTargetComplete struct {
	Header
	Call
}

// ConferenceCreated is sent to conferenceEventUrl when a conference is
// created. Reply with conference BXML or nothing.
type ConferenceCreated struct {
	Header
	Conference
	Tag *string `json:"tag,omitzero"`
}

// ConferenceRedirect is sent when a conference is updated over REST with a
// redirectUrl. Reply with conference BXML or nothing.
type ConferenceRedirect struct {
	Header
	Conference
	Tag *string `json:"tag,omitzero"`
}

// ConferenceMemberJoin is sent when a call joins a conference. Reply with
// conference BXML or nothing.
type ConferenceMemberJoin struct {
	Header
	Conference
	From   string  `json:"from,omitzero"`
	To     string  `json:"to,omitzero"`
	CallID string  `json:"callId,omitzero"`
	Tag    *string `json:"tag,omitzero"`
}

// ConferenceMemberExit is sent when a call leaves a conference. Reply with
// conference BXML or nothing.
type ConferenceMemberExit struct {
	Header
	Conference
	From   string  `json:"from,omitzero"`
	To     string  `json:"to,omitzero"`
	CallID string  `json:"callId,omitzero"`
	Tag    *string `json:"tag,omitzero"`
}

// ConferenceCompleted is sent when the last member has left. The reply is
// ignored.
type ConferenceCompleted struct {
	Header
	Conference
	Tag *string `json:"tag,omitzero"`
}

// ConferenceRecordingAvailable is sent when a conference recording is ready
// to download. The reply is ignored.
type ConferenceRecordingAvailable struct {
	Header
	Conference
	AccountID string `json:"accountId,omitzero"`
	Recording
	// Channels is always 1 for conference recordings.
	Channels  int             `json:"channels,omitzero"`
	StartTime Time            `json:"startTime,omitzero"`
	Tag       *string         `json:"tag,omitzero"`
	Status    RecordingStatus `json:"status,omitzero"`
}

// Disconnect is sent exactly once when a call ends, for any reason, to the
// call's disconnectUrl (outbound) or the application's status URL (inbound).
// The reply is ignored.
type Disconnect struct {
	Header
	Call
	EndTime Time `json:"endTime,omitzero"`
	Outcome
	// SIPCallID is the SIP Call-ID of the dialog (newer spec).
	SIPCallID string `json:"sipCallId,omitzero"`
	// SIPResponseCode is the SIP status that rejected an outbound INVITE,
	// such as 486 (busy) or 603 (decline) (newer spec).
	SIPResponseCode int `json:"sipResponseCode,omitzero"`
}

// DTMF is sent for each digit pressed after <StartGather>. The reply is
// ignored.
type DTMF struct {
	Header
	Call
	Digit string `json:"digit,omitzero"`
	Transfer
}

// Gather is sent to gatherUrl when a <Gather> ends. Reply with BXML.
type Gather struct {
	Header
	Call
	// Digits is what was pressed, "" when nothing was before the timeout.
	// It is always encoded.
	Digits string `json:"digits"`
	// TerminatingDigit is the digit that ended the gather, "" if none did.
	// It is always encoded.
	TerminatingDigit string `json:"terminatingDigit"`
	Transfer
}

// Initiate is sent to the application's call-initiated URL when an inbound
// call arrives. Reply with BXML. The call has no tag and no answer time yet.
type Initiate struct {
	Header
	Leg
	Diversion  Diversion   `json:"diversion,omitzero"`
	StirShaken *StirShaken `json:"stirShaken,omitzero"`
	// UUI is the User-To-User header of the INVITE: comma-separated values,
	// each with an ";encoding=" parameter.
	UUI string `json:"uui,omitzero"`
	// SIPCallID is the SIP Call-ID of the dialog (newer spec).
	SIPCallID string `json:"sipCallId,omitzero"`
	// SIPHeaders holds the INVITE's X- headers, keys in lower case, for
	// inbound SIP URI calls (newer spec).
	SIPHeaders map[string]string `json:"sipHeaders,omitzero"`
}

// MachineDetectionComplete is sent to the machine-detection callbackUrl when
// async detection finishes. The reply is ignored.
type MachineDetectionComplete struct {
	Header
	Call
	MachineDetectionResult *MachineDetectionResult `json:"machineDetectionResult,omitzero"`
}

// RecordComplete is sent to recordCompleteUrl when a <Record> ends with the
// call still up. Reply with BXML. Its wire name is "recordComplete"; the
// OpenAPI spelling "recordingComplete" decodes to this type too.
type RecordComplete struct {
	Header
	Call
	Recording
	Channels int `json:"channels,omitzero"`
	Transfer
}

// RecordingAvailable is sent to recordingAvailableUrl when a recording has
// been processed. The reply is ignored.
type RecordingAvailable struct {
	Header
	Leg
	EnqueuedTime Time    `json:"enqueuedTime,omitzero"`
	Tag          *string `json:"tag,omitzero"`
	Recording
	// Channels is 1, or 2 for a multi-channel recording.
	Channels int             `json:"channels,omitzero"`
	Status   RecordingStatus `json:"status,omitzero"`
	Transfer
}

// Redirect is sent to redirectUrl by <Redirect> or a REST redirect. Reply
// with BXML.
type Redirect struct {
	Header
	Call
	Transfer
}

// TranscriptionAvailable is sent when a recording's transcription is ready.
// The reply is ignored.
type TranscriptionAvailable struct {
	Header
	Leg
	EnqueuedTime Time    `json:"enqueuedTime,omitzero"`
	Tag          *string `json:"tag,omitzero"`
	Recording
	Transcription *Transcription `json:"transcription,omitzero"`
	Transfer
}

// TransferAnswer is sent to a <PhoneNumber> or <SipUri> transferAnswerUrl
// when that B-leg answers. The call is the B-leg (ParentCallID is docs only).
// Reply with BXML for the B-leg; it is bridged afterwards.
type TransferAnswer struct {
	Header
	Call
	Transfer
}

// TransferComplete is sent to transferCompleteUrl when the B-leg of a
// <Transfer> ends, or the transfer failed, while the A-leg is still up. The
// call is the A-leg; a successful transfer reports Cause hangup. Reply with
// BXML for the A-leg.
type TransferComplete struct {
	Header
	Call
	TransferCallerID string `json:"transferCallerId,omitzero"`
	TransferTo       string `json:"transferTo,omitzero"`
	Outcome
}

// TransferDisconnect is sent to transferDisconnectUrl when a B-leg ends,
// for any reason. The call is the B-leg. The reply is ignored.
type TransferDisconnect struct {
	Header
	Call
	Transfer
	EndTime Time `json:"endTime,omitzero"`
	Outcome
}

// MediaStreamStarted is sent to streamEventUrl when a <StartStream> stream
// connects (docs only). The reply is ignored.
type MediaStreamStarted struct {
	Header
	Call
	MediaStream *MediaStream `json:"mediaStream,omitzero"`
}

// MediaStreamRejected is sent when a stream could not start (docs only).
type MediaStreamRejected struct {
	Header
	Call
	MediaStream *MediaStream `json:"mediaStream,omitzero"`
	// OriginalMediaStream is the existing stream a duplicate name clashed with.
	OriginalMediaStream *MediaStream `json:"originalMediaStream,omitzero"`
	Cause               StreamCause  `json:"cause,omitzero"`
	ErrorMessage        *string      `json:"errorMessage,omitzero"`
	// Reason is the text the docs' example sends in place of errorMessage.
	Reason string `json:"reason,omitzero"`
}

// MediaStreamStopped is sent when a stream ends (docs only).
type MediaStreamStopped struct {
	Header
	Call
	MediaStream  *MediaStream `json:"mediaStream,omitzero"`
	Cause        StreamCause  `json:"cause,omitzero"`
	ErrorMessage *string      `json:"errorMessage,omitzero"`
}

// RealTimeTranscriptionStarted is sent to transcriptionEventUrl when a
// <StartTranscription> starts (docs only). The reply is ignored.
type RealTimeTranscriptionStarted struct {
	Header
	Call
	RealTimeTranscription *RealTimeTranscription `json:"realTimeTranscription,omitzero"`
}

// RealTimeTranscriptionRejected is sent when a transcription could not start
// (docs only). The docs' examples put the transcription under the key
// "transcription"; Decode accepts it.
type RealTimeTranscriptionRejected struct {
	Header
	Call
	RealTimeTranscription *RealTimeTranscription `json:"realTimeTranscription,omitzero"`
	// OriginalTranscription is the existing one a duplicate name clashed with.
	OriginalTranscription *RealTimeTranscription `json:"originalTranscription,omitzero"`
	Cause                 StreamCause            `json:"cause,omitzero"`
	ErrorMessage          *string                `json:"errorMessage,omitzero"`
}

// RealTimeTranscriptionStopped is sent when a transcription ends (docs
// only). The docs' examples put the transcription under the key
// "transcription"; Decode accepts it.
type RealTimeTranscriptionStopped struct {
	Header
	Call
	RealTimeTranscription *RealTimeTranscription `json:"realTimeTranscription,omitzero"`
	Cause                 StreamCause            `json:"cause,omitzero"`
	ErrorMessage          *string                `json:"errorMessage,omitzero"`
}

// RealTimeTranscriptionAvailable is sent when a stopped transcription's
// full text is ready to fetch (docs only).
type RealTimeTranscriptionAvailable struct {
	Header
	Call
	RealTimeTranscription *RealTimeTranscription `json:"realTimeTranscription,omitzero"`
}

// Unknown is an event whose eventType this package does not know, or lacks.
// Nothing is lost: every member other than eventType and eventTime is kept,
// as raw JSON, in Fields, and encodes back as it came.
type Unknown struct {
	Header
	Fields map[string]json.RawMessage `json:",embed"`
}

// Type methods: the canonical event type of each Go type.

func (*Answer) Type() EventType                       { return EventAnswer }
func (*BridgeComplete) Type() EventType               { return EventBridgeComplete }
func (*BridgeTargetComplete) Type() EventType         { return EventBridgeTargetComplete }
func (*ConferenceCreated) Type() EventType            { return EventConferenceCreated }
func (*ConferenceRedirect) Type() EventType           { return EventConferenceRedirect }
func (*ConferenceMemberJoin) Type() EventType         { return EventConferenceMemberJoin }
func (*ConferenceMemberExit) Type() EventType         { return EventConferenceMemberExit }
func (*ConferenceCompleted) Type() EventType          { return EventConferenceCompleted }
func (*ConferenceRecordingAvailable) Type() EventType { return EventConferenceRecordingAvailable }
func (*Disconnect) Type() EventType                   { return EventDisconnect }
func (*DTMF) Type() EventType                         { return EventDTMF }
func (*Gather) Type() EventType                       { return EventGather }
func (*Initiate) Type() EventType                     { return EventInitiate }
func (*MachineDetectionComplete) Type() EventType     { return EventMachineDetectionComplete }
func (*RecordComplete) Type() EventType               { return EventRecordComplete }
func (*RecordingAvailable) Type() EventType           { return EventRecordingAvailable }
func (*Redirect) Type() EventType                     { return EventRedirect }
func (*TranscriptionAvailable) Type() EventType       { return EventTranscriptionAvailable }
func (*TransferAnswer) Type() EventType               { return EventTransferAnswer }
func (*TransferComplete) Type() EventType             { return EventTransferComplete }
func (*TransferDisconnect) Type() EventType           { return EventTransferDisconnect }
func (*MediaStreamStarted) Type() EventType           { return EventMediaStreamStarted }
func (*MediaStreamRejected) Type() EventType          { return EventMediaStreamRejected }
func (*MediaStreamStopped) Type() EventType           { return EventMediaStreamStopped }
func (*RealTimeTranscriptionStarted) Type() EventType { return EventRealTimeTranscriptionStarted }
func (*RealTimeTranscriptionRejected) Type() EventType {
	return EventRealTimeTranscriptionRejected
}
func (*RealTimeTranscriptionStopped) Type() EventType { return EventRealTimeTranscriptionStopped }
func (*RealTimeTranscriptionAvailable) Type() EventType {
	return EventRealTimeTranscriptionAvailable
}

// Type returns the eventType the body carried.
func (u *Unknown) Type() EventType { return u.EventType }

// eventInfo describes one accepted eventType value.
type eventInfo struct {
	canonical EventType
	new       func() Event
	// keyAliases maps a member name the docs also use to the one this
	// package models, for events whose pages disagree with themselves.
	keyAliases map[string]string
}

// rttAliases are the other keys the real-time transcription pages put the
// transcription object under.
var rttAliases = map[string]string{
	"transcription":         "realTimeTranscription",
	"realtimeTranscription": "realTimeTranscription",
}

// eventTypes lists every eventType value Decode accepts.
var eventTypes = func() map[EventType]eventInfo {
	m := map[EventType]eventInfo{}
	add := func(t EventType, new func() Event, aliases ...EventType) {
		m[t] = eventInfo{canonical: t, new: new}
		for _, a := range aliases {
			m[a] = eventInfo{canonical: t, new: new}
		}
	}
	add(EventAnswer, func() Event { return new(Answer) })
	add(EventBridgeComplete, func() Event { return new(BridgeComplete) })
	add(EventBridgeTargetComplete, func() Event { return new(BridgeTargetComplete) })
	add(EventConferenceCreated, func() Event { return new(ConferenceCreated) })
	add(EventConferenceRedirect, func() Event { return new(ConferenceRedirect) })
	add(EventConferenceMemberJoin, func() Event { return new(ConferenceMemberJoin) })
	add(EventConferenceMemberExit, func() Event { return new(ConferenceMemberExit) })
	add(EventConferenceCompleted, func() Event { return new(ConferenceCompleted) })
	add(EventConferenceRecordingAvailable, func() Event { return new(ConferenceRecordingAvailable) })
	add(EventDisconnect, func() Event { return new(Disconnect) })
	add(EventDTMF, func() Event { return new(DTMF) })
	add(EventGather, func() Event { return new(Gather) })
	add(EventInitiate, func() Event { return new(Initiate) })
	add(EventMachineDetectionComplete, func() Event { return new(MachineDetectionComplete) })
	add(EventRecordComplete, func() Event { return new(RecordComplete) }, EventRecordingComplete)
	add(EventRecordingAvailable, func() Event { return new(RecordingAvailable) })
	add(EventRedirect, func() Event { return new(Redirect) })
	add(EventTranscriptionAvailable, func() Event { return new(TranscriptionAvailable) })
	add(EventTransferAnswer, func() Event { return new(TransferAnswer) })
	add(EventTransferComplete, func() Event { return new(TransferComplete) })
	add(EventTransferDisconnect, func() Event { return new(TransferDisconnect) })
	add(EventMediaStreamStarted, func() Event { return new(MediaStreamStarted) })
	add(EventMediaStreamRejected, func() Event { return new(MediaStreamRejected) })
	add(EventMediaStreamStopped, func() Event { return new(MediaStreamStopped) })
	add(EventRealTimeTranscriptionStarted, func() Event { return new(RealTimeTranscriptionStarted) },
		"realtimeTranscriptionStarted")
	add(EventRealTimeTranscriptionRejected, func() Event { return new(RealTimeTranscriptionRejected) },
		"realtimeTranscriptionRejected")
	add(EventRealTimeTranscriptionStopped, func() Event { return new(RealTimeTranscriptionStopped) },
		"realtimeTranscriptionStopped")
	add(EventRealTimeTranscriptionAvailable, func() Event { return new(RealTimeTranscriptionAvailable) },
		"realtimeTranscriptionAvailable")
	for t, info := range m {
		if canonical := info.canonical; canonical == EventRealTimeTranscriptionStarted ||
			canonical == EventRealTimeTranscriptionRejected ||
			canonical == EventRealTimeTranscriptionStopped ||
			canonical == EventRealTimeTranscriptionAvailable {
			info.keyAliases = rttAliases
			m[t] = info
		}
	}
	return m
}()
