package callback

// The enumerations below are open: Bandwidth documents that new values will
// appear, so a value without a constant decodes without error, keeps its text
// and encodes back unchanged. Known reports whether a value is one this
// package documents.

// EventType is the wire name of an event, the eventType field.
type EventType string

// Event types. The first 21 are the callbacks of the official OpenAPI
// document; the media-stream and real-time-transcription events are
// documented only on the webhook pages.
const (
	EventAnswer                       EventType = "answer"
	EventBridgeComplete               EventType = "bridgeComplete"
	EventBridgeTargetComplete         EventType = "bridgeTargetComplete"
	EventConferenceCreated            EventType = "conferenceCreated"
	EventConferenceRedirect           EventType = "conferenceRedirect"
	EventConferenceMemberJoin         EventType = "conferenceMemberJoin"
	EventConferenceMemberExit         EventType = "conferenceMemberExit"
	EventConferenceCompleted          EventType = "conferenceCompleted"
	EventConferenceRecordingAvailable EventType = "conferenceRecordingAvailable"
	EventDisconnect                   EventType = "disconnect"
	EventDTMF                         EventType = "dtmf"
	EventGather                       EventType = "gather"
	EventInitiate                     EventType = "initiate"
	EventMachineDetectionComplete     EventType = "machineDetectionComplete"
	// EventRecordComplete is what every documented <Record> example sends,
	// and what voicehook emits. The OpenAPI enumeration spells it
	// EventRecordingComplete; Decode accepts both as a [RecordComplete].
	EventRecordComplete         EventType = "recordComplete"
	EventRecordingComplete      EventType = "recordingComplete"
	EventRecordingAvailable     EventType = "recordingAvailable"
	EventRedirect               EventType = "redirect"
	EventTranscriptionAvailable EventType = "transcriptionAvailable"
	EventTransferAnswer         EventType = "transferAnswer"
	EventTransferComplete       EventType = "transferComplete"
	EventTransferDisconnect     EventType = "transferDisconnect"

	EventMediaStreamStarted  EventType = "mediaStreamStarted"
	EventMediaStreamRejected EventType = "mediaStreamRejected"
	EventMediaStreamStopped  EventType = "mediaStreamStopped"

	// The docs publish these four with a capital T and, on older pages,
	// as "realtimeTranscription…"; Decode accepts both spellings.
	EventRealTimeTranscriptionStarted   EventType = "realTimeTranscriptionStarted"
	EventRealTimeTranscriptionRejected  EventType = "realTimeTranscriptionRejected"
	EventRealTimeTranscriptionStopped   EventType = "realTimeTranscriptionStopped"
	EventRealTimeTranscriptionAvailable EventType = "realTimeTranscriptionAvailable"
)

// Known reports whether t names an event this package has a type for,
// under its canonical name or an accepted alias.
func (t EventType) Known() bool {
	_, ok := eventTypes[t]
	return ok
}

// Sync reports whether Bandwidth expects BXML in the reply to an event of
// this type (the reply runs on the call). For the other events the reply body
// is ignored and any 2xx will do.
func (t EventType) Sync() bool {
	switch canonical(t) {
	case EventAnswer, EventInitiate, EventGather, EventRedirect, EventRecordComplete,
		EventBridgeComplete, EventBridgeTargetComplete, EventTransferAnswer, EventTransferComplete,
		EventConferenceCreated, EventConferenceMemberJoin, EventConferenceMemberExit, EventConferenceRedirect:
		return true
	}
	return false
}

// canonical maps an accepted alias to the name voicehook emits.
func canonical(t EventType) EventType {
	if info, ok := eventTypes[t]; ok {
		return info.canonical
	}
	return t
}

// Cause says why a call, a transfer leg or a bridge ended.
type Cause string

// Causes of §3.1 of the dialect reference. The list is not exhaustive.
const (
	CauseHangup               Cause = "hangup"
	CauseBusy                 Cause = "busy"
	CauseTimeout              Cause = "timeout"
	CauseCancel               Cause = "cancel"
	CauseRejected             Cause = "rejected"
	CauseCallbackError        Cause = "callback-error"
	CauseInvalidBXML          Cause = "invalid-bxml"
	CauseApplicationError     Cause = "application-error"
	CauseAccountLimit         Cause = "account-limit"
	CauseNodeCapacityExceeded Cause = "node-capacity-exceeded"
	CauseError                Cause = "error"
	CauseUnknown              Cause = "unknown"
)

// Known reports whether c is one of the documented causes.
func (c Cause) Known() bool {
	switch c {
	case CauseHangup, CauseBusy, CauseTimeout, CauseCancel, CauseRejected, CauseCallbackError,
		CauseInvalidBXML, CauseApplicationError, CauseAccountLimit, CauseNodeCapacityExceeded,
		CauseError, CauseUnknown:
		return true
	}
	return false
}

// Direction is the direction of a call leg. It never changes during a call;
// the B-legs of a <Transfer> are outbound.
type Direction string

// Directions.
const (
	Inbound  Direction = "inbound"
	Outbound Direction = "outbound"
)

// Known reports whether d is inbound or outbound.
func (d Direction) Known() bool { return d == Inbound || d == Outbound }

// MachineDetectionValue is the verdict of answering-machine detection.
type MachineDetectionValue string

// Machine-detection verdicts. ToneDetected is sent only when enabled on the
// account; otherwise a tone reports as AnsweringMachine.
const (
	Human            MachineDetectionValue = "human"
	AnsweringMachine MachineDetectionValue = "answering-machine"
	Silence          MachineDetectionValue = "silence"
	DetectionTimeout MachineDetectionValue = "timeout"
	DetectionError   MachineDetectionValue = "error"
	ToneDetected     MachineDetectionValue = "tone-detected"
)

// Known reports whether v is a documented verdict.
func (v MachineDetectionValue) Known() bool {
	switch v {
	case Human, AnsweringMachine, Silence, DetectionTimeout, DetectionError, ToneDetected:
		return true
	}
	return false
}

// RecordingStatus is the state of a recording's processing.
type RecordingStatus string

// Recording statuses. Partial means downloadable but missing parts.
const (
	RecordingStatusProcessing RecordingStatus = "processing"
	RecordingStatusPartial    RecordingStatus = "partial"
	RecordingStatusComplete   RecordingStatus = "complete"
	RecordingStatusDeleted    RecordingStatus = "deleted"
	RecordingStatusError      RecordingStatus = "error"
)

// Known reports whether s is a documented recording status.
func (s RecordingStatus) Known() bool {
	switch s {
	case RecordingStatusProcessing, RecordingStatusPartial, RecordingStatusComplete, RecordingStatusDeleted, RecordingStatusError:
		return true
	}
	return false
}

// TranscriptionStatus is the state of a transcription.
type TranscriptionStatus string

// Transcription statuses. Real-time transcriptions end available or failed.
const (
	TranscriptionStatusNone         TranscriptionStatus = "none"
	TranscriptionStatusProcessing   TranscriptionStatus = "processing"
	TranscriptionStatusAvailable    TranscriptionStatus = "available"
	TranscriptionStatusError        TranscriptionStatus = "error"
	TranscriptionStatusTimeout      TranscriptionStatus = "timeout"
	TranscriptionStatusFileTooBig   TranscriptionStatus = "file-size-too-big"
	TranscriptionStatusFileTooSmall TranscriptionStatus = "file-size-too-small"
	TranscriptionStatusFailed       TranscriptionStatus = "failed"
)

// Known reports whether s is a documented transcription status.
func (s TranscriptionStatus) Known() bool {
	switch s {
	case TranscriptionStatusNone, TranscriptionStatusProcessing, TranscriptionStatusAvailable, TranscriptionStatusError,
		TranscriptionStatusTimeout, TranscriptionStatusFileTooBig, TranscriptionStatusFileTooSmall, TranscriptionStatusFailed:
		return true
	}
	return false
}

// FileFormat is the audio format of a recording.
type FileFormat string

// Recording formats.
const (
	WAV FileFormat = "wav"
	MP3 FileFormat = "mp3"
)

// Known reports whether f is wav or mp3.
func (f FileFormat) Known() bool { return f == WAV || f == MP3 }

// StreamCause says why a media stream or a real-time transcription was
// rejected or stopped.
type StreamCause string

// Stream causes. Rejections carry ConnectionError, Duplicate, StreamError or
// TrackLimit; stops carry Closed, ConnectionError or StreamError.
const (
	StreamClosed          StreamCause = "closed"
	StreamConnectionError StreamCause = "connection-error"
	StreamDuplicate       StreamCause = "duplicate"
	StreamError           StreamCause = "error"
	StreamTrackLimit      StreamCause = "track-limit"
)

// Known reports whether c is a documented stream cause.
func (c StreamCause) Known() bool {
	switch c {
	case StreamClosed, StreamConnectionError, StreamDuplicate, StreamError, StreamTrackLimit:
		return true
	}
	return false
}

// Track names one direction of a call's audio.
type Track string

// Tracks. Inbound is what the far end says; outbound is what the call plays
// to it.
const (
	InboundTrack  Track = "inbound"
	OutboundTrack Track = "outbound"
)
