// Package delivery sends voicehook's webhooks to customer apps over HTTP,
// the way Bandwidth's Voice API v2 does: POST with a JSON body or GET with
// the event in the query string, optional Basic auth, a timeout per
// attempt, one retry on a connection error and, for synchronous webhooks, a
// fallback URL. [Sender] implements [engine.Sender].
//
// # Rules
//
//   - Any 2xx answer is success. A 204 or an empty body is a successful,
//     empty reply; what that means is the engine's business.
//   - A connection error (dial failure, connection refused or reset,
//     connection closed before a response) is retried once on the same URL,
//     at once. A timeout, an HTTP status other than 2xx, or an error reading
//     a reply is not retried.
//   - An address refused by the client's guard (see package egress) is a
//     failure, not retried: the attempt's error says which address was
//     refused and which flag allows it, and its Outcome is
//     engine.OutcomeRefused, on which the engine's persistent retries
//     (--retry-webhooks) give up too.
//   - Redirects (3xx) are never followed: a 3xx answer is a failure like a
//     4xx, and [Sender.Send] moves on to the fallback URL. Bandwidth does
//     not document following them, and following them would let an app send
//     the engine, with the call's credentials, to a host nobody configured.
//   - Every request is recorded as an [engine.Attempt]. Its URL is the
//     target's URL as configured, before a GET adds the event's query, with
//     any password in it redacted; Reason strings name URLs the same way.
//     Its Outcome classifies how it ended (ok, http_error, timeout,
//     connection_error, refused, canceled) so that nobody parses Err; an
//     invalid URL or method counts as a connection error.
//   - A synchronous webhook ([Sender.Send]) goes to the fallback URL, with
//     its own method and credentials and the same retry rule, when the
//     primary URL fails. An asynchronous one ([Sender.Notify]) has no
//     fallback: the Target's fallback fields are ignored.
//   - Every request carries the webhook's id in a webhook-id header, the
//     same on a retry and on the fallback URL. When Config.Signers gives
//     the webhook's application a [Signer], the request is also signed the
//     Standard Webhooks way (webhook-timestamp, webhook-signature), on top
//     of Basic auth: see sign.go. Tests check our signatures with the
//     official Standard Webhooks Go library
//     (github.com/standard-webhooks/standard-webhooks/libraries, test-only:
//     the reference a receiver will use).
//
// # Goroutines and concurrency
//
// A Sender is safe for concurrent use. It owns one goroutine per queued
// notification, at most Config.MaxInFlight at a time, and nothing else
// (apart from the connection goroutines of the default HTTP transport, which
// it also owns). [Sender.Close] stops intake, waits for the in-flight work
// until its context ends, cancels what is left, and returns once every
// goroutine it started has returned. [Sender.Send] runs on the caller's
// goroutine.
package delivery

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/voicehook/voicehook/bxml"
	"github.com/voicehook/voicehook/callback"
	"github.com/voicehook/voicehook/internal/egress"
	"github.com/voicehook/voicehook/internal/engine"
)

// DefaultTimeout is the per-attempt timeout used when Webhook.Timeout is not
// positive: Bandwidth's 15 seconds.
const DefaultTimeout = 15 * time.Second

// Defaults of [Config].
const (
	DefaultUserAgent   = "voicehook"
	DefaultMaxReply    = bxml.MaxSize + 1
	DefaultMaxInFlight = 256
)

// ErrClosed is returned by Send and Notify once Close has been called, and
// is the cause of the cancellation of the work Close had to end.
var ErrClosed = errors.New("delivery: sender closed")

// ErrBusy is returned by Notify when MaxInFlight notifications are in flight
// and its context ended before one finished.
var ErrBusy = errors.New("delivery: too many notifications in flight")

// Config configures a Sender. The zero value is ready to use: every field
// has a default, stated beside it.
type Config struct {
	// Client makes the HTTP requests. Default: a client of its own,
	// egress.New without the guard (proxy from the environment, keep-alives,
	// HTTP/2, 10 s TLS handshake, 64 KB of response headers at most), whose
	// idle connections Close closes; voicehook serve passes its guarded one. A given client is copied and never follows
	// redirects, whatever its CheckRedirect says; its Timeout, if set,
	// applies on top of the per-attempt timeout.
	Client *http.Client
	// UserAgent is the User-Agent header of every request. Default
	// "voicehook".
	UserAgent string
	// Logger receives what no caller is told: a notification that failed
	// and had no done function. Default: discard.
	Logger *slog.Logger
	// MaxReply is how many bytes of a synchronous reply are read. A longer
	// reply is cut to MaxReply bytes, not refused, so that the BXML parser
	// reports it as too large. Default bxml.MaxSize+1.
	MaxReply int64
	// MaxInFlight bounds the notifications queued or being delivered.
	// When they are all taken, Notify waits for one until its context ends
	// and then returns ErrBusy: it never blocks longer than its caller
	// allows. Default 256.
	MaxInFlight int
	// Signers returns the signer of an application's webhooks, or nil when
	// they are not signed (see sign.go for what is signed). Every webhook
	// carries its webhook-id header either way. Default: nothing is signed.
	Signers func(accountID, applicationID string) *Signer
}

// Sender delivers webhooks over HTTP. It implements [engine.Sender] and is
// safe for concurrent use. Create it with New and end it with Close.
type Sender struct {
	client    *http.Client
	ownClient bool // client was built by New: Close closes its idle connections
	userAgent string
	log       *slog.Logger
	maxReply  int64
	sem       chan struct{} // a token per notification in flight
	signers   func(accountID, applicationID string) *Signer

	base   context.Context // parent of all work; canceled by Close
	cancel context.CancelCauseFunc

	mu      sync.Mutex // guards closed and the Add of wg against Close's Wait
	closed  bool
	closing chan struct{} // closed by Close: wakes Notify waiting for a slot
	wg      sync.WaitGroup
}

var _ engine.Sender = (*Sender)(nil)

// New returns a Sender configured by cfg, with defaults filled in.
func New(cfg Config) *Sender {
	s := &Sender{
		userAgent: cfg.UserAgent,
		log:       cfg.Logger,
		maxReply:  cfg.MaxReply,
		signers:   cfg.Signers,
		closing:   make(chan struct{}),
	}
	if cfg.Client == nil {
		s.client = defaultClient()
		s.ownClient = true
	} else {
		c := *cfg.Client
		s.client = &c
	}
	s.client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	if s.userAgent == "" {
		s.userAgent = DefaultUserAgent
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.maxReply <= 0 {
		s.maxReply = DefaultMaxReply
	}
	n := cfg.MaxInFlight
	if n <= 0 {
		n = DefaultMaxInFlight
	}
	s.sem = make(chan struct{}, n)
	s.base, s.cancel = context.WithCancelCause(context.Background())
	return s
}

// defaultClient is egress's client, unguarded. It has no dial timeout of
// its own: the per-attempt context bounds dialing.
func defaultClient() *http.Client { return egress.New(egress.Config{}) }

// enter registers one unit of work with Close; it reports false once Close
// has been called. A true result must be matched by s.wg.Done.
func (s *Sender) enter() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.wg.Add(1)
	return true
}

// Send delivers a synchronous webhook and returns the reply of the first
// URL to answer with a 2xx status: its body (at most Config.MaxReply bytes),
// that URL exactly as the Target gave it, and every attempt made.
//
// The primary URL is tried, and tried again once after a connection error;
// if it still fails, the fallback URL, when there is one, is tried the same
// way. When every attempt failed the error is an *engine.DeliveryError
// whose Reason names each URL and what happened. When ctx ends, or the
// Sender is closed, Send stops at once and returns an error wrapping the
// cause, not a DeliveryError: the app did not fail, the caller gave up.
// Reply.Attempts holds the attempts made in every case. An event that
// cannot be encoded is an error before any attempt. Send returns ErrClosed
// after Close.
func (s *Sender) Send(ctx context.Context, w engine.Webhook) (engine.Reply, error) {
	if !s.enter() {
		return engine.Reply{}, ErrClosed
	}
	defer s.wg.Done()

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stop := context.AfterFunc(s.base, func() { cancel(context.Cause(s.base)) })
	defer stop()

	ts := []target{primary(w.Target)}
	if w.Target.FallbackURL != "" {
		ts = append(ts, fallback(w.Target))
	}
	p, err := encode(w.Event, ts)
	if err != nil {
		return engine.Reply{}, err
	}
	p.identity = s.identify(w)
	timeout := attemptTimeout(w.Timeout)

	var attempts []engine.Attempt
	var reasons []string
	for _, t := range ts {
		res := s.try(ctx, t, p, timeout)
		attempts = append(attempts, res.attempts...)
		switch res.outcome {
		case succeeded:
			return engine.Reply{Body: res.body, URL: t.url, Attempts: attempts}, nil
		case aborted:
			return engine.Reply{Attempts: attempts},
				fmt.Errorf("deliver %s to %s: %w", eventName(w.Event), t.describe(), context.Cause(ctx))
		}
		reasons = append(reasons, res.reason(t))
	}
	return engine.Reply{Attempts: attempts}, &engine.DeliveryError{
		Attempts: attempts,
		Reason:   strings.Join(reasons, "; "),
	}
}

// Notify queues an asynchronous webhook and returns; a goroutine of the
// Sender delivers it to the primary URL, retrying once on a connection
// error only, and then calls done, if not nil, with the attempts. done runs
// on that goroutine and Close waits for it, so it should be quick.
//
// When Config.MaxInFlight notifications are in flight, Notify waits for one
// to finish until ctx ends, then returns an error wrapping ErrBusy and the
// context's cause; pass a context that is already done to never wait. ctx
// bounds only that wait: delivery outlives it, until Close. Notify returns
// ErrClosed after Close, and an error if the event cannot be encoded; in
// both cases done is not called.
func (s *Sender) Notify(ctx context.Context, w engine.Webhook, done func([]engine.Attempt)) error {
	if !s.enter() {
		return ErrClosed
	}
	t := primary(w.Target)
	p, err := encode(w.Event, []target{t})
	if err != nil {
		s.wg.Done()
		return err
	}
	p.identity = s.identify(w)
	select {
	case s.sem <- struct{}{}:
	default:
		select {
		case s.sem <- struct{}{}:
		case <-ctx.Done():
			s.wg.Done()
			return fmt.Errorf("%w: %w", ErrBusy, context.Cause(ctx))
		case <-s.closing:
			s.wg.Done()
			return ErrClosed
		}
	}
	timeout := attemptTimeout(w.Timeout)
	go func() {
		defer s.wg.Done()
		res := s.try(s.base, t, p, timeout)
		<-s.sem
		if done != nil {
			done(res.attempts)
			return
		}
		if res.outcome != succeeded {
			s.log.Warn("webhook not delivered",
				"call_id", w.CallID, "event", string(eventName(w.Event)), "reason", res.reason(t))
		}
	}()
	return nil
}

// Close stops the Sender: Send and Notify return ErrClosed from now on. It
// waits for the notifications in flight and the Sends in progress until ctx
// ends, then cancels them (their attempts end with a "canceled" error and
// done is still called) and waits for them to return. Close returns nil if
// everything finished in time, otherwise ctx's error. It may be called more
// than once.
func (s *Sender) Close(ctx context.Context) error {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		close(s.closing)
	}
	s.mu.Unlock()

	finished := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(finished)
	}()
	var err error
	select {
	case <-finished:
	case <-ctx.Done():
		err = ctx.Err()
		s.cancel(ErrClosed)
		<-finished
	}
	s.cancel(ErrClosed)
	if s.ownClient {
		s.client.CloseIdleConnections()
	}
	return err
}

func attemptTimeout(d time.Duration) time.Duration {
	if d <= 0 {
		return DefaultTimeout
	}
	return d
}

func eventName(ev callback.Event) callback.EventType {
	if ev == nil {
		return "nil event"
	}
	return ev.Type()
}
