// Package redact hides the passwords written in URLs' user info
// ("http://user:secret@host/answer") wherever voicehook shows a URL to
// people: logs, call history, the console, /sim/v1, REST bodies and error
// messages. The password becomes [Mask] ("http://user:*****@host/answer");
// the user name and the rest of the URL stay as they were, so a reader still
// sees where a request went and as whom. The request itself keeps using the
// real URL: redaction is for what is shown, never for what is sent.
//
// [URL] redacts one URL, valid or not; [Text] redacts every URL inside free
// text, XML or JSON; [BXMLPasswords] hides BXML's password attributes;
// [NewHandler] wraps a slog.Handler so every record it passes on is
// redacted. All of them are pure and safe for concurrent use.
// The package imports only the standard library: the engine uses it.
package redact

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
)

// Mask replaces a password.
const Mask = "*****"

// URL returns s with the password in its user info replaced by [Mask]. s
// need not be a valid URL: its user info is what lies between "//" and the
// last "@" before the first "/", "?" or "#", as net/url reads it, and the
// password is everything in it after the first ":". A password with a raw
// "/", "?" or "#" in it, which net/url cannot read, is hidden too: when
// the authority has a ":" but no "@" and no port after the ":", the
// password runs to the first "@" before white space or a quote (and the
// authority goes on after it, to the last "@" as ever). A URL
// without a password is returned as it is; a string that does not start
// as a URL is redacted as [Text].
func URL(s string) string {
	i := strings.Index(s, "//")
	if i < 0 || i > 0 && !isScheme(s[:i]) {
		return Text(s)
	}
	start := i + 2
	end := len(s)
	if j := strings.IndexAny(s[start:], "/?#"); j >= 0 {
		end = start + j
	}
	at := strings.LastIndexByte(s[start:end], '@')
	if at < 0 {
		return passwordPastAuthority(s, start, end)
	}
	colon := strings.IndexByte(s[start:start+at], ':')
	if colon < 0 || s[start+colon+1:start+at] == Mask {
		return s
	}
	return s[:start+colon+1] + Mask + s[start+at:]
}

// passwordPastAuthority is URL(s) for a URL whose authority, s[start:end],
// has no "@": if it has a ":" that no port follows, what lies past it up to
// an "@" is a password with a "/", "?" or "#" in it.
func passwordPastAuthority(s string, start, end int) string {
	colon := strings.IndexByte(s[start:end], ':')
	if colon < 0 || s[start] == '[' || allDigits(s[start+colon+1:end]) {
		return s
	}
	for i := end; i < len(s); i++ {
		switch c := s[i]; {
		case isSpace(c) || c == '"' || c == '\'' || c == '<' || c == '>':
			return s
		case c == '@':
			// After the password, the authority goes on to its end.
			rest := len(s)
			if j := strings.IndexAny(s[i:], "/?#"); j >= 0 {
				rest = i + j
			}
			at := strings.LastIndexByte(s[:rest], '@')
			if s[start+colon+1:at] == Mask {
				return s
			}
			return s[:start+colon+1] + Mask + s[at:]
		}
	}
	return s
}

// isScheme reports whether p is "scheme:", as in "https:".
func isScheme(p string) bool {
	p, ok := strings.CutSuffix(p, ":")
	if !ok || p == "" || !isLetter(p[0]) {
		return false
	}
	for i := 1; i < len(p); i++ {
		if !isSchemeChar(p[i]) {
			return false
		}
	}
	return true
}

// Text returns s with the password of every URL in it replaced by [Mask].
// It suits log lines, error messages, XML and JSON text alike, and either
// written inside the other; a JSON document stays valid JSON.
//
// A URL here is "scheme://user:password@…", and the password runs to the
// last "@" before the end of the URL's authority. That ends at "/", "?" or
// "#" (not the "#" of a character reference such as "#39;"), and where the
// quotes around the URL say:
//
//   - A URL right after a double quote, written as it is (") or escaped
//     for JSON once or more (\", \\\"), ends at the next double quote
//     written with as many backslashes (the closing quote) or fewer (the end
//     of a string around it).
//   - A URL right after a single quote ends at the next single quote; one
//     right after a quote written as an XML reference (&quot; &#34; &#x22;
//     &apos; &#39; &#x27;, maybe with its "&" escaped for JSON as \u0026)
//     ends at the same reference. Both also end at any double quote.
//   - A URL in quotes holds spaces, '<' and '>', as in an error message
//     that quotes an invalid URL. A URL not in quotes ends at white space,
//     written as it is or escaped for JSON (\n, \r, \t), at '<' and '>',
//     and at any double quote.
//
// As [URL] does, Text also hides a password with a "/", "?" or "#" in it,
// which would end the authority: when the authority so far has a ":" but
// no "@", and no port follows the ":", the password runs on to the first
// "@" before white space, the end of the URL's quotes or the next URL
// (and the authority goes on after it, to the last "@" as ever).
//
// A backslash escapes what follows it only where JSON would ("\\", "\/",
// "\n", "\u…"); "\/" ends an authority as "/" does. So a password written
// by encoding/xml and then encoding/json (p\u0026#39;q, p\\q) is hidden
// whole, and the text after a URL without a password is left alone. Text
// runs in time linear in len(s).
func Text(s string) string {
	if !strings.Contains(s, "://") || !strings.Contains(s, "@") {
		return s
	}
	var b strings.Builder
	copied := 0 // s[:copied] is in b
	for i := 0; ; {
		j := strings.Index(s[i:], "://")
		if j < 0 {
			break
		}
		j += i
		i = j + 3
		start := schemeStart(s, j)
		if start < 0 {
			continue
		}
		colon, at := userInfo(s, j+3, openingQuote(s[:start]))
		if at < 0 {
			continue
		}
		if s[colon+1:at] != Mask {
			b.WriteString(s[copied : colon+1])
			b.WriteString(Mask)
			copied = at
		}
		i = at + 1
	}
	if copied == 0 {
		return s
	}
	b.WriteString(s[copied:])
	return b.String()
}

// schemeStart is where the scheme ending at s[j] ("://" at j) starts: the
// first letter of the scheme characters before j that starts a word; -1
// if there is none.
func schemeStart(s string, j int) int {
	k := j
	for k > 0 && isSchemeChar(s[k-1]) {
		k--
	}
	for p := k; p < j; p++ {
		if isLetter(s[p]) && (p == 0 || !isWordChar(s[p-1])) {
			return p
		}
	}
	return -1
}

// quote is the quote a URL follows.
type quote struct {
	// form is the quote as written: `"`, `\"`, "'", "&#34;", `\u0026quot;`…;
	// "" when the URL is not in quotes.
	form string
	// level is the number of backslashes before a double quote, -1 for
	// other quotes and none.
	level int
}

// xmlQuotes are the XML references to a quote, without their "&".
var xmlQuotes = [...]string{"quot;", "#34;", "#x22;", "#X22;", "apos;", "#39;", "#x27;", "#X27;"}

// openingQuote is the quote at the end of s, the text before a URL.
func openingQuote(s string) quote {
	n := len(s)
	if n == 0 {
		return quote{level: -1}
	}
	switch s[n-1] {
	case '"':
		k := 0
		for k < n-1 && s[n-2-k] == '\\' {
			k++
		}
		return quote{form: s[n-1-k:], level: k}
	case '\'':
		return quote{form: "'", level: -1}
	case ';':
		for _, r := range xmlQuotes {
			for _, amp := range [...]string{"&", `\u0026`} {
				if strings.HasSuffix(s, amp+r) {
					return quote{form: amp + r, level: -1}
				}
			}
		}
	}
	return quote{level: -1}
}

// userInfo reads "user:password@" from s[p:], a URL after the quote q: the
// index of the ":" and of the "@", or -1, -1.
func userInfo(s string, p int, q quote) (colon, at int) {
	colon, at = -1, -1
	authority := p
	end := len(s)
	if k := strings.Index(s[p:], "://"); k >= 0 {
		end = p + k // no scan goes into the next URL: Text stays linear
	}
	if q.level < 0 && q.form != "" {
		if k := strings.Index(s[p:end], q.form); k >= 0 {
			end = p + k // the closing quote
		}
	}
	unquoted := q.form == ""
	past := false // past a "/", "?" or "#" that is in the password
	// inPassword reports whether the "/", "?" or "#" at i, which would end
	// the authority, is in the password instead: the authority has a ":"
	// and no "@", and what follows the ":" is no port, so it is no
	// host:port (nor an IPv6 address, in brackets) but a user and the start
	// of a password. The password then runs to the first "@" before white
	// space or the URL's closing quote, and the authority goes on after it.
	inPassword := func(i int) bool {
		return past || colon >= 0 && at < 0 && s[authority] != '[' && !allDigits(s[colon+1:i])
	}
scan:
	for p < end {
		c := s[p]
		switch {
		case c == '\\' || c == '"':
			k := 0 // backslashes
			for p+k < end && s[p+k] == '\\' {
				k++
			}
			switch next := byteAt(s[:end], p+k); {
			case next == '"':
				if q.level < 0 || k <= q.level {
					break scan // the closing quote, or one around it
				}
				p += k + 1 // a quote inside the quoted text
			case k%2 == 1 && isJSONEscape(next):
				switch {
				case next == '/':
					if !inPassword(p) {
						break scan
					}
					past = true
				case (unquoted || past) && (next == 'n' || next == 'r' || next == 't'):
					break scan
				}
				p += k + 1
			default:
				p += k // backslashes as they are
			}
			continue
		case c == '#':
			if n := charRef(s[:end], p); n > 0 {
				p += n
				continue
			}
			if !inPassword(p) {
				break scan
			}
			past = true
		case c == '/' || c == '?':
			if !inPassword(p) {
				break scan
			}
			past = true
		case (unquoted || past) && (isSpace(c) || c == '<' || c == '>'):
			break scan
		case colon < 0 && c == '@':
			return -1, -1
		case colon < 0 && c == ':':
			colon = p
		case colon >= 0 && c == '@':
			at, past = p, false // after the password, the authority goes on
		}
		p++
	}
	if colon < 0 || at < 0 {
		return -1, -1
	}
	return colon, at
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

// byteAt is s[i], or 0 past its end.
func byteAt(s string, i int) byte {
	if i < len(s) {
		return s[i]
	}
	return 0
}

// isJSONEscape reports whether a backslash before c is a JSON escape, c
// being neither a quote nor a backslash.
func isJSONEscape(c byte) bool { return strings.IndexByte("/bfnrtu", c) >= 0 }

// charRef is the length of the character reference's tail at s[p]
// ("#39;", "#x27;"), or 0.
func charRef(s string, p int) int {
	q, max, digit := p+1, 7, isDigit
	if q < len(s) && (s[q] == 'x' || s[q] == 'X') {
		q, max, digit = q+1, 6, isHex
	}
	n := 0
	for q+n < len(s) && n < max && digit(s[q+n]) {
		n++
	}
	if n > 0 && q+n < len(s) && s[q+n] == ';' {
		return q + n + 1 - p
	}
	return 0
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r' }

func isLetter(c byte) bool     { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
func isDigit(c byte) bool      { return '0' <= c && c <= '9' }
func isHex(c byte) bool        { return isDigit(c) || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }
func isWordChar(c byte) bool   { return isLetter(c) || isDigit(c) || c == '_' }
func isSchemeChar(c byte) bool { return isLetter(c) || isDigit(c) || c == '+' || c == '-' || c == '.' }

// BXMLPasswords returns the BXML text s with the value of every password
// attribute (password, fallbackPassword, destinationPassword: the names
// as BXML spells them) replaced by [Mask], in either quote style. An empty
// value stays empty. s need not be well-formed: a value without its
// closing quote is masked to the end of s, as when a reply was cut short.
// It is for BXML kept to be shown, such as an app's reply in the call
// history; URLs' passwords in it are [Text]'s.
func BXMLPasswords(s string) string {
	var b strings.Builder
	copied := 0 // s[:copied] is in b
	for i := 0; ; {
		k := strings.Index(s[i:], "assword")
		if k < 0 {
			break
		}
		k += i
		i = k + len("assword")
		if !isPasswordAttr(s, k) {
			continue
		}
		p := i
		for p < len(s) && isSpace(s[p]) {
			p++
		}
		if p == len(s) || s[p] != '=' {
			continue
		}
		p++
		for p < len(s) && isSpace(s[p]) {
			p++
		}
		if p == len(s) || s[p] != '"' && s[p] != '\'' {
			continue
		}
		start, end := p+1, len(s)
		if e := strings.IndexByte(s[p+1:], s[p]); e >= 0 {
			end = start + e
		}
		if end > start && s[start:end] != Mask {
			b.WriteString(s[copied:start])
			b.WriteString(Mask)
			copied = end
		}
		i = end
	}
	if copied == 0 {
		return s
	}
	b.WriteString(s[copied:])
	return b.String()
}

// isPasswordAttr reports whether the "assword" at s[k] ends the name of
// a BXML password attribute, white space before it.
func isPasswordAttr(s string, k int) bool {
	name := -1
	switch {
	case k > 0 && s[k-1] == 'p':
		name = k - 1
	case strings.HasSuffix(s[:k], "fallbackP"):
		name = k - len("fallbackP")
	case strings.HasSuffix(s[:k], "destinationP"):
		name = k - len("destinationP")
	}
	return name > 0 && isSpace(s[name-1])
}

// Bytes is [Text] for a byte slice; it returns b itself when nothing
// changed.
func Bytes(b []byte) []byte {
	if !containsBoth(b) {
		return b
	}
	s := string(b)
	if t := Text(s); t != s {
		return []byte(t)
	}
	return b
}

// containsBoth is Text's first test, without copying b.
func containsBoth(b []byte) bool {
	return bytes.Contains(b, []byte("://")) && bytes.IndexByte(b, '@') >= 0
}

// NewHandler returns a slog.Handler that passes every record on to h with
// the message and every string, error and Stringer attribute redacted by
// [Text]. A server wraps its logger's handler in it once, so no log line
// carries a password whatever package wrote it.
func NewHandler(h slog.Handler) slog.Handler {
	if _, ok := h.(*handler); ok {
		return h
	}
	return &handler{next: h}
}

type handler struct{ next slog.Handler }

func (h *handler) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

func (h *handler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, Text(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(attr(a))
		return true
	})
	return h.next.Handle(ctx, out)
}

func (h *handler) WithAttrs(as []slog.Attr) slog.Handler {
	clean := make([]slog.Attr, len(as))
	for i, a := range as {
		clean[i] = attr(a)
	}
	return &handler{next: h.next.WithAttrs(clean)}
}

func (h *handler) WithGroup(name string) slog.Handler {
	return &handler{next: h.next.WithGroup(name)}
}

// attr redacts one attribute, groups included.
func attr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		if s := v.String(); Text(s) != s {
			return slog.String(a.Key, Text(s))
		}
	case slog.KindGroup:
		g := v.Group()
		clean := make([]slog.Attr, len(g))
		for i, ga := range g {
			clean[i] = attr(ga)
		}
		return slog.Attr{Key: a.Key, Value: slog.GroupValue(clean...)}
	case slog.KindAny:
		if s, ok := text(v.Any()); ok {
			if t := Text(s); t != s {
				return slog.String(a.Key, t)
			}
		}
	}
	return slog.Attr{Key: a.Key, Value: v}
}

// text is how a handler would print x; ok is false if that panics (a nil
// pointer's Error method), which is then the handler's to report.
func text(x any) (s string, ok bool) {
	defer func() {
		if recover() != nil {
			s, ok = "", false
		}
	}()
	switch x := x.(type) {
	case error:
		return x.Error(), true
	case fmt.Stringer:
		return x.String(), true
	}
	return fmt.Sprint(x), true
}
