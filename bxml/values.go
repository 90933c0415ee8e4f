package bxml

import (
	"fmt"
	"math"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/voicehook/voicehook/callback"
)

// maxURL is the longest URL an attribute may hold.
const maxURL = 2048

// setValue checks s for the field and stores it in v. It returns what was
// wrong, or "".
func setValue(v reflect.Value, f *field, s string) string {
	if f.ptr {
		p := reflect.New(v.Type().Elem())
		v.Set(p)
		v = p.Elem()
	}
	if f.req && s == "" {
		return "must not be empty"
	}
	switch f.kind {
	case kInt:
		n, err := strconv.Atoi(s)
		if err != nil || strings.HasPrefix(s, "+") {
			return fmt.Sprintf("%q is not a whole number", s)
		}
		if msg := checkRange(float64(n), f, ""); msg != "" {
			return msg
		}
		v.SetInt(int64(n))
		return ""
	case kSeconds, kMillis:
		x, ok := parseDecimal(s)
		if !ok {
			return fmt.Sprintf("%q is not a number like 5 or 2.5", s)
		}
		unit, name := time.Second, "s"
		if f.kind == kMillis {
			unit, name = time.Millisecond, "ms"
		}
		if msg := checkRange(x, f, name); msg != "" {
			return msg
		}
		v.SetInt(int64(math.Round(x * float64(unit))))
		return ""
	case kBool:
		switch strings.ToLower(s) {
		case "true":
			v.SetBool(true)
		case "false":
			v.SetBool(false)
		default:
			return fmt.Sprintf("%q is not true or false", s)
		}
		return ""
	}
	if msg := checkString(f, s); msg != "" {
		return msg
	}
	v.SetString(s)
	return ""
}

// checkString checks a string-valued field.
func checkString(f *field, s string) string {
	if f.hasMax && f.kind != kSeconds && utf8.RuneCountInString(s) > int(f.max) {
		return fmt.Sprintf("%d characters; at most %d", utf8.RuneCountInString(s), int(f.max))
	}
	if s == "" && f.kind != kID {
		return "" // absent, or a tag cleared
	}
	switch f.kind {
	case kURL:
		return checkURL(s, false)
	case kWSS:
		return checkURL(s, true)
	case kMethod:
		if s != "GET" && s != "POST" {
			return fmt.Sprintf("%q is not GET or POST", s)
		}
	case kEnum:
		if !slices.Contains(f.enum, s) {
			return fmt.Sprintf("%q is not one of %s", s, strings.Join(f.enum, ", "))
		}
	case kDigits:
		if i := strings.IndexFunc(s, func(r rune) bool { return !strings.ContainsRune("0123456789*#ABCDabcd", r) }); i >= 0 {
			return fmt.Sprintf("%q: %q is not a DTMF digit (0-9, *, #, A-D)", s, s[i:i+1])
		}
	case kDTMF:
		if i := strings.IndexFunc(s, func(r rune) bool { return !strings.ContainsRune("0123456789*#ABCDabcd,wW", r) }); i >= 0 {
			return fmt.Sprintf("%q: %q is not a DTMF digit (0-9, *, #, A-D) or pause (',', w, W)", s, s[i:i+1])
		}
	case kCallerID:
		if err := callback.ValidateCallerID(s); err != nil {
			return err.Error()
		}
	case kPhone:
		if callback.ValidateE164(s) != nil && callback.ValidateSIPURI(s) != nil {
			return fmt.Sprintf("%q is neither an E.164 number nor a SIP URI", s)
		}
	case kE164:
		if err := callback.ValidateE164(s); err != nil {
			return err.Error()
		}
	case kSIPURI:
		if err := callback.ValidateSIPURI(s); err != nil {
			return err.Error()
		}
	case kCallID:
		if err := callback.ValidateCallID(s); err != nil {
			return err.Error()
		}
	case kConfName:
		if len(s) > 100 || strings.IndexFunc(s, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.')
		}) >= 0 {
			return fmt.Sprintf("conference name %q: want up to 100 letters, digits, '-', '_' and '.'", s)
		}
	case kID:
		if strings.TrimSpace(s) == "" {
			return "must not be blank"
		}
	}
	return ""
}

// checkURL accepts an absolute http(s) URL or a relative reference, or with
// ws, an absolute ws(s) URL.
func checkURL(s string, ws bool) string {
	if len(s) > maxURL {
		return fmt.Sprintf("URL of %d bytes; at most %d", len(s), maxURL)
	}
	if strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return fmt.Sprintf("URL %q contains a space or control character", clipString(s))
	}
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Sprintf("%q is not a URL", clipString(s))
	}
	if ws {
		if u.Scheme != "wss" && u.Scheme != "ws" || u.Host == "" {
			return fmt.Sprintf("%q is not a WebSocket URL (wss://host/path)", clipString(s))
		}
		return ""
	}
	switch u.Scheme {
	case "":
		if u.Host != "" {
			return fmt.Sprintf("%q has a host but no scheme", clipString(s))
		}
	case "http", "https":
		if u.Host == "" {
			return fmt.Sprintf("%q has no host", clipString(s))
		}
	default:
		return fmt.Sprintf("%q: only http and https URLs are allowed", clipString(s))
	}
	return ""
}

func checkRange(x float64, f *field, unit string) string {
	if f.hasMin && x < f.min || f.hasMax && x > f.max {
		r := formatNumber(f.min) + " to " + formatNumber(f.max)
		if !f.hasMax {
			r = "at least " + formatNumber(f.min)
		}
		if unit != "" {
			r += " " + unit
		}
		return fmt.Sprintf("%s is out of range: %s", formatNumber(x), r)
	}
	return ""
}

// parseDecimal reads digits with an optional fraction: "5", "2.5", "0.1".
func parseDecimal(s string) (float64, bool) {
	whole, frac, hasFrac := strings.Cut(s, ".")
	if whole == "" || hasFrac && frac == "" || !allDigits(whole) || !allDigits(frac) || len(s) > 24 {
		return 0, false
	}
	x, err := strconv.ParseFloat(s, 64)
	return x, err == nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func formatNumber(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }

func clipString(s string) string {
	if len(s) > 60 {
		return s[:60] + "…"
	}
	return s
}

// formatValue renders the field for marshalling; present is false when the
// attribute is absent.
func formatValue(v reflect.Value, f *field) (s string, present bool) {
	if f.ptr {
		if v.IsNil() {
			return "", false
		}
		v = v.Elem()
	} else if v.IsZero() {
		return "", false
	}
	switch f.kind {
	case kInt:
		return strconv.FormatInt(v.Int(), 10), true
	case kSeconds:
		return formatNumber(time.Duration(v.Int()).Seconds()), true
	case kMillis:
		return formatNumber(float64(v.Int()) / float64(time.Millisecond)), true
	case kBool:
		return strconv.FormatBool(v.Bool()), true
	}
	return v.String(), true
}

func sortedKeys(m map[string]bool) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return strings.Join(keys, ", ")
}
