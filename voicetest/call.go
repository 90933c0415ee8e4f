package voicetest

import (
	"fmt"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/voicehook/voicehook/bxml"
	"github.com/voicehook/voicehook/callback"
)

// Webhook is one request the app received, with its reply.
type Webhook struct {
	// Time is when it arrived.
	Time time.Time
	// Method and URL are the request's; Path is the URL's path.
	Method, URL, Path string
	// Body is the request body (empty for GET).
	Body []byte
	// Event is the decoded callback; nil if it did not decode, and an
	// [*callback.Unknown] for an event type this version does not know.
	Event callback.Event
	// Type is the event type, "answer"; CallID the call's.
	Type, CallID string
	// Status and Reply are the app's answer: the HTTP status and the body
	// (BXML for synchronous events).
	Status int
	Reply  string

	internal bool // voicetest's own disconnect URL
}

// Verb is one BXML verb the engine ran on a call.
type Verb struct {
	// Time is when it started.
	Time time.Time
	// Name is the verb's element name, "SpeakSentence".
	Name string
	// Summary is the engine's one line about it, as in the timeline.
	Summary string
	// BXML is the verb as XML, defaults filled in.
	BXML string
	// Verb is the parsed verb, for its attributes: a *bxml.Gather, …
	Verb bxml.Verb
}

// Call is a call the test placed or saw: its far end to drive and what
// happened to look at.
type Call struct {
	e *Env
	// ID is the call id.
	ID string
	// Direction, From and To are as placed ("outbound" or "inbound"); empty
	// for legs the app's BXML made until their first webhook.
	Direction, From, To string

	placed  bool
	hooks   []*Webhook
	cause   string
	done    chan struct{} // closed when the call ends
	cursor  map[string]int
	actions []action // what the test made the far end do
}

// action is something the test made the far end do, for the timeline.
type action struct {
	at   time.Time
	what string
}

// learn updates the call from a webhook about it. e.mu is held.
func (c *Call) learn(h *Webhook) {
	switch ev := h.Event.(type) {
	case *callback.Disconnect:
		c.end(string(ev.Cause))
	case *callback.TransferDisconnect:
		c.end(string(ev.Cause))
	}
	if ce, ok := h.Event.(callback.CallEvent); ok && c.From == "" {
		leg := ce.CallLeg()
		c.From, c.To, c.Direction = leg.From, leg.To, string(leg.Direction)
	}
}

func (c *Call) end(cause string) {
	if c.endedLocked() {
		return
	}
	c.cause = cause
	close(c.done)
}

func (c *Call) endedLocked() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// Ended reports whether the call has ended.
func (c *Call) Ended() bool {
	c.e.mu.Lock()
	defer c.e.mu.Unlock()
	return c.endedLocked()
}

// Cause is the disconnect cause ("hangup", "busy", "timeout", …), or ""
// while the call is up.
func (c *Call) Cause() string {
	c.e.mu.Lock()
	defer c.e.mu.Unlock()
	return c.cause
}

// Press makes the far end press digits now, one every digit delay (300 ms
// unless its Phone says otherwise).
func (c *Call) Press(digits string) {
	c.e.t.Helper()
	c.drive("Press", "dtmf", fmt.Sprintf("presses %q", digits), map[string]any{"digits": digits})
}

// Say makes the far end say text now, for as long as it takes to say (15
// characters a second): a recording hears it.
func (c *Call) Say(text string) {
	c.e.t.Helper()
	c.drive("Say", "speech", fmt.Sprintf("says %q", text), map[string]any{"text": text})
}

// HangUp makes the far end hang up now.
func (c *Call) HangUp() {
	c.e.t.Helper()
	c.drive("HangUp", "hangup", "hangs up", nil)
}

func (c *Call) drive(what, path, desc string, body any) {
	c.e.t.Helper()
	if body == nil {
		body = map[string]any{}
	}
	status, resp, err := c.e.do("POST", "/sim/v1/calls/"+c.ID+"/"+path, body)
	if err != nil || status != http.StatusNoContent {
		c.e.t.Fatalf("%s on call %s: %s", what, c.ID, describe(status, resp, err))
	}
	c.e.mu.Lock()
	c.actions = append(c.actions, action{time.Now(), "phone " + desc})
	c.e.mu.Unlock()
	c.e.settle()
}

// Wait lets time pass until the call ends, and fails the test if it is
// still up after Options.Limit.
func (c *Call) Wait() {
	c.e.t.Helper()
	if !c.e.waitUntil(c.endedLocked) {
		c.e.t.Fatalf("call %s still up after %v:\n%s", c.ID, c.e.opts.Limit, c.Timeline())
	}
}

// WaitFor lets time pass until the app has received a webhook of the event
// type for this call, and returns it. Each call returns the next one:
// WaitFor("gather") twice returns the first gather, then the second. It
// fails the test if none comes within Options.Limit or the call ends
// without it.
func (c *Call) WaitFor(eventType string) *Webhook {
	c.e.t.Helper()
	var got *Webhook
	over := false
	c.e.waitUntil(func() bool {
		seen := 0
		for _, h := range c.hooks {
			if h.Type == eventType {
				if seen == c.cursor[eventType] {
					got = h
					c.cursor[eventType]++
					return true
				}
				seen++
			}
		}
		over = c.endedLocked()
		return over
	})
	if got == nil {
		why := fmt.Sprintf("none after %v", c.e.opts.Limit)
		if over {
			why = "the call ended (" + c.Cause() + ") without one"
		}
		c.e.t.Fatalf("call %s: waiting for webhook %s #%d: %s\n%s", c.ID, eventType, c.cursor[eventType]+1, why, c.Timeline())
	}
	return got
}

// Webhooks are the webhooks the app received about this call, in order.
func (c *Call) Webhooks() []*Webhook {
	c.e.mu.Lock()
	defer c.e.mu.Unlock()
	return slices.Clone(c.hooks)
}

// Events are the event types of Webhooks: "answer", "gather", "disconnect".
func (c *Call) Events() []string {
	var out []string
	for _, h := range c.Webhooks() {
		out = append(out, h.Type)
	}
	return out
}

// Legs are the calls the app's BXML made from this one (transfers), as far
// as their webhooks tell.
func (c *Call) Legs() []*Call {
	var out []*Call
	for _, o := range c.e.Calls() {
		for _, h := range o.Webhooks() {
			if parentOf(h.Event) == c.ID {
				out = append(out, o)
				break
			}
		}
	}
	return out
}

// parentOf is the A-leg of a transfer B-leg's event, "" for other events.
func parentOf(ev callback.Event) string {
	if ev == nil {
		return ""
	}
	f := reflect.ValueOf(ev).Elem().FieldByName("ParentCallID")
	if !f.IsValid() || f.Kind() != reflect.String {
		return ""
	}
	return f.String()
}

// historyEntry is one entry of GET /sim/v1/calls/{id}/events.
type historyEntry struct {
	Time    time.Time      `json:"time"`
	Kind    string         `json:"kind"`
	Summary string         `json:"summary"`
	Detail  jsontext.Value `json:"detail"`
}

// history is the engine's history of the call.
func (c *Call) history() []historyEntry {
	c.e.t.Helper()
	status, body, err := c.e.do("GET", "/sim/v1/calls/"+c.ID+"/events", nil)
	if err != nil || status != http.StatusOK {
		c.e.t.Fatalf("history of call %s: %s", c.ID, describe(status, body, err))
	}
	var out []historyEntry
	if err := json.Unmarshal(body, &out); err != nil {
		c.e.t.Fatalf("history of call %s: %v", c.ID, err)
	}
	return out
}

// Verbs are the BXML verbs the engine ran on the call, in order.
func (c *Call) Verbs() []Verb {
	c.e.t.Helper()
	var out []Verb
	for _, h := range c.history() {
		if h.Kind != "verb" {
			continue
		}
		var d struct {
			Verb string `json:"verb"`
			BXML string `json:"bxml"`
		}
		if len(h.Detail) == 0 || json.Unmarshal(h.Detail, &d) != nil || d.Verb == "" {
			continue // an outcome, not a verb: "gathered …"
		}
		v := Verb{Time: h.Time, Name: d.Verb, Summary: h.Summary, BXML: d.BXML}
		if doc, err := bxml.Parse([]byte("<Response>"+d.BXML+"</Response>"), bxml.CallContext); err == nil && len(doc.Verbs) == 1 {
			v.Verb = doc.Verbs[0]
		}
		out = append(out, v)
	}
	return out
}

// Spoken is what the call's verbs said, in order: each SpeakSentence,
// including a Gather's prompts (whether or not a digit cut them short).
func (c *Call) Spoken() []string {
	c.e.t.Helper()
	var out []string
	c.eachPrompt(func(v bxml.Verb) {
		if s, ok := v.(*bxml.SpeakSentence); ok {
			text := s.Text
			if s.SSML != "" {
				text = stripTags(s.SSML)
			}
			out = append(out, strings.TrimSpace(text))
		}
	})
	return out
}

// Played are the URLs of the audio the call's verbs played, in order,
// including a Gather's prompts.
func (c *Call) Played() []string {
	c.e.t.Helper()
	var out []string
	c.eachPrompt(func(v bxml.Verb) {
		if p, ok := v.(*bxml.PlayAudio); ok {
			out = append(out, p.URL)
		}
	})
	return out
}

// Dialled are the numbers and SIP URIs the call's verbs dialled (Transfer
// targets, Forward), in order.
func (c *Call) Dialled() []string {
	c.e.t.Helper()
	var out []string
	for _, v := range c.Verbs() {
		switch v := v.Verb.(type) {
		case *bxml.Transfer:
			for _, t := range v.Targets {
				switch t := t.(type) {
				case *bxml.PhoneNumber:
					out = append(out, t.Number)
				case *bxml.SipUri:
					out = append(out, t.URI)
				}
			}
		case *bxml.Forward:
			out = append(out, v.To)
		}
	}
	return out
}

// SentDigits are the DTMF digits the call's verbs sent to its far end
// (<SendDtmf>), in order, without their pauses (",", "w", "W"). The far
// end's answer shows in the app's webhooks (a Gather gets the digits a
// scripted phone presses back) and in the Timeline ("phone heard 1234#").
func (c *Call) SentDigits() string {
	c.e.t.Helper()
	var b strings.Builder
	for _, v := range c.Verbs() {
		if d, ok := v.Verb.(*bxml.SendDtmf); ok {
			b.WriteString(strings.Map(func(r rune) rune {
				if r == ',' || r == 'w' || r == 'W' {
					return -1
				}
				return r
			}, d.Digits))
		}
	}
	return b.String()
}

// eachPrompt visits the verbs, and a Gather's prompts in its place.
func (c *Call) eachPrompt(visit func(bxml.Verb)) {
	for _, v := range c.Verbs() {
		if g, ok := v.Verb.(*bxml.Gather); ok {
			for _, p := range g.Prompts {
				visit(p)
			}
			continue
		}
		visit(v.Verb)
	}
}

var tags = regexp.MustCompile(`<[^>]*>`)

func stripTags(s string) string { return tags.ReplaceAllString(s, "") }

// WantEvents fails the test unless the app received exactly these webhooks
// for the call, in this order.
func (c *Call) WantEvents(types ...string) {
	c.e.t.Helper()
	if got := c.Events(); !slices.Equal(got, types) {
		c.e.t.Errorf("call %s: webhooks %q, want %q", c.ID, got, types)
	}
}

// WantCause fails the test unless the call ended with this cause.
func (c *Call) WantCause(cause string) {
	c.e.t.Helper()
	switch got := c.Cause(); {
	case got == "":
		c.e.t.Errorf("call %s: still up, want it ended with %s", c.ID, cause)
	case got != cause:
		c.e.t.Errorf("call %s: ended with %s, want %s", c.ID, got, cause)
	}
}

// WantSpoken fails the test unless the call said exactly these sentences,
// in this order (see Spoken).
func (c *Call) WantSpoken(sentences ...string) {
	c.e.t.Helper()
	if got := c.Spoken(); !slices.Equal(got, sentences) {
		c.e.t.Errorf("call %s: spoke %q, want %q", c.ID, got, sentences)
	}
}
