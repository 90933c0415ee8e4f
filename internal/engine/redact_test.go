package engine_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/voicehook/voicehook/callback"
	"github.com/voicehook/voicehook/internal/engine"
)

type syncLog struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *syncLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *syncLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestHistoryHidesURLPasswords: the engine sends webhooks to URLs with
// their passwords, but what it stores and logs — history summaries and
// details (event bodies, verbs' BXML, replies, attempts), the call's error
// message, the disconnect's — shows them as "*****".
func TestHistoryHidesURLPasswords(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var log syncLog
		answer := "https://user:S3cr3t@app.test/answer"
		next := "https://u2:An0th3r@app.test/next"
		h := newHarnessWith(t, nil, replies(map[string]string{
			answer: `<Response><Redirect redirectUrl="` + next + `"/></Response>`,
			next:   `<Response><Redirect redirectUrl="ftp://u3:B4dUrl@app.test/x"/></Response>`,
		}), func(c *engine.Config) { c.Logger = slog.New(slog.NewTextHandler(&log, nil)) })
		defer h.close()
		id := h.call("+15550000000", func(c *engine.Call) {
			c.AnswerURL, c.DisconnectURL = answer, "https://user:S3cr3t@app.test/disconnect"
		})
		h.settle(time.Hour)

		var sentTo []string
		for _, d := range h.app.events() {
			sentTo = append(sentTo, d.target.URL)
		}
		if got := strings.Join(sentTo, " "); got != answer+" "+next+" https://user:S3cr3t@app.test/disconnect" {
			t.Errorf("webhooks went to %s, want the URLs with their passwords", got)
		}

		call, err := h.store.GetCall(context.Background(), "9900000", id)
		if err != nil {
			t.Fatal(err)
		}
		if call.DisconnectCause != callback.CauseInvalidBXML || !strings.Contains(call.ErrorMessage, `"ftp://u3:*****@app.test/x"`) {
			t.Errorf("the call ended %s: %q, want invalid-bxml naming the URL with its password hidden", call.DisconnectCause, call.ErrorMessage)
		}
		hist, _ := h.store.History(context.Background(), id)
		var stored strings.Builder
		for _, e := range hist {
			stored.WriteString(e.Summary + " " + string(e.Detail) + "\n")
		}
		for _, want := range []string{"user:*****@app.test/answer", "u2:*****@app.test/next", "u3:*****@app.test/x", "user:*****@app.test/disconnect"} {
			if !strings.Contains(stored.String(), want) {
				t.Errorf("the history never shows %s:\n%s", want, stored.String())
			}
		}
		events := h.app.events()
		disconnect, _ := callback.Encode(events[len(events)-1].event)
		for where, out := range map[string]string{"history": stored.String(), "log": log.String(), "disconnect": string(disconnect)} {
			for _, secret := range []string{"S3cr3t", "An0th3r", "B4dUrl"} {
				if strings.Contains(out, secret) {
					t.Errorf("the %s holds %q:\n%s", where, secret, out)
				}
			}
		}
	})
}

// TestHistoryHidesBXMLPasswords: the password attributes of the verbs an
// app returns, nested ones included, reach the app's webhooks but show as
// "*****" in the verbs' history details and the log.
func TestHistoryHidesBXMLPasswords(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var log syncLog
		h := newHarnessWith(t, nil, replies(map[string]string{
			"https://app.test/answer": `<Response><Redirect redirectUrl="https://app.test/next" username="u" password="R3dirPw" fallbackPassword='F4llPw'/></Response>`,
			"https://app.test/next": `<Response><Transfer password="Tr4nsPw"><PhoneNumber password="Ph0nePw" fallbackPassword="PhF4llPw">+15551230000</PhoneNumber>` +
				`<SipUri password="S1pPw">sip:b@127.0.0.1</SipUri></Transfer></Response>`,
		}), func(c *engine.Config) { c.Logger = slog.New(slog.NewTextHandler(&log, nil)) })
		defer h.close()
		id := h.call("+15550000000", func(c *engine.Call) { c.AnswerURL = "https://app.test/answer" })
		h.settle(time.Hour)

		var redirect engine.Target
		for _, d := range h.app.events() {
			if d.target.URL == "https://app.test/next" {
				redirect = d.target
			}
		}
		if redirect.Username != "u" || redirect.Password != "R3dirPw" || redirect.FallbackPassword != "F4llPw" {
			t.Errorf("the redirect went as %q/%q (fallback %q), want the BXML's credentials", redirect.Username, redirect.Password, redirect.FallbackPassword)
		}
		hist, _ := h.store.History(context.Background(), id)
		var verbs strings.Builder
		for _, e := range hist {
			if e.Kind == "verb" {
				verbs.WriteString(string(e.Detail) + "\n")
			}
		}
		for _, want := range []string{`username=\"u\" password=\"*****\"`, `fallbackPassword=\"*****\"`} {
			if !strings.Contains(verbs.String(), want) {
				t.Errorf("the verbs' history never shows %s:\n%s", want, verbs.String())
			}
		}
		if n := strings.Count(verbs.String(), `assword=\"*****\"`); n != 6 {
			t.Errorf("%d masked passwords in the verbs' history, want 6:\n%s", n, verbs.String())
		}
		for where, out := range map[string]string{"history": verbs.String(), "log": log.String()} {
			for _, secret := range []string{"R3dirPw", "F4llPw", "Tr4nsPw", "Ph0nePw", "PhF4llPw", "S1pPw"} {
				if strings.Contains(out, secret) {
					t.Errorf("the %s holds %q:\n%s", where, secret, out)
				}
			}
		}
	})
}
