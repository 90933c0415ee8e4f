package server_test

import (
	"bytes"
	"encoding/base64"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/voicehook/voicehook/callback"
	"github.com/voicehook/voicehook/internal/server"
)

// TestNoSecretInBXMLAttributesLeaves: the password attributes of an app's
// BXML (a Redirect's, a Transfer's, a PhoneNumber's, fallbacks included)
// reach the app as Basic credentials, and show as "*****" everywhere
// else: the verbs and the replies in the history (/sim/v1), the console
// API and the log.
func TestNoSecretInBXMLAttributesLeaves(t *testing.T) {
	secrets := map[string]string{ // user → password
		"u": "Pw4ttr1bute", "tc": "Tr4nsC0mpl3teAttr", "w": "Wh1sp3rAttr",
	}
	fallbacks := []string{"F4llb4ckAttr", "Wh1sp3rFbAttr"}
	var logs lockedBuffer
	srv := startServerWith(t, server.Config{Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	app := newApp(t, map[string]string{
		"/answer": `<Response><Redirect redirectUrl="/next" username="u" password="` + secrets["u"] +
			`" fallbackUsername="f" fallbackPassword='` + fallbacks[0] + `'/></Response>`,
		"/next": `<Response><Transfer transferCompleteUrl="/transfer-complete" username="tc" password="` + secrets["tc"] + `">` +
			`<PhoneNumber transferAnswerUrl="/whisper" username="w" password="` + secrets["w"] + `" fallbackPassword="` + fallbacks[1] + `">` +
			`+15550000200</PhoneNumber></Transfer></Response>`,
		"/whisper":           `<Response><SpeakSentence>Caller from the website.</SpeakSentence></Response>`,
		"/transfer-complete": `<Response><Hangup/></Response>`,
	})
	aLeg, created := createCall(t, srv, map[string]any{"from": "+15551112222", "to": "+15550000000", "applicationId": appID,
		"answerUrl": app.URL + "/answer", "disconnectUrl": app.URL + "/disconnect"})
	outputs := []string{"createCall: " + string(created)}
	app.waitFor(t, callback.EventDisconnect, 20*time.Second)

	// The app got each password, as Basic credentials.
	var bLeg string
	for path, user := range map[string]string{"/next": "u", "/whisper": "w", "/transfer-complete": "tc"} {
		h := waitPath(t, app, path)
		if want := "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+secrets[user])); h.auth != want {
			t.Errorf("%s: Authorization %q, want %q (%s:%s)", path, h.auth, want, user, secrets[user])
		}
		if ev, ok := h.event.(*callback.TransferAnswer); ok {
			bLeg = ev.CallID
		}
	}

	// The A-leg's history, once the disconnect is delivered: the verbs and
	// the replies that held the passwords, masked.
	var events []byte
	for deadline := time.Now().Add(10 * time.Second); ; {
		_, _, events = getBody(t, srv.URL()+"/sim/v1/calls/"+aLeg+"/events")
		if bytes.Contains(events, []byte(`disconnect: 204`)) || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	outputs = append(outputs, "sim events: "+string(events))
	for _, want := range []string{
		`<Redirect redirectUrl=\"/next\" username=\"u\" password=\"*****\" fallbackUsername=\"f\" fallbackPassword='*****'/>`, // the reply
		`username=\"u\" password=\"*****\"`, `username=\"w\" password=\"*****\"`, // the verbs
	} {
		if !bytes.Contains(events, []byte(want)) {
			t.Errorf("the history never shows %s:\n%s", want, events)
		}
	}
	if bLeg != "" {
		_, _, b := getBody(t, srv.URL()+"/sim/v1/calls/"+bLeg+"/events")
		outputs = append(outputs, "sim events (B-leg): "+string(b))
	}
	base := srv.URL() + "/console/api"
	_, _, b := getBody(t, base+"/calls")
	outputs = append(outputs, "console list: "+string(b))
	for _, id := range []string{aLeg, bLeg} {
		if id != "" {
			_, _, b := getBody(t, base+"/calls/"+id)
			outputs = append(outputs, "console call: "+string(b))
		}
	}
	outputs = append(outputs, "log: "+logs.String())
	for _, secret := range append(fallbacks, secrets["u"], secrets["tc"], secrets["w"]) {
		for _, out := range outputs {
			if strings.Contains(out, secret) {
				t.Errorf("the password %q appears in %s", secret, out)
			}
		}
	}
}
