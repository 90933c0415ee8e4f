// Package siphdr reads what an inbound INVITE carries for the initiate
// webhook (X- headers, Diversion, User-to-User, STIR/SHAKEN), writes the
// From and extra headers of our outbound INVITEs, and maps final SIP
// response codes to call outcomes.
//
// It is pure logic over header names and values, with no SIP library, so it
// can be fuzzed; the SIP adapter turns its messages into []Field and back.
// Nothing here holds state or starts goroutines.
package siphdr

import (
	"strings"
)

// Field is one header line: its name as sent and its value.
type Field struct{ Name, Value string }

// Bounds on hostile input. A value beyond them is ignored, not clipped, so
// nothing reported is a fragment of what was sent.
const (
	maxValue      = 8192 // any header value read at all (an Identity is ~1 KiB)
	maxXHeaders   = 64   // distinct X- headers kept
	maxXName      = 128
	maxXValue     = 1024
	maxParams     = 32 // Diversion parameters kept
	maxParamName  = 64
	maxParamValue = 256
	maxUUIItem    = 256  // spec: a User-to-User value, encoding included
	maxUUI        = 1024 // all User-to-User values joined
	maxClaim      = 256  // verstat, attest, origid
)

// compact maps the compact header forms this package reads to their long
// names, lower-cased (RFC 3261 §7.3.3 for f, RFC 8224 for y).
var compact = map[string]string{
	"f": "from",
	"y": "identity",
}

// canonical returns a header name lower-cased with its compact form
// expanded, and false for a name that is not a SIP token.
func canonical(name string) (string, bool) {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > maxXName {
		return "", false
	}
	for i := range len(name) {
		if !isToken(name[i]) {
			return "", false
		}
	}
	name = strings.ToLower(name)
	if long, ok := compact[name]; ok {
		return long, true
	}
	return name, true
}

// isToken reports whether c may appear in a SIP token (RFC 3261 §25.1).
func isToken(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("-.!%*_+`'~", c) >= 0
}

// hasControl reports whether s holds a control character (CR, LF, NUL…),
// which no header value we report or write may carry.
func hasControl(s string) bool {
	for i := range len(s) {
		if c := s[i]; c < 0x20 && c != '\t' || c == 0x7f {
			return true
		}
	}
	return false
}

// splitList splits a header value at the commas that separate its elements,
// not those inside quotes or angle brackets. Elements are trimmed; empty
// ones are dropped.
func splitList(v string) []string {
	var out []string
	var quoted, angle bool
	start := 0
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case quoted && c == '\\':
			i++
		case c == '"':
			quoted = !quoted
		case quoted:
		case c == '<':
			angle = true
		case c == '>':
			angle = false
		case c == ',' && !angle:
			if e := strings.TrimSpace(v[start:i]); e != "" {
				out = append(out, e)
			}
			start = i + 1
		}
	}
	if e := strings.TrimSpace(v[start:]); e != "" {
		out = append(out, e)
	}
	return out
}

// nameAddr splits one element of a name-addr header (From, Diversion,
// P-Asserted-Identity) into its URI and the header parameters after it. An
// element without <> is read as addr-spec: the URI ends at the first ';'.
func nameAddr(e string) (uri, params string) {
	// Skip a quoted display name, which may hold '<' or ';'.
	i := 0
	if strings.HasPrefix(e, `"`) {
		for i = 1; i < len(e); i++ {
			if e[i] == '\\' {
				i++
			} else if e[i] == '"' {
				i++
				break
			}
		}
	}
	if i > len(e) {
		i = len(e)
	}
	rest := e[i:]
	if lt := strings.IndexByte(rest, '<'); lt >= 0 {
		gt := strings.IndexByte(rest[lt:], '>')
		if gt < 0 {
			return strings.TrimSpace(rest[lt+1:]), ""
		}
		return strings.TrimSpace(rest[lt+1 : lt+gt]), rest[lt+gt+1:]
	}
	uri, params, _ = strings.Cut(strings.TrimSpace(rest), ";")
	if params != "" {
		params = ";" + params
	}
	return strings.TrimSpace(uri), params
}

// param is one ;name=value pair; value is "" for a bare name.
type param struct{ name, value string }

// parseParams reads ";a=1;b;c="x y"" into pairs, names lower-cased and
// quoted values unquoted, stopping after limit pairs.
func parseParams(s string, limit int) []param {
	var out []param
	for len(s) > 0 && len(out) < limit {
		s = strings.TrimLeft(s, " \t;")
		if s == "" {
			break
		}
		// The pair ends at the next ';' outside quotes.
		end, quoted := len(s), false
		for i := 0; i < len(s); i++ {
			if c := s[i]; quoted && c == '\\' {
				i++
			} else if c == '"' {
				quoted = !quoted
			} else if c == ';' && !quoted {
				end = i
				break
			}
		}
		pair := s[:end]
		s = s[end:]
		name, value, _ := strings.Cut(pair, "=")
		name = strings.ToLower(strings.TrimSpace(name))
		value = strings.TrimSpace(value)
		if len(value) >= 2 && value[0] == '"' && value[len(value)-1] == '"' {
			value = strings.ReplaceAll(value[1:len(value)-1], `\"`, `"`)
		}
		out = append(out, param{name, value})
	}
	return out
}

// userPart returns the user of a sip:, sips: or tel: URI: for sip(s), what
// comes before '@' and before any ';' in it; for tel, the number before its
// parameters. It returns "" for a URI with no user.
func userPart(uri string) string {
	scheme, rest, ok := strings.Cut(uri, ":")
	if !ok {
		return ""
	}
	var user string
	switch strings.ToLower(strings.TrimSpace(scheme)) {
	case "sip", "sips":
		at := strings.LastIndexByte(rest, '@')
		if at < 0 {
			return ""
		}
		user = rest[:at]
		user, _, _ = strings.Cut(user, ":") // user:password
	case "tel":
		user = rest
	default:
		return ""
	}
	user, _, _ = strings.Cut(user, ";")
	return unescape(strings.TrimSpace(user))
}

// unescape decodes %XX escapes, leaving a malformed one as it is.
func unescape(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			b.WriteByte(unhex(s[i+1])<<4 | unhex(s[i+2]))
			i += 2
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c >= 'a':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}
