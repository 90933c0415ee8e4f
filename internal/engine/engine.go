// Package engine is voicehook's domain: calls, their state machine, the
// BXML interpreter and the causes they end with. It imports no HTTP, SQL or
// SIP code: the world reaches it through the small interfaces of ports.go.
//
// Every live call has one owner, an actor goroutine that serialises all that
// happens to the call (phone events, webhook replies, timers, REST updates)
// through a bounded inbox and the pure state machine of machine.go. What one
// event changes is stored in one write, asynchronous webhooks included; they
// are then delivered from the call's outbox, in order (outbox.go). Every
// call ends with exactly one disconnect, its last webhook, whatever ends it;
// calls that were live when the engine stopped are ended, with cause error,
// when it starts again, after the webhooks still queued are sent.
//
// The media port is engine.Line: a call's actor tells its line what to
// play (Playback), which digits to send and what to capture, and hears back
// through PhoneEvents. The actor alone calls a line's methods; a line owns
// its own goroutines and buffers (a SIP line its RTP, a simulated line its
// phone's timers), and a Capture's samples pass to the actor when it stops,
// which hands them to the Recorder. A line that carries audio reports when
// a playback ended (PhonePlayed), the far end's speech and its greeting;
// for one that carries none the actor times playbacks by their reckoned
// length and the recording is made from the phone's script, so simulated
// calls make no audio unless a recording asks for it.
//
// An Engine is safe for concurrent use. Its goroutines are owned by it and
// end in Shutdown.
package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/voicehook/voicehook/bxml"
	"github.com/voicehook/voicehook/callback"
	"github.com/voicehook/voicehook/internal/redact"
)

// Config is what an Engine needs. Every field but Logger is required.
type Config struct {
	Clock   Clock
	Store   Store
	Sender  Sender
	Network Network
	// Media measures PlayAudio files; nil counts each playable file as
	// 3 seconds without fetching it.
	Media Media
	// Recorder keeps recordings; nil makes <Record> an application error.
	Recorder Recorder
	// Mixer joins the audio of bridged calls and of conference members;
	// nil leaves them hearing nothing of each other (simulated phones).
	Mixer Mixer
	// Streamer opens media streams (<StartStream>); nil rejects them
	// (mediaStreamRejected, cause error).
	Streamer Streamer
	// Transcriber recognizes the speech of real calls for real-time
	// transcription; nil rejects their transcriptions (cause error).
	// Simulated phones need none.
	Transcriber Transcriber
	// TranscriptionSockets opens transcriptions' destination sockets; nil
	// rejects transcriptions with a destination (cause error).
	TranscriptionSockets TranscriptionSockets
	// Recognizer transcribes the recordings of real calls (transcribe="true",
	// POST …/transcription); nil transcribes them as simulated ones: from
	// what the far end was scripted to say.
	Recognizer Recognizer
	// Transcripts keeps transcriptions once they end, for REST; nil keeps
	// none (realTimeTranscriptionAvailable then says failed).
	Transcripts Transcripts
	// MaxCalls bounds the calls this engine carries at once; 0 is no
	// bound. A createCall beyond it is created and ends at once with
	// cause node-capacity-exceeded; an inbound call beyond it is refused
	// (ErrAtCapacity), so that a SIP trunk tries another node.
	MaxCalls int
	// RetryWebhooks retries asynchronous webhooks that fail, with
	// exponential backoff, for up to a day, for apps that want every one;
	// an address the outbound guard refuses (Attempt.Outcome "refused")
	// is not retried.
	// By default they follow Bandwidth's rule: one retry, on a connection
	// error only.
	RetryWebhooks bool
	// Logger defaults to discarding.
	Logger *slog.Logger
	// BaseURL is the REST API's base, such as "http://127.0.0.1:8080/api/v2";
	// call URLs in webhooks are built on it.
	BaseURL string
	// Changed, when set, is told the id of every call whose record or
	// history was just stored (the console's live view). It is called on
	// the call's goroutine and must not block.
	Changed func(callID string)
	// Metrics is told what happens, for counting; nil counts nothing.
	Metrics Metrics
	// Limits returns an account's limits (limits.go); nil, or the zero
	// Limits for an account, is no limit. It is called for every new
	// call and must be cheap and safe for concurrent use.
	Limits func(accountID string) Limits
}

// Engine runs calls.
type Engine struct {
	cfg     Config
	log     *slog.Logger
	metrics Metrics
	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	enc     *encodings // recordings encoded in the background (encoding.go)
	noMP3   string     // why the Recorder cannot keep mp3 recordings; "" if it can (asked once, in New)

	mu       sync.Mutex
	live     map[string]*actor  // owned calls, by call id
	outboxes map[string]*outbox // calls with webhooks to deliver
	relays   map[*actor]*relay  // events between actors not yet in the target's inbox
	stop     bool
	// Conferences: every one by id, the active ones by account and name,
	// and all in creation order for listings.
	confs     map[string]*conference
	confNames map[string]*conference
	confOrder []*conference
	// limiters are the accounts' limits, *limiter by account id, made
	// when an account with limits first has a call.
	limiters sync.Map
	// queued counts the calls in every limiter's queue, changed under the
	// limiter's lock as the queue is (waiting).
	queued atomic.Int64
}

// New checks cfg and returns an engine; Start begins its work.
func New(cfg Config) (*Engine, error) {
	switch {
	case cfg.Clock == nil:
		return nil, errors.New("engine: no Clock")
	case cfg.Store == nil:
		return nil, errors.New("engine: no Store")
	case cfg.Sender == nil:
		return nil, errors.New("engine: no Sender")
	case cfg.Network == nil:
		return nil, errors.New("engine: no Network")
	case cfg.BaseURL == "":
		return nil, errors.New("engine: no BaseURL")
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	metrics := cfg.Metrics
	if metrics == nil {
		metrics = noMetrics{}
	}
	// Errors and URLs logged may name a URL with a password in it.
	log = slog.New(redact.NewHandler(log.Handler()))
	ctx, cancel := context.WithCancel(context.Background())
	e := &Engine{cfg: cfg, log: log, metrics: metrics, ctx: ctx, cancel: cancel, enc: newEncodings(ctx), live: map[string]*actor{}, outboxes: map[string]*outbox{}, relays: map[*actor]*relay{},
		confs: map[string]*conference{}, confNames: map[string]*conference{}}
	e.noMP3 = e.refuses(callback.MP3)
	return e, nil
}

// Start ends the calls that were live when the engine last stopped — each
// gets its disconnect, cause error — and readies the engine for new calls.
func (e *Engine) Start(ctx context.Context) error {
	pending, err := e.cfg.Store.Queued(ctx)
	if err != nil {
		return fmt.Errorf("engine: find queued webhooks: %w", err)
	}
	calls, err := e.cfg.Store.LiveCalls(ctx)
	if err != nil {
		return fmt.Errorf("engine: find calls left live: %w", err)
	}
	e.Adopt(calls, pending, "voicehook stopped while the call was live; it was ended when voicehook started again")
	return nil
}

// Adopt takes over calls that another engine carried and can no longer
// end: the calls an earlier run of this one left live (Start), or those
// of a node that died. The webhooks they had queued are delivered first,
// in order; then each live call ends with its one disconnect, cause
// error, with why as its errorMessage, and a stored conference whose
// members were all among them is completed (without its webhooks: see
// endConferences). A call whose line left its dialog
// state (Call.Dialog) has its dialog ended too, when the Network is a
// DialogEnder, so that the far end stops the call. The calls and webhooks
// must now be this engine's to write (the store decides: see Store).
func (e *Engine) Adopt(calls []*Call, webhooks []QueuedWebhook, why string) {
	for _, q := range webhooks {
		w, err := decodeQueued(q)
		if err != nil {
			e.log.Error("drop an unreadable queued webhook", "call_id", q.CallID, "err", err)
			_ = e.cfg.Store.Delivered(e.ctx, q.ID)
			continue
		}
		e.outboxFor(q.CallID).push(queued{id: q.ID, w: w})
	}
	ender, _ := e.cfg.Network.(DialogEnder)
	ended := make(map[string]bool, len(calls))
	for _, c := range calls {
		if ender != nil && len(c.Dialog) > 0 {
			e.endDialog(ender, c.CallID, c.Dialog)
		}
		e.spawn(c, evRecover{why: why})
		ended[c.CallID] = true
	}
	// The conferences only these calls were in end with them.
	e.endConferences(e.ctx, ended)
}

// dialogTimeout bounds ending an adopted call's dialog.
const dialogTimeout = 10 * time.Second

// endDialog ends an adopted call's dialog in the background, and writes
// how it went in the call's history.
func (e *Engine) endDialog(ender DialogEnder, callID string, dialog []byte) {
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		ctx, cancel := context.WithTimeout(e.ctx, dialogTimeout)
		defer cancel()
		summary := "BYE → (the dialog stored at answer): ended"
		if err := ender.EndDialog(ctx, dialog); err != nil {
			summary = "BYE → (the dialog stored at answer): " + err.Error()
			e.log.Warn("end an adopted call's dialog", "call_id", callID, "err", err)
		}
		entry := HistoryEntry{CallID: callID, Time: e.cfg.Clock.Now(), Kind: "phone", Summary: summary}
		if err := e.cfg.Store.AppendHistory(e.ctx, entry); err != nil {
			e.log.Error("store an adopted call's history", "call_id", callID, "err", err)
		}
		e.changed(callID)
	}()
}

// Shutdown stops the engine: no new calls; the recordings still being
// encoded are waited for until ctx ends, then cut short and given a few
// seconds (keepGrace) to keep what they wrote as partial;
// then the actors stop and pending webhooks are abandoned (they stay
// queued for the next Start). Calls still live stay live in the store, and
// the next Start ends them. It waits for the engine's goroutines until ctx
// ends.
func (e *Engine) Shutdown(ctx context.Context) error {
	e.mu.Lock()
	e.stop = true
	e.mu.Unlock()
	if !e.waitEncodings(ctx) {
		e.stopEncodings()
	}
	e.cancel()
	e.stopLimiters()
	done := make(chan struct{})
	go func() { e.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Drain stops taking new calls (createCall and inbound calls get
// EUnavailable: a SIP trunk is answered 503) and waits for the live calls
// to end, until ctx ends; then it ends those left, each with its one
// disconnect (cause error, saying voicehook stopped), and waits a few
// seconds for them to finish. Then it waits for the recordings still
// being encoded, until ctx ends, and a few seconds for the webhooks to be
// delivered. It returns how many calls it ended. Shutdown
// follows it; a call Drain ended is not ended again on the next Start.
func (e *Engine) Drain(ctx context.Context) int {
	e.mu.Lock()
	e.stop = true
	e.mu.Unlock()
	e.drainQueues()
	for e.Live() > 0 && ctx.Err() == nil {
		select {
		case <-ctx.Done():
		case <-time.After(drainPoll):
		}
	}
	e.mu.Lock()
	left := make([]*actor, 0, len(e.live))
	for _, a := range e.live {
		left = append(left, a)
	}
	e.mu.Unlock()
	for _, a := range left {
		a.post(evDrained{})
	}
	for deadline := time.Now().Add(drainGrace); e.Live() > 0 && time.Now().Before(deadline); {
		time.Sleep(drainPoll)
	}
	// Their recordings' files are made, and their recordingAvailable
	// queued, before the engine stops.
	e.waitEncodings(ctx)
	// The calls' last webhooks, their disconnects, go out before the
	// engine stops; those that cannot stay queued for the next start.
	for deadline := time.Now().Add(drainGrace); e.sending() && time.Now().Before(deadline); {
		time.Sleep(drainPoll)
	}
	return len(left)
}

// sending reports whether any call has webhooks queued or in flight.
func (e *Engine) sending() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.outboxes) > 0
}

// How often Drain looks at the live calls, and how long it waits for the
// calls it ended to finish.
const (
	drainPoll  = 50 * time.Millisecond
	drainGrace = 5 * time.Second
)

// accepting is nil while the engine takes new calls.
func (e *Engine) accepting() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.stop {
		return &Error{Code: EUnavailable, Msg: "voicehook is shutting down"}
	}
	return nil
}

// CreateCall places an outbound call. c holds the settings of createCall,
// already validated; the engine assigns the id and the state. It returns the
// call as created.
func (e *Engine) CreateCall(ctx context.Context, c Call) (*Call, error) {
	if err := e.accepting(); err != nil {
		return nil, err
	}
	now := e.cfg.Clock.Now()
	c.CallID = callback.NewCallID()
	c.Direction = callback.Outbound
	c.State = StateQueued
	c.LastUpdate = now
	if c.CallTimeout == 0 {
		c.CallTimeout = 30 * time.Second
	}
	if c.CallbackTimeout == 0 {
		c.CallbackTimeout = 15 * time.Second
	}
	if l := e.limiterFor(c.AccountID); l != nil {
		return e.createLimited(ctx, l, &c)
	}
	if err := e.cfg.Store.SaveCall(ctx, &c); err != nil {
		return nil, fmt.Errorf("engine: save new call: %w", err)
	}
	created := c
	if e.full() {
		e.spawn(&c, evCapacity{e.cfg.MaxCalls})
		return &created, nil
	}
	e.spawn(&c, evStart{})
	return &created, nil
}

// full reports whether the engine carries MaxCalls calls already; calls
// waiting in an account's queue are not carried yet.
func (e *Engine) full() bool {
	return e.cfg.MaxCalls > 0 && e.Live()-e.waiting() >= e.cfg.MaxCalls
}

// ErrAtCapacity refuses an inbound call to an engine that carries
// Config.MaxCalls calls: a SIP network answers it 503 with Retry-After.
var ErrAtCapacity = &Error{Code: EUnavailable, Msg: "this voicehook node carries as many calls as it may (--max-calls)"}

// Inbound is a call coming in to a number an application answers.
type Inbound struct {
	AccountID     string
	ApplicationID string
	From, To      string
	// Initiate is where the initiate webhook goes (the application's
	// call-initiated URL, method, fallback and credentials).
	Initiate Target
	// StatusURL and StatusMethod receive the disconnect.
	StatusURL, StatusMethod string
	// Username and Password are the application's callback credentials.
	Username, Password string
	CallbackTimeout    time.Duration
	// What the initiate event reports about the incoming INVITE.
	Diversion  callback.Diversion
	StirShaken *callback.StirShaken
	UUI        string
	SIPHeaders map[string]string
	// SIPCallID is the Call-ID of the INVITE, for a call that came in over
	// SIP.
	SIPCallID string
	// Attach, when set, connects the caller instead of the engine's
	// Network: a SIP network that took the INVITE hands the engine its
	// line this way. It is called once, from the call's actor.
	Attach func(callID string, notify func(PhoneEvent)) (Line, error)
	// BXML, when set, is the call's first document, run as if the
	// application had returned it: no initiate webhook is sent (a
	// softphone calling out through the gateway forwards with it).
	BXML []byte
}

// InboundCall takes a call coming in: the caller's line rings, the
// initiate webhook goes to the application, and its BXML runs.
func (e *Engine) InboundCall(ctx context.Context, in Inbound) (*Call, error) {
	if err := e.accepting(); err != nil {
		return nil, err
	}
	if e.full() {
		return nil, ErrAtCapacity
	}
	now := e.cfg.Clock.Now()
	c := Call{
		AccountID: in.AccountID, ApplicationID: in.ApplicationID, CallID: callback.NewCallID(),
		From: in.From, To: in.To, Direction: callback.Inbound, State: StateQueued, LastUpdate: now,
		DisconnectURL: in.StatusURL, DisconnectMethod: in.StatusMethod,
		Username: in.Username, Password: in.Password, CallbackTimeout: in.CallbackTimeout,
		UUI: in.UUI,
	}
	if c.CallbackTimeout == 0 {
		c.CallbackTimeout = 15 * time.Second
	}
	var s *slot
	if l := e.limiterFor(in.AccountID); l != nil {
		if err := l.admitInbound(now); err != nil {
			return nil, err
		}
		s = &slot{l: l, index: -1, counted: true}
	}
	if err := e.cfg.Store.SaveCall(ctx, &c); err != nil {
		if s != nil {
			s.l.unlive()
		}
		return nil, fmt.Errorf("engine: save new call: %w", err)
	}
	created := c
	e.spawnWith(&c, evIncoming{in: in}, func(a *actor) {
		a.st.sipCallID = in.SIPCallID
		a.attach = in.Attach
		if s != nil {
			a.slot, s.a = s, a
		}
	})
	return &created, nil
}

// GetCall returns the call's current record.
func (e *Engine) GetCall(ctx context.Context, accountID, callID string) (*Call, error) {
	c, err := e.cfg.Store.GetCall(ctx, accountID, callID)
	if errors.Is(err, ErrNotFound) {
		return nil, &Error{Code: ENotFound, Msg: fmt.Sprintf("Call %s not found", callID)}
	}
	return c, err
}

// ListCalls returns calls matching f, in creation order.
func (e *Engine) ListCalls(ctx context.Context, f CallFilter) ([]*Call, error) {
	return e.cfg.Store.ListCalls(ctx, f)
}

// changed tells Config.Changed that a call's stored state moved.
func (e *Engine) changed(callID string) {
	if e.cfg.Changed != nil {
		e.cfg.Changed(callID)
	}
}

// History returns the call's history.
func (e *Engine) History(ctx context.Context, accountID, callID string) ([]HistoryEntry, error) {
	if _, err := e.GetCall(ctx, accountID, callID); err != nil {
		return nil, err
	}
	return e.cfg.Store.History(ctx, callID)
}

// Update is POST /calls/{callId}: hang up, or redirect to new BXML.
type Update struct {
	// Complete hangs the call up (or cancels it while unanswered).
	Complete bool
	// Redirect is where the redirect event goes, when Complete is false.
	Redirect Target
	// SetTag changes the tag to Tag (nil or "" clears it).
	SetTag bool
	Tag    *string
}

// UpdateCall applies an update to a live call. A call that has ended, or
// cannot take the update in its state, gives an EConflict error; but a
// hang-up (Complete) of a call that ended within CompletedGrace succeeds
// and does nothing.
func (e *Engine) UpdateCall(ctx context.Context, accountID, callID string, u Update) error {
	err := e.request(ctx, accountID, callID, func(result chan<- error) event {
		return evUpdate{complete: u.Complete, redirect: u.Redirect, setTag: u.SetTag, tag: u.Tag, result: result}
	})
	if u.Complete {
		return e.completeEnded(ctx, accountID, callID, err)
	}
	return err
}

// UpdateCallBXML replaces the running BXML of an answered call (PUT
// …/bxml). verbs must already be validated.
func (e *Engine) UpdateCallBXML(ctx context.Context, accountID, callID string, verbs []bxml.Verb) error {
	return e.request(ctx, accountID, callID, func(result chan<- error) event {
		return evUpdateBXML{verbs: verbs, result: result}
	})
}

// request sends a REST request to the call's actor and waits for its answer.
func (e *Engine) request(ctx context.Context, accountID, callID string, mk func(chan<- error) event) error {
	if _, err := e.GetCall(ctx, accountID, callID); err != nil {
		return err
	}
	e.mu.Lock()
	a := e.live[callID]
	e.mu.Unlock()
	if a == nil {
		return errNotModifiable(callID)
	}
	result := make(chan error, 1)
	if !a.post(mk(result)) {
		return errNotModifiable(callID)
	}
	select {
	case err := <-result:
		return err
	case <-ctx.Done():
		return ctx.Err()
	case <-a.done:
		// The call ended before it read the request.
		select {
		case err := <-result:
			return err
		default:
			return errNotModifiable(callID)
		}
	}
}

// Carries reports whether the call is live on this engine.
func (e *Engine) Carries(callID string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.live[callID] != nil
}

// Live reports how many calls the engine owns now.
func (e *Engine) Live() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.live)
}

// Stats is what the engine holds at one moment, for gauges.
type Stats struct {
	// Live counts the calls the engine owns, by direction.
	Live map[callback.Direction]int
	// Queued counts the asynchronous webhooks not yet delivered, those
	// being sent included; OldestQueued is how long the oldest has waited
	// (since it was queued, or since Start for those a previous run left).
	Queued       int
	OldestQueued time.Duration
}

// Stats reports the engine's live calls and its outbox. It is cheap: a
// walk of what the engine holds in memory, reading no store.
func (e *Engine) Stats() Stats {
	now := e.cfg.Clock.Now()
	st := Stats{Live: map[callback.Direction]int{}}
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, a := range e.live {
		st.Live[a.dir]++
	}
	var oldest time.Time
	for _, o := range e.outboxes {
		n, first := o.stats()
		st.Queued += n
		if n > 0 && (oldest.IsZero() || first.Before(oldest)) {
			oldest = first
		}
	}
	if !oldest.IsZero() {
		st.OldestQueued = max(now.Sub(oldest), 0)
	}
	return st
}

// attempted counts a webhook's delivery attempts.
func (e *Engine) attempted(event callback.EventType, attempts []Attempt) {
	for _, at := range attempts {
		e.metrics.WebhookAttempt(event, at)
	}
}

// notifyOnce hands an asynchronous webhook that is not kept in the outbox
// (conference and transcription events) to the sender; its attempts are
// counted and a failure is logged.
func (e *Engine) notifyOnce(w Webhook) error {
	return e.cfg.Sender.Notify(e.ctx, w, func(attempts []Attempt) {
		e.attempted(w.Event.Type(), attempts)
		if n := len(attempts); n > 0 && attempts[n-1].Err != "" {
			e.log.Warn("webhook not delivered", "call_id", w.CallID, "event", w.Event.Type(), "err", attempts[n-1].Err)
		}
	})
}

// spawn starts the actor of a call with its first event.
func (e *Engine) spawn(c *Call, first event) { e.spawnWith(c, first, nil) }

// spawnWith starts an actor, letting setup adjust it first.
func (e *Engine) spawnWith(c *Call, first event, setup func(*actor)) {
	a := &actor{
		e:   e,
		dir: c.Direction,
		st: callState{call: *c, callURL: e.callURL(c), media: e.cfg.Media != nil, recorder: e.cfg.Recorder != nil, noMP3: e.noMP3, streamer: e.cfg.Streamer != nil,
			sockets: e.cfg.TranscriptionSockets != nil, transcriber: e.cfg.Transcriber != nil},
		inbox:        make(chan event, inboxSize),
		done:         make(chan struct{}),
		timers:       map[int]Timer{},
		captures:     map[string]Capture{},
		streams:      map[string]*liveStream{},
		transcribing: map[string]*liveTranscription{},
	}
	if setup != nil {
		setup(a)
	}
	a.log = e.log.With("call_id", c.CallID)
	a.out = e.outboxFor(c.CallID)
	e.mu.Lock()
	e.live[c.CallID] = a
	e.mu.Unlock()
	e.wg.Add(1)
	go a.run(first)
}

// spawnLeg stores and starts the B-leg of a transfer.
// A leg counted in its account's limits comes with its slot; nil without.
func (e *Engine) spawnLeg(ctx context.Context, spec *legSpec, s *slot) {
	c := spec.call
	if err := e.cfg.Store.SaveCall(ctx, &c); err != nil {
		e.log.Error("save a transfer leg", "call_id", c.CallID, "err", err)
	}
	e.spawnWith(&c, evStart{}, func(a *actor) {
		leg := spec.leg
		a.st.leg = &leg
		if s != nil {
			a.slot, s.a = s, a
		}
	})
}

// postTo delivers an event from one call's actor to another's, without
// making the sender wait (two actors waiting on each other would never
// move), and in the order sent: events for one call wait in its relay, a
// FIFO that one goroutine at a time moves to the call's inbox. News for a
// call that has ended is dropped, but a B-leg asking an ended A-leg is told
// it has gone.
func (e *Engine) postTo(from, to string, ev event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	target, sender := e.live[to], e.live[from]
	if target == nil {
		switch ev.(type) {
		case evLegAnswered, evLegBridged:
			target, ev = sender, evParentEnded{}
		case evBridgeRequest:
			target, ev = sender, evBridgeFailed{callback.CauseUnknown, fmt.Sprintf("Call %s has ended or does not exist", to)}
		case evBridgeAccepted:
			target, ev = sender, evBridgePeerLeft{}
		}
		if target == nil {
			return
		}
	}
	r := e.relays[target]
	if _, digit := ev.(evPeerDigit); digit && r != nil && len(r.events) >= maxRelayed {
		e.log.Warn("digit from the bridged call dropped: the call is not keeping up", "call_id", to, "from", from)
		return
	}
	if r == nil {
		r = &relay{}
		e.relays[target] = r
		e.wg.Add(1)
		go e.drain(target, r)
	}
	r.events = append(r.events, ev)
}

// relay holds the events other calls' actors sent one call's actor and
// that have not reached its inbox yet, oldest first. Engine.mu guards it.
type relay struct {
	events []event
}

// maxRelayed bounds a relay for digits: a digit relayed across a bridge
// to a call with this many events waiting is dropped, as a line too slow
// to carry it would. The other events, a few per call, always queue.
const maxRelayed = 256

// drain moves the events of a relay to its call's inbox, in order, until
// the relay is empty or the call has ended; then the relay is gone, and
// the next event posted starts a new one.
func (e *Engine) drain(target *actor, r *relay) {
	defer e.wg.Done()
	for {
		e.mu.Lock()
		if len(r.events) == 0 {
			delete(e.relays, target)
			e.mu.Unlock()
			return
		}
		ev := r.events[0]
		r.events[0] = nil
		r.events = r.events[1:]
		e.mu.Unlock()
		if !target.post(ev) {
			// The call has ended or the engine stops: the rest is news for no one.
			e.mu.Lock()
			delete(e.relays, target)
			e.mu.Unlock()
			return
		}
	}
}

func (e *Engine) callURL(c *Call) string {
	return fmt.Sprintf("%s/accounts/%s/calls/%s", e.cfg.BaseURL, c.AccountID, c.CallID)
}
