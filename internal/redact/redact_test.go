package redact

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

func TestURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"http://user:secret@host/answer", "http://user:*****@host/answer"},
		{"https://user:secret@host:8443/a?b=c#d", "https://user:*****@host:8443/a?b=c#d"},
		{"http://user:p@ss@host/x", "http://user:*****@host/x"},  // net/url splits at the last @
		{"http://user:a:b@host", "http://user:*****@host"},       // the password holds the other colons
		{"http://user:pa ss@host/x", "http://user:*****@host/x"}, // invalid, still hidden
		{"http://user:%41%42@host/x?u=a:b@c", "http://user:*****@host/x?u=a:b@c"},
		{"//user:secret@host/x", "//user:*****@host/x"},
		{"http://user:@host/x", "http://user:*****@host/x"},
		{"http://user@host/x", "http://user@host/x"},     // no password
		{"http://host:8080/x@y", "http://host:8080/x@y"}, // @ after the authority
		{"http://host:8080?a=b@c", "http://host:8080?a=b@c"},
		{"/relative/path", "/relative/path"},
		{"", ""},
		{"http://user:*****@host/x", "http://user:*****@host/x"},
		{" http://user:secret@host/x", " http://user:*****@host/x"}, // not a URL at its start: as text
	}
	for _, tt := range tests {
		if got := URL(tt.in); got != tt.want {
			t.Errorf("URL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestURLAgreesWithNetURL: for URLs net/url accepts, the password URL
// hides is the one net/url reads.
func TestURLAgreesWithNetURL(t *testing.T) {
	for _, s := range []string{
		"http://u:pw@h/x", "http://u:p@w@h/x", "https://u:p;w=1&x@h:1/x?q#f", "http://u:p%2Fw@h",
		"http://u:p!$'()*+,w@h/", "ws://u:p@h/", "http://u:@h",
	} {
		u, err := url.Parse(s)
		if err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		got := URL(s)
		m, err := url.Parse(got)
		if err != nil {
			t.Fatalf("URL(%q) = %q: %v", s, got, err)
		}
		if pw, _ := m.User.Password(); pw != Mask || m.User.Username() != u.User.Username() {
			t.Errorf("URL(%q) = %q: user %q, password %q", s, got, m.User.Username(), pw)
		}
		if m.Host != u.Host || m.RequestURI() != u.RequestURI() || m.Fragment != u.Fragment {
			t.Errorf("URL(%q) = %q: more than the password changed", s, got)
		}
	}
}

func TestText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"answer → POST http://user:secret@host/answer", "answer → POST http://user:*****@host/answer"},
		{"two: http://a:s1@h/x and https://b:s2@k/y.", "two: http://a:*****@h/x and https://b:*****@k/y."},
		{`<Redirect redirectUrl="http://u:s3@h/next" username="x@y"/>`, `<Redirect redirectUrl="http://u:*****@h/next" username="x@y"/>`},
		{`<Redirect redirectUrl='http://u:s3@h/next'/>`, `<Redirect redirectUrl='http://u:*****@h/next'/>`},
		{`URL "http://u:pa ss@h/x" contains a space`, `URL "http://u:*****@h/x" contains a space`},
		{`Post "http://u:***@h/x": connection refused`, `Post "http://u:*****@h/x": connection refused`},
		{"http://host:8080 failed, mail admin@example.com", "http://host:8080 failed, mail admin@example.com"},
		{`{"url":"http://h:80","x":"a@b"}`, `{"url":"http://h:80","x":"a@b"}`},
		{"no url at all: a@b", "no url at all: a@b"},
		{"http://u@h/x", "http://u@h/x"},
	}
	for _, tt := range tests {
		if got := Text(tt.in); got != tt.want {
			t.Errorf("Text(%q)\n = %q\nwant %q", tt.in, got, tt.want)
		}
	}
}

// TestTextInJSONAndXML: a password written by encoding/xml and then
// encoding/json, escapes and all, is hidden, and the JSON stays valid.
// (Some of these passwords make invalid URLs, which error messages echo.)
func TestTextInJSONAndXML(t *testing.T) {
	for _, pw := range []string{"S3cr3t", "p&q", "p<q>", `p"q`, "p'q", `p\q`, "p@q", "p q", "p%2Fq"} {
		raw := "http://user:" + pw + "@127.0.0.1:1/next"
		var x bytes.Buffer
		xml.EscapeText(&x, []byte(raw))
		doc := `<Response><Redirect redirectUrl="` + x.String() + `"/></Response>`
		js, err := json.Marshal(map[string]string{"bxml": doc, "url": raw})
		if err != nil {
			t.Fatal(err)
		}
		out := Bytes(js)
		if !json.Valid(out) {
			t.Fatalf("password %q: not JSON any more: %s", pw, out)
		}
		var back map[string]string
		if err := json.Unmarshal(out, &back); err != nil {
			t.Fatal(err)
		}
		for k, v := range back {
			if strings.Contains(v, "user:"+pw) || strings.Contains(v, "user:"+xmlEscaped(pw)) {
				t.Errorf("password %q: %s = %s", pw, k, v)
			}
			if !strings.Contains(v, "user:"+Mask+"@127.0.0.1:1/next") {
				t.Errorf("password %q: %s = %s, want the masked URL", pw, k, v)
			}
		}
	}
}

func xmlEscaped(s string) string {
	var b bytes.Buffer
	xml.EscapeText(&b, []byte(s))
	return b.String()
}

func TestBytesUnchanged(t *testing.T) {
	b := []byte(`{"url":"http://h/x"}`)
	if out := Bytes(b); &out[0] != &b[0] {
		t.Error("Bytes copied a slice with nothing to hide")
	}
}

type credentials struct{ URL string }

type nilErr struct{ msg string }

func (e *nilErr) Error() string { return e.msg }

func TestHandler(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(NewHandler(slog.NewTextHandler(&buf, nil)))
	log = log.With("app", "http://a:w1th@h/x").WithGroup("g")
	log.Info("sent to http://u:m5g@h/answer",
		"url", "http://u:str1ng@h/answer",
		"err", fmt.Errorf("post %q: refused", "http://u:3rr@h/x"),
		"target", credentials{"http://u:4ny@h/x"},
		slog.Group("in", "url", "http://u:gr0up@h/x"),
		"ok", errors.New("nothing to hide"),
		"nil", (*nilErr)(nil))
	out := buf.String()
	for _, secret := range []string{"w1th", "m5g", "str1ng", "3rr", "4ny", "gr0up"} {
		if strings.Contains(out, secret) {
			t.Errorf("log holds %q:\n%s", secret, out)
		}
	}
	if n := strings.Count(out, "u:"+Mask+"@"); n != 5 {
		t.Errorf("%d masked URLs, want 5:\n%s", n, out)
	}
	if !strings.Contains(out, "nothing to hide") {
		t.Errorf("an error without a URL was lost:\n%s", out)
	}
	if NewHandler(NewHandler(slog.DiscardHandler)) == nil {
		t.Error("NewHandler of a redacting handler is nil")
	}
}

func BenchmarkTextNothingToHide(b *testing.B) {
	s := `answer → POST http://127.0.0.1:3000/answer`
	for b.Loop() {
		Text(s)
	}
}

func BenchmarkTextJSON(b *testing.B) {
	s := strings.Repeat(`{"url":"http://127.0.0.1:3000/answer","reply":"<Response><SpeakSentence>hi</SpeakSentence></Response>"},`, 20) + `"a@b"`
	for b.Loop() {
		Text(s)
	}
}

// textModel is what Text does, said as a regular expression: a "scheme://"
// at a word's start (or after a double quote, then spaces and '<', '>'
// may follow), a user without ":" or "@", a ":", a password, the last "@".
var textModel = regexp.MustCompile(strings.NewReplacer("ESC", `\\.|#[0-9]{1,7};|#[xX][0-9A-Fa-f]{1,6};`).Replace(
	`("[A-Za-z][A-Za-z0-9+.\-]*://(?:[^"/?#@:\\]|ESC)*:)((?:[^"/?#\\]|ESC)*)@` +
		`|` +
		`(\b[A-Za-z][A-Za-z0-9+.\-]*://(?:[^\s"<>/?#@:\\]|ESC)*:)((?:[^\s"<>/?#\\]|ESC)*)@`))

func textByModel(s string) string {
	return textModel.ReplaceAllStringFunc(s, func(m string) string {
		i := strings.Index(m, "://") + 3
		colon := i + strings.IndexByte(m[i:], ':')
		if m[colon+1:len(m)-1] == Mask {
			return m
		}
		return m[:colon+1] + Mask + "@"
	})
}

// FuzzText: Text does what its model says, redacting is idempotent, and
// valid JSON stays valid JSON.
func FuzzText(f *testing.F) {
	f.Add(`{"bxml":"<Redirect redirectUrl=\"http://u:p\u0026#39;q@h/x\"/>"}`)
	f.Add(`answer → POST http://user:secret@host/answer`)
	f.Add(`{"url":"http://u:p\"q@h","x":"a@b"}`)
	f.Add(`"http://u:pa ss@h/x"`)
	f.Add(`"http://u:p q@h" 1http://u:p@h a+b://u:p@h x_http://u:p@h #39; http://u:p#x27;q@h http://u:p\`)
	f.Fuzz(func(t *testing.T, s string) {
		once := Text(s)
		if want := textByModel(s); once != want {
			t.Errorf("Text(%q)\n = %q\nwant %q", s, once, want)
		}
		if twice := Text(once); twice != once {
			t.Errorf("Text(Text(%q)) = %q, want %q", s, twice, once)
		}
		if json.Valid([]byte(s)) && !json.Valid([]byte(once)) {
			t.Errorf("Text(%q) = %q: not JSON any more", s, once)
		}
	})
}

// BenchmarkTextWorst: many URL starts and no end in sight stay linear.
func BenchmarkTextWorst(b *testing.B) {
	s := strings.Repeat("http://u:p\\:x#39;", 4000) + "@"
	for b.Loop() {
		Text(s)
	}
}

// TestBytesNothingToHideAllocates: a history detail with nothing to hide
// costs no copy.
func TestBytesNothingToHideAllocates(t *testing.T) {
	detail := []byte(`{"url":"http://127.0.0.1:3000/answer","reply":"` + strings.Repeat("<SpeakSentence>hi</SpeakSentence>", 64) + `"}`)
	if len(detail) < 2048 {
		t.Fatalf("detail is %d bytes, want 2 KB", len(detail))
	}
	if n := testing.AllocsPerRun(100, func() { Bytes(detail) }); n != 0 {
		t.Errorf("Bytes of a %d-byte detail with no password: %v allocations, want 0", len(detail), n)
	}
}
