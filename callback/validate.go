package callback

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// Caller-id keywords: a from or transferCallerId may be one of these in
// place of a number, to withhold the caller's identity.
const (
	Private     = "Private"
	Restricted  = "Restricted"
	Anonymous   = "Anonymous"
	Unavailable = "Unavailable"
)

// ValidateE164 reports whether s is an E.164 number: "+", a first digit 1
// to 9, and 1 to 14 more digits.
func ValidateE164(s string) error {
	if len(s) < 3 || len(s) > 16 || s[0] != '+' || s[1] < '1' || s[1] > '9' {
		return fmt.Errorf("invalid E.164 number %q: want + and 2 to 15 digits, the first not 0", s)
	}
	for i := 2; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return fmt.Errorf("invalid E.164 number %q: want + and 2 to 15 digits, the first not 0", s)
		}
	}
	return nil
}

// IsCallerIDKeyword reports whether s is Private, Restricted, Anonymous or
// Unavailable, spelled exactly so.
func IsCallerIDKeyword(s string) bool {
	switch s {
	case Private, Restricted, Anonymous, Unavailable:
		return true
	}
	return false
}

// ValidateCallerID reports whether s may stand as a caller id: an E.164
// number or one of the caller-id keywords.
func ValidateCallerID(s string) error {
	if IsCallerIDKeyword(s) || ValidateE164(s) == nil {
		return nil
	}
	return fmt.Errorf("invalid caller id %q: want an E.164 number or one of Private, Restricted, Anonymous, Unavailable", s)
}

// ValidateSIPURI reports whether s is a SIP or SIPS URI of the form
// sip:user@host[:port][;params][?headers] (RFC 3261 §19.1), with the user
// part optional. The scheme is case-insensitive; the host is a domain name,
// an IPv4 address or a bracketed IPv6 address.
func ValidateSIPURI(s string) error {
	if err := checkSIPURI(s); err != "" {
		return fmt.Errorf("invalid SIP URI %q: %s", s, err)
	}
	return nil
}

func checkSIPURI(s string) string {
	rest, ok := cutPrefixFold(s, "sips:")
	if !ok {
		if rest, ok = cutPrefixFold(s, "sip:"); !ok {
			return "want a sip: or sips: scheme"
		}
	}
	// The user part may hold ';' and '?', the host part cannot hold '@':
	// split at the last '@' first.
	if at := strings.LastIndexByte(rest, '@'); at >= 0 {
		user, password, hasPassword := strings.Cut(rest[:at], ":")
		if user == "" {
			return "the user part before @ is empty"
		}
		if !validURIChars(user, "-_.!~*'()&=+$,;?/") {
			return "the user part has a character that must be escaped"
		}
		if hasPassword && !validURIChars(password, "-_.!~*'()&=+$,") {
			return "the password has a character that must be escaped"
		}
		rest = rest[at+1:]
	}
	hostport, tail, _ := cutAny(rest, ";?")
	if hostport == "" {
		return "the host is missing"
	}
	host, port := hostport, ""
	if strings.HasPrefix(hostport, "[") {
		end := strings.IndexByte(hostport, ']')
		if end < 0 {
			return "an IPv6 host lacks its closing ]"
		}
		host, port = hostport[:end+1], hostport[end+1:]
		addr, err := netip.ParseAddr(host[1 : len(host)-1])
		if err != nil || !addr.Is6() {
			return "the bracketed host is not an IPv6 address"
		}
		if port != "" && port[0] != ':' {
			return "unexpected text after the IPv6 host"
		}
	} else if i := strings.IndexByte(hostport, ':'); i >= 0 {
		host, port = hostport[:i], hostport[i:]
		if !validHostname(host) {
			return "the host is not a domain name or IPv4 address"
		}
	} else if !validHostname(host) {
		return "the host is not a domain name or IPv4 address"
	}
	if port != "" {
		n, err := strconv.Atoi(port[1:])
		if err != nil || n < 1 || n > 65535 || port[1] == '+' || port[1] == '-' {
			return "the port is not a number from 1 to 65535"
		}
	}
	// tail is empty, or starts with ';' (parameters) or '?' (headers).
	params, headers, hasHeaders := strings.Cut(tail, "?")
	if params != "" {
		for _, p := range strings.Split(params[1:], ";") {
			name, value, _ := strings.Cut(p, "=")
			if name == "" || !validURIChars(name, "-_.!~*'()[]/:&+$") || !validURIChars(value, "-_.!~*'()[]/:&+$") {
				return "a ;parameter is empty or has a character that must be escaped"
			}
		}
	}
	if hasHeaders {
		for _, h := range strings.Split(headers, "&") {
			name, value, ok := strings.Cut(h, "=")
			if !ok || name == "" || !validURIChars(name, "-_.!~*'()[]/?:+$") || !validURIChars(value, "-_.!~*'()[]/?:+$") {
				return "a ?header is not name=value or has a character that must be escaped"
			}
		}
	}
	return ""
}

func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
		return s[len(prefix):], true
	}
	return s, false
}

// cutAny splits s at the first byte in chars, keeping it at the start of after.
func cutAny(s, chars string) (before, after string, found bool) {
	if i := strings.IndexAny(s, chars); i >= 0 {
		return s[:i], s[i:], true
	}
	return s, "", false
}

// validURIChars reports whether s holds only unreserved characters, the
// extra ones given, and %XX escapes.
func validURIChars(s, extra string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '%':
			if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
				return false
			}
			i += 2
		case strings.IndexByte(extra, c) >= 0:
		default:
			return false
		}
	}
	return true
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// validHostname accepts a domain name (labels of letters, digits and
// inner hyphens, an optional final dot) or a dotted IPv4 address.
func validHostname(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	if addr, err := netip.ParseAddr(h); err == nil {
		return addr.Is4()
	}
	h = strings.TrimSuffix(h, ".")
	labels := strings.Split(h, ".")
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	// The last label of a domain name may not be all digits: that would be
	// a malformed IPv4 address.
	last := labels[len(labels)-1]
	return strings.Trim(last, "0123456789") != ""
}
