package siphdr

import (
	"strings"
)

// Outbound is what createCall asks of our INVITE.
type Outbound struct {
	// From is the calling number, E.164 ("+15551230001"); a sip:, sips:
	// or tel: URI is used as it is.
	From string
	// DisplayName is the From display name; "" for none.
	DisplayName string
	// Privacy hides the calling number (createCall privacy=true).
	Privacy bool
	// UUI is createCall's uui: comma-separated User-to-User values, each
	// with its ;encoding= parameter (internal/api checks that).
	UUI string
	// Host is the host of the sip: URIs made here; "" gives "localhost".
	Host string
}

// anonymousFrom is the From of a call with privacy (RFC 3323 §4.1.1.3).
const anonymousFrom = `"Anonymous" <sip:anonymous@anonymous.invalid>`

// OutboundFields returns the From value of our INVITE and the extra headers
// it carries.
//
// Without Privacy, From is `"Display" <sip:+15551230001@host>` (no display
// name part when DisplayName is ""). With Privacy, From is
// `"Anonymous" <sip:anonymous@anonymous.invalid>`, and the extra headers are
// Privacy: id (RFC 3323) and P-Asserted-Identity (RFC 3325) with the real
// number and display name, for the trusted trunk to use and strip.
//
// Each comma-separated UUI item becomes one User-to-User header (RFC 7433),
// as given: createCall requires each item to carry ;encoding=, and an item
// without it means hex by RFC 7433's default, so nothing is added.
//
// Control characters are removed from every value, so no input can start a
// header line of its own.
func OutboundFields(o Outbound) (from string, extra []Field) {
	host := stripControl(strings.TrimSpace(o.Host))
	if host == "" {
		host = "localhost"
	}
	asserted := nameAddrOf(stripControl(o.DisplayName), uriOf(stripControl(strings.TrimSpace(o.From)), host))
	from = asserted
	if o.Privacy {
		from = anonymousFrom
		extra = append(extra,
			Field{Name: "Privacy", Value: "id"},
			Field{Name: "P-Asserted-Identity", Value: asserted},
		)
	}
	for item := range strings.SplitSeq(stripControl(o.UUI), ",") {
		if item = strings.TrimSpace(item); item != "" {
			extra = append(extra, Field{Name: "User-to-User", Value: item})
		}
	}
	return from, extra
}

// uriOf makes the sip: URI of a number; a URI is returned as it is.
func uriOf(number, host string) string {
	lower := strings.ToLower(number)
	for _, scheme := range []string{"sip:", "sips:", "tel:"} {
		if strings.HasPrefix(lower, scheme) {
			return number
		}
	}
	return "sip:" + escapeUser(number) + "@" + host
}

// nameAddrOf writes `"display" <uri>`, or `<uri>` with no display name.
func nameAddrOf(display, uri string) string {
	if display == "" {
		return "<" + uri + ">"
	}
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`)
	return `"` + r.Replace(display) + `" <` + uri + ">"
}

// escapeUser percent-escapes what may not appear in the user part of a sip
// URI (RFC 3261 §25.1: unreserved and user-unreserved characters stay).
func escapeUser(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := range len(s) {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			strings.IndexByte("-_.!~*'()&=+$,;?/", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

// stripControl removes control characters.
func stripControl(s string) string {
	if !hasControl(s) {
		return s
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 && r != '\t' || r == 0x7f {
			return -1
		}
		return r
	}, s)
}
