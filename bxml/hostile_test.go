package bxml_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/voicehook/voicehook/bxml"
)

// Each hostile document must be refused, quickly, with an error that says
// why. The time bound is loose on purpose: it catches runaway work, not
// slow machines.
func TestHostileDocuments(t *testing.T) {
	decl := `<?xml version="1.0" encoding="UTF-8"?>`
	laughs := decl + `<!DOCTYPE Response [<!ENTITY lol "lol">` +
		`<!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">` +
		`<!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">` +
		`<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">` +
		`<!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">` +
		`]><Response><SpeakSentence>&lol9;</SpeakSentence></Response>`
	cases := []struct {
		name string
		doc  string
		is   error
		msg  string
	}{
		{"billion laughs", laughs, bxml.ErrDTD, "DTD and entity declarations are not allowed"},
		{"external entity", decl + `<!DOCTYPE Response [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><Response><SpeakSentence>&xxe;</SpeakSentence></Response>`,
			bxml.ErrDTD, "DTD and entity declarations are not allowed"},
		{"external DTD", decl + `<!DOCTYPE Response SYSTEM "https://evil.example.com/x.dtd"><Response/>`, bxml.ErrDTD, "not allowed"},
		{"undeclared entity", `<Response><SpeakSentence>&nbsp;</SpeakSentence></Response>`, bxml.ErrSyntax, "malformed XML: invalid character entity &nbsp;"},
		{"10 MB body", decl + "<Response>" + strings.Repeat("<Pause/>", 10<<20/8) + "</Response>", bxml.ErrTooLarge, "bytes; the limit is 65536"},
		{"100 000 verbs", "<Response>" + strings.Repeat("<Hangup/>", 100000) + "</Response>", bxml.ErrTooLarge, "the limit is 65536"},
		{"verbs over the cap within 64 KB", "<Response>" + strings.Repeat("<Hangup/>", bxml.MaxElements+1) + "</Response>", bxml.ErrLimit, "more than 2000 elements"},
		{"10 000-deep nesting", "<Response>" + strings.Repeat("<Gather>", 10000) + strings.Repeat("</Gather>", 10000) + "</Response>", bxml.ErrTooLarge, "the limit is 65536"},
		{"deep nesting within 64 KB", "<Response>" + strings.Repeat("<a>", 1000) + strings.Repeat("</a>", 1000) + "</Response>", bxml.ErrLimit, "elements nest deeper than 32"},
		{"deep SSML", "<Response><SpeakSentence>" + strings.Repeat("<s>", 100) + "x" + strings.Repeat("</s>", 100) + "</SpeakSentence></Response>", bxml.ErrLimit, "nest deeper"},
		{"invalid UTF-8", "<Response><SpeakSentence>caf\xe9</SpeakSentence></Response>", bxml.ErrSyntax, "line 1, column 29: invalid UTF-8"},
		{"NUL byte", "<Response><SpeakSentence>a\x00b</SpeakSentence></Response>", bxml.ErrSyntax, "malformed XML"},
		{"two roots", "<Response/><Response/>", bxml.ErrSyntax, "one root element"},
		{"processing instruction", `<Response><?php system("id") ?></Response>`, bxml.ErrSyntax, "processing instruction <?php?> is not allowed"},
		{"unclosed", "<Response><Gather>", bxml.ErrSyntax, "malformed XML: unexpected EOF"},
		{"empty", "", bxml.ErrSyntax, "empty document"},
		{"huge attribute", `<Response><Redirect redirectUrl="https://x.example.com/` + strings.Repeat("a", 60000) + `"/></Response>`, nil, "at most 2048"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			start := time.Now()
			_, err := bxml.Parse([]byte(c.doc), bxml.CallContext)
			elapsed := time.Since(start)
			if err == nil {
				t.Fatal("accepted")
			}
			if c.is != nil && !errors.Is(err, c.is) {
				t.Errorf("error %v does not match %v", err, c.is)
			}
			if !strings.Contains(err.Error(), c.msg) {
				t.Errorf("error %q does not say %q", err, c.msg)
			}
			if elapsed > time.Second {
				t.Errorf("took %v to refuse", elapsed)
			}
		})
	}
}
