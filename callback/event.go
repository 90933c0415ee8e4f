package callback

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// Event is a decoded callback: one of the pointer types of this package
// ([*Answer], [*Disconnect], …, or [*Unknown]). Switch on its type to reach
// its fields.
type Event interface {
	// Type is the event type of the Go type. For an event decoded from an
	// alias it is the canonical name (a "recordingComplete" body gives a
	// *RecordComplete whose Type is "recordComplete"); the wire value stays
	// in the header.
	Type() EventType
	// EventHeader returns the fields every event carries.
	EventHeader() *Header
	// header seals the interface: only this package's types are events.
	header() *Header
}

// CallEvent is an event about one call leg: every event but the conference
// events and Unknown.
type CallEvent interface {
	Event
	// CallLeg returns the fields that identify the call.
	CallLeg() *Leg
}

// EventHeader returns h. Every event embeds a Header.
func (h *Header) EventHeader() *Header { return h }

// CallLeg returns l. Every call event embeds a Leg.
func (l *Leg) CallLeg() *Leg { return l }

// MaxBodySize is the largest body Decode accepts, 1 MiB. Real callbacks are
// a few kilobytes; the cap keeps a hostile body from costing more.
const MaxBodySize = 1 << 20

// decodeOpts are the options of every decode: the library defaults, which
// already refuse duplicate member names and invalid UTF-8, spelled out.
var decodeOpts = json.JoinOptions(
	jsontext.AllowDuplicateNames(false),
	jsontext.AllowInvalidUTF8(false),
)

// encodeOpts skip the duplicate-name check, which a struct cannot fail, and
// sort map keys so that equal events encode to equal bytes.
var encodeOpts = json.JoinOptions(
	jsontext.AllowDuplicateNames(true),
	json.Deterministic(true),
)

// Decode decodes a callback body into the event its eventType names.
//
// Errors are [*FieldError]s naming the field at fault. When the eventType is
// unknown or missing, Decode returns the event as an [*Unknown], with every
// field kept, together with an error matching [ErrUnknownEventType] or
// [ErrMissingEventType].
func Decode(body []byte) (Event, error) {
	if len(body) > MaxBodySize {
		return nil, &FieldError{Offset: -1, Err: fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, len(body), MaxBodySize)}
	}
	// Fast path: find the eventType by scanning, decode once, and confirm
	// the decoded header agrees. A guess from a nested member or from inside
	// a string cannot agree (the top-level eventType would be decoded
	// instead), so any doubt falls through to the careful path.
	if guess, ok := scanEventType(body); ok {
		if info, known := eventTypes[guess]; known && info.keyAliases == nil {
			ev := info.new()
			if err := json.Unmarshal(body, ev, decodeOpts); err == nil && ev.EventHeader().EventType == guess {
				return ev, nil
			}
		}
	}
	return decodeCareful(body)
}

// decodeCareful reads the eventType properly before choosing the type.
func decodeCareful(body []byte) (Event, error) {
	var head struct {
		EventType jsontext.Value `json:"eventType"`
	}
	if err := json.Unmarshal(body, &head, decodeOpts); err != nil {
		// Name the event in the error if it can be read at all: a
		// duplicate member or bad UTF-8 elsewhere should not hide it.
		var label struct {
			EventType EventType `json:"eventType"`
		}
		_ = json.Unmarshal(body, &label, jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true))
		return nil, wrapJSONError(label.EventType, err)
	}
	var t EventType
	if head.EventType != nil && head.EventType.Kind() != 'n' {
		if err := json.Unmarshal(head.EventType, &t); err != nil {
			return nil, &FieldError{Field: "eventType", Offset: -1,
				Err: fmt.Errorf("want a string, got %s", kindName(head.EventType.Kind()))}
		}
	}
	if t == "" { // absent, null or ""
		u := new(Unknown)
		if err := json.Unmarshal(body, u, decodeOpts); err != nil {
			return nil, wrapJSONError("", err)
		}
		return u, &FieldError{Field: "eventType", Offset: -1, Err: ErrMissingEventType}
	}
	info, known := eventTypes[t]
	if !known {
		u := new(Unknown)
		if err := json.Unmarshal(body, u, decodeOpts); err != nil {
			return nil, wrapJSONError(t, err)
		}
		return u, &FieldError{Event: t, Field: "eventType", Offset: -1, Err: fmt.Errorf("%w %q", ErrUnknownEventType, t)}
	}
	if info.keyAliases != nil {
		var err error
		if body, err = renameMembers(body, info.keyAliases); err != nil {
			return nil, wrapJSONError(t, err)
		}
	}
	ev := info.new()
	if err := json.Unmarshal(body, ev, decodeOpts); err != nil {
		return nil, wrapJSONError(t, err)
	}
	return ev, nil
}

// renameMembers renames top-level members by aliases, unless the target name
// is present already, in which case the alias is dropped.
func renameMembers(body []byte, aliases map[string]string) ([]byte, error) {
	var members map[string]jsontext.Value
	if err := json.Unmarshal(body, &members, decodeOpts); err != nil {
		return nil, err
	}
	changed := false
	for from, to := range aliases {
		v, ok := members[from]
		if !ok {
			continue
		}
		delete(members, from)
		if _, taken := members[to]; !taken {
			members[to] = v
		}
		changed = true
	}
	if !changed {
		return body, nil
	}
	return json.Marshal(members, json.Deterministic(true))
}

// scanEventType finds the first `"eventType"` key in body and returns the
// plain string after it. It is only a guess: Decode confirms it.
func scanEventType(body []byte) (EventType, bool) {
	const key = `"eventType"`
	i := bytes.Index(body, []byte(key))
	if i < 0 {
		return "", false
	}
	rest := body[i+len(key):]
	rest = bytes.TrimLeft(rest, " \t\r\n")
	if len(rest) == 0 || rest[0] != ':' {
		return "", false
	}
	rest = bytes.TrimLeft(rest[1:], " \t\r\n")
	if len(rest) == 0 || rest[0] != '"' {
		return "", false
	}
	end := bytes.IndexByte(rest[1:], '"')
	if end < 0 {
		return "", false
	}
	v := rest[1 : 1+end]
	if bytes.IndexByte(v, '\\') >= 0 {
		return "", false
	}
	return EventType(v), true
}

// Encode encodes an event as the JSON body voicehook sends: eventType first,
// times in UTC with milliseconds, absent fields left out.
//
// An empty Header.EventType is filled in from the Go type. A non-empty one
// must name that type (an alias is kept); anything else is an error, as is
// a nil event.
func Encode(ev Event) ([]byte, error) {
	if ev == nil || isNilPointer(ev) {
		return nil, &FieldError{Offset: -1, Err: errors.New("nil event")}
	}
	h := ev.EventHeader()
	if _, unknown := ev.(*Unknown); unknown {
		if h.EventType == "" {
			return nil, &FieldError{Field: "eventType", Offset: -1, Err: ErrMissingEventType}
		}
		// Strict (its members came from outside and could repeat a name),
		// and sorted like every map.
		b, err := json.Marshal(ev, decodeOpts, json.Deterministic(true))
		if err != nil {
			return nil, wrapJSONError(h.EventType, err)
		}
		return b, nil
	}
	if h.EventType != "" && canonical(h.EventType) != ev.Type() {
		return nil, &FieldError{Event: ev.Type(), Field: "eventType", Offset: -1,
			Err: fmt.Errorf("%q does not name a %T", h.EventType, ev)}
	}
	b, err := json.Marshal(ev, encodeOpts)
	if err != nil {
		return nil, wrapJSONError(ev.Type(), err)
	}
	if h.EventType == "" {
		b = prependEventType(b, ev.Type())
	}
	return b, nil
}

// prependEventType inserts "eventType" as the first member of obj.
func prependEventType(obj []byte, t EventType) []byte {
	out := make([]byte, 0, len(obj)+len(t)+16)
	out = append(out, `{"eventType":`...)
	out, _ = jsontext.AppendQuote(out, string(t))
	if len(obj) > 2 {
		out = append(out, ',')
	}
	return append(out, obj[1:]...)
}

func isNilPointer(ev Event) bool {
	v := reflect.ValueOf(ev)
	return v.Kind() == reflect.Pointer && v.IsNil()
}
