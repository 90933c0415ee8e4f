package webhook

import (
	"context"

	"github.com/voicehook/voicehook/bxml"
	"github.com/voicehook/voicehook/callback"
)

// Synchronous events: the function's BXML is the reply (nil: <Response/>).

// OnAnswer handles answer: an outbound call was answered.
func (h *Handler) OnAnswer(f func(context.Context, *callback.Answer) (*bxml.Response, error)) {
	Reply(h, f)
}

// OnInitiate handles initiate: an inbound call arrived.
func (h *Handler) OnInitiate(f func(context.Context, *callback.Initiate) (*bxml.Response, error)) {
	Reply(h, f)
}

// OnGather handles gather: a <Gather> ended.
func (h *Handler) OnGather(f func(context.Context, *callback.Gather) (*bxml.Response, error)) {
	Reply(h, f)
}

// OnRedirect handles redirect: a <Redirect> or a REST redirect.
func (h *Handler) OnRedirect(f func(context.Context, *callback.Redirect) (*bxml.Response, error)) {
	Reply(h, f)
}

// OnRecordComplete handles recordComplete: a <Record> ended.
func (h *Handler) OnRecordComplete(f func(context.Context, *callback.RecordComplete) (*bxml.Response, error)) {
	Reply(h, f)
}

// OnTransferAnswer handles transferAnswer: a <Transfer> target answered.
func (h *Handler) OnTransferAnswer(f func(context.Context, *callback.TransferAnswer) (*bxml.Response, error)) {
	Reply(h, f)
}

// OnTransferComplete handles transferComplete on the A-leg.
func (h *Handler) OnTransferComplete(f func(context.Context, *callback.TransferComplete) (*bxml.Response, error)) {
	Reply(h, f)
}

// OnBridgeComplete handles bridgeComplete on a <Bridge>'s originator.
func (h *Handler) OnBridgeComplete(f func(context.Context, *callback.BridgeComplete) (*bxml.Response, error)) {
	Reply(h, f)
}

// OnBridgeTargetComplete handles bridgeTargetComplete on a bridge target.
func (h *Handler) OnBridgeTargetComplete(f func(context.Context, *callback.BridgeTargetComplete) (*bxml.Response, error)) {
	Reply(h, f)
}

// OnConferenceCreated handles conferenceCreated (reply: conference BXML).
func (h *Handler) OnConferenceCreated(f func(context.Context, *callback.ConferenceCreated) (*bxml.Response, error)) {
	Reply(h, f)
}

// OnConferenceMemberJoin handles conferenceMemberJoin.
func (h *Handler) OnConferenceMemberJoin(f func(context.Context, *callback.ConferenceMemberJoin) (*bxml.Response, error)) {
	Reply(h, f)
}

// OnConferenceMemberExit handles conferenceMemberExit.
func (h *Handler) OnConferenceMemberExit(f func(context.Context, *callback.ConferenceMemberExit) (*bxml.Response, error)) {
	Reply(h, f)
}

// OnConferenceRedirect handles conferenceRedirect.
func (h *Handler) OnConferenceRedirect(f func(context.Context, *callback.ConferenceRedirect) (*bxml.Response, error)) {
	Reply(h, f)
}

// Asynchronous events: the reply is 204 once the function returns.

// OnDisconnect handles disconnect: a call ended, with its cause.
func (h *Handler) OnDisconnect(f func(context.Context, *callback.Disconnect) error) { Notify(h, f) }

// OnDTMF handles dtmf: a digit pressed during <StartGather>.
func (h *Handler) OnDTMF(f func(context.Context, *callback.DTMF) error) { Notify(h, f) }

// OnMachineDetectionComplete handles machineDetectionComplete (async
// machine detection).
func (h *Handler) OnMachineDetectionComplete(f func(context.Context, *callback.MachineDetectionComplete) error) {
	Notify(h, f)
}

// OnRecordingAvailable handles recordingAvailable.
func (h *Handler) OnRecordingAvailable(f func(context.Context, *callback.RecordingAvailable) error) {
	Notify(h, f)
}

// OnTranscriptionAvailable handles transcriptionAvailable.
func (h *Handler) OnTranscriptionAvailable(f func(context.Context, *callback.TranscriptionAvailable) error) {
	Notify(h, f)
}

// OnTransferDisconnect handles transferDisconnect: a transfer's B-leg ended.
func (h *Handler) OnTransferDisconnect(f func(context.Context, *callback.TransferDisconnect) error) {
	Notify(h, f)
}

// OnConferenceCompleted handles conferenceCompleted.
func (h *Handler) OnConferenceCompleted(f func(context.Context, *callback.ConferenceCompleted) error) {
	Notify(h, f)
}

// OnConferenceRecordingAvailable handles conferenceRecordingAvailable.
func (h *Handler) OnConferenceRecordingAvailable(f func(context.Context, *callback.ConferenceRecordingAvailable) error) {
	Notify(h, f)
}

// OnMediaStreamStarted handles mediaStreamStarted: a <StartStream>'s
// destination accepted the WebSocket.
func (h *Handler) OnMediaStreamStarted(f func(context.Context, *callback.MediaStreamStarted) error) {
	Notify(h, f)
}

// OnMediaStreamRejected handles mediaStreamRejected: a stream could not
// start (its cause says why).
func (h *Handler) OnMediaStreamRejected(f func(context.Context, *callback.MediaStreamRejected) error) {
	Notify(h, f)
}

// OnMediaStreamStopped handles mediaStreamStopped: a stream ended.
func (h *Handler) OnMediaStreamStopped(f func(context.Context, *callback.MediaStreamStopped) error) {
	Notify(h, f)
}
