// Package redact hides the passwords written in URLs' user info
// ("http://user:secret@host/answer") wherever voicehook shows a URL to
// people: logs, call history, the console, /sim/v1, REST bodies and error
// messages. The password becomes [Mask] ("http://user:*****@host/answer");
// the user name and the rest of the URL stay as they were, so a reader still
// sees where a request went and as whom. The request itself keeps using the
// real URL: redaction is for what is shown, never for what is sent.
//
// [URL] redacts one URL, valid or not; [Text] redacts every URL inside free
// text, XML or JSON; [NewHandler] wraps a slog.Handler so every record it
// passes on is redacted. All of them are pure and safe for concurrent use.
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
// password is everything in it after the first ":". A URL without a
// password is returned as it is; a string that does not start as a URL is
// redacted as [Text].
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
		return s
	}
	colon := strings.IndexByte(s[start:start+at], ':')
	if colon < 0 || s[start+colon+1:start+at] == Mask {
		return s
	}
	return s[:start+colon+1] + Mask + s[start+at:]
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
// It suits log lines, error messages, XML and JSON text alike; a JSON
// document stays valid JSON.
//
// A URL here is "scheme://user:password@…". The password runs to the last
// "@" before a character that ends a URL's authority ("/", "?", "#"), a
// space, or a character a URL cannot hold and that quotes it in text ('"',
// '<', '>'). Escapes count as the character they stand for, so a password
// written by encoding/xml and then encoding/json ("p&#39;q", "p\u0026#39;q",
// "p\"q") is covered: a backslash and the byte after it, and "#" with a
// character reference's digits and ";". After a double quote, as Go's %q
// writes a URL in an error, spaces and '<', '>' belong to the URL up to the
// closing quote. Text runs in time linear in len(s).
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
		quoted := start > 0 && s[start-1] == '"'
		colon, at := userInfo(s, j+3, quoted)
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

// userInfo reads "user:password@" from s[p:]: the index of the ":" and of
// the last "@", or -1, -1.
func userInfo(s string, p int, quoted bool) (colon, at int) {
	colon, at = -1, -1
	for p < len(s) {
		c := s[p]
		if n := escape(s, p); n > 0 {
			p += n
			continue
		}
		if endsUserInfo(c, quoted) {
			break
		}
		switch {
		case colon < 0 && c == '@':
			return -1, -1
		case colon < 0 && c == ':':
			colon = p
		case colon >= 0 && c == '@':
			at = p
		}
		p++
	}
	if colon < 0 || at < 0 {
		return -1, -1
	}
	return colon, at
}

// escape is the length of the escape at s[p] (`\x`, "#39;", "#x27;"),
// or 0.
func escape(s string, p int) int {
	switch s[p] {
	case '\\':
		if p+1 < len(s) {
			return 2
		}
	case '#':
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
	}
	return 0
}

func endsUserInfo(c byte, quoted bool) bool {
	switch c {
	case '"', '/', '?', '#', '\\':
		return true
	case ' ', '\t', '\n', '\f', '\r', '<', '>':
		return !quoted
	}
	return false
}

func isLetter(c byte) bool     { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
func isDigit(c byte) bool      { return '0' <= c && c <= '9' }
func isHex(c byte) bool        { return isDigit(c) || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }
func isWordChar(c byte) bool   { return isLetter(c) || isDigit(c) || c == '_' }
func isSchemeChar(c byte) bool { return isLetter(c) || isDigit(c) || c == '+' || c == '-' || c == '.' }

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
