package sim

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"go.yaml.in/yaml/v3"

	"github.com/voicehook/voicehook/callback"
)

// A scenario file gives phones their scripts (voicehook serve --phones):
//
//	phones:
//	  "+15551230001":
//	    outcome: answer       # answer (default), busy, decline, no-answer,
//	                          # error (SIP 500), unknown (SIP 699)
//	    ring: 2s              # how long it rings first (default 1s)
//	    hangupAfter: 30s      # hang up this long after answering
//	    digits: "1#"          # press these after answering…
//	    digitsAfter: 2s       # …this long after
//	    gatherDigits: "42#"   # press these each time a Gather starts
//	    gatherInputs: ["9", "", "1"] # or one per Gather ("" lets it time out)
//	    digitDelay: 300ms     # before and between digits
//	    abandonAfter: 10s     # as a caller: hang up if not answered by then
//	    says: "Hi, it's Alice" # what the callee says (for recordings, later)
//	    voice: machine        # who answers: person (default), machine, silent
//	    greeting: 8s          # how long it speaks on answering (person 1s, machine 6s)
//	    greetingDelay: 1s     # silence before the greeting (default 0.5s)
//	    beep: true            # a tone ends the greeting (answering machines)
//	    onDigits:             # answer digits the call sends (SendDtmf); others get nothing
//	      "1234#": {say: "PIN accepted", press: "1", hangup: true} # each part optional, in this order
//	    onHearing:            # answer what a bidirectional stream plays to it, in turn:
//	      - {say: "Yes"}      # 600 ms after the first utterance it hears ends…
//	      - {press: "1", hangup: true} # …and the second; later ones get nothing
//	    note: Alice's desk    # shown in the server's banner
//	calls:                    # inbound calls the phones place on their own
//	  - from: "+15551230001"  # the caller: its script drives it once answered
//	    to: "+15550001000"    # a number an application answers
//	    after: 5s             # the first call, this long after start (default 0)
//	    every: 1m             # then one more at this interval (default: once)
//	    count: 3              # calls in all (default 1, or no end with every)
//	    sipHeaders: {X-Campaign: demo} # X- headers for initiate
//
// Durations are Go durations ("1.5s", "300ms") or numbers of seconds.
// The YAML library is go.yaml.in/yaml/v3, the maintained continuation of
// gopkg.in/yaml.v3.

type scenarioFile struct {
	Phones map[string]phoneYAML `yaml:"phones"`
	Calls  []callYAML           `yaml:"calls"`
}

type callYAML struct {
	From       string            `yaml:"from"`
	To         string            `yaml:"to"`
	After      *duration         `yaml:"after"`
	Every      *duration         `yaml:"every"`
	Count      *int              `yaml:"count"`
	SIPHeaders map[string]string `yaml:"sipHeaders"`
}

// Scenario is what a scenario file holds: the phones' scripts and the
// inbound calls they place on a schedule.
type Scenario struct {
	Phones map[string]Script
	Calls  []ScheduledCall
}

// ScheduledCall is an inbound call a phone places on its own: the first
// After the server starts, then one more every Every, Count in all (0: no
// end, with Every set).
type ScheduledCall struct {
	From, To     string
	After, Every time.Duration
	Count        int
	SIPHeaders   map[string]string
}

type phoneYAML struct {
	Outcome       string    `yaml:"outcome"`
	Ring          *duration `yaml:"ring"`
	HangupAfter   *duration `yaml:"hangupAfter"`
	Digits        string    `yaml:"digits"`
	DigitsAfter   *duration `yaml:"digitsAfter"`
	GatherDigits  string    `yaml:"gatherDigits"`
	GatherInputs  []string  `yaml:"gatherInputs"`
	DigitDelay    *duration `yaml:"digitDelay"`
	AbandonAfter  *duration `yaml:"abandonAfter"`
	Says          string    `yaml:"says"`
	Voice         string    `yaml:"voice"`
	Greeting      *duration `yaml:"greeting"`
	GreetingDelay *duration `yaml:"greetingDelay"`
	Beep          bool      `yaml:"beep"`
	Note          string    `yaml:"note"`

	// OnDigits answers digits the call sends.
	OnDigits map[string]reactionYAML `yaml:"onDigits"`
	// OnHearing answers what a stream plays to the phone.
	OnHearing []reactionYAML `yaml:"onHearing"`
}

type reactionYAML struct {
	Say    string `yaml:"say"`
	Press  string `yaml:"press"`
	Hangup bool   `yaml:"hangup"`
}

// duration reads "1.5s", "300ms" or a number of seconds.
type duration time.Duration

func (d *duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: want a duration like 1.5s or a number of seconds", n.Line)
	}
	v, err := parseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*d = duration(v)
	return nil
}

// parseDuration reads "1.5s", "300ms" or a number of seconds.
func parseDuration(s string) (time.Duration, error) {
	if secs, err := strconv.ParseFloat(s, 64); err == nil {
		if secs < 0 {
			return 0, fmt.Errorf("duration %s is negative", s)
		}
		if secs > float64(math.MaxInt64/int64(time.Second)) || math.IsNaN(secs) {
			return 0, fmt.Errorf("duration %s is too long", s)
		}
		return time.Duration(secs * float64(time.Second)), nil
	}
	v, err := time.ParseDuration(s)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("%q is not a duration like 1.5s or 300ms", s)
	}
	return v, nil
}

func (d *duration) value() time.Duration {
	if d == nil {
		return 0
	}
	return time.Duration(*d)
}

// dtmfDigits are the keys a phone presses and hears.
const dtmfDigits = "0123456789*#ABCDabcd"

// LoadScenario reads a scenario file. Every problem is an error naming the
// phone or call, the field and, for YAML errors, the line.
func LoadScenario(r io.Reader) (*Scenario, error) {
	data, err := io.ReadAll(io.LimitReader(r, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("read scenario: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var f scenarioFile
	if err := dec.Decode(&f); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("scenario: the file is empty; want a phones: map or a calls: list")
		}
		return nil, fmt.Errorf("scenario: %w", err)
	}
	if len(f.Phones) == 0 && len(f.Calls) == 0 {
		return nil, errors.New("scenario: no phones and no calls: want a phones: map of numbers to scripts or a calls: list")
	}
	out := &Scenario{Phones: make(map[string]Script, len(f.Phones))}
	for number, p := range f.Phones {
		if callback.ValidateE164(number) != nil && callback.ValidateSIPURI(number) != nil {
			return nil, fmt.Errorf("scenario: phone %q: not an E.164 number or SIP URI", number)
		}
		s := Script{Outcome: Outcome(p.Outcome), Ring: p.Ring.value(), HangupAfter: p.HangupAfter.value(),
			Digits: p.Digits, DigitsAfter: p.DigitsAfter.value(), GatherDigits: p.GatherDigits,
			GatherInputs: p.GatherInputs,
			DigitDelay:   p.DigitDelay.value(), AbandonAfter: p.AbandonAfter.value(), Says: p.Says, Note: p.Note,
			Voice: Voice(p.Voice), Greeting: p.Greeting.value(), GreetingDelay: p.GreetingDelay.value(), Beep: p.Beep}
		switch s.Voice {
		case "":
			s.Voice = Person
		case Person, Machine, Silent:
		default:
			return nil, fmt.Errorf("scenario: phone %s: voice %q: want person, machine or silent", number, p.Voice)
		}
		switch s.Outcome {
		case "":
			s.Outcome = Answer
		case Answer, Busy, Decline, NoAnswer, Fail, Unexplained:
		default:
			return nil, fmt.Errorf("scenario: phone %s: outcome %q: want answer, busy, decline, no-answer, error or unknown", number, p.Outcome)
		}
		fields := map[string]string{"digits": s.Digits, "gatherDigits": s.GatherDigits}
		for i, in := range s.GatherInputs {
			fields[fmt.Sprintf("gatherInputs[%d]", i)] = in
		}
		if len(p.OnDigits) > 0 {
			on := make(map[string]Reaction, len(p.OnDigits))
			for key, r := range p.OnDigits {
				on[key] = Reaction(r)
			}
			if s.OnDigits, err = CheckOnDigits(on); err != nil {
				return nil, fmt.Errorf("scenario: phone %s: %w", number, err)
			}
			for key, r := range s.OnDigits {
				fields[fmt.Sprintf("onDigits %q press", key)] = r.Press
			}
		}
		if len(p.OnHearing) > 0 {
			on := make([]Reaction, len(p.OnHearing))
			for i, r := range p.OnHearing {
				on[i] = Reaction(r)
			}
			if s.OnHearing, err = CheckOnHearing(on); err != nil {
				return nil, fmt.Errorf("scenario: phone %s: %w", number, err)
			}
		}
		for field, digits := range fields {
			if strings.Trim(digits, dtmfDigits) != "" {
				return nil, fmt.Errorf("scenario: phone %s: %s %q: want 0-9, *, # and A-D", number, field, digits)
			}
		}
		if s.Note == "" {
			s.Note = describe(s)
		}
		out.Phones[number] = s
	}
	for i, c := range f.Calls {
		sc, err := c.check()
		if err != nil {
			return nil, fmt.Errorf("scenario: calls[%d]: %w", i, err)
		}
		out.Calls = append(out.Calls, sc)
	}
	return out, nil
}

// CheckOnDigits checks a phone's OnDigits and returns them with their
// keys in upper case, as the phone hears digits: a key is 1 to
// MaxOnDigits of 0-9, *, # and A-D, and each has a reaction. Two keys that
// differ only in case are an error naming both.
func CheckOnDigits(on map[string]Reaction) (map[string]Reaction, error) {
	if len(on) == 0 {
		return nil, nil
	}
	out := make(map[string]Reaction, len(on))
	given := map[string]string{} // upper-cased key: the key as given
	for _, key := range slices.Sorted(maps.Keys(on)) {
		r := on[key]
		switch {
		case key == "":
			return nil, errors.New(`onDigits: an empty key; want the digits to answer, such as "1234#"`)
		case len(key) > MaxOnDigits:
			return nil, fmt.Errorf("onDigits %q: longer than %d digits", key, MaxOnDigits)
		case strings.Trim(key, dtmfDigits) != "":
			return nil, fmt.Errorf("onDigits %q: want keys of 0-9, *, # and A-D", key)
		case r == Reaction{}:
			return nil, fmt.Errorf("onDigits %q: want say, press or hangup", key)
		}
		up := strings.ToUpper(key)
		if other, ok := given[up]; ok {
			return nil, fmt.Errorf("onDigits %q and %q: the same key (keys are not case-sensitive); keep one", other, key)
		}
		given[up] = key
		out[up] = r
	}
	return out, nil
}

// CheckOnHearing checks a phone's OnHearing: each reaction says, presses
// or hangs up, and presses only 0-9, *, # and A-D. It returns on, or nil
// when on is empty.
func CheckOnHearing(on []Reaction) ([]Reaction, error) {
	if len(on) == 0 {
		return nil, nil
	}
	for i, r := range on {
		switch {
		case r == Reaction{}:
			return nil, fmt.Errorf("onHearing[%d]: want say, press or hangup", i)
		case strings.Trim(r.Press, dtmfDigits) != "":
			return nil, fmt.Errorf("onHearing[%d] press %q: want 0-9, *, # and A-D", i, r.Press)
		}
	}
	return on, nil
}

// LoadPhone reads one phone's script for number: a JSON object with the
// fields of a scenario file's phones (durations as "1.5s" or a number of
// seconds; null leaves a field unset). Problems are errors naming the field,
// in JSON terms.
func LoadPhone(number string, r io.Reader) (Script, error) {
	data, err := io.ReadAll(io.LimitReader(r, 64<<10))
	if err != nil {
		return Script{}, fmt.Errorf("read script: %w", err)
	}
	if err := checkPhoneJSON(data); err != nil {
		return Script{}, err
	}
	// JSON is YAML: the script goes through the same checks as a file's.
	var node yaml.Node
	if err := yaml.Unmarshal(data, &node); err != nil || len(node.Content) == 0 || node.Content[0].Kind != yaml.MappingNode {
		return Script{}, errors.New(wantObject)
	}
	file := &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{
		{Kind: yaml.ScalarNode, Value: "phones"},
		{Kind: yaml.MappingNode, Content: []*yaml.Node{{Kind: yaml.ScalarNode, Value: number, Style: yaml.DoubleQuotedStyle}, node.Content[0]}},
	}}
	out, err := yaml.Marshal(file)
	if err != nil {
		return Script{}, err
	}
	sc, err := LoadScenario(bytes.NewReader(out))
	if err != nil {
		return Script{}, errors.New(strings.Replace(err.Error(), "scenario: ", "", 1))
	}
	return sc.Phones[number], nil
}

const wantObject = `want a JSON object of script fields, such as {"outcome": "busy"}`

// checkPhoneJSON checks a phone's script as JSON: an object whose members
// are script fields, each with a value of the field's kind.
func checkPhoneJSON(data []byte) error {
	var fields map[string]jsontext.Value
	if err := json.Unmarshal(data, &fields); err != nil {
		var syn *jsontext.SyntacticError
		if errors.As(err, &syn) {
			return fmt.Errorf("malformed JSON at byte %d: %v", syn.ByteOffset, syn.Err)
		}
		return errors.New(wantObject)
	}
	if fields == nil {
		return errors.New(wantObject)
	}
	return checkJSONFields(reflect.TypeFor[phoneYAML](), fields)
}

// checkJSONFields checks the members of a JSON object against the fields
// of t, a struct with yaml tags.
func checkJSONFields(t reflect.Type, fields map[string]jsontext.Value) error {
	known := map[string]reflect.Type{}
	var names []string
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		known[name] = t.Field(i).Type
		names = append(names, name)
	}
	given := slices.Sorted(maps.Keys(fields))
	for _, name := range given {
		ft, ok := known[name]
		if !ok {
			return fmt.Errorf("unknown field %q: want one of %s", name, strings.Join(names, ", "))
		}
		v := fields[name]
		if v.Kind() == 'n' {
			continue
		}
		if err := checkJSONKind(ft, v); err != nil {
			return fmt.Errorf("field %q: %w", name, err)
		}
	}
	return nil
}

// checkJSONKind checks that a JSON value fits a script field of type t.
func checkJSONKind(t reflect.Type, v jsontext.Value) error {
	kind := v.Kind()
	switch {
	case t == reflect.TypeFor[*duration]():
		var d any
		_ = json.Unmarshal(v, &d)
		switch d := d.(type) {
		case string:
			_, err := parseDuration(d)
			return err
		case float64:
			_, err := parseDuration(strconv.FormatFloat(d, 'g', -1, 64))
			return err
		}
		return errors.New(`want a duration like "1.5s" or a number of seconds`)
	case t.Kind() == reflect.String && kind != '"':
		return errors.New("want a string")
	case t.Kind() == reflect.Bool && kind != 't' && kind != 'f':
		return errors.New("want true or false")
	case (t.Kind() == reflect.Int || t.Kind() == reflect.Pointer && t.Elem().Kind() == reflect.Int) && kind != '0':
		return errors.New("want a number")
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.String:
		var list []string
		if kind != '[' || json.Unmarshal(v, &list) != nil {
			return errors.New(`want a list of strings, such as ["1", ""]`)
		}
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Struct:
		var list []map[string]jsontext.Value
		if kind != '[' || json.Unmarshal(v, &list) != nil || slices.ContainsFunc(list, func(m map[string]jsontext.Value) bool { return m == nil }) {
			return errors.New(`want a list of objects, such as [{"say": "Yes"}, {"press": "1"}]`)
		}
		for i, m := range list {
			if err := checkJSONFields(t.Elem(), m); err != nil {
				return fmt.Errorf("item %d: %w", i, err)
			}
		}
	case t.Kind() == reflect.Map && t.Elem().Kind() == reflect.Struct:
		var objects map[string]map[string]jsontext.Value
		if kind != '{' || json.Unmarshal(v, &objects) != nil {
			return errors.New(`want an object of objects, such as {"1234#": {"say": "PIN accepted"}}`)
		}
		for _, key := range slices.Sorted(maps.Keys(objects)) {
			if objects[key] == nil {
				return fmt.Errorf("%q: want an object", key)
			}
			if err := checkJSONFields(t.Elem(), objects[key]); err != nil {
				return fmt.Errorf("%q: %w", key, err)
			}
		}
	case t.Kind() == reflect.Map && t.Elem().Kind() == reflect.String:
		var m map[string]string
		if kind != '{' || json.Unmarshal(v, &m) != nil {
			return errors.New("want an object of strings")
		}
	}
	return nil
}

func (c callYAML) check() (ScheduledCall, error) {
	sc := ScheduledCall{From: c.From, To: c.To, After: c.After.value(), Every: c.Every.value(), Count: 1}
	switch {
	case c.Count != nil:
		sc.Count = *c.Count
	case sc.Every > 0:
		sc.Count = 0 // every, with no count: no end
	}
	switch {
	case callback.ValidateCallerID(c.From) != nil && callback.ValidateSIPURI(c.From) != nil:
		return sc, fmt.Errorf("from %q: want an E.164 number, a SIP URI or one of Private, Restricted, Anonymous, Unavailable", c.From)
	case callback.ValidateE164(c.To) != nil:
		return sc, fmt.Errorf("to %q: want the E.164 number of an application", c.To)
	case sc.Count < 0:
		return sc, fmt.Errorf("count %d: want 0 or more", sc.Count)
	case sc.Count == 0 && sc.Every == 0:
		return sc, errors.New("count 0 (no end) needs every")
	case sc.Count > 1 && sc.Every == 0:
		return sc, fmt.Errorf("count %d needs every", sc.Count)
	case sc.Every > 0 && sc.Every < 10*time.Millisecond:
		return sc, fmt.Errorf("every %v: want at least 10ms", sc.Every)
	}
	headers, err := SIPHeaders(c.SIPHeaders)
	if err != nil {
		return sc, err
	}
	sc.SIPHeaders = headers
	return sc, nil
}

// SIPHeaders checks the headers of an incoming INVITE as initiate reports
// them: only X- headers pass, with lower-case names.
func SIPHeaders(h map[string]string) (map[string]string, error) {
	if len(h) == 0 {
		return nil, nil
	}
	out := make(map[string]string, len(h))
	for k, v := range h {
		if !strings.HasPrefix(strings.ToLower(k), "x-") {
			return nil, fmt.Errorf("sipHeaders: %q is not an X- header", k)
		}
		out[strings.ToLower(k)] = v
	}
	return out, nil
}

// describe says what a script does, for the banner.
func describe(s Script) string {
	parts := []string{string(s.Outcome)}
	if s.Ring > 0 {
		parts = append(parts, "after "+s.Ring.String())
	}
	if s.HangupAfter > 0 {
		parts = append(parts, "hangs up "+s.HangupAfter.String()+" after answering")
	}
	if s.Digits != "" {
		parts = append(parts, "presses "+s.Digits)
	}
	if len(s.GatherInputs) > 0 {
		parts = append(parts, fmt.Sprintf("presses %q at its Gathers", s.GatherInputs))
	}
	if s.GatherDigits != "" {
		parts = append(parts, "presses "+s.GatherDigits+" at each Gather")
	}
	if len(s.OnDigits) > 0 {
		keys := slices.Sorted(maps.Keys(s.OnDigits))
		parts = append(parts, "answers "+strings.Join(keys, ", ")+" sent to it")
	}
	switch len(s.OnHearing) {
	case 0:
	case 1:
		parts = append(parts, "answers the first utterance it hears")
	default:
		parts = append(parts, fmt.Sprintf("answers the first %d utterances it hears", len(s.OnHearing)))
	}
	if s.Voice == Machine || s.Voice == Silent {
		parts = append(parts, "a "+string(s.Voice)+" answers")
	}
	return strings.Join(parts, ", ")
}
