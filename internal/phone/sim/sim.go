// Package sim is a phone network of simulated phones: every number the
// engine dials answers, rings out, is busy, declines, presses digits, hears
// and answers the digits sent to it and the utterances a media stream
// plays to it, and hangs up as its script says, on the engine's clock. It
// implements engine.Network; its lines implement engine.Hearer.
//
// A Network is safe for concurrent use. Its timers are the clock's; it owns
// no goroutines of its own.
package sim

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/voicehook/voicehook/internal/audio"
	"github.com/voicehook/voicehook/internal/engine"
)

// Outcome is what a phone does with an incoming call.
type Outcome string

// Outcomes.
const (
	Answer   Outcome = "answer"    // it answers after ringing
	Busy     Outcome = "busy"      // it is busy: SIP 486
	Decline  Outcome = "decline"   // it rings, then declines: SIP 603
	NoAnswer Outcome = "no-answer" // it rings until the caller gives up
	// Fail is a far end that fails: SIP 500 Server Internal Error, cause
	// error.
	Fail Outcome = "error"
	// Unexplained is a far end that fails in a way nothing explains: a
	// final response whose code has no meaning (SIP 699), cause unknown.
	Unexplained Outcome = "unknown"
)

// Script is how a simulated phone behaves.
type Script struct {
	// Outcome defaults to Answer.
	Outcome Outcome
	// Ring is how long it rings before its outcome (busy and failing
	// phones do not ring: their answer comes after half of it). Zero means
	// DefaultRing.
	Ring time.Duration
	// HangupAfter hangs up this long after answering; 0 never does.
	HangupAfter time.Duration
	// Digits are pressed this long after answering.
	Digits      string
	DigitsAfter time.Duration
	// GatherDigits are pressed each time the call starts waiting for
	// digits (a Gather), after DigitDelay.
	GatherDigits string
	// GatherInputs, when set, are pressed one per Gather instead: the
	// first Gather gets GatherInputs[0], the second GatherInputs[1], and so
	// on; "" presses nothing, letting that Gather time out. Gathers after
	// the last input get GatherDigits.
	GatherInputs []string
	// DigitDelay is the wait before the first digit and between digits.
	// Zero means DefaultDigitDelay.
	DigitDelay time.Duration
	// AbandonAfter makes a caller (a phone placing an inbound call) hang up
	// if the call is not answered this long after it started; 0 never does.
	// As a caller, HangupAfter, Digits and GatherDigits count from the
	// answer, as they do for a phone that answers.
	AbandonAfter time.Duration
	// Says is what the callee says when answered (recordings will use it).
	Says string
	// Voice is who answers, for machine detection: a person (the default),
	// a machine, or silence.
	Voice Voice
	// Greeting is how long the answerer speaks on answering, after
	// GreetingDelay of silence; zero means the voice's default (a person
	// 1 s, a machine 6 s). Beep ends a machine's greeting with a tone.
	Greeting      time.Duration
	GreetingDelay time.Duration
	Beep          bool
	// OnDigits is how the phone answers DTMF digits the call sends it (a
	// <SendDtmf>, or keys pressed on a call bridged with it): when the digits it has heard since the answer, or since
	// its last reaction, end with a key, it reacts as that key says (the
	// longest key, if several match). Digits that match no key get no
	// reaction. Keys are at most MaxOnDigits long.
	OnDigits map[string]Reaction
	// OnHearing is how the phone answers what it hears of a bidirectional
	// media stream's audio (engine.Hearer): the Nth time an utterance it
	// heard ends — audio, then HearingPause of nothing heard — it reacts
	// as OnHearing[N-1] says. Audio that resumes within HearingPause, or a
	// Hear that extends what it hears, continues the utterance; a cut (the
	// stream cleared its audio) ends the audio at once, and the utterance
	// HearingPause later, as silence does. Once every reaction has been
	// used, the phone answers nothing more: list a reaction per utterance
	// to answer.
	OnHearing []Reaction
	// Note describes the phone, for the server's banner.
	Note string
}

// Reaction is what a phone does when it hears digits it waits for: it
// says Say, then presses Press (DigitDelay apart), then hangs up if Hangup
// is set; each part is optional.
type Reaction struct {
	Say    string
	Press  string
	Hangup bool
}

// HearingPause is how long a phone hears nothing before it takes what it
// heard for a finished utterance and answers it (Script.OnHearing).
const HearingPause = 600 * time.Millisecond

// MaxOnDigits bounds an OnDigits key: a phone remembers that many of the
// last digits it heard.
const MaxOnDigits = 64

// Voice is who answers a phone.
type Voice string

// Voices.
const (
	Person  Voice = "person"  // says a short hello, then waits
	Machine Voice = "machine" // an answering machine: a long greeting
	Silent  Voice = "silent"  // says nothing
)

// greeting is what the script's answerer says, as machine detection hears it.
func (s Script) greeting() engine.Greeting {
	g := engine.Greeting{Delay: s.GreetingDelay, Length: s.Greeting, Beep: s.Beep}
	if g.Delay == 0 {
		g.Delay = DefaultGreetingDelay
	}
	switch s.Voice {
	case Silent:
		return engine.Greeting{}
	case Machine:
		if g.Length == 0 {
			g.Length = 6 * time.Second
		}
	default:
		if g.Length == 0 {
			g.Length = time.Second
		}
	}
	return g
}

// Defaults.
const (
	// DefaultGreetingDelay is the silence before a greeting starts.
	DefaultGreetingDelay = 500 * time.Millisecond
	DefaultRing          = time.Second
	DefaultDigitDelay    = 300 * time.Millisecond
)

// Magic numbers: phones every voicehook has. Any other number behaves as
// Default.
var (
	Default = Script{Outcome: Answer, Note: "rings 1 s, answers, stays until the app or REST ends the call"}
	Magic   = map[string]Script{
		"+15550000000": Default,
		"+15550000486": {Outcome: Busy, Note: "busy (SIP 486)"},
		"+15550000603": {Outcome: Decline, Note: "declines (SIP 603)"},
		"+15550000500": {Outcome: Fail, Note: "fails (SIP 500): cause error"},
		"+15550000699": {Outcome: Unexplained, Note: "fails with a code that means nothing (SIP 699): cause unknown"},
		"+15550000408": {Outcome: NoAnswer, Note: "rings until callTimeout"},
		"+15550000200": {Outcome: Answer, HangupAfter: 5 * time.Second, Note: "answers after 1 s, hangs up 5 s later"},
		"+15550000800": {Outcome: Answer, Voice: Machine, Greeting: 6 * time.Second, Beep: true,
			Note: "an answering machine: 6 s greeting, then a beep"},
		"+15550000801": {Outcome: Answer, Voice: Person, Says: "Hi, this is Alex. Please call me back after five.",
			Note: "a person who says hello, and speaks when recorded"},
	}
)

// Network is a set of simulated phones.
//
// A phone's script comes from three places, the first that has one
// winning: the script an account gave it for that account's calls
// (SetScript with the account's id), the script given to every account
// (SetScript with account ""), and its base script (New's, or a magic
// number's). A number with none behaves as Default.
type Network struct {
	clock   engine.Clock
	mu      sync.Mutex
	scripts map[scriptKey]Script // set at run time, by account and number
	base    map[string]Script    // the scripts New was given, magic numbers included
	lines   map[string]*line     // live calls by call id
	// heard is what the answering machines recorded, by call id, for the
	// last maxHeard calls that played something to one.
	heard     map[string][]Message
	heardKeys []string
}

// scriptKey names a script set at run time: account "" is every account's.
type scriptKey struct{ account, number string }

// New returns a network where scripts (by E.164 number or SIP URI) add to
// and override the magic numbers.
func New(clock engine.Clock, scripts map[string]Script) *Network {
	all := maps.Clone(Magic)
	maps.Copy(all, scripts)
	return &Network{clock: clock, scripts: map[scriptKey]Script{}, base: all, lines: map[string]*line{}, heard: map[string][]Message{}}
}

// SetScript gives a number a script from now on (calls already up keep
// theirs): for the calls of account only, or for every account's calls
// when account is "". An account's own script comes before one set for
// every account.
func (n *Network) SetScript(account, number string, s Script) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.scripts[scriptKey{account, number}] = s
}

// ResetScript removes the script SetScript gave a number for account (""
// for every account's); the account's calls then get the script the
// number would have without it.
func (n *Network) ResetScript(account, number string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	delete(n.scripts, scriptKey{account, number})
}

// Script returns the script a call of account gets from number: the
// account's own, else the one set for every account, else the base one.
// ok is false when the number has none (it behaves as Default).
func (n *Network) Script(account, number string) (s Script, ok bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.script(account, number)
}

func (n *Network) script(account, number string) (Script, bool) {
	if s, ok := n.scripts[scriptKey{account, number}]; ok {
		return s, true
	}
	if s, ok := n.scripts[scriptKey{"", number}]; ok {
		return s, true
	}
	s, ok := n.base[number]
	return s, ok
}

// Numbers lists the numbers scripted for every account (the base scripts
// and those SetScript gave account ""), with their notes, sorted.
// Accounts' own scripts are left out.
func (n *Network) Numbers() [][2]string {
	n.mu.Lock()
	defer n.mu.Unlock()
	notes := map[string]string{}
	for num, s := range n.base {
		notes[num] = s.Note
	}
	for k, s := range n.scripts {
		if k.account == "" {
			notes[k.number] = s.Note
		}
	}
	out := make([][2]string, 0, len(notes))
	for _, num := range slices.Sorted(maps.Keys(notes)) {
		out = append(out, [2]string{num, notes[num]})
	}
	return out
}

// Dial places a call to a simulated phone: d.To, with the script
// d.AccountID's calls get from it.
func (n *Network) Dial(d engine.Dial, notify func(engine.PhoneEvent)) (engine.Line, error) {
	n.mu.Lock()
	s, ok := n.script(d.AccountID, d.To)
	if !ok {
		s = Default
	}
	l := &line{n: n, callID: d.CallID, script: s, notify: notify}
	n.lines[d.CallID] = l
	n.mu.Unlock()
	l.start()
	return l, nil
}

// Incoming connects a simulated caller, d.From, to an inbound call. Its
// script (the one d.AccountID's calls get from d.From) starts when the call is answered; AbandonAfter hangs
// it up if the call is not answered in time.
func (n *Network) Incoming(d engine.Dial, notify func(engine.PhoneEvent)) (engine.Line, error) {
	n.mu.Lock()
	s, ok := n.script(d.AccountID, d.From)
	if !ok {
		s = Script{}
	}
	l := &line{n: n, callID: d.CallID, script: s, notify: notify, inbound: true}
	n.lines[d.CallID] = l
	n.mu.Unlock()
	if s.AbandonAfter > 0 {
		l.after(s.AbandonAfter, func() {
			if !l.answered() {
				l.farHangup()
			}
		})
	}
	return l, nil
}

// ErrNoCall is returned for a call the network does not carry.
var ErrNoCall = errors.New("no such live call")

// Press makes the far end of a live call press digits now, DigitDelay apart.
func (n *Network) Press(callID, digits string) error {
	l := n.line(callID)
	if l == nil {
		return fmt.Errorf("sim: press %q on %s: %w", digits, callID, ErrNoCall)
	}
	if !l.answered() {
		return fmt.Errorf("sim: press %q on %s: the call is not answered", digits, callID)
	}
	l.press(digits, 0)
	return nil
}

// Speak makes the far end of a live call say text now, for length (0: the
// time the text takes to say).
func (n *Network) Speak(callID, text string, length time.Duration) error {
	l := n.line(callID)
	if l == nil {
		return fmt.Errorf("sim: speak on %s: %w", callID, ErrNoCall)
	}
	if !l.answered() {
		return fmt.Errorf("sim: speak on %s: the call is not answered", callID)
	}
	l.speak(text, length)
	return nil
}

// HangUp makes the far end of a live call hang up now.
func (n *Network) HangUp(callID string) error {
	l := n.line(callID)
	if l == nil {
		return fmt.Errorf("sim: hang up %s: %w", callID, ErrNoCall)
	}
	l.farHangup()
	return nil
}

func (n *Network) line(callID string) *line {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.lines[callID]
}

// Message is what a call played to an answering machine, as the machine
// recorded it.
type Message struct {
	// Text is what was said (SpeakSentence), or the file played (PlayAudio).
	Text string `json:"text"`
	// At is when it started, counted from the answer.
	At time.Duration `json:"-"`
	// AfterBeep is false when it started during the greeting: its start
	// is missing from the message left.
	AfterBeep bool `json:"afterBeep"`
}

// maxHeard bounds how many calls' messages are kept.
const maxHeard = 1000

// Play tells the phone what the call plays: an answering machine records
// it once its greeting is over. A simulated line carries no audio, so the
// engine times the playback itself.
func (l *line) Play(p engine.Playback) bool {
	if p.What != "" {
		l.Played(p.What, p.Length)
	}
	return false
}

// StopPlaying does nothing: nothing plays on a simulated line.
func (l *line) StopPlaying() {}

// Capture returns nil: a simulated line has no audio; the engine writes
// its recordings from what the phone was scripted to say.
func (l *line) Capture(int) engine.Capture { return nil }

// Played is what the call plays to the far end: an answering machine
// records it once its greeting is over.
func (l *line) Played(what string, length time.Duration) {
	if l.script.Voice != Machine || !l.answered() {
		return
	}
	l.mu.Lock()
	at := l.n.clock.Now().Sub(l.upAt)
	l.mu.Unlock()
	g := l.script.greeting()
	l.n.mu.Lock()
	defer l.n.mu.Unlock()
	if _, ok := l.n.heard[l.callID]; !ok {
		l.n.heardKeys = append(l.n.heardKeys, l.callID)
		if len(l.n.heardKeys) > maxHeard {
			delete(l.n.heard, l.n.heardKeys[0])
			l.n.heardKeys = l.n.heardKeys[1:]
		}
	}
	l.n.heard[l.callID] = append(l.n.heard[l.callID], Message{Text: what, At: at, AfterBeep: at >= g.Delay+g.Length})
}

// Heard returns what a call played to an answering machine.
func (n *Network) Heard(callID string) []Message {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]Message(nil), n.heard[callID]...)
}

func (n *Network) forget(callID string) {
	n.mu.Lock()
	delete(n.lines, callID)
	n.mu.Unlock()
}

// line is one call to a simulated phone.
type line struct {
	n      *Network
	callID string
	script Script
	notify func(engine.PhoneEvent)

	inbound bool // the phone is the caller of an inbound call

	mu     sync.Mutex
	up     bool // answered
	upAt   time.Time
	ended  bool
	timers []engine.Timer
	heard  int    // Gathers started
	tones  string // digits heard since the answer or the last reaction
	// sent are the digits sent and not yet heard, oldest first; sentDue is
	// when the last of them is heard.
	sent    []string
	sentDue time.Time
	hearing sync.Mutex // held while hearing digits sent, one batch at a time
	// What the phone hears of a stream's audio (Hear): when the audio
	// ends (zero when no utterance is under way), the timer that ends the
	// utterance HearingPause later and its generation (a timer whose
	// generation has passed does nothing), and the utterances ended.
	audioEnd   time.Time
	uttering   engine.Timer
	utterGen   int
	utterances int
}

func (l *line) after(d time.Duration, f func()) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ended {
		return
	}
	l.timers = append(l.timers, l.n.clock.AfterFunc(d, func() {
		l.mu.Lock()
		ended := l.ended
		l.mu.Unlock()
		if !ended {
			f()
		}
	}))
}

func (l *line) start() {
	s := l.script
	ring := s.Ring
	if ring == 0 {
		ring = DefaultRing
	}
	switch s.Outcome {
	case Busy:
		l.after(ring/2, func() { l.finish(engine.PhoneEvent{Kind: engine.PhoneBusy, SIPCode: 486}) })
		return
	case Fail:
		l.after(ring/2, func() {
			l.finish(engine.PhoneEvent{Kind: engine.PhoneFailed, SIPCode: 500, Reason: "SIP 500 Server Internal Error"})
		})
		return
	case Unexplained:
		l.after(ring/2, func() { l.finish(engine.PhoneEvent{Kind: engine.PhoneUnexplained, SIPCode: 699, Reason: "SIP 699"}) })
		return
	}
	l.after(0, func() { l.notify(engine.PhoneEvent{Kind: engine.PhoneRinging}) })
	switch s.Outcome {
	case Decline:
		l.after(ring, func() { l.finish(engine.PhoneEvent{Kind: engine.PhoneRejected, SIPCode: 603}) })
	case NoAnswer:
	default:
		l.after(ring, l.answer)
	}
}

func (l *line) answer() {
	l.mu.Lock()
	l.up = true
	l.upAt = l.n.clock.Now()
	l.mu.Unlock()
	l.notify(engine.PhoneEvent{Kind: engine.PhoneAnswered, Greeting: l.script.greeting()})
	l.talk()
}

// talk starts what the phone does once the call is answered.
func (l *line) talk() {
	s := l.script
	if s.Digits != "" {
		l.press(s.Digits, s.DigitsAfter)
	}
	if s.HangupAfter > 0 {
		l.after(s.HangupAfter, l.farHangup)
	}
}

func (l *line) answered() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.up && !l.ended
}

// gap is the script's DigitDelay.
func (l *line) gap() time.Duration {
	if l.script.DigitDelay == 0 {
		return DefaultDigitDelay
	}
	return l.script.DigitDelay
}

// press presses digits, the first after delay+DigitDelay, then DigitDelay apart.
func (l *line) press(digits string, delay time.Duration) {
	gap := l.gap()
	for i := 0; i < len(digits); i++ {
		d := digits[i]
		l.after(delay+time.Duration(i+1)*gap, func() { l.notify(engine.PhoneEvent{Kind: engine.PhoneDigit, Digit: d}) })
	}
}

func (l *line) farHangup() { l.finish(engine.PhoneEvent{Kind: engine.PhoneHungUp}) }

// finish reports the call's end from the far side, once.
func (l *line) finish(ev engine.PhoneEvent) {
	if !l.end() {
		return
	}
	l.notify(ev)
}

// end stops the line; it reports whether it was still up.
func (l *line) end() bool {
	l.mu.Lock()
	if l.ended {
		l.mu.Unlock()
		return false
	}
	l.ended = true
	timers := l.timers
	l.timers = nil
	if l.uttering != nil {
		timers = append(timers, l.uttering)
		l.uttering = nil
	}
	l.mu.Unlock()
	for _, t := range timers {
		t.Stop()
	}
	l.n.forget(l.callID)
	return true
}

// Hangup ends the call from the engine's side; a simulated line sends no
// message.
func (l *line) Hangup() string {
	l.end()
	return ""
}

// Answered starts a caller's script once the engine answers its call.
func (l *line) Answered() {
	if !l.inbound {
		return
	}
	l.mu.Lock()
	if l.up || l.ended {
		l.mu.Unlock()
		return
	}
	l.up = true
	l.mu.Unlock()
	l.talk()
}

// Recording makes a phone with something to say say it, half a second
// after the recording starts.
func (l *line) Recording() {
	if l.script.Says != "" && l.answered() {
		l.after(DefaultGreetingDelay, func() { l.speak(l.script.Says, 0) })
	}
}

// speak reports speech from the far end; length 0 is the time the text
// takes to say.
func (l *line) speak(text string, length time.Duration) {
	if length == 0 {
		length = audio.SpeechLength(text)
	}
	l.notify(engine.PhoneEvent{Kind: engine.PhoneSpeech, Text: text, Length: length})
}

// Listening presses the script's input for this Gather.
func (l *line) Listening() {
	if !l.answered() {
		return
	}
	l.mu.Lock()
	n := l.heard
	l.heard++
	l.mu.Unlock()
	digits := l.script.GatherDigits
	if n < len(l.script.GatherInputs) {
		digits = l.script.GatherInputs[n]
	}
	if digits != "" {
		l.press(digits, 0)
	}
}

// SendDigits makes the phone hear DTMF digits once they are sent, length
// from now, and answer them as its OnDigits says. Digits are heard in the
// order they were sent: none before those sent earlier.
func (l *line) SendDigits(d engine.Digits) {
	l.sendDigits(d.Tones(), d.Length())
}

func (l *line) sendDigits(digits string, length time.Duration) {
	if digits == "" || !l.answered() {
		return
	}
	l.mu.Lock()
	now := l.n.clock.Now()
	due := now.Add(length)
	if due.Before(l.sentDue) {
		due = l.sentDue
	}
	l.sentDue = due
	l.sent = append(l.sent, digits)
	l.mu.Unlock()
	l.after(due.Sub(now), l.hearNext)
}

// hearNext hears the oldest digits sent and not yet heard. Each SendDigits
// schedules one; hearing holds hearing, so that the phone hears and reports
// them in the order sent even when their timers run at once.
func (l *line) hearNext() {
	l.hearing.Lock()
	defer l.hearing.Unlock()
	l.mu.Lock()
	if len(l.sent) == 0 {
		l.mu.Unlock()
		return
	}
	digits := l.sent[0]
	l.sent = l.sent[1:]
	l.mu.Unlock()
	l.hear(digits)
}

// hear reports the digits heard and reacts to them. The phone hears them
// one by one, as an IVR does: after each, if the digits heard since the
// answer or the last reaction end with a key (the longest, if several
// do), it reacts and starts listening afresh. Digits heard in one batch
// and the same digits heard one at a time get the same reactions.
func (l *line) hear(digits string) {
	l.notify(engine.PhoneEvent{Kind: engine.PhoneHeard, Digits: digits})
	if len(l.script.OnDigits) == 0 {
		return
	}
	var reactions []Reaction
	l.mu.Lock()
	for i := range len(digits) {
		l.tones += strings.ToUpper(digits[i : i+1])
		if len(l.tones) > MaxOnDigits {
			l.tones = l.tones[len(l.tones)-MaxOnDigits:]
		}
		if key, ok := matchKey(l.script.OnDigits, l.tones); ok {
			reactions = append(reactions, l.script.OnDigits[key])
			l.tones = ""
		}
	}
	l.mu.Unlock()
	for _, r := range reactions {
		l.react(r)
	}
}

// matchKey finds the key of on that tones end with, the longest if several
// do (keys equal but for case, which LoadScenario refuses, go by their
// order as strings).
func matchKey(on map[string]Reaction, tones string) (key string, ok bool) {
	for k := range on {
		if !strings.HasSuffix(tones, strings.ToUpper(k)) {
			continue
		}
		if !ok || len(k) > len(key) || len(k) == len(key) && k < key {
			key, ok = k, true
		}
	}
	return key, ok
}

// react says, presses and hangs up, one after the other.
func (l *line) react(r Reaction) {
	var at time.Duration
	if r.Say != "" {
		length := audio.SpeechLength(r.Say)
		l.speak(r.Say, length)
		at = length
	}
	if r.Press != "" {
		l.press(r.Press, at)
		at += time.Duration(len(r.Press)) * l.gap()
	}
	if r.Hangup {
		l.after(at+l.gap(), l.farHangup)
	}
}

var _ engine.Hearer = (*line)(nil)

// Hear tells the phone it hears audio from now until until, for its
// OnHearing: a later call sets a new end, and one with until at or before
// now cuts the audio. The phone hears nothing before the answer or after
// the call ended, and a phone with no OnHearing ignores what it hears.
func (l *line) Hear(until time.Time) {
	if len(l.script.OnHearing) == 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.up || l.ended {
		return
	}
	now := l.n.clock.Now()
	switch {
	case until.After(now):
		l.audioEnd = until
	case l.audioEnd.After(now): // a cut: the audio ends now
		l.audioEnd = now
	default: // nothing is playing: nothing to cut
		return
	}
	if l.uttering != nil {
		l.uttering.Stop()
	}
	l.utterGen++
	gen := l.utterGen
	l.uttering = l.n.clock.AfterFunc(l.audioEnd.Add(HearingPause).Sub(now), func() { l.uttered(gen) })
}

// uttered ends the utterance heard, when the timer of generation gen is
// still the current one, and reacts as OnHearing says.
func (l *line) uttered(gen int) {
	l.mu.Lock()
	if l.ended || gen != l.utterGen {
		l.mu.Unlock()
		return
	}
	l.audioEnd, l.uttering = time.Time{}, nil
	n := l.utterances
	l.utterances++
	l.mu.Unlock()
	if n < len(l.script.OnHearing) {
		l.react(l.script.OnHearing[n])
	}
}
