// Package api is voicehook's HTTP face: the Bandwidth-compatible REST API
// under /api/v2 and the simulator's control API under /sim/v1. It checks
// credentials and requests, turns JSON into engine calls and back, and maps
// engine errors to Bandwidth's status codes and error bodies. It holds no
// call state of its own.
//
// The Handler is safe for concurrent use.
package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"reflect"
	"strings"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/voicehook/voicehook/internal/config"
	"github.com/voicehook/voicehook/internal/engine"
	"github.com/voicehook/voicehook/internal/phone/sim"
)

// MaxBody is the largest request body accepted, 1 MB.
const MaxBody = 1 << 20

// Config is what the API needs.
type Config struct {
	Engine *engine.Engine
	// Sim is the simulated network, for /sim/v1; nil disables it.
	Sim *sim.Network
	// Accounts are the accounts, their credentials and applications.
	Accounts *config.Directory
	// BaseURL is the public base of the REST API, "http://host:port/api/v2".
	BaseURL string
	// Answerer returns the inbound call an application takes for a number
	// (everything but the caller and what the INVITE carries), or an error
	// saying why nothing answers it; nil disables /sim/v1/inbound. When the
	// only problem is a missing call-initiated URL, it returns the call
	// with the error, for a request that brings its own URL.
	Answerer func(to string) (engine.Inbound, error)
	// RequireAuth makes /sim/v1 ask for an account's Basic credentials and
	// act on that account's calls only: the server listens beyond
	// loopback. Without it (on loopback) /sim/v1 is open.
	RequireAuth bool
	Logger      *slog.Logger

	// Now is the clock OAuth2 tokens are issued and checked by; nil is
	// time.Now.
	Now func() time.Time
	// TokenLifetime is how long an OAuth2 token lasts; 0 is
	// DefaultTokenLifetime, an hour. Tests shorten it.
	TokenLifetime time.Duration
}

// Handler serves the API.
type Handler struct {
	cfg   Config
	mux   *http.ServeMux
	log   *slog.Logger
	paths map[string]bool // paths with a 405 handler
	// routed are the patterns of the /api/v2 handlers, so that an
	// operation none of them serves answers 501 (see notImplemented).
	routed map[string]bool
}

// New returns the API handler.
func New(cfg Config) *Handler {
	h := &Handler{cfg: cfg, mux: http.NewServeMux(), log: cfg.Logger, paths: map[string]bool{}, routed: map[string]bool{}}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	const calls = "/api/v2/accounts/{accountId}/calls"
	h.route("POST "+calls, h.createCall)
	h.route("GET "+calls, h.listCalls)
	h.route("GET "+calls+"/{callId}", h.getCall)
	h.route("POST "+calls+"/{callId}", h.updateCall)
	h.route("PUT "+calls+"/{callId}/bxml", h.updateCallBXML)
	const recordings = calls + "/{callId}/recordings"
	h.route("PUT "+calls+"/{callId}/recording", h.updateRecordingState)
	h.route("GET /api/v2/accounts/{accountId}/recordings", h.listAccountRecordings)
	h.route("GET "+recordings, h.listCallRecordings)
	h.route("GET "+recordings+"/{recordingId}", h.getRecording)
	h.route("DELETE "+recordings+"/{recordingId}", h.onCallRecording(cfg.Engine.DeleteRecording))
	h.route("GET "+recordings+"/{recordingId}/media", h.downloadRecording)
	h.route("DELETE "+recordings+"/{recordingId}/media", h.onCallRecording(cfg.Engine.DeleteRecordingMedia))
	h.route("GET "+recordings+"/{recordingId}/transcription", h.getTranscription)
	h.route("POST "+recordings+"/{recordingId}/transcription", h.transcribeRecording)
	h.route("DELETE "+recordings+"/{recordingId}/transcription", h.onCallRecording(cfg.Engine.DeleteTranscription))
	const transcriptions = calls + "/{callId}/transcriptions"
	h.route("GET "+transcriptions, h.listLiveTranscriptions)
	h.route("GET "+transcriptions+"/{transcriptionId}", h.getLiveTranscription)
	h.route("DELETE "+transcriptions+"/{transcriptionId}", h.deleteLiveTranscription)
	const conferences = "/api/v2/accounts/{accountId}/conferences"
	h.route("GET "+conferences, h.listConferences)
	h.route("GET "+conferences+"/{conferenceId}", h.getConference)
	h.route("POST "+conferences+"/{conferenceId}", h.updateConference)
	h.route("PUT "+conferences+"/{conferenceId}/bxml", h.updateConferenceBXML)
	h.route("GET "+conferences+"/{conferenceId}/members/{memberId}", h.getConferenceMember)
	h.route("PUT "+conferences+"/{conferenceId}/members/{memberId}", h.updateConferenceMember)
	h.route("GET "+conferences+"/{conferenceId}/recordings", h.listConferenceRecordings)
	h.route("GET "+conferences+"/{conferenceId}/recordings/{recordingId}", h.getConferenceRecording)
	h.route("GET "+conferences+"/{conferenceId}/recordings/{recordingId}/media", h.downloadConferenceRecording)
	h.route("GET /api/v2/accounts/{accountId}/statistics", h.getStatistics)
	if cfg.Sim != nil {
		h.simRoute("POST /sim/v1/calls/{callId}/dtmf", h.simPress)
		h.simRoute("POST /sim/v1/calls/{callId}/hangup", h.simHangup)
		h.simRoute("POST /sim/v1/calls/{callId}/speech", h.simSpeech)
		h.simRoute("GET /sim/v1/calls/{callId}/voicemail", h.simVoicemail)
		h.simRoute("GET /sim/v1/calls/{callId}/events", h.simEvents)
		h.simRoute("PUT /sim/v1/phones/{number}", h.simSetPhone)
		h.simRoute("DELETE /sim/v1/phones/{number}", h.simResetPhone)
		if cfg.Answerer != nil {
			h.simRoute("POST /sim/v1/inbound", h.simInbound)
		}
	}
	h.mux.HandleFunc(TokenPath, h.issueToken)
	h.notImplemented(voiceOperations)
	h.unknownUnderAccount()
	h.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { writeUnknownPath(w, r) })
	return h
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// route registers an /api/v2 handler behind authentication (Basic or an
// OAuth2 bearer token) and the account check.
func (h *Handler) route(pattern string, f handlerFunc) {
	h.routed[pattern] = true
	h.mux.HandleFunc(pattern, h.wrap(h.forAccount(f)))
	h.otherMethods(pattern)
}

// forAccount runs f for a request whose credentials are those of the
// account of its path: others get 401, another account's 403.
func (h *Handler) forAccount(f handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		account, err := h.authenticate(w, r)
		if err != nil {
			return err
		}
		if id := r.PathValue("accountId"); id != account.ID {
			return &apiError{http.StatusForbidden, "authorization-error",
				fmt.Sprintf("Access is denied: the credentials are for account %s, not %s", account.ID, id)}
		}
		return f(w, r.WithContext(context.WithValue(r.Context(), accountKey{}, account)))
	}
}

// otherMethods answers the path of pattern with 405, not 404, for the
// methods no handler takes; under an account, after its credentials.
func (h *Handler) otherMethods(pattern string) {
	path := pattern[strings.IndexByte(pattern, ' ')+1:]
	if h.paths[path] {
		return
	}
	h.paths[path] = true
	notAllowed := func(w http.ResponseWriter, r *http.Request) error {
		return &apiError{http.StatusMethodNotAllowed, "validation", "Method Not Allowed"}
	}
	if strings.HasPrefix(path, accountPath) {
		h.mux.HandleFunc(path, h.wrap(h.forAccount(notAllowed)))
		return
	}
	h.mux.HandleFunc(path, h.wrap(notAllowed))
}

// simRoute registers a /sim/v1 handler. With RequireAuth it needs an
// account's Basic credentials, and the request's context carries the
// account (see signedIn); otherwise it is open.
func (h *Handler) simRoute(pattern string, f handlerFunc) {
	h.mux.HandleFunc(pattern, h.wrap(func(w http.ResponseWriter, r *http.Request) error {
		if !h.cfg.RequireAuth {
			return f(w, r)
		}
		account, err := h.authenticate(w, r)
		if err != nil {
			return err
		}
		return f(w, r.WithContext(context.WithValue(r.Context(), accountKey{}, account)))
	}))
	h.otherMethods(pattern)
}

// signedIn returns the account a /sim/v1 request authenticated as, or nil
// when /sim/v1 is open.
func signedIn(r *http.Request) *config.Account {
	a, _ := r.Context().Value(accountKey{}).(*config.Account)
	return a
}

// wrap turns a handler that returns an error into an http.HandlerFunc.
func (h *Handler) wrap(f handlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, MaxBody)
		if err := f(w, r); err != nil {
			var ae *apiError
			if !errors.As(err, &ae) && engine.ErrorCode(err) == engine.EInternal {
				h.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
			}
			writeError(w, err)
		}
	}
}

// basic returns the account whose Basic credentials a request carries.
func (h *Handler) basic(r *http.Request) (*config.Account, error) {
	if r.Header.Get("Authorization") == "" {
		return nil, &apiError{http.StatusUnauthorized, "authentication-error", "The credentials provided were invalid"}
	}
	user, pass, ok := r.BasicAuth()
	if !ok {
		return nil, &apiError{http.StatusUnauthorized, "authentication-error", "Failed to decode basic authentication token"}
	}
	account, ok := h.cfg.Accounts.Authenticate(user, pass)
	if !ok {
		return nil, &apiError{http.StatusUnauthorized, "authentication-error", "The credentials provided were invalid"}
	}
	return account, nil
}

// accountKey keys the authenticated account in a request's context.
type accountKey struct{}

// account returns the account a request authenticated as.
func account(r *http.Request) *config.Account {
	return r.Context().Value(accountKey{}).(*config.Account)
}

// readJSON decodes a JSON request body strictly into v: the content type
// must be JSON, unknown members and wrong types are errors naming the field.
func readJSON(r *http.Request, v any) error {
	if err := requireType(r, "application/json"); err != nil {
		return err
	}
	body, err := readBody(r)
	if err != nil {
		return err
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		return validation("The request body is empty: want a JSON object")
	}
	err = json.Unmarshal(body, v, json.RejectUnknownMembers(true))
	if err == nil {
		return nil
	}
	var se *json.SemanticError
	if errors.As(err, &se) {
		field := strings.TrimPrefix(string(se.JSONPointer), "/")
		if errors.Is(se.Err, json.ErrUnknownName) {
			return validation(fmt.Sprintf("Unknown field %q", field))
		}
		if field == "" {
			return validation("The request body must be a JSON object")
		}
		return validation(fmt.Sprintf("Invalid %s: must be %s", field, jsonKindWanted(se)))
	}
	var syn *jsontext.SyntacticError
	if errors.As(err, &syn) {
		return validation(fmt.Sprintf("Malformed JSON at byte %d: %v", syn.ByteOffset, syn.Err))
	}
	return validation("Malformed JSON: " + err.Error())
}

// readBody reads a request's body: one larger than the route allows is
// 413, one that does not arrive in time (the server's body timeout) is 408.
func readBody(r *http.Request) ([]byte, error) {
	body, err := io.ReadAll(r.Body)
	if err == nil {
		return body, nil
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return nil, &apiError{http.StatusRequestEntityTooLarge, "validation", fmt.Sprintf("Request body is larger than %d bytes", mbe.Limit)}
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return nil, &apiError{http.StatusRequestTimeout, "request-timeout", "The request body did not arrive in time"}
	}
	return nil, validation("Could not read the request body: " + err.Error())
}

func jsonKindWanted(se *json.SemanticError) string {
	if se.GoType == nil {
		return "a valid value"
	}
	t := se.GoType
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int64:
		return "an integer"
	case reflect.Float64:
		return "a number"
	}
	return "a valid value"
}

// requireType answers 415 unless the request's content type is want.
func requireType(r *http.Request, want ...string) error {
	ct := r.Header.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if err == nil {
		for _, w := range want {
			if mt == w {
				return nil
			}
		}
	}
	if ct == "" {
		ct = "none"
	}
	return &apiError{http.StatusUnsupportedMediaType, "validation", fmt.Sprintf("Content type '%s' not supported", ct)}
}
