// Package console is voicehook's web console: the page at / and the JSON
// and server-sent-events API under /console/api it reads. It shows every
// call, live, and for one call a ladder of what the phone did, what the
// engine ran and sent, and what the app answered; it replays webhooks,
// places calls and drives simulated phones.
//
// The page is plain HTML, CSS and JavaScript embedded in the binary: no
// build step, no CDN.
package console

import (
	"bytes"
	"context"
	"crypto/subtle"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/voicehook/voicehook/bxml"
	"github.com/voicehook/voicehook/callback"
	"github.com/voicehook/voicehook/internal/config"
	"github.com/voicehook/voicehook/internal/engine"
	"github.com/voicehook/voicehook/internal/redact"
)

//go:embed static
var static embed.FS

// Config is what the console needs.
type Config struct {
	Engine   *engine.Engine
	Accounts *config.Directory
	// API is the REST API handler: calls placed from the page go through
	// it, with the account's credentials, so they are checked as any
	// createCall is.
	API http.Handler
	// BaseURL is the server's base URL, "http://127.0.0.1:8080".
	BaseURL string
	// Phones lists the simulated numbers and what they do.
	Phones func() [][2]string
	// RequireAuth asks for an account's Basic credentials (the server
	// listens beyond loopback).
	RequireAuth bool
	// Client makes replayed webhook requests; default a client with a 15 s
	// timeout that does not follow redirects.
	Client  *http.Client
	Version string
	Logger  *slog.Logger
}

// Console serves the console.
type Console struct {
	cfg Config
	hub *hub
	mux *http.ServeMux
}

// New returns a console; Close stops its live streams.
func New(cfg Config) *Console {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: 15 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	c := &Console{cfg: cfg, mux: http.NewServeMux()}
	c.hub = newHub(c.row)
	files, _ := fs.Sub(static, "static")
	assets := http.StripPrefix("/console/", http.FileServerFS(files))
	c.mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-cache")
		http.ServeFileFS(w, r, files, "index.html")
	})
	c.mux.HandleFunc("GET /console/", func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/console/api/") {
			writeJSON(w, http.StatusNotFound, map[string]string{"description": "No console API at GET " + r.URL.Path})
			return
		}
		w.Header().Set("Cache-Control", "no-cache")
		assets.ServeHTTP(w, r)
	})
	c.mux.HandleFunc("GET /console/api/info", c.wrap(c.info))
	c.mux.HandleFunc("GET /console/api/calls", c.wrap(c.listCalls))
	c.mux.HandleFunc("POST /console/api/calls", c.wrap(c.placeCall))
	c.mux.HandleFunc("GET /console/api/calls/{callId}", c.wrap(c.callDetail))
	c.mux.HandleFunc("POST /console/api/calls/{callId}/replay", c.wrap(c.replay))
	c.mux.HandleFunc("GET /console/api/calls/{callId}/recordings/{recordingId}/media", c.wrap(c.media))
	c.mux.HandleFunc("GET /console/api/stream", c.stream)
	for _, action := range []string{"dtmf", "hangup", "speech"} {
		c.mux.HandleFunc("POST /console/api/calls/{callId}/"+action, c.farEnd(action))
	}
	return c
}

// Handler serves / and /console/.
func (c *Console) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c.cfg.RequireAuth {
			a := c.authorized(r)
			if a == nil {
				w.Header().Set("WWW-Authenticate", `Basic realm="voicehook console", charset="UTF-8"`)
				writeJSON(w, http.StatusUnauthorized, map[string]string{"description": "The console needs an account's username and password"})
				return
			}
			// Signed in, one sees one's own account only.
			r = r.WithContext(context.WithValue(r.Context(), scopeKey{}, a))
		}
		c.mux.ServeHTTP(w, r)
	})
}

// Changed tells the console a call changed. It never blocks.
func (c *Console) Changed(callID string) { c.hub.changed(callID) }

// Close ends the live streams.
func (c *Console) Close() { c.hub.close() }

// authorized returns the account whose credentials r carries, compared in
// constant time, or nil.
func (c *Console) authorized(r *http.Request) *config.Account {
	user, pass, ok := r.BasicAuth()
	if !ok {
		return nil
	}
	var found *config.Account
	for _, a := range c.cfg.Accounts.Accounts {
		u := subtle.ConstantTimeCompare([]byte(user), []byte(a.Username))
		p := subtle.ConstantTimeCompare([]byte(pass), []byte(a.Password))
		if u&p == 1 && found == nil {
			found = a
		}
	}
	return found
}

// scopeKey keys the signed-in account in a request's context.
type scopeKey struct{}

// accounts are the accounts a request may see: the signed-in one, or on
// loopback every one.
func (c *Console) accounts(ctx context.Context) []*config.Account {
	if a, ok := ctx.Value(scopeKey{}).(*config.Account); ok {
		return []*config.Account{a}
	}
	return c.cfg.Accounts.Accounts
}

// scope is the signed-in account's id, "" on loopback.
func scope(ctx context.Context) string {
	if a, ok := ctx.Value(scopeKey{}).(*config.Account); ok {
		return a.ID
	}
	return ""
}

// apiError is an error with its HTTP status.
type apiError struct {
	status int
	msg    string
}

func (e *apiError) Error() string { return e.msg }

func (c *Console) wrap(h func(http.ResponseWriter, *http.Request) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		err := h(w, r)
		if err == nil {
			return
		}
		var ae *apiError
		switch {
		case errors.As(err, &ae):
			writeJSON(w, ae.status, map[string]string{"description": redact.Text(ae.msg)})
		case engine.ErrorCode(err) == engine.ENotFound:
			writeJSON(w, http.StatusNotFound, map[string]string{"description": redact.Text(err.Error())})
		default:
			c.cfg.Logger.Error("console", "path", r.URL.Path, "err", err)
			writeJSON(w, http.StatusInternalServerError, map[string]string{"description": "Internal error: " + redact.Text(err.Error())})
		}
	}
}

// writeJSON writes v as the JSON body of the response. The body is always
// valid JSON: invalid UTF-8 (a path or message echoing the request's
// bytes) becomes U+FFFD, and a value that cannot be encoded at all is a
// 500 saying so.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v, json.Deterministic(true), jsontext.AllowInvalidUTF8(true))
	if err != nil {
		status = http.StatusInternalServerError
		b, _ = json.Marshal(map[string]string{"description": "The response could not be encoded as JSON"})
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(b)
}

// info is GET /console/api/info.
func (c *Console) info(w http.ResponseWriter, r *http.Request) error {
	var accounts []string
	for _, a := range c.accounts(r.Context()) {
		accounts = append(accounts, a.ID)
	}
	phones := [][2]string{}
	if c.cfg.Phones != nil {
		phones = append(phones, c.cfg.Phones()...)
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"version": c.cfg.Version, "accounts": accounts, "phones": phones,
		"demoAnswerUrl": c.cfg.BaseURL + "/demo/answer", "demoDisconnectUrl": c.cfg.BaseURL + "/demo/disconnect",
	})
	return nil
}

// Row is a call as the list shows it.
type Row struct {
	CallID          string   `json:"callId"`
	AccountID       string   `json:"accountId"`
	ParentCallID    *string  `json:"parentCallId"`
	Direction       string   `json:"direction"`
	From            string   `json:"from"`
	To              string   `json:"to"`
	State           string   `json:"state"`
	Cause           string   `json:"cause"`
	ErrorMessage    string   `json:"errorMessage"`
	StartTime       *string  `json:"startTime"`
	AnswerTime      *string  `json:"answerTime"`
	EndTime         *string  `json:"endTime"`
	DurationSeconds *float64 `json:"durationSeconds"`
	Tag             *string  `json:"tag"`
}

func rowOf(call *engine.Call) Row {
	r := Row{CallID: call.CallID, AccountID: call.AccountID, Direction: string(call.Direction), From: call.From, To: call.To,
		State: string(call.State), Cause: string(call.DisconnectCause), ErrorMessage: redact.Text(call.ErrorMessage), Tag: call.Tag,
		StartTime: timeOrNil(call.StartTime), AnswerTime: timeOrNil(call.AnswerTime), EndTime: timeOrNil(call.EndTime)}
	if call.ParentCallID != "" {
		r.ParentCallID = &call.ParentCallID
	}
	if !call.AnswerTime.IsZero() && !call.EndTime.IsZero() {
		d := call.EndTime.Sub(call.AnswerTime).Seconds()
		r.DurationSeconds = &d
	}
	return r
}

func timeOrNil(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := callback.TimeOf(t).String()
	return &s
}

// row finds a call in any account, for the live stream.
func (c *Console) row(ctx context.Context, callID string) (Row, bool) {
	call, err := c.findCall(ctx, callID)
	if err != nil {
		return Row{}, false
	}
	return rowOf(call), true
}

// findCall finds a call in the accounts the request may see.
func (c *Console) findCall(ctx context.Context, callID string) (*engine.Call, error) {
	for _, a := range c.accounts(ctx) {
		call, err := c.cfg.Engine.GetCall(ctx, a.ID, callID)
		if err == nil {
			return call, nil
		}
		if engine.ErrorCode(err) != engine.ENotFound {
			return nil, err
		}
	}
	return nil, &apiError{http.StatusNotFound, fmt.Sprintf("Call %s not found", callID)}
}

// listCalls is GET /console/api/calls: newest first, filtered, 50 a page.
func (c *Console) listCalls(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	f := engine.CallFilter{AccountID: scope(r.Context()), Newest: true, Number: strings.TrimSpace(q.Get("number")), After: q.Get("before"), Limit: 50}
	if s := q.Get("state"); s != "" {
		switch st := engine.State(s); st {
		case engine.StateQueued, engine.StateInitiated, engine.StateAnswered, engine.StateDisconnected:
			f.State = st
		default:
			return &apiError{http.StatusBadRequest, fmt.Sprintf("Invalid state %q: want queued, initiated, answered or disconnected", s)}
		}
	}
	if s := q.Get("cause"); s != "" {
		if !callback.Cause(s).Known() {
			return &apiError{http.StatusBadRequest, fmt.Sprintf("Invalid cause %q", s)}
		}
		f.DisconnectCause = callback.Cause(s)
	}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 1000 {
			return &apiError{http.StatusBadRequest, fmt.Sprintf("Invalid limit %q: want 1 to 1000", s)}
		}
		f.Limit = n
	}
	// One more than a page says whether there is a next one.
	want := f.Limit
	f.Limit++
	calls, err := c.cfg.Engine.ListCalls(r.Context(), f)
	if errors.Is(err, engine.ErrNotFound) {
		return &apiError{http.StatusBadRequest, fmt.Sprintf("Invalid before %q: no such call", f.After)}
	}
	if err != nil {
		return err
	}
	var next *string
	if len(calls) > want {
		calls = calls[:want]
		next = &calls[want-1].CallID
	}
	rows := make([]Row, 0, len(calls))
	for _, call := range calls {
		rows = append(rows, rowOf(call))
	}
	writeJSON(w, http.StatusOK, map[string]any{"calls": rows, "next": next})
	return nil
}

// placeCall is POST /console/api/calls: createCall in the first account,
// through the REST API.
func (c *Console) placeCall(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		To, From, AnswerURL, DisconnectURL string
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 64<<10))
	if err != nil {
		return &apiError{http.StatusRequestEntityTooLarge, "The request body is too large"}
	}
	if err := json.Unmarshal(body, &req, json.MatchCaseInsensitiveNames(true)); err != nil {
		return &apiError{http.StatusBadRequest, "Invalid JSON: " + err.Error()}
	}
	account := c.accounts(r.Context())[0]
	create := map[string]any{"to": req.To, "from": req.From, "answerUrl": req.AnswerURL}
	if req.DisconnectURL != "" {
		create["disconnectUrl"] = req.DisconnectURL
	}
	appID := config.DevApplicationID
	if len(account.Applications) > 0 {
		appID = account.Applications[0].ID
	}
	create["applicationId"] = appID
	b, _ := json.Marshal(create)
	in := httptest.NewRequestWithContext(r.Context(), "POST", "/api/v2/accounts/"+account.ID+"/calls", bytes.NewReader(b))
	in.Header.Set("Content-Type", "application/json")
	in.SetBasicAuth(account.Username, account.Password)
	rec := httptest.NewRecorder()
	c.cfg.API.ServeHTTP(rec, in)
	w.Header().Set("Content-Type", rec.Header().Get("Content-Type"))
	w.WriteHeader(rec.Code)
	w.Write(rec.Body.Bytes())
	return nil
}

// farEnd is POST /console/api/calls/{callId}/{dtmf,hangup,speech}: the
// page's phone controls, passed to /sim/v1 with the signed-in account's
// credentials, so they are checked as any /sim/v1 request is.
func (c *Console) farEnd(action string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		in := r.Clone(r.Context())
		in.URL.Path = "/sim/v1/calls/" + r.PathValue("callId") + "/" + action
		in.URL.RawPath = ""
		in.Header.Del("Authorization")
		if a, ok := r.Context().Value(scopeKey{}).(*config.Account); ok {
			in.SetBasicAuth(a.Username, a.Password)
		}
		c.cfg.API.ServeHTTP(w, in)
	}
}

// Entry is a history entry as the call page shows it.
type Entry struct {
	CallID  string         `json:"callId"`
	Seq     int            `json:"seq"`
	Time    string         `json:"time"`
	Kind    string         `json:"kind"`
	Summary string         `json:"summary"`
	Detail  jsontext.Value `json:"detail"`
	// Webhook is set on webhook entries: what was sent where.
	Webhook *webhookInfo `json:"webhook,omitempty"`
	// BXMLError is set on an attempt whose reply was not valid BXML.
	BXMLError *bxmlError `json:"bxmlError,omitempty"`
}

type webhookInfo struct {
	EventType string `json:"eventType"`
	Method    string `json:"method"`
	URL       string `json:"url"`
}

type bxmlError struct {
	Message string `json:"message"`
	Line    int    `json:"line"`
	Column  int    `json:"column"`
}

// parseWebhookSummary reads "answer → POST http://app/answer".
func parseWebhookSummary(s string) (*webhookInfo, bool) {
	typ, rest, ok := strings.Cut(s, " → ")
	if !ok {
		return nil, false
	}
	method, u, ok := strings.Cut(rest, " ")
	if !ok {
		return nil, false
	}
	return &webhookInfo{EventType: typ, Method: method, URL: u}, true
}

// entries describes a call's history for the page. The engine stores
// entries with URL passwords hidden; older stores may not have, so they are
// hidden again here.
func entries(callID string, hist []engine.HistoryEntry) []Entry {
	out := make([]Entry, 0, len(hist))
	event := ""
	for i, h := range hist {
		h.Summary, h.Detail = redact.Text(h.Summary), redact.Bytes(h.Detail)
		e := Entry{CallID: callID, Seq: i + 1, Time: callback.TimeOf(h.Time).String(), Kind: h.Kind, Summary: h.Summary}
		if jsontext.Value(h.Detail).IsValid() {
			e.Detail = h.Detail
		} else {
			e.Detail = jsontext.Value("null")
		}
		switch h.Kind {
		case "webhook":
			if wi, ok := parseWebhookSummary(h.Summary); ok {
				e.Webhook, event = wi, wi.EventType
			}
		case "attempt":
			var d struct {
				Status int     `json:"status"`
				Reply  *string `json:"reply"`
			}
			// A failure's body is what the app said went wrong, not BXML.
			if json.Unmarshal(h.Detail, &d) == nil && d.Reply != nil && d.Status >= 200 && d.Status < 300 {
				e.BXMLError = checkReply([]byte(*d.Reply), event)
			}
		}
		out = append(out, e)
	}
	return out
}

// checkReply parses a reply to an event as the engine would, and reports
// the first problem.
func checkReply(reply []byte, event string) *bxmlError {
	if len(bytes.TrimSpace(reply)) == 0 {
		return nil
	}
	ctx := bxml.CallContext
	switch {
	case strings.HasPrefix(event, "conference"):
		ctx = bxml.ConferenceContext
	case event == string(callback.EventTransferAnswer):
		ctx = bxml.TransferAnswerContext
	}
	_, err := bxml.Parse(reply, ctx)
	if err == nil {
		return nil
	}
	out := &bxmlError{Message: redact.Text(err.Error())}
	var list bxml.ErrorList
	var one *bxml.Error
	switch {
	case errors.As(err, &list) && len(list) > 0:
		out.Line, out.Column = list[0].Line, list[0].Column
	case errors.As(err, &one):
		out.Line, out.Column = one.Line, one.Column
	}
	return out
}

// callDetail is GET /console/api/calls/{callId}: the call, its legs, their
// merged history and the call's recordings.
func (c *Console) callDetail(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	call, err := c.findCall(ctx, r.PathValue("callId"))
	if err != nil {
		return err
	}
	hist, err := c.cfg.Engine.History(ctx, call.AccountID, call.CallID)
	if err != nil {
		return err
	}
	legs, err := c.legs(ctx, call, hist)
	if err != nil {
		return err
	}
	all := entries(call.CallID, hist)
	legRows := make([]Row, 0, len(legs))
	var recs []*engine.Recording
	transcriptions := []map[string]any{}
	for _, leg := range append([]*engine.Call{call}, legs...) {
		if leg != call {
			legHist, err := c.cfg.Engine.History(ctx, leg.AccountID, leg.CallID)
			if err != nil {
				return err
			}
			all = append(all, entries(leg.CallID, legHist)...)
			legRows = append(legRows, rowOf(leg))
		}
		more, err := c.cfg.Engine.ListRecordings(ctx, engine.RecordingFilter{AccountID: leg.AccountID, CallID: leg.CallID})
		if err != nil && engine.ErrorCode(err) != engine.ENotFound {
			return err
		}
		recs = append(recs, more...)
		live, err := c.cfg.Engine.ListLiveTranscriptions(ctx, leg.AccountID, leg.CallID)
		if err != nil && engine.ErrorCode(err) != engine.ENotFound {
			return err
		}
		for _, t := range live {
			transcriptions = append(transcriptions, transcriptionOf(t))
		}
	}
	sortByTime(all)
	recordings := make([]map[string]any, 0, len(recs))
	for _, rec := range recs {
		m := map[string]any{"recordingId": rec.RecordingID, "callId": rec.CallID, "durationSeconds": rec.Duration.Seconds(),
			"channels": rec.Channels, "status": rec.Status, "transcription": nil,
			"mediaUrl": "/console/api/calls/" + url.PathEscape(rec.CallID) + "/recordings/" + url.PathEscape(rec.RecordingID) + "/media"}
		if rec.MediaDeleted {
			m["mediaUrl"] = nil
		}
		if t := rec.Transcription; t != nil {
			m["transcription"] = map[string]any{"status": t.Status, "texts": t.Texts}
		}
		recordings = append(recordings, m)
	}
	writeJSON(w, http.StatusOK, map[string]any{"call": rowOf(call), "legs": legRows, "entries": all, "recordings": recordings,
		"transcriptions": transcriptions})
	return nil
}

// transcriptionOf is a real-time transcription as the call page shows it:
// what was said on each track, utterance by utterance, with when.
func transcriptionOf(t *engine.LiveTranscription) map[string]any {
	utterances := make([]map[string]any, 0, len(t.Transcripts))
	for _, u := range t.Transcripts {
		if u.Text == "" && u.Err == "" {
			continue
		}
		utterances = append(utterances, map[string]any{"track": u.Track, "text": u.Text, "error": u.Err,
			"startSeconds": u.Start.Seconds(), "endSeconds": u.End.Seconds(), "confidence": u.Confidence})
	}
	return map[string]any{"transcriptionId": t.ID, "name": t.Name, "callId": t.CallID, "tracks": t.Tracks, "utterances": utterances}
}

// legs are the calls that shared this one's media: its transfer B-legs,
// the call it was bridged with, and the other members of its conferences,
// as its history (hist) tells.
func (c *Console) legs(ctx context.Context, call *engine.Call, hist []engine.HistoryEntry) ([]*engine.Call, error) {
	legs, err := c.cfg.Engine.ListCalls(ctx, engine.CallFilter{AccountID: call.AccountID, ParentCallID: call.CallID})
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{call.CallID: true}
	for _, l := range legs {
		seen[l.CallID] = true
	}
	add := func(id string) {
		if seen[id] {
			return
		}
		seen[id] = true
		if other, err := c.cfg.Engine.GetCall(ctx, call.AccountID, id); err == nil {
			legs = append(legs, other)
		}
	}
	if call.ParentCallID != "" {
		add(call.ParentCallID)
	}
	for _, h := range hist {
		if m := bridgedWith.FindStringSubmatch(h.Summary); m != nil {
			add(m[1])
		}
		if m := inConference.FindStringSubmatch(h.Summary); m != nil {
			if conf, err := c.cfg.Engine.GetConference(ctx, call.AccountID, m[1]); err == nil {
				for _, id := range conf.Joined {
					add(id)
				}
			}
		}
	}
	return legs, nil
}

// The history's words for a bridge and a conference joined.
var (
	bridgedWith  = regexp.MustCompile(`^(?:bridged|bridging) with (c-[0-9a-f-]+)$`)
	inConference = regexp.MustCompile(`^in conference .* \(([^()]+)\)$`)
)

// sortByTime orders entries by time, keeping each call's own order.
func sortByTime(es []Entry) {
	// Times are fixed-width RFC 3339 in UTC: they sort as strings.
	slices.SortStableFunc(es, func(a, b Entry) int { return strings.Compare(a.Time, b.Time) })
}

// media is GET /console/api/calls/{callId}/recordings/{recordingId}/media.
func (c *Console) media(w http.ResponseWriter, r *http.Request) error {
	call, err := c.findCall(r.Context(), r.PathValue("callId"))
	if err != nil {
		return err
	}
	rec, f, err := c.cfg.Engine.RecordingMedia(r.Context(), call.AccountID, r.PathValue("recordingId"))
	if err != nil {
		return err
	}
	defer f.Close()
	if rec.CallID != call.CallID {
		return &apiError{http.StatusNotFound, fmt.Sprintf("Recording %s not found on call %s", rec.RecordingID, call.CallID)}
	}
	w.Header().Set("Content-Type", rec.MediaType())
	http.ServeContent(w, r, rec.FileName(), rec.EndTime, f)
	return nil
}
