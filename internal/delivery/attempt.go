package delivery

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/voicehook/voicehook/callback"
	"github.com/voicehook/voicehook/internal/egress"
	"github.com/voicehook/voicehook/internal/engine"
	"github.com/voicehook/voicehook/internal/redact"
)

// drainLimit is how much of an unread reply is read and discarded so the
// connection can be reused; a longer remainder closes the connection.
const drainLimit = 4 << 10

// target is one URL to try, with its method and credentials.
type target struct {
	url      string
	method   string // upper case; "" in the Target is POST
	username string
	password string
	fallback bool
}

func primary(t engine.Target) target {
	return target{url: t.URL, method: method(t.Method), username: t.Username, password: t.Password}
}

func fallback(t engine.Target) target {
	return target{
		url: t.FallbackURL, method: method(t.FallbackMethod),
		username: t.FallbackUsername, password: t.FallbackPassword, fallback: true,
	}
}

func method(m string) string {
	m = strings.ToUpper(strings.TrimSpace(m))
	if m == "" {
		return http.MethodPost
	}
	return m
}

// redactedURL is the target's URL for people: any password in it hidden
// as voicehook hides it everywhere ("user:*****@", package redact), and
// quoted if it does not parse.
func (t target) redactedURL() string {
	if t.url == "" {
		return `""`
	}
	if _, err := url.Parse(t.url); err != nil {
		return strconv.Quote(redact.URL(t.url))
	}
	return redact.URL(t.url)
}

// describe is "POST https://app.example.com/answer", with "fallback " in
// front for a fallback URL.
func (t target) describe() string {
	s := t.method + " " + t.redactedURL()
	if t.fallback {
		s = "fallback " + s
	}
	return s
}

// payload is the event encoded for the methods it will be sent with, and
// the identity its requests carry.
type payload struct {
	json     []byte
	query    string
	identity identity
}

// encode encodes ev for the methods of ts; an unsupported method needs no
// encoding (its attempt fails).
func encode(ev callback.Event, ts []target) (payload, error) {
	var p payload
	for _, t := range ts {
		switch {
		case t.method == http.MethodPost && p.json == nil:
			b, err := callback.Encode(ev)
			if err != nil {
				return payload{}, fmt.Errorf("delivery: encode %s: %w", eventName(ev), err)
			}
			p.json = b
		case t.method == http.MethodGet && p.query == "":
			q, err := callback.EncodeQuery(ev)
			if err != nil {
				return payload{}, fmt.Errorf("delivery: encode %s: %w", eventName(ev), err)
			}
			p.query = q.Encode()
		}
	}
	return p, nil
}

// outcome is how an attempt, or a URL's attempts, ended.
type outcome int

const (
	succeeded  outcome = iota // a 2xx answer
	connFailed                // a connection error: worth one retry
	failed                    // any other failure: move on
	aborted                   // the caller's context ended: stop
)

// result is the end of trying one URL.
type result struct {
	outcome  outcome
	body     []byte
	attempts []engine.Attempt
}

// reason is one line saying how the URL failed, for a DeliveryError or a
// log.
func (r result) reason(t target) string {
	msg := "no attempt"
	if n := len(r.attempts); n > 0 {
		msg = r.attempts[n-1].Err
	}
	if len(r.attempts) > 1 {
		msg += " (retried once)"
	}
	return t.describe() + ": " + msg
}

// try delivers p to t, and again once after a connection error.
func (s *Sender) try(ctx context.Context, t target, p payload, timeout time.Duration) result {
	var r result
	for range 2 {
		a, body, o := s.attempt(ctx, t, p, timeout)
		r.attempts = append(r.attempts, a)
		r.outcome, r.body = o, body
		if o != connFailed {
			break
		}
	}
	if r.outcome == connFailed {
		r.outcome = failed
	}
	return r
}

// attempt makes one request. On success it returns the reply's body, cut
// to s.maxReply bytes.
func (s *Sender) attempt(ctx context.Context, t target, p payload, timeout time.Duration) (engine.Attempt, []byte, outcome) {
	start := time.Now()
	a := engine.Attempt{Time: start, URL: t.redactedURL(), Method: t.method, Fallback: t.fallback}
	fail := func(o outcome, kind engine.Outcome, msg string) (engine.Attempt, []byte, outcome) {
		a.Latency = time.Since(start)
		a.Err = oneLine(msg)
		a.Outcome = kind
		return a, nil, o
	}

	actx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := s.newRequest(actx, t, p)
	if err != nil {
		return fail(failed, engine.OutcomeConnectionError, err.Error())
	}
	resp, err := s.client.Do(req)
	if err != nil {
		o, kind, msg := classify(ctx, actx, err, timeout)
		return fail(o, kind, msg)
	}
	defer resp.Body.Close()
	a.Status = resp.StatusCode

	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		a.Latency = time.Since(start)
		a.Err = statusText(resp)
		a.Outcome = engine.OutcomeHTTPError
		if reply, _ := io.ReadAll(io.LimitReader(resp.Body, maxFailedReply)); len(reply) > 0 {
			a.Reply = reply
		}
		_, _ = io.CopyN(io.Discard, resp.Body, drainLimit)
		return a, nil, failed
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, s.maxReply))
	if err != nil {
		// The app answered: this is not a connection error to retry.
		o, kind, msg := classify(ctx, actx, err, timeout)
		if o == connFailed {
			o, msg = failed, unwrapURLError(err).Error()
		}
		return fail(o, kind, "reading reply: "+msg)
	}
	a.Latency = time.Since(start)
	a.Outcome = engine.OutcomeOK
	_, _ = io.CopyN(io.Discard, resp.Body, drainLimit)
	return a, body, succeeded
}

// maxFailedReply is how much of a failed response's body an attempt keeps.
const maxFailedReply = 4 << 10

func (s *Sender) newRequest(ctx context.Context, t target, p payload) (*http.Request, error) {
	if t.url == "" {
		return nil, errors.New("no URL")
	}
	u, err := url.Parse(t.url)
	if err != nil {
		if strings.Contains(t.url, "@") {
			// The parser's message may quote part of a password.
			return nil, errors.New("invalid URL: it does not parse (the details are not shown, as it holds credentials)")
		}
		return nil, fmt.Errorf("invalid URL: %w", unwrapURLError(err))
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, errors.New("invalid URL: scheme must be http or https")
	}
	if u.Host == "" {
		return nil, errors.New("invalid URL: no host")
	}
	var body io.Reader
	var signed []byte // what webhook-signature signs
	switch t.method {
	case http.MethodPost:
		body = bytes.NewReader(p.json)
		signed = p.json
	case http.MethodGet:
		if p.query != "" {
			if u.RawQuery == "" {
				u.RawQuery = p.query
			} else {
				u.RawQuery += "&" + p.query
			}
		}
		signed = []byte(u.RawQuery)
	default:
		return nil, fmt.Errorf("unsupported method %q", t.method)
	}
	req, err := http.NewRequestWithContext(ctx, t.method, u.String(), body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", s.userAgent)
	if t.method == http.MethodPost {
		req.Header.Set("Content-Type", "application/json")
	}
	if t.username != "" {
		req.SetBasicAuth(t.username, t.password)
	}
	p.identity.sign(req.Header, signed, time.Now())
	return req, nil
}

// classify says what a request error means: whether to retry, the
// attempt's Outcome, and its message. ctx is the caller's context, actx
// the attempt's.
func classify(ctx, actx context.Context, err error, timeout time.Duration) (outcome, engine.Outcome, string) {
	if ctx.Err() != nil {
		return aborted, engine.OutcomeCanceled, "canceled: " + context.Cause(ctx).Error()
	}
	// The guard refuses the same address again: not worth a retry.
	var refused *egress.RefusedError
	if errors.As(err, &refused) {
		return failed, engine.OutcomeRefused, refused.Error()
	}
	var ne net.Error
	if errors.Is(actx.Err(), context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout() {
		return failed, engine.OutcomeTimeout, "timeout after " + timeout.String()
	}
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return connFailed, engine.OutcomeConnectionError, "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return connFailed, engine.OutcomeConnectionError, "connection reset"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return connFailed, engine.OutcomeConnectionError, "connection closed before a response"
	}
	var op *net.OpError
	if errors.As(err, &op) {
		return connFailed, engine.OutcomeConnectionError, unwrapURLError(err).Error()
	}
	return failed, engine.OutcomeConnectionError, unwrapURLError(err).Error()
}

// unwrapURLError drops the "Post \"url\": " prefix that *url.Error adds:
// the attempt names its URL already.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// statusText is "500 Internal Server Error", from the code rather than the
// app's reason phrase; a redirect is "302 Found: redirect to … not followed".
func statusText(resp *http.Response) string {
	s := strconv.Itoa(resp.StatusCode)
	if text := http.StatusText(resp.StatusCode); text != "" {
		s += " " + text
	}
	if resp.StatusCode >= 300 && resp.StatusCode <= 399 {
		s += ": redirect"
		if loc := resp.Header.Get("Location"); loc != "" {
			s += " to " + truncate(loc, 200)
		}
		s += " not followed"
	}
	return s
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// oneLine replaces line breaks and other control characters with spaces.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}
