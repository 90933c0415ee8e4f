// Package webhook serves the webhooks of the Bandwidth Voice API (and of
// voicehook): an http.Handler that decodes each callback, POST JSON or GET
// query form, hands it to the typed function registered for its event, and
// replies as the dialect expects: BXML for synchronous events, 204 No
// Content for asynchronous ones, and 500 when the function fails, so the
// sender's fallback rules apply.
//
//	h := webhook.New(webhook.WithBasicAuth("app", "secret"))
//	h.OnAnswer(func(ctx context.Context, ev *callback.Answer) (*bxml.Response, error) {
//		return bxml.NewResponse(&bxml.SpeakSentence{Text: "Hello"}), nil
//	})
//	h.OnDisconnect(func(ctx context.Context, ev *callback.Disconnect) error {
//		log.Printf("%s ended: %s", ev.CallID, ev.Cause)
//		return nil
//	})
//	http.Handle("/voice/", h)
//
// A Handler works with any router: it reads only the request.
//
// # Signed webhooks and repeats
//
// When the application has signing secrets in voicehook, every webhook is
// signed the Standard Webhooks way; [WithSigningSecrets] makes the Handler
// refuse, with 401, a request that is not signed by one of them, or whose
// webhook-timestamp is more than [SignatureTolerance] from the Handler's
// clock, in the past or in the future. Delivery is at least once: a
// webhook may come again (a disconnect in flight when voicehook stopped is
// sent again when it starts), always with the same webhook-id, which
// [EventID] gives to the functions as the key to drop the repeat.
//
// WithSigningSecrets panics on a missing or malformed secret; a secret
// read at run time is checked with [CheckSecret] first. The value may be
// voicehook's own comma-separated form ("whsec_…,whsec_…" while rotating).
//
//	secrets := os.Getenv("WEBHOOK_SECRET")
//	if err := webhook.CheckSecret(secrets); err != nil {
//		log.Fatalf("WEBHOOK_SECRET: %v", err)
//	}
//	h := webhook.New(webhook.WithSigningSecrets(secrets))
//	h.OnDisconnect(func(ctx context.Context, ev *callback.Disconnect) error {
//		if alreadyDone(webhook.EventID(ctx)) {
//			return nil
//		}
//		…
//	})
package webhook

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/voicehook/voicehook/bxml"
	"github.com/voicehook/voicehook/callback"
)

// Handler serves webhooks. Register functions before serving; a Handler is
// then safe for concurrent use.
type Handler struct {
	username, password string
	keys               [][]byte // signing keys: verify signatures when set
	maxBody            int64
	log                *slog.Logger

	mu     sync.RWMutex
	byType map[callback.EventType]func(context.Context, callback.Event) (*bxml.Response, error)
	other  func(context.Context, callback.Event) (*bxml.Response, error)
}

// Option configures a Handler.
type Option func(*Handler)

// WithBasicAuth makes the Handler refuse requests without these Basic
// credentials (compared in constant time) with 401.
func WithBasicAuth(username, password string) Option {
	return func(h *Handler) { h.username, h.password = username, password }
}

// WithMaxBody limits request bodies to n bytes (default
// callback.MaxBodySize); larger ones get 413.
func WithMaxBody(n int64) Option { return func(h *Handler) { h.maxBody = n } }

// WithLogger logs the failures of registered functions and refused
// requests (default: discard).
func WithLogger(l *slog.Logger) Option { return func(h *Handler) { h.log = l } }

// New returns a Handler with no functions registered: until some are,
// synchronous events get an empty <Response/> (the call hangs up) and
// asynchronous ones 204.
func New(opts ...Option) *Handler {
	h := &Handler{maxBody: callback.MaxBodySize, log: slog.New(slog.DiscardHandler),
		byType: map[callback.EventType]func(context.Context, callback.Event) (*bxml.Response, error){}}
	for _, o := range opts {
		o(h)
	}
	return h
}

// Reply registers f for the synchronous event type E: its BXML is the
// reply. For E's of asynchronous events the BXML is ignored.
func Reply[E callback.Event](h *Handler, f func(context.Context, E) (*bxml.Response, error)) {
	var zero E
	h.register(zero.Type(), func(ctx context.Context, ev callback.Event) (*bxml.Response, error) { return f(ctx, ev.(E)) })
}

// Notify registers f for the event type E, typically an asynchronous one:
// the reply is 204 (an empty <Response/> for a synchronous event).
func Notify[E callback.Event](h *Handler, f func(context.Context, E) error) {
	var zero E
	h.register(zero.Type(), func(ctx context.Context, ev callback.Event) (*bxml.Response, error) { return nil, f(ctx, ev.(E)) })
}

func (h *Handler) register(t callback.EventType, f func(context.Context, callback.Event) (*bxml.Response, error)) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.byType[t] = f
}

// OnOther registers f for events no other function takes, including
// event types this package does not know (callback.Unknown).
func (h *Handler) OnOther(f func(context.Context, callback.Event) (*bxml.Response, error)) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.other = f
}

// ServeHTTP decodes the callback and replies.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h.username != "" || h.password != "" {
		user, pass, ok := r.BasicAuth()
		if !ok || subtle.ConstantTimeCompare([]byte(user), []byte(h.username)) != 1 ||
			subtle.ConstantTimeCompare([]byte(pass), []byte(h.password)) != 1 {
			w.Header().Set("WWW-Authenticate", `Basic realm="webhooks"`)
			http.Error(w, "webhook: wrong or missing credentials", http.StatusUnauthorized)
			return
		}
	}
	var body []byte
	var err error
	switch r.Method {
	case http.MethodGet:
		body = []byte(r.URL.RawQuery) // what a GET's signature covers
	case http.MethodPost:
		body, err = io.ReadAll(http.MaxBytesReader(w, r.Body, h.maxBody))
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			http.Error(w, fmt.Sprintf("webhook: body larger than %d bytes", h.maxBody), http.StatusRequestEntityTooLarge)
			return
		}
	default:
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "webhook: callbacks come by POST or GET", http.StatusMethodNotAllowed)
		return
	}
	if err == nil && h.keys != nil {
		if verr := h.verify(r.Header, body, time.Now()); verr != nil {
			h.log.Warn("refused a webhook", "path", r.URL.Path, "err", verr)
			http.Error(w, "webhook: "+verr.Error(), http.StatusUnauthorized)
			return
		}
	}
	var ev callback.Event
	if err == nil {
		if r.Method == http.MethodGet {
			ev, err = callback.DecodeQuery(r.URL.Query())
		} else {
			ev, err = callback.Decode(body)
		}
	}
	if errors.Is(err, callback.ErrUnknownEventType) && ev != nil {
		// A newer event than this package knows: OnOther may take it.
		err = nil
	}
	if err != nil {
		h.log.Warn("not a callback", "path", r.URL.Path, "err", err)
		http.Error(w, "webhook: not a voice callback: "+err.Error(), http.StatusBadRequest)
		return
	}
	h.mu.RLock()
	f := h.byType[ev.Type()]
	if f == nil {
		f = h.other
	}
	h.mu.RUnlock()
	ctx := r.Context()
	if id := r.Header.Get(HeaderID); id != "" {
		ctx = context.WithValue(ctx, eventIDKey{}, id)
	}
	var resp *bxml.Response
	if f != nil {
		resp, err = f(ctx, ev)
	}
	if err != nil {
		h.log.Error("webhook function failed", "event", ev.Type(), "err", err)
		http.Error(w, "webhook: the app failed to handle "+string(ev.Type()), http.StatusInternalServerError)
		return
	}
	if !ev.Type().Sync() {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if resp == nil {
		resp = bxml.NewResponse()
	}
	reply, err := resp.Marshal()
	if err != nil {
		h.log.Error("webhook reply is not valid BXML", "event", ev.Type(), "err", err)
		http.Error(w, "webhook: the app's reply is not valid BXML: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/xml")
	w.Write(reply)
}
