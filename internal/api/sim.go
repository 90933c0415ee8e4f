package api

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/voicehook/voicehook/callback"
	"github.com/voicehook/voicehook/internal/engine"
	"github.com/voicehook/voicehook/internal/phone/sim"
	"github.com/voicehook/voicehook/internal/redact"
)

// The /sim/v1 API drives the far end of simulated calls and shows what
// happened. On loopback it is open. Beyond loopback (Config.RequireAuth)
// every request needs an account's Basic credentials and acts on that
// account's calls only: another account's call is 403, and so is an
// inbound call to a number another account's application answers.
// Phones scripted through /sim/v1 beyond loopback are the account's: a
// script set by PUT applies to that account's calls only (the calls it
// places to the number, and the inbound calls the number places to it),
// and DELETE removes only the account's own. Other accounts' calls get the
// script they set themselves, or the server's (--phones, magic numbers).
// On loopback a script set by PUT applies to every call.

// simCall checks the call in the path. It returns the call's account, ""
// when no account has the call. Signed in (beyond loopback), a call of
// another account is 403 and a call of none is 404.
func (h *Handler) simCall(r *http.Request) (string, error) {
	id := r.PathValue("callId")
	owner := ""
	for _, a := range h.cfg.Accounts.Accounts {
		_, err := h.cfg.Engine.GetCall(r.Context(), a.ID, id)
		if err == nil {
			owner = a.ID
			break
		}
		if engine.ErrorCode(err) != engine.ENotFound {
			return "", err
		}
	}
	if a := signedIn(r); a != nil {
		// Signed in, a request may act only on a call the account has.
		if owner == "" {
			return "", &engine.Error{Code: engine.ENotFound, Msg: fmt.Sprintf("Call %s not found", id)}
		}
		if owner != a.ID {
			return "", &apiError{http.StatusForbidden, "authorization-error",
				fmt.Sprintf("Access is denied: call %s is not a call of account %s", id, a.ID)}
		}
	}
	return owner, nil
}

// simFoundCall is simCall for a call that must exist: none is 404.
func (h *Handler) simFoundCall(r *http.Request) (string, error) {
	owner, err := h.simCall(r)
	if err == nil && owner == "" {
		err = &engine.Error{Code: engine.ENotFound, Msg: fmt.Sprintf("Call %s not found", r.PathValue("callId"))}
	}
	return owner, err
}

type pressRequest struct {
	Digits string `json:"digits"`
}

func (h *Handler) simPress(w http.ResponseWriter, r *http.Request) error {
	var req pressRequest
	if err := readJSON(r, &req); err != nil {
		return err
	}
	if req.Digits == "" {
		return validation("Missing required field: digits")
	}
	if strings.Trim(req.Digits, "0123456789*#ABCDabcd") != "" {
		return validation(fmt.Sprintf("Invalid digits %q: want 0-9, *, # and A-D", req.Digits))
	}
	if _, err := h.simCall(r); err != nil {
		return err
	}
	if err := h.cfg.Sim.Press(r.PathValue("callId"), req.Digits); err != nil {
		return simError(err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handler) simHangup(w http.ResponseWriter, r *http.Request) error {
	if _, err := h.simCall(r); err != nil {
		return err
	}
	if err := h.cfg.Sim.HangUp(r.PathValue("callId")); err != nil {
		return simError(err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// speechRequest is the body of POST /sim/v1/calls/{callId}/speech.
type speechRequest struct {
	Text            string   `json:"text"`
	DurationSeconds *float64 `json:"durationSeconds"`
}

// simSpeech makes the far end say something now: a recording running
// hears it.
func (h *Handler) simSpeech(w http.ResponseWriter, r *http.Request) error {
	var req speechRequest
	if err := readJSON(r, &req); err != nil {
		return err
	}
	if strings.TrimSpace(req.Text) == "" && req.DurationSeconds == nil {
		return validation("Give text, durationSeconds or both: what the far end says, and for how long")
	}
	length, err := seconds("durationSeconds", req.DurationSeconds, 0.1, 3600, 0)
	if err != nil {
		return err
	}
	if _, err := h.simCall(r); err != nil {
		return err
	}
	if err := h.cfg.Sim.Speak(r.PathValue("callId"), req.Text, length); err != nil {
		return simError(err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// voicemailMessage is one message of GET /sim/v1/calls/{callId}/voicemail.
type voicemailMessage struct {
	Text      string  `json:"text"`
	AtSeconds float64 `json:"atSeconds"`
	AfterBeep bool    `json:"afterBeep"`
}

// simVoicemail shows what the call played to an answering machine: each
// thing played, when (from the answer), and whether it started after the
// beep, or was cut into by the greeting.
func (h *Handler) simVoicemail(w http.ResponseWriter, r *http.Request) error {
	if _, err := h.simFoundCall(r); err != nil {
		return err
	}
	out := struct {
		Messages []voicemailMessage `json:"messages"`
	}{Messages: []voicemailMessage{}}
	for _, m := range h.cfg.Sim.Heard(r.PathValue("callId")) {
		out.Messages = append(out.Messages, voicemailMessage{Text: m.Text, AtSeconds: m.At.Seconds(), AfterBeep: m.AfterBeep})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func simError(err error) error {
	if errors.Is(err, sim.ErrNoCall) {
		return &apiError{http.StatusNotFound, "validation", err.Error()}
	}
	return &apiError{http.StatusConflict, "validation", err.Error()}
}

// historyEntry is one line of GET /sim/v1/calls/{callId}/events.
type historyEntry struct {
	Time    string         `json:"time"`
	Kind    string         `json:"kind"`
	Summary string         `json:"summary"`
	Detail  jsontext.Value `json:"detail,omitempty"`
}

func (h *Handler) simEvents(w http.ResponseWriter, r *http.Request) error {
	owner, err := h.simFoundCall(r)
	if err != nil {
		return err
	}
	entries, err := h.cfg.Engine.History(r.Context(), owner, r.PathValue("callId"))
	if err != nil {
		return err
	}
	out := make([]historyEntry, 0, len(entries))
	for _, e := range entries {
		// The engine stores entries redacted; older stores may not have.
		he := historyEntry{Time: callback.TimeOf(e.Time).String(), Kind: e.Kind, Summary: redact.Text(e.Summary)}
		if d := redact.Bytes(e.Detail); jsontext.Value(d).IsValid() {
			he.Detail = d
		}
		out = append(out, he)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// inboundRequest is the body of POST /sim/v1/inbound: a simulated phone
// calls one of the account's numbers.
type inboundRequest struct {
	From       string               `json:"from"`
	To         string               `json:"to"`
	SIPHeaders map[string]string    `json:"sipHeaders"`
	Diversion  callback.Diversion   `json:"diversion"`
	StirShaken *callback.StirShaken `json:"stirShaken"`
	UUI        string               `json:"uui"`
	// InitiateURL and StatusURL replace the application's URLs for this
	// call: for an app under test served on a port of its own.
	InitiateURL string `json:"initiateUrl"`
	StatusURL   string `json:"statusUrl"`
}

type inboundResponse struct {
	CallID  string `json:"callId"`
	CallURL string `json:"callUrl"`
}

func (h *Handler) simInbound(w http.ResponseWriter, r *http.Request) error {
	var req inboundRequest
	if err := readJSON(r, &req); err != nil {
		return err
	}
	if missing := missingFields(map[string]*string{"from": &req.From, "to": &req.To}, "from", "to"); missing != "" {
		return validation("Missing required field(s): " + missing)
	}
	if callback.ValidateCallerID(req.From) != nil && callback.ValidateSIPURI(req.From) != nil {
		return validation(fmt.Sprintf("Invalid from %q: want an E.164 number, a SIP URI or one of Private, Restricted, Anonymous, Unavailable", req.From))
	}
	for name, u := range map[string]string{"initiateUrl": req.InitiateURL, "statusUrl": req.StatusURL} {
		if p, err := url.Parse(u); u != "" && (err != nil || p.Host == "" || (p.Scheme != "http" && p.Scheme != "https")) {
			return validation(fmt.Sprintf("Invalid %s %q: want an absolute http or https URL", name, redact.URL(u)))
		}
	}
	in, err := h.cfg.Answerer(req.To)
	if a := signedIn(r); a != nil && in.AccountID != "" && in.AccountID != a.ID {
		return &apiError{http.StatusForbidden, "authorization-error",
			fmt.Sprintf("Access is denied: no application of account %s answers %s", a.ID, req.To)}
	}
	if req.InitiateURL != "" && in.AccountID != "" {
		in.Initiate = engine.Target{URL: req.InitiateURL, Method: "POST"}
		err = nil
	}
	if req.StatusURL != "" {
		in.StatusURL, in.StatusMethod = req.StatusURL, "POST"
	}
	if err != nil {
		return err
	}
	in.From = req.From
	in.Diversion, in.StirShaken, in.UUI = req.Diversion, req.StirShaken, req.UUI
	if in.SIPHeaders, err = sim.SIPHeaders(req.SIPHeaders); err != nil {
		return validation("Invalid " + err.Error())
	}
	c, err := h.cfg.Engine.InboundCall(r.Context(), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, inboundResponse{CallID: c.CallID, CallURL: h.callURL(c.AccountID, c.CallID)})
	return nil
}

// simSetPhone is PUT /sim/v1/phones/{number}: the phone behaves as the
// body, a script with the fields of a --phones file, from the next call
// on.
func (h *Handler) simSetPhone(w http.ResponseWriter, r *http.Request) error {
	number := r.PathValue("number")
	if callback.ValidateE164(number) != nil && callback.ValidateSIPURI(number) != nil &&
		callback.ValidateCallerID(number) != nil {
		return validation(fmt.Sprintf("Invalid phone %q: want an E.164 number or a SIP URI", number))
	}
	if err := requireType(r, "application/json"); err != nil {
		return err
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	body, err := readBody(r)
	if err != nil {
		return err
	}
	s, err := sim.LoadPhone(number, bytes.NewReader(body))
	if err != nil {
		return validation("Invalid script: " + err.Error())
	}
	h.cfg.Sim.SetScript(phoneAccount(r), number, s)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// phoneAccount is the account whose calls a phone script set through
// /sim/v1 applies to: the signed-in one, or "" (every account's) when
// /sim/v1 is open.
func phoneAccount(r *http.Request) string {
	if a := signedIn(r); a != nil {
		return a.ID
	}
	return ""
}

// simResetPhone is DELETE /sim/v1/phones/{number}: the script the
// caller's PUT gave the phone is removed, and the phone behaves for it as
// it did when the server started.
func (h *Handler) simResetPhone(w http.ResponseWriter, r *http.Request) error {
	h.cfg.Sim.ResetScript(phoneAccount(r), r.PathValue("number"))
	w.WriteHeader(http.StatusNoContent)
	return nil
}
