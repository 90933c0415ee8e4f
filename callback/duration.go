package callback

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// Duration is a length of time that travels as an ISO 8601 duration string,
// such as a recording's "PT13.67S" or a machine-detection "PT4.9891287S".
// It converts to and from [time.Duration] directly:
//
//	d := callback.Duration(90 * time.Second) // encodes as "PT1M30S"
//	secs := time.Duration(d).Seconds()
//
// Encoding uses hours, minutes and seconds with the fraction trimmed of
// trailing zeros ("PT1M52.217257456S", "PT0S"), the form Bandwidth sends.
// Decoding accepts any ISO 8601 duration made of weeks, days, hours, minutes
// and seconds (one fractional part, on the last component), with an optional
// sign. Years and months are refused: their length is not fixed.
type Duration time.Duration

// String returns d as an ISO 8601 duration.
func (d Duration) String() string { return string(appendISODuration(nil, d)) }

func appendISODuration(b []byte, d Duration) []byte {
	b = append(b, 'P', 'T')
	if d == 0 {
		return append(b, '0', 'S')
	}
	// Work in uint64 nanoseconds so that the most negative value has a
	// magnitude too.
	var n uint64
	if d < 0 {
		b = append(b, '-')
		n = uint64(-(d + 1)) + 1
	} else {
		n = uint64(d)
	}
	h := n / uint64(time.Hour)
	n -= h * uint64(time.Hour)
	m := n / uint64(time.Minute)
	n -= m * uint64(time.Minute)
	if h > 0 {
		b = strconv.AppendUint(b, h, 10)
		b = append(b, 'H')
	}
	if m > 0 {
		if d < 0 && h > 0 {
			b = append(b, '-')
		}
		b = strconv.AppendUint(b, m, 10)
		b = append(b, 'M')
	}
	if n > 0 {
		if d < 0 && (h > 0 || m > 0) {
			b = append(b, '-')
		}
		b = strconv.AppendUint(b, n/uint64(time.Second), 10)
		if frac := n % uint64(time.Second); frac > 0 {
			var digits [9]byte
			for i := 8; i >= 0; i-- {
				digits[i] = byte('0' + frac%10)
				frac /= 10
			}
			end := 9
			for digits[end-1] == '0' {
				end--
			}
			b = append(b, '.')
			b = append(b, digits[:end]...)
		}
		b = append(b, 'S')
	}
	return b
}

// ParseDuration parses an ISO 8601 duration such as "PT13.67S", "PT1M30S",
// "P1DT2H" or "-PT0.5S".
func ParseDuration(s string) (Duration, error) {
	d, err := parseISODuration(s)
	if err != nil {
		return 0, fmt.Errorf("invalid duration %q: %w", s, err)
	}
	return d, nil
}

var errDurationRange = errors.New("out of range")

// parseISODuration parses whole parts with integer arithmetic, so that every
// nanosecond survives, and only the fraction of the last component in
// floating point (it is below one unit, so the float error is far below a
// nanosecond).
func parseISODuration(s string) (Duration, error) {
	i, neg := 0, false
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		neg = s[i] == '-'
		i++
	}
	if i >= len(s) || s[i] != 'P' {
		return 0, errors.New("want an ISO 8601 duration like PT13.67S")
	}
	i++
	const order = "WDHMS"
	var (
		total    int64
		inTime   bool
		any      bool
		lastUnit = -1
		sawFrac  bool
	)
	for i < len(s) {
		if s[i] == 'T' {
			if inTime {
				return 0, errors.New("the time designator T appears twice")
			}
			inTime = true
			if i++; i == len(s) {
				return 0, errors.New("no time component after T")
			}
			continue
		}
		if sawFrac {
			return 0, errors.New("only the last component may have a fraction")
		}
		compNeg := false
		if s[i] == '-' || s[i] == '+' {
			compNeg = s[i] == '-'
			i++
		}
		wholeStart := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		whole := s[wholeStart:i]
		var frac string
		if i < len(s) && (s[i] == '.' || s[i] == ',') {
			sawFrac = true
			i++
			fracStart := i
			for i < len(s) && s[i] >= '0' && s[i] <= '9' {
				i++
			}
			frac = s[fracStart:i]
			if frac == "" {
				return 0, errors.New("a decimal point needs digits after it")
			}
		}
		if whole == "" {
			return 0, fmt.Errorf("a component needs digits before its unit, at byte %d", wholeStart)
		}
		if i == len(s) {
			return 0, fmt.Errorf("number %q has no unit", s[wholeStart:])
		}
		unit := s[i]
		i++
		var scale time.Duration
		switch {
		case !inTime && unit == 'W':
			scale = 7 * 24 * time.Hour
		case !inTime && unit == 'D':
			scale = 24 * time.Hour
		case inTime && unit == 'H':
			scale = time.Hour
		case inTime && unit == 'M':
			scale = time.Minute
		case inTime && unit == 'S':
			scale = time.Second
		case !inTime && (unit == 'Y' || unit == 'M'):
			return 0, errors.New("years and months have no fixed length")
		default:
			return 0, fmt.Errorf("unexpected unit %q", unit)
		}
		pos := strings.IndexByte(order, unit)
		if pos <= lastUnit {
			return 0, fmt.Errorf("unit %q out of order", unit)
		}
		lastUnit = pos
		w, err := strconv.ParseInt(whole, 10, 64)
		if err != nil || w > math.MaxInt64/int64(scale) {
			return 0, errDurationRange
		}
		part := w * int64(scale)
		if frac != "" {
			f, _ := strconv.ParseFloat("0."+frac, 64)
			part += int64(math.Round(f * float64(scale)))
		}
		if compNeg {
			part = -part
		}
		if (part > 0 && total > math.MaxInt64-part) || (part < 0 && total < math.MinInt64-part) {
			return 0, errDurationRange
		}
		total += part
		any = true
	}
	if !any {
		return 0, errors.New("no components")
	}
	if neg {
		total = -total
	}
	return Duration(total), nil
}

// MarshalJSONTo implements the streaming marshaler of
// github.com/go-json-experiment/json.
func (d *Duration) MarshalJSONTo(enc *jsontext.Encoder) error {
	b := append(enc.AvailableBuffer(), '"')
	b = appendISODuration(b, *d)
	return enc.WriteValue(append(b, '"'))
}

// UnmarshalJSONFrom implements the streaming unmarshaler of
// github.com/go-json-experiment/json.
func (d *Duration) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	tok, err := dec.ReadToken()
	if err != nil {
		return err
	}
	switch tok.Kind() {
	case 'n':
		*d = 0
		return nil
	case '"':
		v, err := ParseDuration(tok.String())
		if err != nil {
			return err
		}
		*d = v
		return nil
	}
	return fmt.Errorf("want an ISO 8601 duration string, got %s", kindName(tok.Kind()))
}

// MarshalJSON implements json.Marshaler for encoding/json users.
func (d Duration) MarshalJSON() ([]byte, error) {
	b := append(make([]byte, 0, 24), '"')
	return append(appendISODuration(b, d), '"'), nil
}

// UnmarshalJSON implements json.Unmarshaler for encoding/json users.
func (d *Duration) UnmarshalJSON(b []byte) error { return json.Unmarshal(b, d) }
