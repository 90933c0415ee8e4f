package sim

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/voicehook/voicehook/callback"
)

// A scenario file gives phones their scripts (voicehook serve --phones):
//
//	phones:
//	  "+15551230001":
//	    outcome: answer       # answer (default), busy, decline, no-answer
//	    ring: 2s              # how long it rings first (default 1s)
//	    hangupAfter: 30s      # hang up this long after answering
//	    digits: "1#"          # press these after answering…
//	    digitsAfter: 2s       # …this long after
//	    gatherDigits: "42#"   # press these each time a Gather starts
//	    digitDelay: 300ms     # before and between digits
//	    abandonAfter: 10s     # as a caller: hang up if not answered by then
//	    says: "Hi, it's Alice" # what the callee says (for recordings, later)
//	    note: Alice's desk    # shown in the server's banner
//
// Durations are Go durations ("1.5s", "300ms") or numbers of seconds.
// The YAML library is go.yaml.in/yaml/v3, the maintained continuation of
// gopkg.in/yaml.v3.

type scenarioFile struct {
	Phones map[string]phoneYAML `yaml:"phones"`
}

type phoneYAML struct {
	Outcome      string    `yaml:"outcome"`
	Ring         *duration `yaml:"ring"`
	HangupAfter  *duration `yaml:"hangupAfter"`
	Digits       string    `yaml:"digits"`
	DigitsAfter  *duration `yaml:"digitsAfter"`
	GatherDigits string    `yaml:"gatherDigits"`
	DigitDelay   *duration `yaml:"digitDelay"`
	AbandonAfter *duration `yaml:"abandonAfter"`
	Says         string    `yaml:"says"`
	Note         string    `yaml:"note"`
}

// duration reads "1.5s", "300ms" or a number of seconds.
type duration time.Duration

func (d *duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: want a duration like 1.5s or a number of seconds", n.Line)
	}
	if secs, err := strconv.ParseFloat(n.Value, 64); err == nil {
		if secs < 0 {
			return fmt.Errorf("line %d: duration %s is negative", n.Line, n.Value)
		}
		*d = duration(secs * float64(time.Second))
		return nil
	}
	v, err := time.ParseDuration(n.Value)
	if err != nil || v < 0 {
		return fmt.Errorf("line %d: %q is not a duration like 1.5s or 300ms", n.Line, n.Value)
	}
	*d = duration(v)
	return nil
}

func (d *duration) value() time.Duration {
	if d == nil {
		return 0
	}
	return time.Duration(*d)
}

// LoadScenario reads a scenario file. Every problem is an error naming the
// phone, the field and, for YAML errors, the line.
func LoadScenario(r io.Reader) (map[string]Script, error) {
	data, err := io.ReadAll(io.LimitReader(r, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("read scenario: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var f scenarioFile
	if err := dec.Decode(&f); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("scenario: the file is empty; want a phones: map")
		}
		return nil, fmt.Errorf("scenario: %w", err)
	}
	if len(f.Phones) == 0 {
		return nil, errors.New("scenario: no phones: want a phones: map of numbers to scripts")
	}
	out := make(map[string]Script, len(f.Phones))
	for number, p := range f.Phones {
		if callback.ValidateE164(number) != nil && callback.ValidateSIPURI(number) != nil {
			return nil, fmt.Errorf("scenario: phone %q: not an E.164 number or SIP URI", number)
		}
		s := Script{Outcome: Outcome(p.Outcome), Ring: p.Ring.value(), HangupAfter: p.HangupAfter.value(),
			Digits: p.Digits, DigitsAfter: p.DigitsAfter.value(), GatherDigits: p.GatherDigits,
			DigitDelay: p.DigitDelay.value(), AbandonAfter: p.AbandonAfter.value(), Says: p.Says, Note: p.Note}
		switch s.Outcome {
		case "":
			s.Outcome = Answer
		case Answer, Busy, Decline, NoAnswer:
		default:
			return nil, fmt.Errorf("scenario: phone %s: outcome %q: want answer, busy, decline or no-answer", number, p.Outcome)
		}
		for field, digits := range map[string]string{"digits": s.Digits, "gatherDigits": s.GatherDigits} {
			if strings.Trim(digits, "0123456789*#ABCDabcd") != "" {
				return nil, fmt.Errorf("scenario: phone %s: %s %q: want 0-9, *, # and A-D", number, field, digits)
			}
		}
		if s.Note == "" {
			s.Note = describe(s)
		}
		out[number] = s
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
	if s.GatherDigits != "" {
		parts = append(parts, "presses "+s.GatherDigits+" at each Gather")
	}
	return strings.Join(parts, ", ")
}
