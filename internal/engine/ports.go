package engine

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/voicehook/voicehook/callback"
)

// This file declares what the engine needs from the world: a clock, a
// store, a webhook sender and a phone network. Adapters implement them
// (internal/store, internal/delivery, internal/phone/sim); tests use small
// fakes. None of them may call back into the engine synchronously.

// Clock is the time source of every timer in the engine: ring timeouts,
// Pause, Gather timeouts. Tests run the engine inside a testing/synctest
// bubble, where the real clock is virtual.
type Clock interface {
	Now() time.Time
	// AfterFunc calls f in its own goroutine once d has elapsed.
	AfterFunc(d time.Duration, f func()) Timer
}

// Timer is a pending AfterFunc.
type Timer interface {
	// Stop prevents the timer from firing; it reports whether it did so.
	Stop() bool
}

// RealClock is the wall clock.
type RealClock struct{}

// Now returns the current time.
func (RealClock) Now() time.Time { return time.Now() }

// AfterFunc wraps time.AfterFunc.
func (RealClock) AfterFunc(d time.Duration, f func()) Timer { return time.AfterFunc(d, f) }

// State is the lifecycle state of a call, as GET /calls/{callId} reports it.
type State string

// Call states.
const (
	StateQueued       State = "queued"
	StateInitiated    State = "initiated"
	StateAnswered     State = "answered"
	StateDisconnected State = "disconnected"
)

// Call is the record of a call: what createCall asked for and what has
// happened since. The engine owns live calls; the store keeps copies.
type Call struct {
	AccountID     string
	ApplicationID string
	CallID        string
	// ParentCallID is set on the B-leg of a <Transfer>.
	ParentCallID string
	To           string
	From         string
	Direction    callback.Direction
	State        State

	EnqueuedTime time.Time
	StartTime    time.Time
	AnswerTime   time.Time
	EndTime      time.Time
	LastUpdate   time.Time

	DisconnectCause callback.Cause
	ErrorMessage    string
	ErrorID         string
	SIPResponseCode int
	// Tag is nil when no tag is set.
	Tag *string

	// Settings of createCall.
	AnswerURL            string
	AnswerMethod         string
	AnswerFallbackURL    string
	AnswerFallbackMethod string
	Username             string
	Password             string
	FallbackUsername     string
	FallbackPassword     string
	DisconnectURL        string
	DisconnectMethod     string
	CallTimeout          time.Duration
	CallbackTimeout      time.Duration
	Priority             int
	DisplayName          string
	UUI                  string
	Privacy              *bool
	// MachineDetection, when set, runs answering-machine detection on the
	// answer.
	MachineDetection *MachineDetection

	// Dialog is the state of the call's signalling dialog, opaque to the
	// engine, as its line last reported it (PhoneDialog); nil for a call
	// whose line reports none (simulated phones). When the node carrying
	// the call dies, the node that adopts it ends the dialog from it
	// (DialogEnder), so that the carrier stops billing.
	Dialog []byte
}

// CallFilter selects calls for ListCalls. Zero fields match everything.
type CallFilter struct {
	AccountID       string
	To, From        string
	MinStartTime    time.Time
	MaxStartTime    time.Time
	DisconnectCause callback.Cause
	// Number matches calls to or from it; State calls in that state;
	// ParentCallID the B-legs of that call.
	Number       string
	State        State
	ParentCallID string
	// Newest lists the most recent calls first (After then continues
	// with older ones).
	Newest bool
	// After is the call id to continue after (paging), in creation order.
	After string
	// Limit caps the result; 0 means no cap.
	Limit int
}

// HistoryEntry is one line of a call's history: an event sent, a delivery
// attempt, a verb run, a state change. The console and /sim/v1 show it.
type HistoryEntry struct {
	CallID string
	Time   time.Time
	// Kind is "state", "webhook", "attempt", "verb" or "phone" (what the
	// far end did).
	Kind string
	// Summary is one line for people: "answer → https://app/answer: 200 in 3ms".
	Summary string
	// Detail is a JSON object with the full facts (the event body, the
	// attempt's URL, status and latency, the verb's attributes).
	Detail []byte
}

// ErrNotFound is returned by a Store for an unknown call.
var ErrNotFound = errors.New("not found")

// Store keeps calls and their history. It must be safe for concurrent use.
type Store interface {
	// SaveCall inserts the call or replaces the stored copy.
	SaveCall(ctx context.Context, c *Call) error
	// GetCall returns the call, or ErrNotFound. The account must match.
	GetCall(ctx context.Context, accountID, callID string) (*Call, error)
	// ListCalls returns calls in creation order.
	ListCalls(ctx context.Context, f CallFilter) ([]*Call, error)
	// LiveCalls returns the calls not yet disconnected, of every account:
	// after a restart the engine ends them.
	LiveCalls(ctx context.Context) ([]*Call, error)
	// AppendHistory adds entries to calls' histories, in order.
	AppendHistory(ctx context.Context, entries ...HistoryEntry) error
	// History returns a call's history in the order it was appended.
	History(ctx context.Context, callID string) ([]HistoryEntry, error)
	// Write stores what one event changed, all or nothing: the call (if
	// Call is set), history entries, and asynchronous webhooks to deliver.
	// It returns the ids of the queued webhooks, in order.
	Write(ctx context.Context, w Write) ([]int64, error)
	// Queued returns the webhooks queued and not yet delivered, in the
	// order they were queued: after a restart the engine delivers them.
	Queued(ctx context.Context) ([]QueuedWebhook, error)
	// Delivered removes a queued webhook.
	Delivered(ctx context.Context, id int64) error
}

// Write is what one event changed.
type Write struct {
	Call    *Call
	History []HistoryEntry
	// Enqueue are asynchronous webhooks, in delivery order.
	Enqueue []QueuedWebhook
}

// QueuedWebhook is an asynchronous webhook waiting for delivery, in the
// engine's own encoding: the store keeps its bytes.
type QueuedWebhook struct {
	ID     int64 // set by the store
	CallID string
	// EventID is the webhook's Webhook.ID, kept so that a redelivery after
	// a restart carries the same webhook-id.
	EventID string
	Data    []byte
}

// Target is where a webhook goes: a URL with its method and credentials,
// and the fallback to try when the URL fails.
type Target struct {
	URL              string
	Method           string // GET or POST; "" means POST
	Username         string
	Password         string
	FallbackURL      string
	FallbackMethod   string
	FallbackUsername string
	FallbackPassword string
}

// Webhook is one event to deliver.
type Webhook struct {
	// ID is the event's own id, sent as the webhook-id header: the engine
	// gives it (NewEventID) before the webhook's first attempt, keeps it
	// with a queued webhook in the store, and it stays the same on a retry,
	// on the fallback URL and on a redelivery after a restart, so that an
	// app can drop repeats by it.
	ID     string
	CallID string
	// AccountID and ApplicationID say whose webhook it is: the Sender signs
	// it with that application's secrets, if it has any.
	AccountID     string
	ApplicationID string
	Event         callback.Event
	Target        Target
	Timeout       time.Duration // per attempt; 0 means 15 s
}

// NewEventID returns a fresh Webhook.ID: a random UUID.
func NewEventID() string { return uuid.NewString() }

// Attempt is one HTTP request made to deliver a webhook.
type Attempt struct {
	Time     time.Time
	URL      string
	Method   string
	Fallback bool
	Status   int // 0 when no response came
	Latency  time.Duration
	Err      string // "" on success
	// Outcome is how the attempt ended, as the sender classified it: the
	// engine branches on it (a refused address is not retried) and
	// metrics label with it. Empty in an Attempt from a sender that does
	// not classify; readers then go by Status and Err.
	Outcome Outcome `json:",omitempty"`
	// Reply is the start of the body of a response that failed (a 4xx or
	// 5xx), what the app said went wrong; the engine also puts a
	// synchronous reply's BXML on its last attempt. The history keeps it,
	// for the console.
	Reply []byte
}

// Outcome is how a delivery attempt ended. The values are stable: they are
// the outcome label of voicehook's webhook metrics.
type Outcome string

// Outcomes of an attempt.
const (
	OutcomeOK              Outcome = "ok"               // a 2xx answer, read in full
	OutcomeHTTPError       Outcome = "http_error"       // any other status (4xx, 5xx, a redirect not followed)
	OutcomeTimeout         Outcome = "timeout"          // no answer, or no full reply, within the timeout
	OutcomeConnectionError Outcome = "connection_error" // no answer: refused, reset, closed, bad URL, DNS
	OutcomeRefused         Outcome = "refused"          // voicehook's own guard refused the address
	OutcomeCanceled        Outcome = "canceled"         // voicehook stopped while it waited
)

// ErrNotOwner is wrapped by a Sender's error when this engine may no
// longer speak for the call: its node lost the call to another (see
// Adopt). A webhook refused so stays queued in the store, for the engine
// that has the call now; this one stops delivering the call's webhooks.
var ErrNotOwner = errors.New("this engine no longer owns the call")

// Reply is the answer to a synchronous webhook.
type Reply struct {
	// Body is the BXML returned (may be empty).
	Body []byte
	// URL is the URL that answered, primary or fallback: relative URLs in
	// Body resolve against it.
	URL      string
	Attempts []Attempt
}

// DeliveryError reports a webhook that could not be delivered: the
// primary URL failed (after one retry on a connection error) and so did the
// fallback, if any.
type DeliveryError struct {
	Attempts []Attempt
	// Reason is one line for the disconnect's errorMessage.
	Reason string
}

func (e *DeliveryError) Error() string { return e.Reason }

// Sender delivers webhooks. It must be safe for concurrent use.
type Sender interface {
	// Send delivers a synchronous webhook and returns the reply: any 2xx
	// answer. A connection error is retried once on the same URL; a
	// failure then (connection error, timeout, 4xx or 5xx) moves to the
	// fallback. When everything failed the error is a *DeliveryError.
	Send(ctx context.Context, w Webhook) (Reply, error)
	// Notify delivers an asynchronous webhook (disconnect, dtmf, …),
	// whose reply is ignored, and returns once it is queued. Delivery
	// follows Bandwidth's rule: one retry, on a connection error only.
	// done, if not nil, is called with the attempts when delivery ends.
	Notify(ctx context.Context, w Webhook, done func([]Attempt)) error
}

// PhoneEventKind is what happened at the far end of a call.
type PhoneEventKind int

// Phone events.
const (
	PhoneRinging  PhoneEventKind = iota + 1 // the far end is ringing
	PhoneAnswered                           // the far end answered
	PhoneBusy                               // the far end is busy (SIP 486, 600)
	PhoneRejected                           // the far end declined (SIP 603, 607, 608)
	PhoneHungUp                             // the far end hung up
	PhoneDigit                              // the far end pressed a key
	PhoneFailed                             // the call could not be placed
	PhoneSpeech                             // the far end speaks
	PhoneHeard                              // the far end heard the digits the call sent
	PhonePlayed                             // a Playback finished playing, or could not be played
	PhoneNoAnswer                           // the far end did not answer (SIP 408, 480)
	PhoneSignal                             // a signalling message went to or came from the far end, for the history
	PhoneGreeting                           // what the far end said on answering, now known (Dial.Detect)
	PhoneDialog                             // the signalling dialog is established, or changed: Dialog holds its state

	// PhoneUnexplained: the call failed in a way nothing explains (a final
	// response whose code has no known meaning, such as SIP 699).
	PhoneUnexplained
)

// PhoneEvent is a report from the phone network about one call.
type PhoneEvent struct {
	Kind    PhoneEventKind
	Digit   byte // for PhoneDigit
	SIPCode int  // for PhoneBusy, PhoneRejected, PhoneNoAnswer, PhoneFailed, PhoneUnexplained
	// Reason says why a call could not be placed (PhoneFailed, and the
	// others with a SIPCode), why a Playback could not be played
	// (PhonePlayed), or why the line hung up on its own (PhoneHungUp: no
	// audio came for too long, a session timer expired), for the
	// disconnect's errorMessage.
	Reason string
	// Greeting is what the far end says on answering, for machine
	// detection: a simulated phone knows it at once (PhoneAnswered); a line
	// that carries audio hears it first, and reports it with PhoneGreeting
	// once it has heard enough, within Dial.Detect's detectionTimeout
	// (GreetingFollows tells so on PhoneAnswered).
	Greeting        Greeting
	GreetingFollows bool
	// For PhoneSpeech: what the far end says, and for how long. A line
	// that carries real audio knows neither: it reports speech with no
	// text and no length, again and again while the far end speaks (at
	// least every half second), so that a silence timeout counts from the
	// last report.
	Text   string
	Length time.Duration
	// Digits are the DTMF digits the far end heard (PhoneHeard).
	Digits string
	// PlayID is the Playback.ID that finished (PhonePlayed).
	PlayID int
	// SIPCallID is the Call-ID of the call's SIP dialog: a SIP line puts
	// it on the first event it reports.
	SIPCallID string
	// Message is the signalling message (PhoneSignal), one line as the
	// console's ladder shows it: "INVITE →", "← 180 Ringing", "← BYE".
	Message string
	// Dialog is the dialog's state (PhoneDialog), opaque to the engine:
	// a line that carries real signalling reports it once the dialog is
	// established (the 2xx to the INVITE sent or received), and again
	// when it changes (a target refresh). The engine keeps it with the
	// call (Call.Dialog).
	Dialog []byte
}

// DialogEnder is a Network that can end a call's dialog from its stored
// state alone (Call.Dialog), without the line that carried it: when a node
// dies, the node that adopts its calls ends their dialogs (a SIP BYE), so
// that the far end and the carrier stop the call. EndDialog waits for the
// far end's answer, until ctx ends.
type DialogEnder interface {
	EndDialog(ctx context.Context, dialog []byte) error
}

// Dial asks the network to place a call, or to connect the caller of an
// inbound one.
type Dial struct {
	CallID string
	// AccountID is the account whose call it is: a simulated phone behaves
	// as that account scripted it.
	AccountID string
	From      string
	To        string
	// What createCall asked of the call's set-up (a SIP network puts
	// them in its INVITE; a simulated one ignores them).
	DisplayName string
	Privacy     bool
	UUI         string
	// Detect, when set, asks a line that carries audio to listen to the
	// far end's greeting and report it (PhoneGreeting): createCall asked
	// for machine detection.
	Detect *MachineDetection
}

// Network places calls and carries calls that come in. Events about a
// call arrive through the notify function given, from any goroutine, in
// order.
type Network interface {
	Dial(d Dial, notify func(PhoneEvent)) (Line, error)
	// Incoming connects the caller of an inbound call: d.From calls d.To.
	Incoming(d Dial, notify func(PhoneEvent)) (Line, error)
}

// Line is the network side of a placed call: the engine's media port.
// Only the call's actor calls its methods, one at a time; none may block
// on the network (a line that talks to one queues the work and reports
// what happened as PhoneEvents). After Hangup no method is called.
//
// Two kinds of line implement it. A simulated line carries no audio: it
// is told what plays and for how long, and its phone reacts on cue. A line
// that carries audio (SIP) plays, records and detects for real.
type Line interface {
	// Hangup ends the call from our side; no event follows. An inbound
	// call not answered yet is declined. It returns the signalling message
	// that ends the call ("→ BYE"), for the history, or "".
	Hangup() string
	// Listening tells the far end the call now waits for digits (a Gather
	// started): a scripted phone may press keys then.
	Listening()
	// Answered answers an inbound call (a line that carries audio opens
	// its media now), or tells the caller it was answered.
	Answered()
	// Recording tells the far end the call is being recorded (a <Record>
	// started): a scripted phone may speak then.
	Recording()
	// Play plays p. A line that carries audio returns true and reports
	// PhonePlayed with p.ID when p has played to its end, or could not be
	// played (Reason set), unless StopPlaying cut it short first. A line
	// that carries none returns false: the engine then times p by its
	// Length, and the line has only told its phone what plays.
	Play(p Playback) bool
	// StopPlaying cuts short what Play started (a digit barged in, the
	// verb was stopped); no PhonePlayed follows for it.
	StopPlaying()
	// SendDigits sends DTMF to the far end: a <SendDtmf>'s digits, or a
	// key pressed on the call bridged with this one. A line whose far end
	// heard them reports PhoneHeard once they are sent; a scripted phone
	// may answer.
	SendDigits(d Digits)
	// Capture starts recording the line's audio: what the far end says
	// (channel 1) and, with channels 2, what the call plays to it
	// (channel 2); with 1 channel the two are mixed. A line that carries
	// no audio returns nil: the engine then writes the recording from
	// what its phone was scripted to say.
	Capture(channels int) Capture
}

// Decliner is a Line that can tell the caller of an inbound call, not
// yet answered, why it is declined: a SIP line answers a busy 486 rather
// than 603 (a softphone's call forwarded to a busy number). The engine
// calls Decline instead of Hangup then.
type Decliner interface {
	Decline(cause callback.Cause) string
}

// Playback is what a line plays at once: its prompts in order, Repeat
// times (at least once), with Gap of silence between repetitions.
type Playback struct {
	ID      int
	Prompts []Prompt
	Repeat  int
	Gap     time.Duration
	// What is what a simulated phone hears, in words (the sentence, or
	// the file's URL); "" tells it nothing.
	What string
	// Length is how long the engine reckons the whole plays: a line that
	// carries no audio is timed by it.
	Length time.Duration
}

// Prompt is one thing played: a sentence to speak (Text or SSML set) or
// an audio file to fetch and play (URL set).
type Prompt struct {
	Text, SSML            string
	Voice, Locale, Gender string
	URL                   string
	Username, Password    string
}

// Digits are DTMF digits to send.
type Digits struct {
	// Keys are the digits, with the pauses of SendDtmf among them: ','
	// and 'w' half a second, 'W' a second.
	Keys string
	// Tone is how long each digit sounds and Gap the silence after it;
	// zero leaves them to the line (a relayed key).
	Tone, Gap time.Duration
}

// Tones are the keys without the pauses.
func (d Digits) Tones() string {
	return strings.Map(func(r rune) rune {
		if r == ',' || r == 'w' || r == 'W' {
			return -1
		}
		return r
	}, d.Keys)
}

// Length is how long sending them takes: each digit's tone and gap, and
// the pauses.
func (d Digits) Length() time.Duration {
	var n time.Duration
	for _, c := range d.Keys {
		switch c {
		case ',', 'w':
			n += 500 * time.Millisecond
		case 'W':
			n += time.Second
		default:
			n += d.Tone + d.Gap
		}
	}
	return n
}

// Capture is a recording of a line's audio in progress. Its methods are
// called by the call's actor; the line's media goroutine writes into it.
type Capture interface {
	// Pause leaves out what is heard and played until Resume.
	Pause()
	Resume()
	// Stop ends the capture and hands over its audio: the caller owns the
	// returned samples.
	Stop() Audio
}

// Audio is recorded sound: 16-bit samples at Rate a second, one slice per
// channel, all the same length.
type Audio struct {
	Rate     int
	Channels [][]int16
}

// Length is how long the audio lasts.
func (a Audio) Length() time.Duration {
	if a.Rate <= 0 || len(a.Channels) == 0 {
		return 0
	}
	return time.Duration(len(a.Channels[0])) * time.Second / time.Duration(a.Rate)
}

// Media measures the audio files PlayAudio plays.
type Media interface {
	// AudioLength fetches the file at url, with Basic credentials when
	// username is set, and returns how long it plays. Its error says why it
	// cannot be played (an unsupported format, a failed fetch); the call
	// then ends with application-error.
	AudioLength(ctx context.Context, url, username, password string) (time.Duration, error)
}

// Metrics is told what the engine does, for a monitoring system to count
// (internal/metrics implements it with Prometheus). Every value passed is
// from a small set fixed by the dialect — a direction, a cause, an event
// type, a verb name — never a call id or a number; an Attempt's URL is not
// for labels. Its methods are called from many goroutines, so they must be
// safe for concurrent use, and must not block: call control waits on them.
// Gauges (live calls, the outbox) are read when wanted, with Engine.Stats.
type Metrics interface {
	// CallEnded is told of every call leg that ended, once.
	CallEnded(direction callback.Direction, cause callback.Cause)
	// VerbRan is told of every BXML verb a call or a conference starts.
	VerbRan(verb string)
	// InvalidBXML is told of every reply to event that was not valid BXML.
	InvalidBXML(event callback.EventType)
	// WebhookAttempt is told of every HTTP request made for a webhook.
	WebhookAttempt(event callback.EventType, a Attempt)
}

// noMetrics is the Metrics of an engine without Config.Metrics.
type noMetrics struct{}

func (noMetrics) CallEnded(callback.Direction, callback.Cause) {}
func (noMetrics) VerbRan(string)                               {}
func (noMetrics) InvalidBXML(callback.EventType)               {}
func (noMetrics) WebhookAttempt(callback.EventType, Attempt)   {}

// Mixer joins the audio of calls: the two calls of a bridge (<Bridge>, or
// the legs of a <Transfer> or <Forward> once bridged) and the members of a
// conference. A network that carries audio implements it. Without one
// (Config.Mixer nil), calls in a bridge or a conference hear nothing of
// each other, as with simulated phones alone.
type Mixer interface {
	// Room opens an empty room. notify gets the room's PhonePlayed events
	// (Room.Play), from any goroutine, in order.
	Room(notify func(PhoneEvent)) Room
}

// Room is where the audio of calls meets: each member hears the mix of the
// members it may hear (never itself) and what the room plays. Lines of
// different codecs meet as linear audio, so a PCMU call hears a PCMA one.
// Its methods are safe for concurrent use and never block on the network:
// the actors of the members and the conference's actor all call them.
type Room interface {
	// Join puts a call's line in the room, heard and hearing as m says. A
	// line that carries no audio (a simulated phone) joins as a member
	// heard only through Say, which hears nothing. Joining again changes
	// only m.
	Join(line Line, m Member)
	// Set changes how a member hears and is heard (a conference member
	// muted, held, made a coach). A Set for a call that has not joined
	// yet is kept for its Join, which it overrides.
	Set(m Member)
	// Leave takes a call out of the room; leaving twice is harmless. A
	// line that hangs up leaves by itself.
	Leave(callID string)
	// Say plays p as what member callID says: a simulated phone's speech,
	// synthesized, that the others hear as its voice. Nothing happens
	// unless a member carries audio.
	Say(callID string, p Playback)
	// Audible reports whether a member carries audio: only then does the
	// room play and record.
	Audible() bool
	// Play plays p to every member not on hold, and reports PhonePlayed
	// with p.ID when it has played, or could not be played (Reason set),
	// unless StopPlaying cut it short. It returns false, and plays
	// nothing, when no member carries audio: the caller then times p by
	// its Length.
	Play(p Playback) bool
	// StopPlaying cuts short what Play started; no PhonePlayed follows.
	StopPlaying()
	// Capture records the room as a listener who hears everyone would:
	// every member not muted or held, and what the room plays, mixed in
	// one channel. nil when no member carries audio.
	Capture() Capture
	// Close ends the room: its members leave it, its playback stops, and
	// no event follows.
	Close()
}

// Member is a call in a room.
type Member struct {
	CallID string
	// Mute: the others do not hear it. Hold: it neither hears nor is
	// heard.
	Mute, Hold bool
	// Coach, when not empty, are the only members who hear this one: a
	// coach whispers to the calls it coaches, who hear it and are heard
	// by it; it hears everyone.
	Coach []string
}

// Streamer opens media streams (<StartStream>): the WebSocket client side.
// The stream adapter (internal/streamer) implements it, dialling through the
// same guarded client as webhooks. Without one (Config.Streamer nil),
// <StartStream> gets mediaStreamRejected with cause error.
type Streamer interface {
	// Open starts a stream and returns at once: the adapter connects to
	// s.Destination in the background. notify gets the stream's events,
	// from any goroutine, in order: first exactly one StreamStarted (the
	// socket is open and start has been sent) or StreamRejected (it could
	// not be opened); after StreamStarted, StreamAudio and StreamClear
	// (bidirectional only) and StreamWarning, and at most one
	// StreamStopped (the destination closed the socket or it failed). No
	// event follows Stream.Stop.
	Open(s StreamSpec, notify func(StreamEvent)) Stream
}

// StreamSpec is a stream to open.
type StreamSpec struct {
	// ID is the stream's id ("s-…"), Name its name (the id when the BXML
	// gave none).
	ID, Name    string
	AccountID   string
	CallID      string
	Destination string // ws:// or wss://
	// Username and Password, when Username is set, go on the WebSocket's
	// opening request as Basic credentials (destinationUsername,
	// destinationPassword).
	Username, Password string
	// Tracks are "inbound" (what the far end says), "outbound" (what the
	// call plays to it), or both, in that order.
	Tracks []string
	// Params are the <StreamParam>s, in document order.
	Params []StreamParam
	// Bidirectional: the destination may send audio back (playAudio) and
	// clear it.
	Bidirectional bool
	// Paced: the call's line carries no audio (a simulated phone), so the
	// stream sends a media frame per track every 20 ms of the engine's
	// clock by itself — silence, or what Say rendered. When false, the line
	// feeds the stream (Stream.Feed) and the stream sends what it is fed,
	// as it is fed.
	Paced bool
}

// StreamParam is a <StreamParam> of a stream.
type StreamParam struct{ Name, Value string }

// Tracks of a stream.
const (
	TrackInbound  = "inbound"
	TrackOutbound = "outbound"
)

// StreamEventKind is what happened to a stream.
type StreamEventKind int

// Stream events.
const (
	StreamStarted  StreamEventKind = iota + 1 // connected; start sent
	StreamRejected                            // could not connect (Cause, Reason)
	StreamStopped                             // the socket closed or failed (Cause, Reason)
	StreamAudio                               // a bidirectional destination sent audio to play (Audio)
	StreamClear                               // a bidirectional destination asked to drop the audio queued
	StreamWarning                             // the destination sent something that was not understood and was ignored (Reason)
)

// StreamEvent is a report from a stream.
type StreamEvent struct {
	Kind     StreamEventKind
	StreamID string
	// Cause is connection-error or error for StreamRejected; closed (the
	// destination closed the socket), connection-error or error for
	// StreamStopped.
	Cause  callback.StreamCause
	Reason string
	// Audio is what to play, 8 kHz 16-bit linear, whatever the
	// destination sent (StreamAudio). The receiver owns it.
	Audio []int16
}

// Stream is an open stream. Only the call's actor calls Say, StopSaying
// and Stop; Feed is called from the line's media goroutine. None of them
// blocks on the network.
type Stream interface {
	// Feed gives the stream one 20 ms frame of a track's audio (160
	// samples at 8 kHz) from a line that carries audio: the stream sends it
	// as a media message. Feed copies frame and never blocks; a stream that
	// cannot keep up drops frames (and says so with a StreamWarning).
	Feed(track string, frame []int16)
	// Say renders p on a track of a paced stream (a simulated phone's
	// speech on inbound, what the call plays on outbound): sentences by
	// text-to-speech, files fetched and decoded, fitted to p.Length, and
	// sent from now on after what is still to be sent on that track.
	Say(track string, p Playback)
	// StopSaying drops what Say queued on the track and not yet sent.
	StopSaying(track string)
	// Stop sends stop, closes the socket and releases the stream. Stopping
	// twice is harmless; no event follows.
	Stop()
}

// Tapper is a Line that carries audio, heard by a stream.
type Tapper interface {
	// Tap hands sink the line's audio every 20 ms from its media
	// goroutine, once answered: what the far end said (in) and what the
	// line sent it (out: playback, a room's mix, injected audio), 160
	// samples at 8 kHz each, valid only during the call. sink must not
	// block, nor tap or untap (that deadlocks). untap stops it; after
	// untap returns sink is not called.
	Tap(sink func(in, out []int16)) (untap func())
	// Inject plays samples (8 kHz) to the far end after the samples
	// injected before and not yet played, mixed with whatever else the
	// line plays: a bidirectional stream's audio. It takes the slice.
	Inject(samples []int16)
	// ClearInjected drops the injected samples not yet played.
	ClearInjected()
}

// Hearer is a Line that carries no audio whose far end hears a
// bidirectional stream's audio: its phone may answer what it heard.
type Hearer interface {
	// Hear tells the far end it hears audio from now until until. A later
	// call extends or, with until at or before now, cuts what it hears
	// (the stream cleared its audio).
	Hear(until time.Time)
}

// Real-time transcription (<StartTranscription>): the engine knows a
// simulated phone's words and makes its transcripts itself; a line that
// carries audio is heard by a Transcriber. Transcripts go to the
// transcription's destination socket (TranscriptionSockets), if any, and
// are kept (Transcripts) for GET …/calls/{id}/transcriptions/{id}.

// Transcriber recognizes the speech of a line that carries audio, as it
// comes. The speech adapter (internal/stt) implements it.
type Transcriber interface {
	// Listen starts recognizing; the line's audio is fed to the returned
	// Listener. notify gets one Transcript per utterance, from any
	// goroutine, in order; none follows Listener.Stop.
	Listen(spec TranscriptionSpec, notify func(Transcript)) Listener
}

// TranscriptionSpec is a transcription to make.
type TranscriptionSpec struct {
	// ID is the transcription's id ("t-…"), Name its name (the id when the
	// BXML gave none).
	ID, Name  string
	AccountID string
	CallID    string
	// Tracks are "inbound", "outbound" or both, in that order.
	Tracks []string
	// Language is the BCP 47 language expected, "en-US" by default.
	Language string
}

// Listener hears a line's audio for a transcription.
type Listener interface {
	// Feed gives it one 20 ms frame of a track (160 samples at 8 kHz),
	// from the line's media goroutine; it copies and never blocks.
	Feed(track string, frame []int16)
	// Stop ends it: speech not yet recognized is dropped. No Transcript
	// is decided on after Stop returns; one already decided on may still
	// reach notify a moment later (the engine drops it).
	Stop()
}

// Transcript is one utterance recognized on a track.
type Transcript struct {
	Track string
	// Start and End are when the utterance began and ended, counted from
	// the transcription's start.
	Start, End time.Duration
	Text       string
	Words      []TranscriptWord
	// Confidence is 0 to 1: 1 for a simulated phone's words.
	Confidence float64
	// Err, when set, says why the utterance could not be recognized (Text
	// is then empty).
	Err string
}

// TranscriptWord is a word of a Transcript, timed like it.
type TranscriptWord struct {
	Text       string
	Start, End time.Duration
	Confidence float64
}

// TranscriptionSockets opens the destination sockets of real-time
// transcriptions: the stream adapter implements it beside Streamer.
type TranscriptionSockets interface {
	// OpenTranscription connects to s.Destination in the background and
	// sends start; notify gets StreamStarted or StreamRejected, then at
	// most one StreamStopped, as Streamer.Open's do. No event follows
	// TranscriptionSocket.Stop.
	OpenTranscription(s TranscriptionSocketSpec, notify func(StreamEvent)) TranscriptionSocket
}

// TranscriptionSocketSpec is a transcription's destination socket.
type TranscriptionSocketSpec struct {
	TranscriptionSpec
	Destination string // ws:// or wss://
	// Stabilized: only final transcripts are sent (the default).
	Stabilized bool
	// Params are the <CustomParam>s, in document order.
	Params []StreamParam
}

// TranscriptionSocket sends a transcription's transcripts.
type TranscriptionSocket interface {
	// Send queues t as a transcription message; it never blocks.
	Send(t Transcript)
	// Stop sends stop and closes the socket; stopping twice is harmless.
	Stop()
}

// Transcripts keeps the transcripts of real-time transcriptions.
type Transcripts interface {
	// SaveTranscription stores a transcription that has ended.
	SaveTranscription(ctx context.Context, t *LiveTranscription) error
	// Transcriptions lists a call's transcriptions, oldest first.
	Transcriptions(ctx context.Context, accountID, callID string) ([]*LiveTranscription, error)
	// Transcription returns one, or ErrNotFound.
	Transcription(ctx context.Context, accountID, callID, id string) (*LiveTranscription, error)
	// DeleteTranscription removes one, or returns ErrNotFound.
	DeleteTranscription(ctx context.Context, accountID, callID, id string) error
}

// LiveTranscription is a real-time transcription as kept: what was said on
// each track, utterance by utterance.
type LiveTranscription struct {
	ID, Name      string
	AccountID     string
	CallID        string
	Tracks        []string
	StartTime     time.Time
	CompletedTime time.Time
	Transcripts   []Transcript
}

// Recognizer transcribes recorded speech: the recordings of real calls
// (transcribe="true"). The speech adapter (internal/stt) implements it.
type Recognizer interface {
	// Recognize returns what is said in samples (one channel at rate
	// samples a second): "" when nothing is.
	Recognize(ctx context.Context, samples []int16, rate int) (string, error)
}

// ConferenceStore keeps conferences, so that they outlive the engine that
// ran them: a restart, or another node sharing the database, still finds
// them and their legs. A Store that also implements it keeps conferences;
// without it they live in the engine's memory only.
type ConferenceStore interface {
	// SaveConference inserts a conference or replaces it, members and
	// Joined included. A replaced conference keeps its place in listings.
	SaveConference(ctx context.Context, c Conference) error
	// GetConference returns a conference of the account, or an error
	// wrapping ErrNotFound.
	GetConference(ctx context.Context, accountID, id string) (*Conference, error)
	// ListConferences returns the conferences that match f in the order
	// they were first saved, with Engine.ListConferences's semantics:
	// bounds on the creation time are inclusive, and After that names no
	// conference gives an empty list.
	ListConferences(ctx context.Context, f ConferenceFilter) ([]Conference, error)
	// ActiveConferences returns the conferences not completed, of every
	// account.
	ActiveConferences(ctx context.Context) ([]Conference, error)
}
