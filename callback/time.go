package callback

import (
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
	if t.IsZero() {
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
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return Time{}, fmt.Errorf("invalid time %q: want RFC 3339, like 2019-06-20T15:55:55.533Z", s)
	}
	return Time{t}, nil
}

// MarshalJSONTo implements the streaming marshaler of
// github.com/go-json-experiment/json.
func (t Time) MarshalJSONTo(enc *jsontext.Encoder) error {
	b := append(enc.AvailableBuffer(), '"')
	b = appendWireTime(b, t.Time)
	return enc.WriteValue(append(b, '"'))
}

// UnmarshalJSONFrom implements the streaming unmarshaler of
// github.com/go-json-experiment/json.
func (t *Time) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	tok, err := dec.ReadToken()
	if err != nil {
		return err
	}
	switch tok.Kind() {
	case 'n':
		*t = Time{}
		return nil
	case '"':
		v, err := ParseTime(tok.String())
		if err != nil {
			return err
		}
		*t = v
		return nil
	}
	return fmt.Errorf("want a time string, got %s", kindName(tok.Kind()))
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
