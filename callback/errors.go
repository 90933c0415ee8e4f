package callback

import (
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// Sentinel causes, for errors.Is on a [*FieldError].
var (
	// ErrUnknownEventType: the eventType names no event this package knows.
	// Decode still returns the event, as an [*Unknown].
	ErrUnknownEventType = errors.New("unknown eventType")
	// ErrMissingEventType: the body has no eventType. Decode still returns
	// the event, as an [*Unknown].
	ErrMissingEventType = errors.New("eventType is missing")
	// ErrTooLarge: the body is larger than [MaxBodySize].
	ErrTooLarge = errors.New("body too large")
	// ErrMalformed: the body is not well-formed JSON.
	ErrMalformed = errors.New("malformed JSON")
)

// FieldError reports what was wrong with a callback body, and where.
type FieldError struct {
	// Event is the eventType of the body, when it was known.
	Event EventType
	// Field is the path of the member at fault, its names joined by dots
	// ("machineDetectionResult.duration"); empty for the body as a whole.
	Field string
	// Offset is the byte offset in the body where the problem was found, or
	// -1 when it does not apply.
	Offset int64
	// Err says what was wrong.
	Err error
}

func (e *FieldError) Error() string {
	var b strings.Builder
	b.WriteString("callback: ")
	if e.Event != "" {
		b.WriteString(string(e.Event))
		b.WriteString(": ")
	}
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Err.Error())
	if e.Offset >= 0 && errors.Is(e.Err, ErrMalformed) {
		fmt.Fprintf(&b, " (at byte %d)", e.Offset)
	}
	return b.String()
}

func (e *FieldError) Unwrap() error { return e.Err }

// fieldPath turns a JSON pointer into the dotted form FieldError uses.
func fieldPath(p jsontext.Pointer) string {
	var parts []string
	for tok := range p.Tokens() {
		parts = append(parts, tok)
	}
	return strings.Join(parts, ".")
}

// wrapJSONError turns an error of the JSON library into a FieldError that
// names the field and says, in words, what was expected.
func wrapJSONError(event EventType, err error) error {
	var fe *FieldError
	if errors.As(err, &fe) {
		return err
	}
	var syn *jsontext.SyntacticError
	if errors.As(err, &syn) {
		return &FieldError{Event: event, Field: fieldPath(syn.JSONPointer), Offset: syn.ByteOffset,
			Err: fmt.Errorf("%w: %v", ErrMalformed, syn.Err)}
	}
	var sem *json.SemanticError
	if errors.As(err, &sem) {
		inner := sem.Err
		if inner == nil || errors.Is(inner, json.ErrUnknownName) {
			inner = fmt.Errorf("want %s, got %s", goKindName(sem.GoType), jsonKindName(sem.JSONKind))
		}
		return &FieldError{Event: event, Field: fieldPath(sem.JSONPointer), Offset: sem.ByteOffset, Err: inner}
	}
	return &FieldError{Event: event, Offset: -1, Err: err}
}

func jsonKindName(k jsontext.Kind) string {
	if k == 0 {
		return "an invalid value"
	}
	return kindName(k)
}

var (
	timeType     = reflect.TypeFor[Time]()
	durationType = reflect.TypeFor[Duration]()
)

// goKindName names, in JSON terms, what a Go type accepts.
func goKindName(t reflect.Type) string {
	if t == nil {
		return "a valid value"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t {
	case timeType:
		return "an RFC 3339 time string"
	case durationType:
		return "an ISO 8601 duration string"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Slice, reflect.Array:
		return "an array"
	}
	return "a valid value"
}
