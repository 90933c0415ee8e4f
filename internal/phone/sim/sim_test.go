package sim_test

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/voicehook/voicehook/internal/engine"
	"github.com/voicehook/voicehook/internal/phone/sim"
)

// recorder collects a line's events with the virtual time they came at.
type recorder struct {
	start time.Time
	mu    sync.Mutex
	got   []string
}

func (r *recorder) notify(ev engine.PhoneEvent) {
	r.mu.Lock()
	defer r.mu.Unlock()
	name := map[engine.PhoneEventKind]string{engine.PhoneRinging: "ringing", engine.PhoneAnswered: "answered",
		engine.PhoneBusy: "busy", engine.PhoneRejected: "rejected", engine.PhoneHungUp: "hungup", engine.PhoneDigit: "digit",
		engine.PhoneHeard: "heard", engine.PhoneSpeech: "said", engine.PhoneFailed: "failed", engine.PhoneUnexplained: "unexplained"}[ev.Kind]
	s := fmt.Sprintf("%s@%gs", name, time.Since(r.start).Seconds())
	switch ev.Kind {
	case engine.PhoneDigit:
		s += "=" + string(ev.Digit)
	case engine.PhoneHeard:
		s += "=" + ev.Digits
	case engine.PhoneSpeech:
		s += fmt.Sprintf("=%q(%v)", ev.Text, ev.Length)
	}
	if ev.SIPCode != 0 {
		s += fmt.Sprintf(" sip=%d", ev.SIPCode)
	}
	r.got = append(r.got, s)
}

func (r *recorder) String() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.got, " ")
}

func TestMagicNumbers(t *testing.T) {
	cases := map[string]string{
		"+15550000000": "ringing@0s answered@1s",
		"+14155550199": "ringing@0s answered@1s",
		"+15550000486": "busy@0.5s sip=486",
		"+15550000603": "ringing@0s rejected@1s sip=603",
		"+15550000408": "ringing@0s",
		"+15550000200": "ringing@0s answered@1s hungup@6s",
		"+15550000500": "failed@0.5s sip=500",
		"+15550000699": "unexplained@0.5s sip=699",
	}
	for number, want := range cases {
		t.Run(number, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				n := sim.New(engine.RealClock{}, nil)
				r := &recorder{start: time.Now()}
				if _, err := n.Dial(engine.Dial{CallID: "c-1", To: number}, r.notify); err != nil {
					t.Fatal(err)
				}
				time.Sleep(time.Minute)
				if got := r.String(); got != want {
					t.Errorf("events %q, want %q", got, want)
				}
			})
		})
	}
}

func TestDigitsAndHangups(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := sim.New(engine.RealClock{}, map[string]sim.Script{
			"+1555": {Digits: "12", DigitsAfter: time.Second, GatherDigits: "9", DigitDelay: 100 * time.Millisecond},
		})
		r := &recorder{start: time.Now()}
		line, _ := n.Dial(engine.Dial{CallID: "c-1", To: "+1555"}, r.notify)
		if err := n.Press("c-1", "5"); err == nil {
			t.Error("pressing before the answer succeeded")
		}
		time.Sleep(3 * time.Second)
		line.Listening()
		time.Sleep(time.Second)
		if err := n.Press("c-1", "7"); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second)
		if err := n.HangUp("c-1"); err != nil {
			t.Fatal(err)
		}
		want := "ringing@0s answered@1s digit@2.1s=1 digit@2.2s=2 digit@3.1s=9 digit@4.1s=7 hungup@5s"
		if got := r.String(); got != want {
			t.Errorf("events\n %q\nwant %q", got, want)
		}
		if err := n.HangUp("c-1"); !errors.Is(err, sim.ErrNoCall) {
			t.Errorf("second hang-up: %v", err)
		}
	})
}

func TestGatherInputsGoOnePerGather(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := sim.New(engine.RealClock{}, map[string]sim.Script{
			"+1555": {GatherInputs: []string{"9", "", "1#"}, GatherDigits: "0", DigitDelay: 100 * time.Millisecond},
		})
		r := &recorder{start: time.Now()}
		line, _ := n.Dial(engine.Dial{CallID: "c-1", To: "+1555"}, r.notify)
		time.Sleep(2 * time.Second) // answered at 1s
		for range 4 {
			line.Listening()
			time.Sleep(time.Second)
		}
		want := "ringing@0s answered@1s digit@2.1s=9 digit@4.1s=1 digit@4.2s=# digit@5.1s=0"
		if got := r.String(); got != want {
			t.Errorf("events\n %q\nwant %q", got, want)
		}
	})
}

// TestPhoneAnswersDigitsSentToIt: a simulated IVR hears every digit sent
// to it, and answers the PIN it waits for by saying, pressing and hanging
// up, one after the other; a wrong PIN gets nothing.
func TestPhoneAnswersDigitsSentToIt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := sim.New(engine.RealClock{}, map[string]sim.Script{
			"+1555": {DigitDelay: 100 * time.Millisecond, OnDigits: map[string]sim.Reaction{
				"1234#": {Say: "PIN accepted", Press: "1", Hangup: true},
				"4#":    {Say: "the shorter key loses"},
				"0":     {Press: "9"},
			}},
		})
		r := &recorder{start: time.Now()}
		line, _ := n.Dial(engine.Dial{CallID: "c-1", To: "+1555"}, r.notify)
		line.SendDigits(engine.Digits{Keys: "1234#"}) // before the answer: nobody hears them
		time.Sleep(2 * time.Second)
		line.SendDigits(engine.Digits{Keys: "99#W"}) // a wrong PIN, sent over a second (W)
		time.Sleep(time.Second)
		line.SendDigits(engine.Digits{Keys: "12w"}) // a PIN in two parts, after the wrong one; each sent over half a second (w)
		time.Sleep(time.Second)
		line.SendDigits(engine.Digits{Keys: "34#w"})
		time.Sleep(time.Minute)
		want := `ringing@0s answered@1s heard@3s=99# heard@3.5s=12 heard@4.5s=34# said@4.5s="PIN accepted"(800ms) digit@5.4s=1 hungup@5.5s`
		if got := r.String(); got != want {
			t.Errorf("events\n %q\nwant %q", got, want)
		}
	})
}

// TestOnDigitsHearsOneDigitAtATime: a phone hears the digits sent to it
// one by one, as an IVR does, reacting whenever those heard since its last
// reaction end with a key (the longest that does): the same whether the
// digits come in one batch or one at a time.
func TestOnDigitsHearsOneDigitAtATime(t *testing.T) {
	cases := []struct {
		keys   []string
		digits string
		want   string // the keys reacted to, in order
	}{
		{keys: []string{"1#"}, digits: "1#2#", want: "1#"},
		{keys: []string{"1#"}, digits: "1#1#", want: "1#,1#"},
		{keys: []string{"1", "1234#"}, digits: "1234#", want: "1"},
		{keys: []string{"12", "2"}, digits: "12", want: "12"},
		{keys: []string{"2", "1234#"}, digits: "1234#", want: "2"},
		{keys: []string{"4#", "1234#"}, digits: "1234#", want: "1234#"},
		{keys: []string{"*", "1234#"}, digits: "12*34#", want: "*"},
		{keys: []string{"#"}, digits: "12#3##", want: "#,#,#"},
		{keys: []string{"a#"}, digits: "A#a#", want: "a#,a#"},
		{keys: []string{"1234#"}, digits: "9999#", want: ""},
	}
	for _, c := range cases {
		for _, oneByOne := range []bool{false, true} {
			t.Run(fmt.Sprintf("%v/%s/one-by-one=%v", c.keys, c.digits, oneByOne), func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					on := map[string]sim.Reaction{}
					for _, k := range c.keys {
						on[k] = sim.Reaction{Say: k}
					}
					n := sim.New(engine.RealClock{}, map[string]sim.Script{"+1555": {OnDigits: on}})
					var mu sync.Mutex
					var said []string
					line, _ := n.Dial(engine.Dial{CallID: "c-1", To: "+1555"}, func(ev engine.PhoneEvent) {
						if ev.Kind == engine.PhoneSpeech {
							mu.Lock()
							said = append(said, ev.Text)
							mu.Unlock()
						}
					})
					time.Sleep(2 * time.Second) // answered at 1 s
					if oneByOne {
						for i := range len(c.digits) {
							line.SendDigits(engine.Digits{Keys: c.digits[i : i+1]})
						}
					} else {
						line.SendDigits(engine.Digits{Keys: c.digits})
					}
					time.Sleep(time.Minute)
					line.Hangup()
					mu.Lock()
					defer mu.Unlock()
					if got := strings.Join(said, ","); got != c.want {
						t.Errorf("keys %q, digits %q: reacted to %q, want %q", c.keys, c.digits, got, c.want)
					}
				})
			})
		}
	}
}

// TestDigitsSentAreHeardInOrder: digits sent at once, or with the later
// ones sent sooner, are heard in the order they were sent.
func TestDigitsSentAreHeardInOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := sim.New(engine.RealClock{}, nil)
		r := &recorder{start: time.Now()}
		line, _ := n.Dial(engine.Dial{CallID: "c-1", To: "+1555"}, r.notify)
		time.Sleep(2 * time.Second)                 // answered at 1 s
		line.SendDigits(engine.Digits{Keys: "12W"}) // sent over a second (W)
		line.SendDigits(engine.Digits{Keys: "3"})   // sent after 12: heard after them
		for _, d := range "4567890*#ABCD" {
			line.SendDigits(engine.Digits{Keys: string(d)})
		}
		time.Sleep(time.Minute)
		line.Hangup()
		want := "ringing@0s answered@1s heard@3s=12 heard@3s=3"
		for _, d := range "4567890*#ABCD" {
			want += " heard@3s=" + string(d)
		}
		if got := r.String(); got != want {
			t.Errorf("events\n %q\nwant %q", got, want)
		}
	})
}

func TestEngineHangupStopsTheScript(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := sim.New(engine.RealClock{}, nil)
		r := &recorder{start: time.Now()}
		line, _ := n.Dial(engine.Dial{CallID: "c-1", To: "+15550000200"}, r.notify)
		time.Sleep(2 * time.Second)
		line.Hangup()
		time.Sleep(time.Minute)
		if got := r.String(); got != "ringing@0s answered@1s" {
			t.Errorf("events after our hang-up: %q", got)
		}
	})
}

func TestLoadScenario(t *testing.T) {
	sc, err := sim.LoadScenario(strings.NewReader(`
phones:
  "+15551230001":
    outcome: answer
    ring: 2.5
    hangupAfter: 30s
    gatherDigits: "42#"
    gatherInputs: ["9", "", "1#"]
    says: Hello, Alice speaking
    note: Alice's desk
  "sip:bob@pbx.example.com":
    outcome: busy
  "+15551230002":
    voice: machine
    greeting: 8s
    greetingDelay: 1s
    beep: true
  "+15551230003":
    onDigits:
      "1234#": {say: PIN accepted, press: "1", hangup: true}
      "*": {hangup: true}
  "+15551230004":
    onHearing:
      - {say: "Yes"}
      - {press: "12", hangup: true}
calls:
  - from: "+15551230001"
    to: "+15550001000"
    after: 2s
    every: 1m
    sipHeaders: {X-Campaign: demo}
  - from: Anonymous
    to: "+15550001001"
`))
	if err != nil {
		t.Fatal(err)
	}
	scripts := sc.Phones
	if len(sc.Calls) != 2 {
		t.Fatalf("calls %+v, want 2", sc.Calls)
	}
	if c := sc.Calls[0]; c.From != "+15551230001" || c.To != "+15550001000" || c.After != 2*time.Second ||
		c.Every != time.Minute || c.Count != 0 || c.SIPHeaders["x-campaign"] != "demo" {
		t.Errorf("first call %+v", c)
	}
	if c := sc.Calls[1]; c.From != "Anonymous" || c.Count != 1 || c.Every != 0 || c.After != 0 {
		t.Errorf("second call %+v: want one call, at once", c)
	}
	a := scripts["+15551230001"]
	if a.Outcome != sim.Answer || a.Ring != 2500*time.Millisecond || a.HangupAfter != 30*time.Second ||
		a.GatherDigits != "42#" || strings.Join(a.GatherInputs, ",") != "9,,1#" || a.Says != "Hello, Alice speaking" || a.Note != "Alice's desk" {
		t.Errorf("script %+v", a)
	}
	if m := scripts["+15551230002"]; m.Voice != sim.Machine || m.Greeting != 8*time.Second || m.GreetingDelay != time.Second || !m.Beep ||
		m.Note != "answer, a machine answers" {
		t.Errorf("machine script %+v", m)
	}
	if ivr := scripts["+15551230003"]; len(ivr.OnDigits) != 2 || ivr.OnDigits["1234#"] != (sim.Reaction{Say: "PIN accepted", Press: "1", Hangup: true}) ||
		ivr.OnDigits["*"] != (sim.Reaction{Hangup: true}) || ivr.Note != "answer, answers *, 1234# sent to it" {
		t.Errorf("IVR script %+v", ivr)
	}
	if h := scripts["+15551230004"]; len(h.OnHearing) != 2 || h.OnHearing[0] != (sim.Reaction{Say: "Yes"}) ||
		h.OnHearing[1] != (sim.Reaction{Press: "12", Hangup: true}) || h.Note != "answer, answers the first 2 utterances it hears" {
		t.Errorf("a phone that answers what it hears: %+v", h)
	}
	if a.Voice != sim.Person {
		t.Errorf("voice %q, want person by default", a.Voice)
	}
	if b := scripts["sip:bob@pbx.example.com"]; b.Outcome != sim.Busy || b.Note != "busy" {
		t.Errorf("script %+v", b)
	}
	for in, want := range map[string]string{
		"":           "the file is empty",
		"phones: {}": "no phones and no calls",
		"calls:\n  - from: \"+15551230001\"\n    to: \"5550001000\"":                             `calls[0]: to "5550001000": want the E.164 number`,
		"calls:\n  - from: \"someone\"\n    to: \"+15550001000\"":                                `calls[0]: from "someone"`,
		"calls:\n  - from: \"+15551230001\"\n    to: \"+15550001000\"\n    count: 3":             "count 3 needs every",
		"calls:\n  - from: \"+15551230001\"\n    to: \"+15550001000\"\n    count: 0":             "count 0 (no end) needs every",
		"calls:\n  - from: \"+15551230001\"\n    to: \"+15550001000\"\n    count: -2":            "count -2",
		"calls:\n  - from: \"+15551230001\"\n    to: \"+15550001000\"\n    sipHeaders: {Via: x}": `"Via" is not an X- header`,
		"phones:\n  \"+1555\":\n    outcome: maybe":                                              `outcome "maybe": want answer, busy, decline, no-answer, error or unknown`,
		"phones:\n  \"5551234\":\n    outcome: busy":                                             `phone "5551234": not an E.164 number or SIP URI`,
		"phones:\n  \"+1555\":\n    gatherInputs: [\"1\", \"x\"]":                                `gatherInputs[1] "x": want 0-9`,
		"phones:\n  \"+1555\":\n    ring: soon":                                                  `line 3: "soon" is not a duration`,
		"phones:\n  \"+1555\":\n    ring: -1":                                                    `duration -1 is negative`,
		"phones:\n  \"+1555\":\n    rings: 2s":                                                   "field rings not found",
		"phones:\n  \"+1555\":\n    digits: \"12x\"":                                             `digits "12x": want 0-9`,
		"phones:\n  \"+1555\": [1, 2]":                                                           "cannot unmarshal",
		"phones:\n  \"+1555\":\n    onDigits: {\"12x\": {hangup: true}}":                         `onDigits "12x": want keys of 0-9`,
		"phones:\n  \"+1555\":\n    onDigits: {\"1\": {}}":                                       `onDigits "1": want say, press or hangup`,
		"phones:\n  \"+1555\":\n    onDigits: {\"1\": {press: \"x\"}}":                           `onDigits "1" press "x": want 0-9`,
		"phones:\n  \"+1555\":\n    onDigits: {\"1\": {shout: hi}}":                              "field shout not found",
		"phones:\n  \"+1555\":\n    onDigits: {\"\": {hangup: true}}":                            "onDigits: an empty key",
		"phones:\n  \"+1555\":\n    onDigits: {\"1a\": {hangup: true}, \"1A\": {say: hi}}":       `onDigits "1A" and "1a": the same key (keys are not case-sensitive)`,
		"phones:\n  \"+1555\":\n    outcome: answer\n  bad":                                      "line",
		"phones:\n  \"+1555\":\n    onHearing: [{say: hi}, {}]":                                  `onHearing[1]: want say, press or hangup`,
		"phones:\n  \"+1555\":\n    onHearing: [{press: \"1x\"}]":                                `onHearing[0] press "1x": want 0-9`,
		"phones:\n  \"+1555\":\n    onHearing: [{shout: hi}]":                                    "field shout not found",
		"phones:\n  \"+1555\":\n    onHearing: {say: hi}":                                        "cannot unmarshal",
	} {
		_, err := sim.LoadScenario(strings.NewReader(in))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("LoadScenario(%q) = %v, want an error saying %q", in, err, want)
		}
	}
}

func TestAnsweringMachineRecordsAfterTheBeep(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := sim.New(engine.RealClock{}, nil)
		r := &recorder{start: time.Now()}
		line, err := n.Dial(engine.Dial{CallID: "c-vm", To: "+15550000800"}, r.notify)
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Second) // answered at 1 s; the greeting runs to 7.5 s
		line.Play(engine.Playback{What: "Too early", Length: time.Second})
		time.Sleep(6 * time.Second)
		line.Play(engine.Playback{What: "Just right", Length: time.Second})
		// A person records nothing.
		person, _ := n.Dial(engine.Dial{CallID: "c-person", To: "+15550000801"}, r.notify)
		time.Sleep(2 * time.Second)
		person.Play(engine.Playback{What: "Hello?", Length: time.Second})
		got := n.Heard("c-vm")
		if len(got) != 2 || got[0].Text != "Too early" || got[0].AfterBeep || got[0].At != time.Second ||
			got[1].Text != "Just right" || !got[1].AfterBeep || got[1].At != 7*time.Second {
			t.Errorf("the machine heard %+v", got)
		}
		if got := n.Heard("c-person"); len(got) != 0 {
			t.Errorf("a person recorded %+v", got)
		}
		line.Hangup()
		person.Hangup()
	})
}

func TestLoadPhoneAndSetScript(t *testing.T) {
	s, err := sim.LoadPhone("+15551230009", strings.NewReader(`{"outcome":"busy","ring":2.5,"gatherInputs":["1",""],"hangupAfter":"30s"}`))
	if err != nil {
		t.Fatal(err)
	}
	if s.Outcome != sim.Busy || s.Ring != 2500*time.Millisecond || s.HangupAfter != 30*time.Second || len(s.GatherInputs) != 2 {
		t.Errorf("script %+v", s)
	}
	ivr, err := sim.LoadPhone("+15551230009", strings.NewReader(`{"onDigits":{"1234#":{"say":"PIN accepted","press":"1","hangup":true}}}`))
	if err != nil || ivr.OnDigits["1234#"] != (sim.Reaction{Say: "PIN accepted", Press: "1", Hangup: true}) {
		t.Errorf("onDigits as JSON: %+v, %v", ivr, err)
	}
	hearing, err := sim.LoadPhone("+15551230009", strings.NewReader(`{"onHearing":[{"say":"Yes"},{"press":"1","hangup":true}]}`))
	if err != nil || len(hearing.OnHearing) != 2 || hearing.OnHearing[1] != (sim.Reaction{Press: "1", Hangup: true}) {
		t.Errorf("onHearing as JSON: %+v, %v", hearing, err)
	}
	for _, o := range []sim.Outcome{sim.Fail, sim.Unexplained} {
		if s, err := sim.LoadPhone("+15551230009", strings.NewReader(`{"outcome":"`+string(o)+`"}`)); err != nil || s.Outcome != o {
			t.Errorf("outcome %s: %+v, %v", o, s, err)
		}
	}
	// Keys are kept in upper case, as the phone hears digits.
	lower, err := sim.LoadPhone("+15551230009", strings.NewReader(`{"onDigits":{"1a#":{"hangup":true}}}`))
	if err != nil || len(lower.OnDigits) != 1 || lower.OnDigits["1A#"] != (sim.Reaction{Hangup: true}) {
		t.Errorf("a lower-case key: %+v, %v", lower.OnDigits, err)
	}
	for in, want := range map[string]string{
		`{"outcome":"maybe"}`: `outcome "maybe": want answer, busy, decline, no-answer, error or unknown`,
		`{"ring":"soon"}`:     `"soon" is not a duration`,
		`{"colour":"red"}`:    `unknown field "colour": want one of outcome, ring,`,
		`{"outcme":"busy"}`:   `unknown field "outcme"`,
		`[1, 2]`:              "want a JSON object",
		`null`:                "want a JSON object",
		`{"digits":"x"}`:      `digits "x"`,
		`{"onDigits":{"*b":{"hangup":true},"*B":{"press":"1"}}}`: `onDigits "*B" and "*b": the same key`,
		`{"beep":"yes"}`:                      `field "beep": want true or false`,
		`{"ring":true}`:                       `field "ring": want a duration like "1.5s" or a number of seconds`,
		`{"ring":-2}`:                         `field "ring": duration -2 is negative`,
		`{"ring":1e300}`:                      `field "ring": duration 1e+300 is too long`,
		`{"digits":5}`:                        `field "digits": want a string`,
		`{"gatherInputs":"1"}`:                `field "gatherInputs": want a list of strings`,
		`{"onHearing":{"say":"Yes"}}`:         `field "onHearing": want a list of objects`,
		`{"onHearing":["Yes"]}`:               `field "onHearing": want a list of objects`,
		`{"onHearing":[null]}`:                `field "onHearing": want a list of objects`,
		`{"onHearing":[{}]}`:                  `onHearing[0]: want say, press or hangup`,
		`{"onHearing":[{"say":true}]}`:        `field "onHearing": item 0: field "say": want a string`,
		`{"onHearing":[{"shout":"hi"}]}`:      `field "onHearing": item 0: unknown field "shout": want one of say, press, hangup`,
		`{"onDigits":{"1":{"hangup":"yes"}}}`: `field "onDigits": "1": field "hangup": want true or false`,
		`{"onDigits":{"1":null}}`:             `field "onDigits": "1": want an object`,
		`{"outcome":"busy",`:                  "malformed JSON at byte",
		"outcome: busy":                       "malformed JSON at byte 0",
	} {
		_, err := sim.LoadPhone("+15551230009", strings.NewReader(in))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("LoadPhone(%s): %v, want %q", in, err, want)
			continue
		}
		// Our words, never the YAML library's or a Go type's.
		for _, internal := range []string{"yaml", "sim.", "phoneYAML", "!!", "line 1"} {
			if strings.Contains(err.Error(), internal) {
				t.Errorf("LoadPhone(%s): %q shows internals (%q)", in, err, internal)
			}
		}
	}

	synctest.Test(t, func(t *testing.T) {
		n := sim.New(engine.RealClock{}, map[string]sim.Script{"+1555": {Outcome: sim.Decline}})
		dial := func(to string) string {
			r := &recorder{start: time.Now()}
			n.Dial(engine.Dial{CallID: "c-" + to + time.Now().String(), To: to}, r.notify)
			time.Sleep(time.Minute)
			return r.String()
		}
		n.SetScript("", "+1555", sim.Script{Outcome: sim.Busy})
		n.SetScript("", "+15550000486", sim.Script{})
		n.SetScript("", "+1666", sim.Script{Outcome: sim.Busy})
		if got := dial("+1555"); got != "busy@0.5s sip=486" {
			t.Errorf("set script: %s", got)
		}
		if got := dial("+15550000486"); got != "ringing@0s answered@1s" {
			t.Errorf("magic number overridden: %s", got)
		}
		for _, number := range []string{"+1555", "+15550000486", "+1666"} {
			n.ResetScript("", number)
		}
		if got := dial("+1555"); got != "ringing@0s rejected@1s sip=603" {
			t.Errorf("reset to its own script: %s", got)
		}
		if got := dial("+15550000486"); got != "busy@0.5s sip=486" {
			t.Errorf("reset to the magic script: %s", got)
		}
		if got := dial("+1666"); got != "ringing@0s answered@1s" {
			t.Errorf("reset to the default: %s", got)
		}
	})
}

// TestScriptsOfAnAccount: a script set for an account applies to that
// account's calls only, before one set for every account and the base
// one; resetting it leaves other accounts' scripts alone. It drives the
// calls an account places to the number and the inbound calls the number
// places to the account.
func TestScriptsOfAnAccount(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := sim.New(engine.RealClock{}, map[string]sim.Script{"+1555": {Outcome: sim.Decline}})
		dial := func(account, to string) string {
			r := &recorder{start: time.Now()}
			n.Dial(engine.Dial{CallID: "c-" + to + time.Now().String(), AccountID: account, To: to}, r.notify)
			time.Sleep(time.Minute)
			return r.String()
		}
		n.SetScript("bob", "+1555", sim.Script{Outcome: sim.Busy})
		n.SetScript("carol", "+1555", sim.Script{Outcome: sim.NoAnswer})
		for account, want := range map[string]string{"alice": "ringing@0s rejected@1s sip=603", "bob": "busy@0.5s sip=486", "carol": "ringing@0s"} {
			if got := dial(account, "+1555"); got != want {
				t.Errorf("%s's call: %s, want %s", account, got, want)
			}
		}
		// A script for every account comes after an account's own.
		n.SetScript("", "+1555", sim.Script{Outcome: sim.Answer})
		if got := dial("alice", "+1555"); got != "ringing@0s answered@1s" {
			t.Errorf("alice's call with a script for everyone: %s", got)
		}
		if got := dial("bob", "+1555"); got != "busy@0.5s sip=486" {
			t.Errorf("bob's call with a script for everyone: %s", got)
		}
		n.ResetScript("", "+1555")
		n.ResetScript("alice", "+1555") // Alice has none: nothing changes
		n.ResetScript("carol", "+1555")
		for account, want := range map[string]string{"alice": "ringing@0s rejected@1s sip=603", "bob": "busy@0.5s sip=486", "carol": "ringing@0s rejected@1s sip=603"} {
			if got := dial(account, "+1555"); got != want {
				t.Errorf("%s's call after the resets: %s, want %s", account, got, want)
			}
		}
		if s, ok := n.Script("bob", "+1555"); !ok || s.Outcome != sim.Busy {
			t.Errorf("Script(bob) = %+v, %v", s, ok)
		}
		for _, num := range n.Numbers() {
			if num[0] == "+1555" && num[1] != "" {
				t.Errorf("Numbers shows an account's script: %v", num)
			}
		}

		// As a caller: Bob's script presses 5 once his app answers.
		n.SetScript("bob", "+1777", sim.Script{Digits: "5"})
		incoming := func(account string) string {
			r := &recorder{start: time.Now()}
			line, _ := n.Incoming(engine.Dial{CallID: "c-in-" + account, AccountID: account, From: "+1777", To: "+15550001000"}, r.notify)
			line.Answered()
			time.Sleep(time.Minute)
			line.Hangup()
			return r.String()
		}
		if got := incoming("bob"); got != "digit@0.3s=5" {
			t.Errorf("bob's inbound call: %q", got)
		}
		if got := incoming("alice"); got != "" {
			t.Errorf("alice's inbound call: %q", got)
		}
	})
}

// TestREADMEScenario: the scenario file the README shows loads.
func TestREADMEScenario(t *testing.T) {
	readme, err := os.ReadFile("../../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(readme), "voicehook serve --phones phones.yaml`:\n\n```yaml\n")
	block, _, closed := strings.Cut(rest, "```")
	if !ok || !closed {
		t.Fatal("README.md has no YAML block after \"voicehook serve --phones phones.yaml`:\"")
	}
	sc, err := sim.LoadScenario(strings.NewReader(block))
	if err != nil {
		t.Fatalf("the README's scenario: %v\n%s", err, block)
	}
	if len(sc.Phones) != 1 || len(sc.Calls) != 1 || len(sc.Phones["+15551230001"].OnDigits) != 1 {
		t.Errorf("the README's scenario: %+v", sc)
	}
}

// hear makes line hear audio for d from now (d ≤ 0 cuts it).
func hear(t *testing.T, line engine.Line, d time.Duration) {
	t.Helper()
	h, ok := line.(engine.Hearer)
	if !ok {
		t.Fatalf("a simulated line (%T) is not an engine.Hearer", line)
	}
	h.Hear(time.Now().Add(d))
}

// TestPhoneAnswersWhatItHears: a phone with onHearing reacts to each
// utterance a stream plays to it HearingPause after the audio ends, in
// turn, and to nothing once its reactions are used; audio extended, or
// resumed within the pause, is one utterance.
func TestPhoneAnswersWhatItHears(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := sim.New(engine.RealClock{}, map[string]sim.Script{
			"+1555": {DigitDelay: 100 * time.Millisecond, OnHearing: []sim.Reaction{{Say: "Yes"}, {Say: "No way"}, {Press: "5", Hangup: true}}},
		})
		r := &recorder{start: time.Now()}
		line, _ := n.Dial(engine.Dial{CallID: "c-1", To: "+1555"}, r.notify)
		time.Sleep(2 * time.Second) // answered at 1 s
		hear(t, line, time.Second)  // 2 s to 3 s: "Yes" at 3.6 s
		time.Sleep(3 * time.Second)

		hear(t, line, 500*time.Millisecond) // 5 s to 5.5 s…
		time.Sleep(200 * time.Millisecond)
		hear(t, line, time.Second) // …extended at 5.2 s to 6.2 s…
		time.Sleep(1300 * time.Millisecond)
		hear(t, line, 500*time.Millisecond) // …and resumed 300 ms after it ended, at 6.5 s, to 7 s: "No way" at 7.6 s
		time.Sleep(3 * time.Second)

		hear(t, line, time.Second) // 9.5 s to 10.5 s: 5 pressed at 11.2 s, hang-up at 11.3 s
		time.Sleep(time.Minute)
		want := `ringing@0s answered@1s said@3.6s="Yes"(200ms) said@7.6s="No way"(400ms) digit@11.2s=5 hungup@11.3s`
		if got := r.String(); got != want {
			t.Errorf("events\n %q\nwant %q", got, want)
		}
	})
}

// TestOnHearingRunsOut: once its reactions are used, a phone answers no
// more utterances.
func TestOnHearingRunsOut(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := sim.New(engine.RealClock{}, map[string]sim.Script{"+1555": {OnHearing: []sim.Reaction{{Say: "Yes"}}}})
		r := &recorder{start: time.Now()}
		line, _ := n.Dial(engine.Dial{CallID: "c-1", To: "+1555"}, r.notify)
		time.Sleep(2 * time.Second)
		for range 3 {
			hear(t, line, time.Second)
			time.Sleep(5 * time.Second)
		}
		line.Hangup()
		if got, want := r.String(), `ringing@0s answered@1s said@3.6s="Yes"(200ms)`; got != want {
			t.Errorf("events\n %q\nwant %q", got, want)
		}
	})
}

// TestACutEndsWhatThePhoneHears: a cut (the stream cleared its audio)
// ends the audio at once and the utterance HearingPause later; a cut
// when nothing plays, or a call that plays nothing, gets no reaction.
func TestACutEndsWhatThePhoneHears(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := sim.New(engine.RealClock{}, map[string]sim.Script{"+1555": {OnHearing: []sim.Reaction{{Say: "Yes"}, {Say: "Again"}}}})
		r := &recorder{start: time.Now()}
		line, _ := n.Dial(engine.Dial{CallID: "c-1", To: "+1555"}, r.notify)
		time.Sleep(2 * time.Second)
		hear(t, line, 0) // nothing plays: nothing to cut
		time.Sleep(2 * time.Second)
		hear(t, line, 10*time.Second) // 4 s to 14 s…
		time.Sleep(time.Second)
		hear(t, line, -time.Second) // …cut at 5 s: "Yes" at 5.6 s
		time.Sleep(time.Minute)
		line.Hangup()
		if got, want := r.String(), `ringing@0s answered@1s said@5.6s="Yes"(200ms)`; got != want {
			t.Errorf("events\n %q\nwant %q", got, want)
		}
	})
}

// TestHearingOnlyWhileTheCallIsUp: a phone hears nothing before the
// answer, and answers nothing once the call has ended, from either side;
// a caller hears once the engine answers its call.
func TestHearingOnlyWhileTheCallIsUp(t *testing.T) {
	script := sim.Script{Ring: 2 * time.Second, OnHearing: []sim.Reaction{{Say: "Yes"}, {Say: "Again"}}}
	synctest.Test(t, func(t *testing.T) {
		n := sim.New(engine.RealClock{}, map[string]sim.Script{"+1555": script})
		r := &recorder{start: time.Now()}
		line, _ := n.Dial(engine.Dial{CallID: "c-1", To: "+1555"}, r.notify)
		time.Sleep(time.Second)
		hear(t, line, 1500*time.Millisecond) // 1 s to 2.5 s: ringing, so not heard
		time.Sleep(4 * time.Second)
		hear(t, line, time.Second) // 5 s to 6 s, but the engine hangs up at 6.2 s
		time.Sleep(1200 * time.Millisecond)
		line.Hangup()
		hear(t, line, time.Second) // after the end
		time.Sleep(time.Minute)
		if got, want := r.String(), "ringing@0s answered@2s"; got != want {
			t.Errorf("events\n %q\nwant %q", got, want)
		}
	})
	synctest.Test(t, func(t *testing.T) {
		n := sim.New(engine.RealClock{}, map[string]sim.Script{"+1555": script})
		r := &recorder{start: time.Now()}
		line, _ := n.Dial(engine.Dial{CallID: "c-2", To: "+1555"}, r.notify)
		time.Sleep(3 * time.Second)
		hear(t, line, time.Second) // 3 s to 4 s, but the phone hangs up at 4.3 s
		time.Sleep(1300 * time.Millisecond)
		if err := n.HangUp("c-2"); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Minute)
		if got, want := r.String(), "ringing@0s answered@2s hungup@4.3s"; got != want {
			t.Errorf("events\n %q\nwant %q", got, want)
		}
	})
	synctest.Test(t, func(t *testing.T) {
		n := sim.New(engine.RealClock{}, map[string]sim.Script{"+1777": script})
		r := &recorder{start: time.Now()}
		line, _ := n.Incoming(engine.Dial{CallID: "c-in", From: "+1777", To: "+15550001000"}, r.notify)
		hear(t, line, time.Second) // not answered yet
		time.Sleep(2 * time.Second)
		line.Answered()
		hear(t, line, time.Second) // 2 s to 3 s: "Yes" at 3.6 s
		time.Sleep(time.Minute)
		line.Hangup()
		if got, want := r.String(), `said@3.6s="Yes"(200ms)`; got != want {
			t.Errorf("events\n %q\nwant %q", got, want)
		}
	})
}
