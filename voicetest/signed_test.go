package voicetest_test

import (
	"context"
	"encoding/base64"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/voicehook/voicehook/bxml"
	"github.com/voicehook/voicehook/callback"
	"github.com/voicehook/voicehook/voicetest"
	"github.com/voicehook/voicehook/webhook"
)

// TestAppThatVerifiesSignatures: an app that checks Standard Webhooks
// signatures runs under voicetest given its secret, and sees each event's
// id; without the secret it refuses every webhook.
func TestAppThatVerifiesSignatures(t *testing.T) {
	secret := "whsec_" + base64.StdEncoding.EncodeToString([]byte("a voicetest secret of 32 bytes!!"))
	newApp := func() (app *webhook.Handler, ids func() []string) {
		var mu sync.Mutex
		var got []string
		app = webhook.New(webhook.WithSigningSecrets(secret))
		app.OnAnswer(func(ctx context.Context, _ *callback.Answer) (*bxml.Response, error) {
			mu.Lock()
			got = append(got, webhook.EventID(ctx))
			mu.Unlock()
			return bxml.NewResponse(&bxml.SpeakSentence{Text: "Signed and heard."}), nil
		})
		return app, func() []string {
			mu.Lock()
			defer mu.Unlock()
			return append([]string(nil), got...)
		}
	}
	synctest.Test(t, func(t *testing.T) {
		app, ids := newApp()
		v := voicetest.New(t, app, voicetest.Options{WebhookSecrets: []string{secret}})
		call := v.PlaceCall(voicetest.CallRequest{To: "+15551234567"})
		call.Wait()
		call.WantSpoken("Signed and heard.")
		if got := ids(); len(got) != 1 || got[0] == "" {
			t.Errorf("the app's answer handler saw event ids %q, want one", got)
		}
	})
	synctest.Test(t, func(t *testing.T) {
		app, ids := newApp()
		v := voicetest.New(t, app, voicetest.Options{})
		call := v.PlaceCall(voicetest.CallRequest{To: "+15551234567"})
		call.Wait()
		if got := ids(); len(got) != 0 {
			t.Errorf("an unsigned webhook reached the app: %q", got)
		}
		call.WantCause("callback-error")
	})
}
