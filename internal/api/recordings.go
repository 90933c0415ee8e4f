package api

import (
	"context"
	"fmt"
	"net/http"

	"github.com/voicehook/voicehook/callback"
	"github.com/voicehook/voicehook/internal/engine"
)

// recordingMetadata is schema callRecordingMetadata.
type recordingMetadata struct {
	ApplicationID    string  `json:"applicationId"`
	AccountID        string  `json:"accountId"`
	CallID           string  `json:"callId"`
	ParentCallID     *string `json:"parentCallId,omitempty"`
	RecordingID      string  `json:"recordingId"`
	To               string  `json:"to"`
	From             string  `json:"from"`
	TransferCallerID *string `json:"transferCallerId,omitempty"`
	TransferTo       *string `json:"transferTo,omitempty"`
	Duration         string  `json:"duration"`
	Direction        string  `json:"direction"`
	Channels         int     `json:"channels"`
	StartTime        string  `json:"startTime"`
	EndTime          string  `json:"endTime"`
	FileFormat       string  `json:"fileFormat"`
	Status           string  `json:"status"`
	MediaURL         *string `json:"mediaUrl"`
	Transcription    any     `json:"transcription"`
	RecordingName    *string `json:"recordingName,omitempty"`
}

func (h *Handler) toRecording(r *engine.Recording) recordingMetadata {
	m := recordingMetadata{
		ApplicationID: r.ApplicationID, AccountID: r.AccountID, CallID: r.CallID, ParentCallID: optional(r.ParentCallID),
		RecordingID: r.RecordingID, To: r.To, From: r.From,
		TransferCallerID: optional(r.TransferCallerID), TransferTo: optional(r.TransferTo),
		Duration: callback.Duration(r.Duration).String(), Direction: string(r.Direction), Channels: r.Channels,
		StartTime: callback.TimeOf(r.StartTime).String(), EndTime: callback.TimeOf(r.EndTime).String(),
		FileFormat: string(r.FileFormat), Status: string(r.Status), RecordingName: optional(r.Name),
	}
	if !r.MediaDeleted {
		m.MediaURL = optional(h.recordingURL(r) + "/media")
	}
	if t := r.Transcription; t != nil {
		m.Transcription = transcriptionMetadata{ID: t.ID, Status: string(t.Status),
			CompletedTime: callback.TimeOf(t.CompletedTime).String(), URL: h.recordingURL(r) + "/transcription"}
	}
	return m
}

// transcriptionMetadata is schema transcriptionMetadata.
type transcriptionMetadata struct {
	ID            string `json:"id"`
	Status        string `json:"status"`
	CompletedTime string `json:"completedTime"`
	URL           string `json:"url"`
}

// recordingTranscriptions is schema recordingTranscriptions.
type recordingTranscriptions struct {
	Transcripts []transcript `json:"transcripts"`
}

type transcript struct {
	Text       string  `json:"text"`
	Confidence float64 `json:"confidence"`
}

func (h *Handler) getTranscription(w http.ResponseWriter, r *http.Request) error {
	rec, err := h.callRecording(r)
	if err != nil {
		return err
	}
	if rec, err = h.cfg.Engine.GetTranscription(r.Context(), rec.AccountID, rec.RecordingID); err != nil {
		return err
	}
	// The words are known exactly: confidence 1. One transcript per
	// channel, the far end's first.
	out := recordingTranscriptions{Transcripts: []transcript{}}
	for _, text := range rec.Transcription.Texts {
		out.Transcripts = append(out.Transcripts, transcript{Text: text, Confidence: 1})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// transcribeRequest is schema transcribeRecording.
type transcribeRequest struct {
	CallbackURL     *string  `json:"callbackUrl"`
	CallbackMethod  *string  `json:"callbackMethod"`
	Username        *string  `json:"username"`
	Password        *string  `json:"password"`
	Tag             *string  `json:"tag"`
	CallbackTimeout *float64 `json:"callbackTimeout"`
	DetectLanguage  *bool    `json:"detectLanguage"`
}

func (h *Handler) transcribeRecording(w http.ResponseWriter, r *http.Request) error {
	var req transcribeRequest
	if err := readJSON(r, &req); err != nil {
		return err
	}
	rec, err := h.callRecording(r)
	if err != nil {
		return err
	}
	t := engine.TranscribeRequest{Tag: req.Tag, Callback: engine.Target{URL: deref(req.CallbackURL), Method: deref(req.CallbackMethod),
		Username: deref(req.Username), Password: deref(req.Password)}}
	if t.Callback.URL != "" {
		if err := checkWebhookURL("callbackUrl", t.Callback.URL); err != nil {
			return err
		}
	}
	if m := t.Callback.Method; m != "" && m != "GET" && m != "POST" {
		return validation("Invalid callbackMethod. Supported methods: [POST, GET]")
	}
	if t.Timeout, err = seconds("callbackTimeout", req.CallbackTimeout, 1, 25, 15); err != nil {
		return err
	}
	if err := h.cfg.Engine.TranscribeRecording(r.Context(), rec.AccountID, rec.RecordingID, t); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// onCallRecording is a handler that does op to the path's recording (of
// the path's call) and answers 204: the DELETEs of recordings, their media
// and their transcriptions.
func (h *Handler) onCallRecording(op func(ctx context.Context, accountID, recordingID string) error) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		rec, err := h.callRecording(r)
		if err != nil {
			return err
		}
		if err := op(r.Context(), rec.AccountID, rec.RecordingID); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}

func (h *Handler) recordingURL(r *engine.Recording) string {
	return h.callURL(r.AccountID, r.CallID) + "/recordings/" + r.RecordingID
}

// callRecording returns the recording of the path, which must belong to
// the path's call.
func (h *Handler) callRecording(r *http.Request) (*engine.Recording, error) {
	rec, err := h.cfg.Engine.GetRecording(r.Context(), account(r).ID, r.PathValue("recordingId"))
	if err != nil {
		return nil, err
	}
	if rec.CallID != r.PathValue("callId") {
		return nil, &engine.Error{Code: engine.ENotFound, Msg: fmt.Sprintf("Recording %s not found for call %s", rec.RecordingID, r.PathValue("callId"))}
	}
	return rec, nil
}

func (h *Handler) getRecording(w http.ResponseWriter, r *http.Request) error {
	rec, err := h.callRecording(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, h.toRecording(rec))
	return nil
}

// listCallRecordings lists a call's recordings.
func (h *Handler) listCallRecordings(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("callId")
	return writeRecordings(w, r, h, engine.RecordingFilter{AccountID: account(r).ID, CallID: id}, func() error {
		_, err := h.cfg.Engine.GetCall(r.Context(), account(r).ID, id)
		return err
	}, h.toRecording)
}

// writeRecordings answers with the recordings f selects. A recording is
// kept longer than its call or conference (30 days against 7), so they
// list after it has expired; only when there is none is the owner looked
// up, and one not known is not found.
func writeRecordings[T any](w http.ResponseWriter, r *http.Request, h *Handler, f engine.RecordingFilter, owner func() error, conv func(*engine.Recording) T) error {
	list, err := h.cfg.Engine.ListRecordings(r.Context(), f)
	if err != nil {
		return err
	}
	if len(list) == 0 {
		if err := owner(); err != nil {
			return err
		}
	}
	writeJSON(w, http.StatusOK, mapAll(list, conv))
	return nil
}

// listAccountRecordings is GET /recordings: filters to, from,
// minStartTime, maxStartTime; at most 1000.
func (h *Handler) listAccountRecordings(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	f := engine.RecordingFilter{AccountID: account(r).ID, To: q.Get("to"), From: q.Get("from"), Limit: 1000}
	if err := timeParams(q, timeParam{"minStartTime", &f.MinStartTime}, timeParam{"maxStartTime", &f.MaxStartTime}); err != nil {
		return err
	}
	return h.writeRecordings(w, r, f)
}

func (h *Handler) writeRecordings(w http.ResponseWriter, r *http.Request, f engine.RecordingFilter) error {
	list, err := h.cfg.Engine.ListRecordings(r.Context(), f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, mapAll(list, h.toRecording))
	return nil
}

// downloadRecording serves the audio, with range requests.
func (h *Handler) downloadRecording(w http.ResponseWriter, r *http.Request) error {
	rec, err := h.callRecording(r)
	if err != nil {
		return err
	}
	return h.serveMedia(w, r, rec)
}

// serveMedia serves a recording's audio, with range requests.
func (h *Handler) serveMedia(w http.ResponseWriter, r *http.Request, rec *engine.Recording) error {
	_, f, err := h.cfg.Engine.RecordingMedia(r.Context(), rec.AccountID, rec.RecordingID)
	if err != nil {
		return err
	}
	defer f.Close()
	w.Header().Set("Content-Type", rec.MediaType())
	http.ServeContent(w, r, rec.FileName(), rec.EndTime, f)
	return nil
}

// recordingStateRequest is schema updateCallRecording.
type recordingStateRequest struct {
	State *string `json:"state"`
}

// updateRecordingState is PUT /calls/{callId}/recording: pause or resume
// the call's <StartRecording>.
func (h *Handler) updateRecordingState(w http.ResponseWriter, r *http.Request) error {
	var req recordingStateRequest
	if err := readJSON(r, &req); err != nil {
		return err
	}
	if req.State == nil {
		return validation("Missing required field: state (paused or recording)")
	}
	var pause bool
	switch deref(req.State) {
	case "paused":
		pause = true
	case "recording":
	default:
		return validation(fmt.Sprintf("Invalid state %q: must be paused or recording", deref(req.State)))
	}
	if err := h.cfg.Engine.UpdateRecordingState(r.Context(), account(r).ID, r.PathValue("callId"), pause); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

// conferenceRecordingMetadata is schema conferenceRecordingMetadata.
type conferenceRecordingMetadata struct {
	AccountID     string  `json:"accountId"`
	ConferenceID  string  `json:"conferenceId"`
	Name          string  `json:"name"`
	RecordingID   string  `json:"recordingId"`
	Duration      string  `json:"duration"`
	Channels      int     `json:"channels"`
	StartTime     string  `json:"startTime"`
	EndTime       string  `json:"endTime"`
	FileFormat    string  `json:"fileFormat"`
	Status        string  `json:"status"`
	MediaURL      *string `json:"mediaUrl"`
	RecordingName *string `json:"recordingName,omitempty"`
}

func (h *Handler) toConferenceRecording(r *engine.Recording) conferenceRecordingMetadata {
	return conferenceRecordingMetadata{AccountID: r.AccountID, ConferenceID: r.ConferenceID, Name: r.ConferenceName,
		RecordingID: r.RecordingID, Duration: callback.Duration(r.Duration).String(), Channels: r.Channels,
		StartTime: callback.TimeOf(r.StartTime).String(), EndTime: callback.TimeOf(r.EndTime).String(),
		FileFormat: string(r.FileFormat), Status: string(r.Status), RecordingName: optional(r.Name),
		MediaURL: optional(fmt.Sprintf("%s/accounts/%s/conferences/%s/recordings/%s/media", h.cfg.BaseURL, r.AccountID, r.ConferenceID, r.RecordingID))}
}

// conferenceRecording returns the recording of the path, which must be
// the path's conference's.
func (h *Handler) conferenceRecording(r *http.Request) (*engine.Recording, error) {
	rec, err := h.cfg.Engine.GetRecording(r.Context(), account(r).ID, r.PathValue("recordingId"))
	if err != nil {
		return nil, err
	}
	if rec.ConferenceID != r.PathValue("conferenceId") {
		return nil, &engine.Error{Code: engine.ENotFound, Msg: fmt.Sprintf("Recording %s not found for conference %s", rec.RecordingID, r.PathValue("conferenceId"))}
	}
	return rec, nil
}

func (h *Handler) listConferenceRecordings(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("conferenceId")
	return writeRecordings(w, r, h, engine.RecordingFilter{AccountID: account(r).ID, ConferenceID: id}, func() error {
		_, err := h.cfg.Engine.GetConference(r.Context(), account(r).ID, id)
		return err
	}, h.toConferenceRecording)
}

func (h *Handler) getConferenceRecording(w http.ResponseWriter, r *http.Request) error {
	rec, err := h.conferenceRecording(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, h.toConferenceRecording(rec))
	return nil
}

func (h *Handler) downloadConferenceRecording(w http.ResponseWriter, r *http.Request) error {
	rec, err := h.conferenceRecording(r)
	if err != nil {
		return err
	}
	return h.serveMedia(w, r, rec)
}
