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
	"context"
	"fmt"
	"log/slog"
	"regexp"
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
	if !ok || p == "" {
		return false
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case i > 0 && ('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.'):
		default:
			return false
		}
	}
	return true
}

// inText finds "scheme://user:password@" in free text. The password runs
// to the last "@" before a character that ends a URL's authority ("/", "?",
// "#"), a space, or a character a URL cannot hold and that quotes it in
// text ('"', '<', '>'). Escapes count as the character they stand for, so a
// password written by encoding/xml and then encoding/json ("p&#39;q",
// "p\u0026#39;q", "p\"q") is covered: a backslash and the character after
// it, and "#" with a character reference's digits and ";". After a double
// quote, as Go's %q writes a URL in an error, spaces belong to the URL up
// to the closing quote.
var inText = regexp.MustCompile(strings.NewReplacer("ESC", `\\.|#[0-9]{1,7};|#[xX][0-9A-Fa-f]{1,6};`).Replace(
	`("[A-Za-z][A-Za-z0-9+.\-]*://(?:[^"/?#@:\\]|ESC)*:)((?:[^"/?#\\]|ESC)*)@` +
		`|` +
		`(\b[A-Za-z][A-Za-z0-9+.\-]*://(?:[^\s"<>/?#@:\\]|ESC)*:)((?:[^\s"<>/?#\\]|ESC)*)@`))

// Text returns s with the password of every URL in it replaced by [Mask].
// It suits log lines, error messages, XML and JSON text alike; a JSON
// document stays valid JSON.
func Text(s string) string {
	if !strings.Contains(s, "://") || !strings.Contains(s, "@") {
		return s
	}
	return inText.ReplaceAllStringFunc(s, maskMatch)
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

func containsBoth(b []byte) bool {
	return strings.Contains(string(b), "://") && strings.Contains(string(b), "@")
}

// maskMatch replaces the password of one match of inText: what lies
// between the match's first ":" after "//" and its final "@".
func maskMatch(m string) string {
	i := strings.Index(m, "://") + 3
	colon := i + strings.IndexByte(m[i:], ':')
	if m[colon+1:len(m)-1] == Mask {
		return m
	}
	return m[:colon+1] + Mask + "@"
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
		var s string
		switch x := v.Any().(type) {
		case error:
			s = x.Error()
		case interface{ String() string }:
			s = x.String()
		default:
			s = fmt.Sprint(x)
		}
		if t := Text(s); t != s {
			return slog.String(a.Key, t)
		}
	}
	return slog.Attr{Key: a.Key, Value: v}
}
