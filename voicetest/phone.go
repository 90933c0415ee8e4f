package voicetest

import (
	"time"

	"github.com/voicehook/voicehook/internal/phone/sim"
)

// Phone is how a simulated phone behaves: as the callee of the app's calls
// or as the caller of Inbound. The zero value answers after a second, says
// a short hello and waits.
type Phone struct {
	// Outcome is what it does with a call it gets; default Answer.
	Outcome Outcome
	// Ring is how long it rings before its outcome; default 1 s.
	Ring time.Duration
	// HangupAfter hangs up this long after the answer; 0 never does.
	HangupAfter time.Duration
	// Digits are pressed DigitsAfter the answer.
	Digits      string
	DigitsAfter time.Duration
	// GatherDigits are pressed each time a Gather starts.
	GatherDigits string
	// GatherInputs are pressed one per Gather instead: the first Gather
	// gets GatherInputs[0], and so on; "" presses nothing (that Gather
	// times out). Gathers after the last get GatherDigits.
	GatherInputs []string
	// DigitDelay is the wait before the first digit and between digits;
	// default 300 ms.
	DigitDelay time.Duration
	// AbandonAfter makes a caller hang up if not answered this long after
	// calling; 0 never does.
	AbandonAfter time.Duration
	// Says is what it says when a recording starts.
	Says string
	// Voice is who answers, for machine detection; default Person.
	Voice Voice
	// Greeting is how long it speaks on answering (person 1 s, machine
	// 6 s), after GreetingDelay (default 0.5 s); Beep ends a machine's
	// greeting with a tone.
	Greeting, GreetingDelay time.Duration
	Beep                    bool
	// OnDigits answers DTMF digits the call sends the phone (<SendDtmf>,
	// or keys pressed on a call bridged with it): when the digits it has
	// heard since the answer, or since its last reaction, end with a key,
	// it reacts as that key says (the longest key, if several match).
	// Digits that match no key get no reaction. The phone hears digits one
	// at a time, so a key reacts the same whether the digits come together
	// or apart. Keys are not case-sensitive ("1a" is "1A"); two keys that
	// differ only in case fail the test. A simulated IVR that accepts PIN
	// 1234#:
	//
	//	OnDigits: map[string]voicetest.Reaction{"1234#": {Say: "PIN accepted", Press: "1"}}
	OnDigits map[string]Reaction
	// OnHearing answers a voice bot: the audio a bidirectional media
	// stream plays to the phone. Each time the phone has heard the bot say
	// something and pause (600 ms of nothing heard), it reacts with the
	// next reaction of the list; once the list is used up it does nothing
	// more. A phone that tells a bot two things and hangs up:
	//
	//	Says:      "I want to cancel my order",  // said when the stream starts listening
	//	OnHearing: []voicetest.Reaction{{Say: "Order one two three"}, {Say: "Thanks, bye", Hangup: true}},
	OnHearing []Reaction
}

// Reaction is what a phone does on hearing digits it waits for: it says
// Say, then presses Press (DigitDelay apart), then hangs up if Hangup is
// set. Each part is optional.
type Reaction struct {
	Say    string
	Press  string
	Hangup bool
}

// Outcome is what a phone does with a call it gets.
type Outcome string

// Outcomes.
const (
	Answer   Outcome = "answer"    // answers after ringing
	Busy     Outcome = "busy"      // is busy (SIP 486): cause busy
	Decline  Outcome = "decline"   // rings, then declines (SIP 603): cause rejected
	NoAnswer Outcome = "no-answer" // rings until the call times out: cause timeout
	// Fail fails at once (SIP 500): cause error.
	Fail Outcome = "error"
	// Unexplained fails with a code that means nothing (SIP 699): cause
	// unknown.
	Unexplained Outcome = "unknown"
)

// Voice is who answers a phone.
type Voice string

// Voices.
const (
	Person  Voice = "person"  // says a short hello, then waits
	Machine Voice = "machine" // an answering machine: a long greeting
	Silent  Voice = "silent"  // says nothing
)

// script is the phone as the simulator runs it; its error says what is
// wrong with p.
func (p Phone) script() (sim.Script, error) {
	s := sim.Script{Outcome: sim.Outcome(p.Outcome), Ring: p.Ring, HangupAfter: p.HangupAfter,
		Digits: p.Digits, DigitsAfter: p.DigitsAfter, GatherDigits: p.GatherDigits, GatherInputs: p.GatherInputs,
		DigitDelay: p.DigitDelay, AbandonAfter: p.AbandonAfter, Says: p.Says, Voice: sim.Voice(p.Voice),
		Greeting: p.Greeting, GreetingDelay: p.GreetingDelay, Beep: p.Beep}
	if len(p.OnDigits) > 0 {
		on := make(map[string]sim.Reaction, len(p.OnDigits))
		for k, r := range p.OnDigits {
			on[k] = sim.Reaction(r)
		}
		var err error
		if s.OnDigits, err = sim.CheckOnDigits(on); err != nil {
			return sim.Script{}, err
		}
	}
	if len(p.OnHearing) > 0 {
		on := make([]sim.Reaction, len(p.OnHearing))
		for i, r := range p.OnHearing {
			on[i] = sim.Reaction(r)
		}
		var err error
		if s.OnHearing, err = sim.CheckOnHearing(on); err != nil {
			return sim.Script{}, err
		}
	}
	if s.Outcome == "" {
		s.Outcome = sim.Answer
	}
	if s.Voice == "" {
		s.Voice = sim.Person
	}
	return s, nil
}

// fields are the script as /sim/v1/phones takes it: a --phones file's
// fields, durations in seconds.
func (p Phone) fields() map[string]any {
	f := map[string]any{}
	set := func(name string, v any, zero bool) {
		if !zero {
			f[name] = v
		}
	}
	secs := func(name string, d time.Duration) { set(name, d.Seconds(), d == 0) }
	set("outcome", string(p.Outcome), p.Outcome == "")
	secs("ring", p.Ring)
	secs("hangupAfter", p.HangupAfter)
	set("digits", p.Digits, p.Digits == "")
	secs("digitsAfter", p.DigitsAfter)
	set("gatherDigits", p.GatherDigits, p.GatherDigits == "")
	set("gatherInputs", p.GatherInputs, p.GatherInputs == nil)
	secs("digitDelay", p.DigitDelay)
	secs("abandonAfter", p.AbandonAfter)
	set("says", p.Says, p.Says == "")
	set("voice", string(p.Voice), p.Voice == "")
	secs("greeting", p.Greeting)
	secs("greetingDelay", p.GreetingDelay)
	set("beep", p.Beep, !p.Beep)
	if len(p.OnDigits) > 0 {
		on := map[string]any{}
		for k, r := range p.OnDigits {
			on[k] = map[string]any{"say": r.Say, "press": r.Press, "hangup": r.Hangup}
		}
		f["onDigits"] = on
	}
	if len(p.OnHearing) > 0 {
		on := make([]any, len(p.OnHearing))
		for i, r := range p.OnHearing {
			on[i] = map[string]any{"say": r.Say, "press": r.Press, "hangup": r.Hangup}
		}
		f["onHearing"] = on
	}
	return f
}
