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

	"github.com/voicehook/voicehook/bxml"
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
		// A password with a "/", "?" or "#", which net/url cannot read.
		{"http://u:pa/ss@h/x", "http://u:*****@h/x"},
		{"http://u:pa?ss@h/x?q=a@b", "http://u:*****@h/x?q=a@b"},
		{"http://u:pa#ss@h", "http://u:*****@h"},
		{"http://u:p/a@b@h/x@y", "http://u:*****@h/x@y"}, // the authority goes on to its last "@"
		{"http://u:1/2@h", "http://u:1/2@h"},             // read as the port 1: as net/url does
		{"http://h:/x@y", "http://h:/x@y"},
		{"http://[::1]:80/x@y", "http://[::1]:80/x@y"},
		{"http://[fe80::1%25en0]/x@y", "http://[fe80::1%25en0]/x@y"}, // text only, never dialled
		{"http://h:abc/x y@z", "http://h:abc/x y@z"},
	}
	for _, tt := range tests {
		if got := URL(tt.in); got != tt.want {
			t.Errorf("URL(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if got := URL(tt.want); got != tt.want {
			t.Errorf("URL(%q) = %q, want it unchanged", tt.want, got)
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
		{`http://u:p\@h/x`, `http://u:*****@h/x`}, // a backslash escapes no "@"
		// A URL's quote ends it, however it is written: BXML in JSON (a
		// verb's history detail, a reply), JSON in JSON, JSON in XML.
		{`{"bxml":"<Redirect redirectUrl=\"http://app.example:3000\" username=\"ops@example.com\" password=\"x\"/>"}`,
			`{"bxml":"<Redirect redirectUrl=\"http://app.example:3000\" username=\"ops@example.com\" password=\"x\"/>"}`},
		{`{"bxml":"<Redirect redirectUrl=\"http://u:pw@host\" tag=\"a@b\"/>"}`,
			`{"bxml":"<Redirect redirectUrl=\"http://u:*****@host\" tag=\"a@b\"/>"}`},
		{`<Redirect redirectUrl='http://h:80' username='a@b'/>`, `<Redirect redirectUrl='http://h:80' username='a@b'/>`},
		{`{\"a\":\"http://h:80\",\"b\":\"x@y\"}`, `{\"a\":\"http://h:80\",\"b\":\"x@y\"}`},
		{`{\"a\":\"http://u:pw@h:80\",\"b\":\"x@y\"}`, `{\"a\":\"http://u:*****@h:80\",\"b\":\"x@y\"}`},
		{`{\\\"a\\\":\\\"http://h:80\\\",\\\"b\\\":\\\"x@y\\\"}`, `{\\\"a\\\":\\\"http://h:80\\\",\\\"b\\\":\\\"x@y\\\"}`},
		{`{\\\"a\\\":\\\"http://u:pw@h\\\",\\\"b\\\":\\\"x@y\\\"}`, `{\\\"a\\\":\\\"http://u:*****@h\\\",\\\"b\\\":\\\"x@y\\\"}`},
		{`{"s":"{\"a\":\"http://h:80\"}","b":"x@y"}`, `{"s":"{\"a\":\"http://h:80\"}","b":"x@y"}`}, // the outer string ends too
		{`\"http://u:p\\\"q@h\"`, `\"http://u:*****@h\"`},                                          // a quote inside the quotes
		{`{&#34;a&#34;:&#34;http://h:80&#34;,&#34;b&#34;:&#34;x@y&#34;}`, `{&#34;a&#34;:&#34;http://h:80&#34;,&#34;b&#34;:&#34;x@y&#34;}`},
		{`{&quot;a&quot;:&quot;http://h:80&quot;,&quot;b&quot;:&quot;x@y&quot;}`, `{&quot;a&quot;:&quot;http://h:80&quot;,&quot;b&quot;:&quot;x@y&quot;}`},
		{`{&quot;a&quot;:&quot;http://u:p&amp;w@h&quot;,&quot;b&quot;:&quot;x@y&quot;}`, `{&quot;a&quot;:&quot;http://u:*****@h&quot;,&quot;b&quot;:&quot;x@y&quot;}`},
		{`{\u0026#34;a\u0026#34;:\u0026#34;http://h:80\u0026#34;,\u0026#34;b\u0026#34;:\u0026#34;x@y\u0026#34;}`,
			`{\u0026#34;a\u0026#34;:\u0026#34;http://h:80\u0026#34;,\u0026#34;b\u0026#34;:\u0026#34;x@y\u0026#34;}`},
		{`<x a=&#39;http://h:80&#39; b=&#39;x@y&#39;/>`, `<x a=&#39;http://h:80&#39; b=&#39;x@y&#39;/>`},
		{`{"msg":"see http://h:80\nops@example.com"}`, `{"msg":"see http://h:80\nops@example.com"}`}, // JSON's \n is white space
		{`{"u":"http://h:80\/x@y"}`, `{"u":"http://h:80\/x@y"}`},
		// A password with a "/", "?" or "#", as an error quotes it.
		{`parse "http://u:pa/ss@h/x": invalid port ":pa" after host`, `parse "http://u:*****@h/x": invalid port ":pa" after host`},
		{`{"url":"http://u:p?w@h","b":"x@y"}`, `{"url":"http://u:*****@h","b":"x@y"}`},
		{`POST http://u:p\/w#1@h/x`, `POST http://u:*****@h/x`},
		{`"http://host:port/x" is not a URL; x@y`, `"http://host:port/x" is not a URL; x@y`},
		{`see http://h:8080/a@b http://h:x/y http://a:b@c`, `see http://h:8080/a@b http://h:x/y http://a:*****@c`},
		{`"http://[::1]:80/x@y"`, `"http://[::1]:80/x@y"`},
	}
	for _, tt := range tests {
		if got := Text(tt.in); got != tt.want {
			t.Errorf("Text(%q)\n = %q\nwant %q", tt.in, got, tt.want)
		}
	}
}

// TestTextVerbDetail: a verb's history detail ({"verb", "bxml"}, the BXML
// written by bxml.MarshalVerb) loses its URLs' passwords and nothing else.
func TestTextVerbDetail(t *testing.T) {
	for _, tt := range []struct {
		v        bxml.Verb
		password string // in the detail before redaction; "" for none
	}{
		{&bxml.Redirect{RedirectURL: "http://app.example:3000", Username: "ops@example.com"}, ""},
		{&bxml.Redirect{RedirectURL: "http://u:pw@host", Tag: new("a@b")}, "pw"},
		{&bxml.Redirect{RedirectURL: "http://u:pw@host/next", RedirectFallbackURL: "http://f@b:99", FallbackUsername: "a@b"}, "pw"},
		{&bxml.SpeakSentence{Text: `{"a":"http://h:80","b":"x@y"}`}, ""},
		{&bxml.SpeakSentence{Text: `{"a":"http://u:pw@h:80","b":"x@y"}`}, "pw"},
		{&bxml.SpeakSentence{Text: "line one http://h:80\nops@example.com"}, ""},
	} {
		x, err := bxml.MarshalVerb(tt.v)
		if err != nil {
			t.Fatal(err)
		}
		detail, err := json.Marshal(map[string]string{"verb": tt.v.VerbName(), "bxml": string(x)})
		if err != nil {
			t.Fatal(err)
		}
		want := detail
		if tt.password != "" {
			want = bytes.Replace(detail, []byte("u:"+tt.password+"@"), []byte("u:"+Mask+"@"), 1)
		}
		if got := Bytes(detail); !bytes.Equal(got, want) {
			t.Errorf("Bytes(%s)\n = %s\nwant %s", detail, got, want)
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

func TestBXMLPasswords(t *testing.T) {
	tests := []struct{ in, want string }{
		{`<Redirect redirectUrl="http://h/x" username="u" password="Pw4ttr1bute"/>`,
			`<Redirect redirectUrl="http://h/x" username="u" password="*****"/>`},
		{`<PhoneNumber fallbackPassword='f"b' password = "p'w">+15551230000</PhoneNumber>`,
			`<PhoneNumber fallbackPassword='*****' password = "*****">+15551230000</PhoneNumber>`},
		{"<StartStream\n\tdestinationPassword=\"d\" destination=\"wss://h/s\"/>",
			"<StartStream\n\tdestinationPassword=\"*****\" destination=\"wss://h/s\"/>"},
		{`<Gather password="" username="u"/>`, `<Gather password="" username="u"/>`}, // nothing to hide
		{`<Redirect password="*****"/>`, `<Redirect password="*****"/>`},
		{`<Redirect password="cut sho`, `<Redirect password="*****`},
		{`<SpeakSentence>my password="1234"</SpeakSentence>`, `<SpeakSentence>my password="*****"</SpeakSentence>`}, // looks like one
		// Not password attributes.
		{`<SpeakSentence>the password is 1234</SpeakSentence>`, `<SpeakSentence>the password is 1234</SpeakSentence>`},
		{`<Redirect xpassword="a" Password="b" fallbackpassword="c" password/>`, `<Redirect xpassword="a" Password="b" fallbackpassword="c" password/>`},
		{`password="at the start"`, `password="at the start"`},
	}
	for _, tt := range tests {
		if got := BXMLPasswords(tt.in); got != tt.want {
			t.Errorf("BXMLPasswords(%q)\n = %q\nwant %q", tt.in, got, tt.want)
		}
	}
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

// The model of Text, for FuzzText: the same rules, said another way. It
// finds URLs with a regular expression, reads the quote before one with
// others, and cuts the text after it into tokens with one more: a double
// quote after its backslashes, backslashes with the byte they escape, a
// character reference's tail, or one character.
var (
	modelScheme    = regexp.MustCompile(`\b[A-Za-z][A-Za-z0-9+.\-]*://`)
	modelDouble    = regexp.MustCompile(`(?:^|[^\\])(\\*)"$`)
	modelSingle    = regexp.MustCompile(`'$`)
	modelReference = regexp.MustCompile(`(?:&|\\u0026)(?:quot|apos|#34|#39|#[xX]22|#[xX]27);$`)
	modelToken     = regexp.MustCompile(`^(?:(\\*)"|(\\+)([/bfnrtu]?)|#[0-9]{1,7};|#[xX][0-9A-Fa-f]{1,6};|[\s\S])`)
	modelSpace     = regexp.MustCompile(`^[\s<>]$`)
	modelPort      = regexp.MustCompile(`^[0-9]*$`)
)

func textByModel(s string) string {
	var b strings.Builder
	copied := 0
	for _, m := range modelScheme.FindAllStringIndex(s, -1) {
		if m[0] < copied {
			continue
		}
		level, form := -1, ""
		if q := modelDouble.FindStringSubmatch(s[:m[0]]); q != nil {
			level, form = len(q[1]), q[1]+`"`
		} else if q := modelSingle.FindString(s[:m[0]]); q != "" {
			form = q
		} else if q := modelReference.FindString(s[:m[0]]); q != "" {
			form = q
		}
		rest := s[m[1]:]
		if level < 0 && form != "" {
			if k := strings.Index(rest, form); k >= 0 {
				rest = rest[:k]
			}
		}
		colon, at, past := -1, -1, false
		// A "/", "?" or "#" after "user:" and no port is in the password.
		inPassword := func(p int) bool {
			return past || colon >= 0 && at < 0 && !strings.HasPrefix(rest, "[") && !modelPort.MatchString(rest[colon+1:p])
		}
	tokens:
		for p := 0; p < len(rest) && !strings.HasPrefix(rest[p:], "://"); {
			t := modelToken.FindStringSubmatch(rest[p:])
			tok := t[0]
			switch {
			case strings.HasSuffix(tok, `"`): // a double quote, after len(t[1]) backslashes
				if level < 0 || len(t[1]) <= level {
					break tokens
				}
			case t[2] != "" && (len(t[2])%2 == 0 || t[3] == ""): // backslashes that escape nothing
				tok = t[2]
			case t[2] != "" && t[3] == "/": // an escaped "/"
				if !inPassword(p) {
					break tokens
				}
				past = true
			case t[2] != "": // another escape
				if (form == "" || past) && strings.Contains("nrt", t[3]) {
					break tokens
				}
			case tok == "/" || tok == "?" || tok == "#":
				if !inPassword(p) {
					break tokens
				}
				past = true
			case (form == "" || past) && modelSpace.MatchString(tok):
				break tokens
			case tok == "@" && colon < 0:
				break tokens
			case tok == ":" && colon < 0:
				colon = p
			case tok == "@":
				at, past = p, false // the authority goes on, after the password
			}
			p += len(tok)
		}
		if at < 0 || rest[colon+1:at] == Mask {
			continue
		}
		b.WriteString(s[copied : m[1]+colon+1])
		b.WriteString(Mask)
		copied = m[1] + at
	}
	b.WriteString(s[copied:])
	return b.String()
}

// FuzzText: Text does what its model says, redacting is idempotent, and
// valid JSON stays valid JSON.
func FuzzText(f *testing.F) {
	f.Add(`{"bxml":"<Redirect redirectUrl=\"http://u:p\u0026#39;q@h/x\"/>"}`)
	f.Add(`answer → POST http://user:secret@host/answer`)
	f.Add(`{"url":"http://u:p\"q@h","x":"a@b"}`)
	f.Add(`"http://u:pa ss@h/x"`)
	f.Add(`"http://u:p q@h" 1http://u:p@h a+b://u:p@h x_http://u:p@h #39; http://u:p#x27;q@h http://u:p\`)
	f.Add(`{"bxml":"<Redirect redirectUrl=\"http://app.example:3000\" username=\"ops@example.com\"/>"}`)
	f.Add(`{\\\"a\\\":\\\"http://u:pw@h\\\",\\\"b\\\":\\\"x@y\\\"}`)
	f.Add(`{\u0026#34;a\u0026#34;:\u0026#34;http://h:80\u0026#34;,\u0026#34;b\u0026#34;:\u0026#34;x@y\u0026#34;}`)
	f.Add(`'http://h:80' &quot;http://u:p@h&quot; "http://h:80\nx@y" http://h:80\/x@y`)
	f.Add(`parse "http://u:pa/ss@h/x": invalid port ":pa" after host; http://u:p\/w#1@h/x http://[::1]:x/y@z`)
	f.Add("A://:A#@@")
	noPassword := regexp.MustCompile(`(?s)://.*@`)
	f.Fuzz(func(t *testing.T, s string) {
		once := Text(s)
		if !noPassword.MatchString(s) && once != s {
			t.Errorf("Text(%q) = %q: changed a text with no \"://\" before an \"@\"", s, once)
		}
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
