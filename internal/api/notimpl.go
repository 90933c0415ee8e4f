package api

import (
	"fmt"
	"net/http"
)

// accountPath is the root of an account's resources. Everything under it
// asks for the account's credentials before anything else, as Bandwidth
// does: an unknown or unimplemented path gets 401 or 403 before 404 or 501.
const accountPath = "/api/v2/accounts/{accountId}/"

// operation is an operation of Bandwidth's voice API.
type operation struct {
	ID     string // operationId
	Method string
	Path   string // path template, under /api/v2
}

// voiceOperations are the operations of Bandwidth's voice API: those of its
// OpenAPI document served from https://voice.bandwidth.com/api/v2.
// TestVoiceOperationsAreTheSpecs keeps the list equal to the document's.
var voiceOperations = []operation{
	{"createCall", "POST", "/accounts/{accountId}/calls"},
	{"listCalls", "GET", "/accounts/{accountId}/calls"},
	{"getCallState", "GET", "/accounts/{accountId}/calls/{callId}"},
	{"updateCall", "POST", "/accounts/{accountId}/calls/{callId}"},
	{"updateCallBxml", "PUT", "/accounts/{accountId}/calls/{callId}/bxml"},
	{"listConferences", "GET", "/accounts/{accountId}/conferences"},
	{"getConference", "GET", "/accounts/{accountId}/conferences/{conferenceId}"},
	{"updateConference", "POST", "/accounts/{accountId}/conferences/{conferenceId}"},
	{"updateConferenceBxml", "PUT", "/accounts/{accountId}/conferences/{conferenceId}/bxml"},
	{"getConferenceMember", "GET", "/accounts/{accountId}/conferences/{conferenceId}/members/{memberId}"},
	{"updateConferenceMember", "PUT", "/accounts/{accountId}/conferences/{conferenceId}/members/{memberId}"},
	{"listConferenceRecordings", "GET", "/accounts/{accountId}/conferences/{conferenceId}/recordings"},
	{"getConferenceRecording", "GET", "/accounts/{accountId}/conferences/{conferenceId}/recordings/{recordingId}"},
	{"downloadConferenceRecording", "GET", "/accounts/{accountId}/conferences/{conferenceId}/recordings/{recordingId}/media"},
	{"listAccountCallRecordings", "GET", "/accounts/{accountId}/recordings"},
	{"updateCallRecordingState", "PUT", "/accounts/{accountId}/calls/{callId}/recording"},
	{"listCallRecordings", "GET", "/accounts/{accountId}/calls/{callId}/recordings"},
	{"getCallRecording", "GET", "/accounts/{accountId}/calls/{callId}/recordings/{recordingId}"},
	{"deleteRecording", "DELETE", "/accounts/{accountId}/calls/{callId}/recordings/{recordingId}"},
	{"downloadCallRecording", "GET", "/accounts/{accountId}/calls/{callId}/recordings/{recordingId}/media"},
	{"deleteRecordingMedia", "DELETE", "/accounts/{accountId}/calls/{callId}/recordings/{recordingId}/media"},
	{"getRecordingTranscription", "GET", "/accounts/{accountId}/calls/{callId}/recordings/{recordingId}/transcription"},
	{"transcribeCallRecording", "POST", "/accounts/{accountId}/calls/{callId}/recordings/{recordingId}/transcription"},
	{"deleteRecordingTranscription", "DELETE", "/accounts/{accountId}/calls/{callId}/recordings/{recordingId}/transcription"},
	{"getStatistics", "GET", "/accounts/{accountId}/statistics"},
	{"listRealTimeTranscriptions", "GET", "/accounts/{accountId}/calls/{callId}/transcriptions"},
	{"getRealTimeTranscription", "GET", "/accounts/{accountId}/calls/{callId}/transcriptions/{transcriptionId}"},
	{"deleteRealTimeTranscription", "DELETE", "/accounts/{accountId}/calls/{callId}/transcriptions/{transcriptionId}"},
}

// notImplemented answers 501, naming the operation, for each of ops no
// route serves, after the account's credentials. New calls it after every
// route.
func (h *Handler) notImplemented(ops []operation) {
	for _, op := range ops {
		pattern := op.Method + " /api/v2" + op.Path
		if h.routed[pattern] {
			continue
		}
		body := voiceAPIError{Type: "not-implemented", ID: new(""),
			Description: fmt.Sprintf("voicehook does not implement %s (%s %s)", op.ID, op.Method, op.Path)}
		h.route(pattern, func(w http.ResponseWriter, r *http.Request) error {
			writeJSON(w, http.StatusNotImplemented, body)
			return nil
		})
	}
}

// unknownUnderAccount answers a path under an account that is no
// operation with 404, after the account's credentials.
func (h *Handler) unknownUnderAccount() {
	h.mux.HandleFunc(accountPath, h.wrap(h.forAccount(func(w http.ResponseWriter, r *http.Request) error {
		writeUnknownPath(w, r)
		return nil
	})))
}
