package webhook_test

import (
	"context"
	"fmt"
	"log"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/voicehook/voicehook/bxml"
	"github.com/voicehook/voicehook/callback"
	"github.com/voicehook/voicehook/webhook"
)

// ivr is a small phone menu: 1 for sales (transferred), 2 to leave a
// message (recorded), anything else hears the menu again.
func ivr() *webhook.Handler {
	h := webhook.New()
	menu := func() *bxml.Response {
		return bxml.NewResponse(&bxml.Gather{GatherURL: "/menu", MaxDigits: 1,
			Prompts: []bxml.Verb{&bxml.SpeakSentence{Text: "For sales press 1, to leave a message press 2."}}})
	}
	h.OnAnswer(func(context.Context, *callback.Answer) (*bxml.Response, error) { return menu(), nil })
	h.OnGather(func(_ context.Context, ev *callback.Gather) (*bxml.Response, error) {
		switch ev.Digits {
		case "1":
			return bxml.NewResponse(&bxml.SpeakSentence{Text: "Connecting you."},
				&bxml.Transfer{TransferCompleteURL: "/transferred", Targets: []bxml.Verb{&bxml.PhoneNumber{Number: "+15550000200"}}}), nil
		case "2":
			return bxml.NewResponse(&bxml.SpeakSentence{Text: "Leave your message after the tone."},
				&bxml.Record{RecordCompleteURL: "/recorded", RecordingAvailableURL: "/recording"}), nil
		}
		return menu(), nil
	})
	h.OnRecordComplete(func(context.Context, *callback.RecordComplete) (*bxml.Response, error) {
		return bxml.NewResponse(&bxml.SpeakSentence{Text: "Thank you."}, &bxml.Hangup{}), nil
	})
	h.OnRecordingAvailable(func(_ context.Context, ev *callback.RecordingAvailable) error {
		log.Printf("new message %s: %s", ev.RecordingID, ev.MediaURL)
		return nil
	})
	h.OnDisconnect(func(_ context.Context, ev *callback.Disconnect) error {
		log.Printf("call %s ended: %s", ev.CallID, ev.Cause)
		return nil
	})
	return h
}

// An IVR: the caller's digit picks the next BXML.
func ExampleHandler_ivr() {
	h := ivr() // serve it with http.Handle("/voice/", h)
	for _, body := range []string{
		`{"eventType":"answer","callId":"c-1"}`,
		`{"eventType":"gather","callId":"c-1","digits":"2"}`,
		`{"eventType":"recordComplete","callId":"c-1"}`,
	} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("POST", "/voice/", strings.NewReader(body)))
		fmt.Println(w.Code, strings.TrimPrefix(w.Body.String(), `<?xml version="1.0" encoding="UTF-8"?>`))
	}
	// Output:
	// 200 <Response><Gather gatherUrl="/menu" maxDigits="1"><SpeakSentence>For sales press 1, to leave a message press 2.</SpeakSentence></Gather></Response>
	// 200 <Response><SpeakSentence>Leave your message after the tone.</SpeakSentence><Record recordCompleteUrl="/recorded" recordingAvailableUrl="/recording"/></Response>
	// 200 <Response><SpeakSentence>Thank you.</SpeakSentence><Hangup/></Response>
}

// A call recorder: every inbound call is recorded, both sides on their own
// channel, and the app learns where the file is.
func ExampleHandler_recorder() {
	h := webhook.New()
	h.OnInitiate(func(context.Context, *callback.Initiate) (*bxml.Response, error) {
		return bxml.NewResponse(&bxml.StartRecording{MultiChannel: true, RecordingAvailableURL: "/recording"},
			&bxml.SpeakSentence{Text: "This call is recorded."},
			&bxml.Transfer{Targets: []bxml.Verb{&bxml.PhoneNumber{Number: "+15550000200"}}}), nil
	})
	h.OnRecordingAvailable(func(_ context.Context, ev *callback.RecordingAvailable) error {
		fmt.Println("recorded", ev.Channels, "channels:", ev.MediaURL)
		return nil
	})
	for _, body := range []string{
		`{"eventType":"initiate","callId":"c-2"}`,
		`{"eventType":"recordingAvailable","callId":"c-2","channels":2,"mediaUrl":"https://voice.example/r-1/media"}`,
	} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("POST", "/voice/", strings.NewReader(body)))
		fmt.Println(w.Code, strings.TrimPrefix(w.Body.String(), `<?xml version="1.0" encoding="UTF-8"?>`))
	}
	// Output:
	// 200 <Response><StartRecording recordingAvailableUrl="/recording" multiChannel="true"/><SpeakSentence>This call is recorded.</SpeakSentence><Transfer><PhoneNumber>+15550000200</PhoneNumber></Transfer></Response>
	// recorded 2 channels: https://voice.example/r-1/media
	// 204
}

// A transfer: the agent hears a whisper before the caller is connected,
// and the caller hears a goodbye if the agent hangs up first.
func ExampleHandler_transfer() {
	h := webhook.New()
	h.OnInitiate(func(context.Context, *callback.Initiate) (*bxml.Response, error) {
		return bxml.NewResponse(&bxml.Transfer{TransferCompleteURL: "/done",
			Targets: []bxml.Verb{&bxml.PhoneNumber{Number: "+15550000200", TransferAnswerURL: "/whisper"}}}), nil
	})
	h.OnTransferAnswer(func(context.Context, *callback.TransferAnswer) (*bxml.Response, error) {
		return bxml.NewResponse(&bxml.SpeakSentence{Text: "A caller from the website."}), nil
	})
	h.OnTransferComplete(func(_ context.Context, ev *callback.TransferComplete) (*bxml.Response, error) {
		if ev.Cause == callback.CauseHangup {
			return bxml.NewResponse(&bxml.SpeakSentence{Text: "Thanks for calling."}, &bxml.Hangup{}), nil
		}
		return bxml.NewResponse(&bxml.SpeakSentence{Text: "Nobody is available."}, &bxml.Hangup{}), nil
	})
	for _, body := range []string{
		`{"eventType":"initiate","callId":"c-3"}`,
		`{"eventType":"transferAnswer","callId":"c-4"}`,
		`{"eventType":"transferComplete","callId":"c-3","cause":"busy"}`,
	} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("POST", "/voice/", strings.NewReader(body)))
		fmt.Println(strings.TrimPrefix(w.Body.String(), `<?xml version="1.0" encoding="UTF-8"?>`))
	}
	// Output:
	// <Response><Transfer transferCompleteUrl="/done"><PhoneNumber transferAnswerUrl="/whisper">+15550000200</PhoneNumber></Transfer></Response>
	// <Response><SpeakSentence>A caller from the website.</SpeakSentence></Response>
	// <Response><SpeakSentence>Nobody is available.</SpeakSentence><Hangup/></Response>
}

// Signed webhooks: the Handler takes only requests signed with the
// application's secret, and a function drops an event it has already
// handled by its webhook-id (voicehook delivers at least once).
func ExampleWithSigningSecrets() {
	// In an app: secrets := os.Getenv("WEBHOOK_SECRET"), which may be
	// unset, or two secrets while rotating ("whsec_…,whsec_…"). Check it
	// first: WithSigningSecrets panics on a bad one.
	const secret = "whsec_dm9pY2Vob29rIGV4YW1wbGUgc2VjcmV0LCAzMiBieXQ=" // the application's webhookSecrets
	secrets := secret
	if err := webhook.CheckSecret(secrets); err != nil {
		log.Fatalf("WEBHOOK_SECRET: %v", err)
	}
	h := webhook.New(webhook.WithSigningSecrets(secrets))
	var handled sync.Map
	h.OnDisconnect(func(ctx context.Context, ev *callback.Disconnect) error {
		if _, repeat := handled.LoadOrStore(webhook.EventID(ctx), true); repeat {
			fmt.Println("already handled", webhook.EventID(ctx))
			return nil
		}
		fmt.Println(ev.CallID, "ended:", ev.Cause)
		return nil
	})

	// What voicehook sends, signed as it signs (webhook.Sign).
	body := `{"eventType":"disconnect","callId":"c-5","cause":"hangup"}`
	send := func(secret string) int {
		now := time.Now()
		sig, err := webhook.Sign(secret, "ev-1", now, []byte(body))
		if err != nil {
			log.Fatal(err)
		}
		r := httptest.NewRequest("POST", "/voice/", strings.NewReader(body))
		r.Header.Set("webhook-id", "ev-1")
		r.Header.Set("webhook-timestamp", strconv.FormatInt(now.Unix(), 10))
		r.Header.Set("webhook-signature", sig)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code
	}
	fmt.Println(send(secret))                                               // delivered
	fmt.Println(send(secret))                                               // delivered again, after voicehook restarted
	fmt.Println(send("whsec_c29tZWJvZHkgZWxzZSdzIHNlY3JldCwgMzIgYnl0ZXM=")) // not from voicehook
	// Output:
	// c-5 ended: hangup
	// 204
	// already handled ev-1
	// 204
	// 401
}

// CheckSecret says what is wrong with a secret read at run time before
// WithSigningSecrets would panic on it, without showing it.
func ExampleCheckSecret() {
	for _, v := range []string{
		"", // WEBHOOK_SECRET unset
		"whsec_c2hvcnQ=",
		"whsec_dm9pY2Vob29rIGV4YW1wbGUgc2VjcmV0LCAzMiBieXQ=,whsec_c29tZWJvZHkgZWxzZSdzIHNlY3JldCwgMzIgYnl0ZXM=", // rotating
	} {
		fmt.Println(webhook.CheckSecret(v))
	}
	// Output:
	// no secret (want whsec_ followed by base64)
	// secret 1 is 5 bytes long after whsec_; want 24 to 64 random bytes
	// <nil>
}

// An app's test sends its Handler a signed request, as voicehook would.
func ExampleSignRequest() {
	const secret = "whsec_dm9pY2Vob29rIGV4YW1wbGUgc2VjcmV0LCAzMiBieXQ="
	h := webhook.New(webhook.WithSigningSecrets(secret))
	h.OnDisconnect(func(ctx context.Context, ev *callback.Disconnect) error {
		fmt.Println(webhook.EventID(ctx), ev.CallID, "ended:", ev.Cause)
		return nil
	})
	r := httptest.NewRequest("POST", "/voice/", strings.NewReader(`{"eventType":"disconnect","callId":"c-6","cause":"hangup"}`))
	if err := webhook.SignRequest(r, secret, "ev-6", time.Now()); err != nil {
		log.Fatal(err)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	fmt.Println(w.Code)
	// Output:
	// ev-6 c-6 ended: hangup
	// 204
}
