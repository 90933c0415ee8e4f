package callback

import (
	"bytes"
	"fmt"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// Time is an instant on the wire. It encodes as UTC ISO 8601 with exactly three
// fractional digits and a Z suffix, the form Bandwidth sends
// ("2019-06-20T15:55:55.533Z"), and decodes from any RFC 3339 form, including
// other offsets and other fractional precisions.
//
// The zero Time means absent: fields of this type tagged omitzero are left out
// of the encoding, and a JSON null decodes to the zero Time.
//
// Time embeds [time.Time], so its methods (Before, Sub, Format, …) are
// available directly.
type Time struct{ time.Time }

// TimeOf returns t as a Time.
func TimeOf(t time.Time) Time { return Time{t} }

// wireLayout is the layout of encoded times, always rendered in UTC.
const wireLayout = "2006-01-02T15:04:05.000Z"

// String returns t in wire form, without quotes.
func (t Time) String() string {
	if t.Time.IsZero() {
		return ""
	}
	return string(appendWireTime(nil, t.Time))
}

// appendWireTime appends t in UTC as YYYY-MM-DDTHH:MM:SS.mmmZ. It writes the
// digits directly for four-digit years, which is several times faster than
// time.Format and keeps encoding within its budget; other years take the
// general path.
func appendWireTime(b []byte, t time.Time) []byte {
	t = t.UTC()
	y, mo, d := t.Date()
	if y < 0 || y > 9999 {
		return t.AppendFormat(b, wireLayout)
	}
	h, mi, s := t.Clock()
	ms := t.Nanosecond() / int(time.Millisecond)
	return append(b,
		byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-',
		byte('0'+int(mo)/10), byte('0'+int(mo)%10), '-',
		byte('0'+d/10), byte('0'+d%10), 'T',
		byte('0'+h/10), byte('0'+h%10), ':',
		byte('0'+mi/10), byte('0'+mi%10), ':',
		byte('0'+s/10), byte('0'+s%10), '.',
		byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10), 'Z')
}

// ParseTime parses an RFC 3339 timestamp, with or without fractional
// seconds, in any offset.
func ParseTime(s string) (Time, error) {
	var t Time
	if err := t.parse([]byte(s)); err != nil {
		return Time{}, err
	}
	return t, nil
}

// parse reads an RFC 3339 timestamp from b. It uses time.Time's
// UnmarshalText, which parses RFC 3339 strictly and straight from bytes, so
// decoding a time allocates nothing.
func (t *Time) parse(b []byte) error {
	if err := t.Time.UnmarshalText(b); err != nil {
		*t = Time{}
		return fmt.Errorf("invalid time %q: want RFC 3339, like 2019-06-20T15:55:55.533Z", b)
	}
	return nil
}

// IsZero reports whether t is absent. (It has a pointer receiver so that
// the JSON encoder's omitzero check does not copy t to the heap.)
func (t *Time) IsZero() bool { return t.Time.IsZero() }

// MarshalJSONTo implements the streaming marshaler of
// github.com/go-json-experiment/json.
func (t *Time) MarshalJSONTo(enc *jsontext.Encoder) error {
	b := append(enc.AvailableBuffer(), '"')
	b = appendWireTime(b, t.Time)
	return enc.WriteValue(append(b, '"'))
}

// UnmarshalJSONFrom implements the streaming unmarshaler of
// github.com/go-json-experiment/json.
func (t *Time) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	v, err := dec.ReadValue()
	if err != nil {
		return err
	}
	switch v.Kind() {
	case 'n':
		*t = Time{}
		return nil
	case '"':
		raw := []byte(v[1 : len(v)-1])
		if bytes.IndexByte(raw, '\\') >= 0 {
			if raw, err = jsontext.AppendUnquote(nil, v); err != nil {
				return err
			}
		}
		return t.parse(raw)
	}
	return fmt.Errorf("want a time string, got %s", kindName(v.Kind()))
}

// MarshalJSON implements json.Marshaler for encoding/json users.
func (t Time) MarshalJSON() ([]byte, error) {
	b := append(make([]byte, 0, len(wireLayout)+2), '"')
	return append(appendWireTime(b, t.Time), '"'), nil
}

// UnmarshalJSON implements json.Unmarshaler for encoding/json users.
func (t *Time) UnmarshalJSON(b []byte) error {
	return json.Unmarshal(b, t)
}

// kindName names a JSON kind as jsontext reports it, for error messages.
func kindName(k jsontext.Kind) string {
	switch k {
	case 'n':
		return "null"
	case 'f', 't':
		return "a boolean"
	case '"':
		return "a string"
	case '0':
		return "a number"
	case '{':
		return "an object"
	case '[':
		return "an array"
	}
	return "invalid JSON"
}
