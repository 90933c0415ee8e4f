package api

import (
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/voicehook/voicehook/bxml"
	"github.com/voicehook/voicehook/callback"
	"github.com/voicehook/voicehook/internal/config"
	"github.com/voicehook/voicehook/internal/engine"
	"github.com/voicehook/voicehook/internal/redact"
)

// createCallRequest is the body of POST /calls (schema createCall). Every
// field is a pointer: absent and null are the same.
type createCallRequest struct {
	To                   *string                  `json:"to"`
	From                 *string                  `json:"from"`
	Privacy              *bool                    `json:"privacy"`
	DisplayName          *string                  `json:"displayName"`
	UUI                  *string                  `json:"uui"`
	ApplicationID        *string                  `json:"applicationId"`
	AnswerURL            *string                  `json:"answerUrl"`
	AnswerMethod         *string                  `json:"answerMethod"`
	Username             *string                  `json:"username"`
	Password             *string                  `json:"password"`
	AnswerFallbackURL    *string                  `json:"answerFallbackUrl"`
	AnswerFallbackMethod *string                  `json:"answerFallbackMethod"`
	FallbackUsername     *string                  `json:"fallbackUsername"`
	FallbackPassword     *string                  `json:"fallbackPassword"`
	DisconnectURL        *string                  `json:"disconnectUrl"`
	DisconnectMethod     *string                  `json:"disconnectMethod"`
	CallTimeout          *float64                 `json:"callTimeout"`
	CallbackTimeout      *float64                 `json:"callbackTimeout"`
	MachineDetection     *machineDetectionRequest `json:"machineDetection"`
	Priority             *int                     `json:"priority"`
	Tag                  *string                  `json:"tag"`
}

// createCallResponse is schema createCallResponse.
type createCallResponse struct {
	ApplicationID        string  `json:"applicationId"`
	AccountID            string  `json:"accountId"`
	CallID               string  `json:"callId"`
	To                   string  `json:"to"`
	From                 string  `json:"from"`
	EnqueuedTime         *string `json:"enqueuedTime,omitempty"`
	CallURL              string  `json:"callUrl"`
	CallTimeout          float64 `json:"callTimeout"`
	CallbackTimeout      float64 `json:"callbackTimeout"`
	Tag                  *string `json:"tag,omitempty"`
	AnswerMethod         string  `json:"answerMethod"`
	AnswerURL            string  `json:"answerUrl"`
	AnswerFallbackMethod *string `json:"answerFallbackMethod,omitempty"`
	AnswerFallbackURL    *string `json:"answerFallbackUrl,omitempty"`
	DisconnectMethod     string  `json:"disconnectMethod"`
	DisconnectURL        *string `json:"disconnectUrl,omitempty"`
	Username             *string `json:"username,omitempty"`
	Password             *string `json:"password,omitempty"`
	FallbackUsername     *string `json:"fallbackUsername,omitempty"`
	FallbackPassword     *string `json:"fallbackPassword,omitempty"`
	Priority             *int    `json:"priority,omitempty"`
}

// callState is schema callState, the answer to GET /calls/{callId}.
// Absent values are null, as Bandwidth sends them.
type callState struct {
	ApplicationID   string            `json:"applicationId"`
	AccountID       string            `json:"accountId"`
	CallID          string            `json:"callId"`
	ParentCallID    *string           `json:"parentCallId"`
	To              string            `json:"to"`
	From            string            `json:"from"`
	Direction       string            `json:"direction"`
	State           string            `json:"state"`
	StirShaken      map[string]string `json:"stirShaken"`
	Identity        *string           `json:"identity"`
	EnqueuedTime    *string           `json:"enqueuedTime"`
	StartTime       *string           `json:"startTime"`
	AnswerTime      *string           `json:"answerTime"`
	EndTime         *string           `json:"endTime"`
	DisconnectCause *string           `json:"disconnectCause"`
	ErrorMessage    *string           `json:"errorMessage"`
	ErrorID         *string           `json:"errorId"`
	LastUpdate      string            `json:"lastUpdate"`
}

func (h *Handler) createCall(w http.ResponseWriter, r *http.Request) error {
	var req createCallRequest
	if err := readJSON(r, &req); err != nil {
		return err
	}
	c, err := h.validateCreate(account(r), &req)
	if err != nil {
		return err
	}
	created, err := h.cfg.Engine.CreateCall(r.Context(), c)
	if err != nil {
		return err
	}
	callURL := h.callURL(created.AccountID, created.CallID)
	resp := createCallResponse{
		ApplicationID: created.ApplicationID, AccountID: created.AccountID, CallID: created.CallID,
		To: created.To, From: created.From, CallURL: callURL, EnqueuedTime: timeOrNil(created.EnqueuedTime),
		CallTimeout: created.CallTimeout.Seconds(), CallbackTimeout: created.CallbackTimeout.Seconds(),
		Tag: created.Tag, AnswerMethod: created.AnswerMethod, AnswerURL: redact.URL(created.AnswerURL),
		AnswerFallbackMethod: fallbackMethod(created, &req), AnswerFallbackURL: optional(redact.URL(created.AnswerFallbackURL)),
		DisconnectMethod: created.DisconnectMethod, DisconnectURL: optional(redact.URL(created.DisconnectURL)),
		Username: optional(created.Username), Password: masked(created.Password),
		FallbackUsername: optional(created.FallbackUsername), FallbackPassword: masked(created.FallbackPassword),
		Priority: &created.Priority,
	}
	w.Header().Set("Location", callURL)
	writeJSON(w, http.StatusCreated, resp)
	return nil
}

// missingFields names, in order, the fields that are absent or blank.
func missingFields(fields map[string]*string, order ...string) string {
	var missing []string
	for _, name := range order {
		if blank(fields[name]) {
			missing = append(missing, name)
		}
	}
	return strings.Join(missing, ", ")
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func masked(s string) *string {
	if s == "" {
		return nil
	}
	m := redact.Mask
	return &m
}

func (h *Handler) callURL(accountID, callID string) string {
	return fmt.Sprintf("%s/accounts/%s/calls/%s", h.cfg.BaseURL, accountID, callID)
}

// validateCreate applies the rules of createCall, with Bandwidth's error
// texts, and returns the call to create.
func (h *Handler) validateCreate(account *config.Account, req *createCallRequest) (engine.Call, error) {
	if missing := missingFields(map[string]*string{"from": req.From, "to": req.To, "answerUrl": req.AnswerURL, "applicationId": req.ApplicationID},
		"from", "to", "answerUrl", "applicationId"); missing != "" {
		return engine.Call{}, validation("Missing at least one required field. Required fields are [from, to, answerUrl, applicationId]; missing: " + missing)
	}
	c := engine.Call{
		AccountID: account.ID, ApplicationID: *req.ApplicationID, To: *req.To, From: *req.From,
		AnswerURL: *req.AnswerURL, Privacy: req.Privacy, Tag: req.Tag, Priority: 5,
	}
	if callback.ValidateE164(c.To) != nil && callback.ValidateSIPURI(c.To) != nil {
		return c, validation("Invalid to: must be an E164 telephone number or a SIP URI")
	}
	if err := callback.ValidateE164(c.From); err != nil {
		return c, validation("Invalid from: must be an E164 telephone number")
	}
	if err := checkFrom(account, c.From); err != nil {
		return c, err
	}
	_, known := account.Application(c.ApplicationID)
	if _, err := uuid.Parse(c.ApplicationID); err != nil || len(c.ApplicationID) != 36 || !known && !account.AnyApplication {
		return c, validation(fmt.Sprintf("Could not create call: Application id %s not found", c.ApplicationID))
	}
	urls := []struct {
		name string
		v    *string
		dst  *string
	}{
		{"answerUrl", req.AnswerURL, &c.AnswerURL},
		{"answerFallbackUrl", req.AnswerFallbackURL, &c.AnswerFallbackURL},
		{"disconnectUrl", req.DisconnectURL, &c.DisconnectURL},
	}
	for _, u := range urls {
		if u.v == nil {
			continue
		}
		if err := checkWebhookURL(u.name, *u.v); err != nil {
			return c, err
		}
		*u.dst = *u.v
	}
	methods := []struct {
		name string
		v    *string
		dst  *string
	}{
		{"answerUrl", req.AnswerMethod, &c.AnswerMethod},
		{"answerFallbackUrl", req.AnswerFallbackMethod, &c.AnswerFallbackMethod},
		{"disconnectUrl", req.DisconnectMethod, &c.DisconnectMethod},
	}
	for _, m := range methods {
		*m.dst = "POST"
		if m.v == nil {
			continue
		}
		if *m.v != "POST" && *m.v != "GET" {
			return c, validation(fmt.Sprintf("Invalid %s method. Supported methods: [POST, GET]", m.name))
		}
		*m.dst = *m.v
	}
	if c.AnswerFallbackURL == "" {
		c.AnswerFallbackMethod = ""
	}
	creds := []struct {
		name string
		v    *string
		dst  *string
	}{
		{"username", req.Username, &c.Username}, {"password", req.Password, &c.Password},
		{"fallbackUsername", req.FallbackUsername, &c.FallbackUsername}, {"fallbackPassword", req.FallbackPassword, &c.FallbackPassword},
	}
	for _, cr := range creds {
		if cr.v == nil {
			continue
		}
		if len(*cr.v) > 1024 {
			return c, validation(fmt.Sprintf("%s must be at most 1024 characters, but was %d", cr.name, len(*cr.v)))
		}
		*cr.dst = *cr.v
	}
	var err error
	if c.CallTimeout, err = seconds("callTimeout", req.CallTimeout, 1, 300, 30); err != nil {
		return c, err
	}
	if c.CallbackTimeout, err = seconds("callbackTimeout", req.CallbackTimeout, 1, 25, 15); err != nil {
		return c, err
	}
	if req.Priority != nil {
		if *req.Priority < 1 || *req.Priority > 5 {
			return c, validation(fmt.Sprintf("priority must be within the range [1, 5], but was %d", *req.Priority))
		}
		c.Priority = *req.Priority
	}
	if req.Tag != nil && len(*req.Tag) > 4096 {
		return c, validation(fmt.Sprintf("tag must be at most 4096 characters, but was %d", len(*req.Tag)))
	}
	if req.DisplayName != nil {
		d := *req.DisplayName
		if len(d) > 256 {
			return c, validation("displayName must be at most 256 characters")
		}
		if strings.ContainsFunc(d, func(r rune) bool { return r < ' ' || r == 0x7f }) {
			return c, validation("Invalid displayName: control characters are not allowed")
		}
		if req.Privacy != nil && *req.Privacy && !callback.IsCallerIDKeyword(d) {
			return c, validation("Invalid displayName: with privacy, it must be one of Restricted, Anonymous, Private, Unavailable")
		}
		c.DisplayName = d
	}
	if req.UUI != nil {
		if len(*req.UUI) > 350 {
			return c, validation("uui must be at most 350 characters")
		}
		for _, v := range strings.Split(*req.UUI, ",") {
			_, enc, ok := strings.Cut(v, ";encoding=")
			if !ok || (enc != "jwt" && enc != "base64" && enc != "hex") {
				return c, validation(fmt.Sprintf("Invalid uui %q: each value needs ;encoding=jwt, base64 or hex (RFC 7433)", v))
			}
		}
		c.UUI = *req.UUI
	}
	if req.MachineDetection != nil {
		md, err := req.MachineDetection.check()
		if err != nil {
			return c, err
		}
		c.MachineDetection = md
	}
	return c, nil
}

// machineDetectionRequest is schema machineDetectionConfiguration.
type machineDetectionRequest struct {
	Mode                      *string  `json:"mode"`
	DetectionTimeout          *float64 `json:"detectionTimeout"`
	SilenceTimeout            *float64 `json:"silenceTimeout"`
	SpeechThreshold           *float64 `json:"speechThreshold"`
	SpeechEndThreshold        *float64 `json:"speechEndThreshold"`
	MachineSpeechEndThreshold *float64 `json:"machineSpeechEndThreshold"`
	DelayResult               *bool    `json:"delayResult"`
	CallbackURL               *string  `json:"callbackUrl"`
	CallbackMethod            *string  `json:"callbackMethod"`
	Username                  *string  `json:"username"`
	Password                  *string  `json:"password"`
	FallbackURL               *string  `json:"fallbackUrl"`
	FallbackMethod            *string  `json:"fallbackMethod"`
	FallbackUsername          *string  `json:"fallbackUsername"`
	FallbackPassword          *string  `json:"fallbackPassword"`
}

// maxDetectionSeconds bounds the machine detection timings, which the
// spec leaves open: an hour.
const maxDetectionSeconds = 3600

func (r *machineDetectionRequest) check() (*engine.MachineDetection, error) {
	md := engine.DefaultMachineDetection()
	switch mode := deref(r.Mode); mode {
	case "", "async":
	case "sync":
		md.Sync = true
	default:
		return nil, validation(fmt.Sprintf("Invalid machineDetection.mode %q: must be sync or async", mode))
	}
	def := func(d time.Duration) float64 { return d.Seconds() }
	var err error
	for _, f := range []struct {
		name string
		v    *float64
		dst  *time.Duration
	}{
		{"detectionTimeout", r.DetectionTimeout, &md.DetectionTimeout},
		{"silenceTimeout", r.SilenceTimeout, &md.SilenceTimeout},
		{"speechThreshold", r.SpeechThreshold, &md.SpeechThreshold},
		{"speechEndThreshold", r.SpeechEndThreshold, &md.SpeechEndThreshold},
	} {
		if *f.dst, err = seconds("machineDetection."+f.name, f.v, 0.001, maxDetectionSeconds, def(*f.dst)); err != nil {
			return nil, err
		}
	}
	// machineSpeechEndThreshold defaults to speechEndThreshold.
	if md.MachineSpeechEndThreshold, err = seconds("machineDetection.machineSpeechEndThreshold", r.MachineSpeechEndThreshold,
		0.001, maxDetectionSeconds, def(md.SpeechEndThreshold)); err != nil {
		return nil, err
	}
	if r.DelayResult != nil {
		md.DelayResult = *r.DelayResult
	}
	t := engine.Target{URL: deref(r.CallbackURL), Method: deref(r.CallbackMethod), Username: deref(r.Username), Password: deref(r.Password),
		FallbackURL: deref(r.FallbackURL), FallbackMethod: deref(r.FallbackMethod),
		FallbackUsername: deref(r.FallbackUsername), FallbackPassword: deref(r.FallbackPassword)}
	for name, u := range map[string]string{"callbackUrl": t.URL, "fallbackUrl": t.FallbackURL} {
		if u != "" {
			if err := checkWebhookURL("machineDetection."+name, u); err != nil {
				return nil, err
			}
		}
	}
	for name, m := range map[string]string{"callbackMethod": t.Method, "fallbackMethod": t.FallbackMethod} {
		if m != "" && m != "GET" && m != "POST" {
			return nil, validation(fmt.Sprintf("Invalid machineDetection.%s. Supported methods: [POST, GET]", name))
		}
	}
	if !md.Sync && t.URL == "" {
		return nil, validation("machineDetection.callbackUrl is required when machineDetection.mode is async (the default): the result goes there in a machineDetectionComplete webhook")
	}
	md.Callback = t
	return &md, nil
}

func blank(s *string) bool { return s == nil || strings.TrimSpace(*s) == "" }

// checkWebhookURL accepts absolute http and https URLs of at most 2048 bytes.
func checkWebhookURL(name, s string) error {
	if len(s) > 2048 {
		return validation(fmt.Sprintf("%s must be at most 2048 characters, but was %d", name, len(s)))
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return validation(fmt.Sprintf("Invalid %s: only http and https are allowed", name))
	}
	return nil
}

// seconds checks a number of seconds against its range.
func seconds(name string, v *float64, min, max, def float64) (time.Duration, error) {
	if v == nil {
		return time.Duration(def * float64(time.Second)), nil
	}
	if math.IsNaN(*v) || *v < min || *v > max {
		return 0, validation(fmt.Sprintf("%s must be within the range [%g, %g], but was %g", name, min, max, *v))
	}
	return time.Duration(*v * float64(time.Second)), nil
}

func (h *Handler) getCall(w http.ResponseWriter, r *http.Request) error {
	c, err := h.cfg.Engine.GetCall(r.Context(), account(r).ID, r.PathValue("callId"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toCallState(c))
	return nil
}

func toCallState(c *engine.Call) callState {
	return callState{
		ApplicationID: c.ApplicationID, AccountID: c.AccountID, CallID: c.CallID, ParentCallID: optional(c.ParentCallID),
		To: c.To, From: c.From, Direction: string(c.Direction), State: string(c.State),
		EnqueuedTime: timeOrNil(c.EnqueuedTime), StartTime: timeOrNil(c.StartTime), AnswerTime: timeOrNil(c.AnswerTime),
		EndTime: timeOrNil(c.EndTime), DisconnectCause: optional(string(c.DisconnectCause)),
		ErrorMessage: optional(redact.Text(c.ErrorMessage)), ErrorID: optional(c.ErrorID),
		LastUpdate: callback.TimeOf(c.LastUpdate).String(),
	}
}

func timeOrNil(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := callback.TimeOf(t).String()
	return &s
}

// listCalls is GET /calls, with filters and paging by pageToken.
func (h *Handler) listCalls(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	f := engine.CallFilter{AccountID: account(r).ID, To: q.Get("to"), From: q.Get("from"),
		DisconnectCause: callback.Cause(q.Get("disconnectCause")), After: q.Get("pageToken"), Limit: 1000}
	if err := timeParams(q, timeParam{"minStartTime", &f.MinStartTime}, timeParam{"maxStartTime", &f.MaxStartTime}); err != nil {
		return err
	}
	if v := q.Get("pageSize"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 10000 {
			return validation(fmt.Sprintf("pageSize must be within the range [1, 10000], but was %s", v))
		}
		f.Limit = n
	}
	limit := f.Limit
	f.Limit++ // one more tells whether a next page exists
	calls, err := h.cfg.Engine.ListCalls(r.Context(), f)
	if err != nil {
		return err
	}
	if len(calls) > limit {
		calls = calls[:limit]
		h.linkNext(w, r, calls[len(calls)-1].CallID)
	}
	writeJSON(w, http.StatusOK, mapAll(calls, toCallState))
	return nil
}

// updateCallRequest is schema updateCall.
type updateCallRequest struct {
	State                  *string `json:"state"`
	RedirectURL            *string `json:"redirectUrl"`
	RedirectMethod         *string `json:"redirectMethod"`
	Username               *string `json:"username"`
	Password               *string `json:"password"`
	RedirectFallbackURL    *string `json:"redirectFallbackUrl"`
	RedirectFallbackMethod *string `json:"redirectFallbackMethod"`
	FallbackUsername       *string `json:"fallbackUsername"`
	FallbackPassword       *string `json:"fallbackPassword"`
	Tag                    *string `json:"tag"`
}

func (h *Handler) updateCall(w http.ResponseWriter, r *http.Request) error {
	var req updateCallRequest
	if err := readJSON(r, &req); err != nil {
		return err
	}
	state := "active"
	if req.State != nil {
		state = *req.State
	}
	var u engine.Update
	switch state {
	case "completed":
		if req.RedirectURL != nil || req.RedirectMethod != nil || req.Tag != nil {
			return validation("redirectUrl, redirectMethod and tag are not allowed when state is completed")
		}
		u.Complete = true
	case "active":
		if blank(req.RedirectURL) {
			return validation("redirectUrl is required when state is active")
		}
		t, err := redirectTarget(req.RedirectURL, req.RedirectMethod, req.Username, req.Password,
			req.RedirectFallbackURL, req.RedirectFallbackMethod, req.FallbackUsername, req.FallbackPassword)
		if err != nil {
			return err
		}
		u.Redirect = t
		if req.Tag != nil {
			if len(*req.Tag) > 4096 {
				return validation("tag must be at most 4096 characters")
			}
			u.SetTag, u.Tag = true, req.Tag
		}
	default:
		return validation(fmt.Sprintf("Invalid state %q: must be active or completed", state))
	}
	if err := h.cfg.Engine.UpdateCall(r.Context(), account(r).ID, r.PathValue("callId"), u); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

// timeParam is a time query parameter and where its value goes.
type timeParam struct {
	name string
	dst  *time.Time
}

// timeParams reads time query parameters; absent ones leave their
// destination alone.
func timeParams(q url.Values, params ...timeParam) error {
	for _, p := range params {
		if v := q.Get(p.name); v != "" {
			t, err := callback.ParseTime(v)
			if err != nil {
				return validation(fmt.Sprintf("Invalid %s: %v", p.name, err))
			}
			*p.dst = t.Time
		}
	}
	return nil
}

// linkNext sets the Link header to the next page, which starts after the
// item with id last.
func (h *Handler) linkNext(w http.ResponseWriter, r *http.Request, last string) {
	next := *r.URL
	nq := next.Query()
	nq.Set("pageToken", last)
	next.RawQuery = nq.Encode()
	base := strings.TrimSuffix(h.cfg.BaseURL, "/api/v2")
	w.Header().Set("Link", fmt.Sprintf(`<%s%s>; rel="next"`, base, next.RequestURI()))
}

// redirectTarget checks the redirect fields of a call or conference
// update; url is set and not blank.
func redirectTarget(url, method, user, pass, fallbackURL, fallbackMethod, fallbackUser, fallbackPass *string) (engine.Target, error) {
	t := engine.Target{URL: *url, Method: deref(method), Username: deref(user), Password: deref(pass),
		FallbackURL: deref(fallbackURL), FallbackMethod: deref(fallbackMethod),
		FallbackUsername: deref(fallbackUser), FallbackPassword: deref(fallbackPass)}
	if err := checkWebhookURL("redirectUrl", t.URL); err != nil {
		return t, err
	}
	for name, m := range map[string]string{"redirectMethod": t.Method, "redirectFallbackMethod": t.FallbackMethod} {
		if m != "" && m != "GET" && m != "POST" {
			return t, validation(fmt.Sprintf("Invalid %s. Supported methods: [POST, GET]", name))
		}
	}
	if t.FallbackURL != "" {
		if err := checkWebhookURL("redirectFallbackUrl", t.FallbackURL); err != nil {
			return t, err
		}
	}
	return t, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// updateCallBXML is PUT /calls/{callId}/bxml: a <Bxml> document replaces
// the running one.
func (h *Handler) updateCallBXML(w http.ResponseWriter, r *http.Request) error {
	if err := requireType(r, "application/xml", "text/xml"); err != nil {
		return err
	}
	body, err := readBody(r)
	if err != nil {
		return err
	}
	doc, err := bxml.ParseUpdate(body, bxml.CallContext)
	if err != nil {
		return validation(err.Error())
	}
	if err := doc.RequireAbsoluteURLs(); err != nil {
		return validation(err.Error())
	}
	if err := h.cfg.Engine.UpdateCallBXML(r.Context(), account(r).ID, r.PathValue("callId"), doc.Verbs); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
