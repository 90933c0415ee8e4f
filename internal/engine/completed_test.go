package engine_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/voicehook/voicehook/bxml"
	"github.com/voicehook/voicehook/internal/engine"
)

// TestCompletedJustAfterTheEnd: a hang-up request that comes shortly after
// the document sent over REST ran out succeeds and changes nothing (one
// disconnect, cause hangup); a redirect then is refused, and so is a
// hang-up once CompletedGrace has passed.
func TestCompletedJustAfterTheEnd(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, nil, replies(map[string]string{"https://app.test/answer": `<Response><Pause duration="600"/></Response>`}))
		defer h.close()
		id := h.call("+15550000000", nil)
		time.Sleep(2 * time.Second)
		ctx := context.Background()
		if err := h.eng.UpdateCallBXML(ctx, "9900000", id, []bxml.Verb{&bxml.Pause{Duration: time.Second}}); err != nil {
			t.Fatal(err)
		}
		h.settle(time.Minute)
		time.Sleep(3 * time.Second)
		if err := h.eng.UpdateCall(ctx, "9900000", id, engine.Update{Complete: true}); err != nil {
			t.Errorf("hang-up 3 s after the end: %v, want success", err)
		}
		if err := h.eng.UpdateCall(ctx, "9900000", id, engine.Update{Redirect: engine.Target{URL: "https://app.test/next"}}); !isConflict(err) {
			t.Errorf("redirect of an ended call: %v, want a conflict", err)
		}
		time.Sleep(engine.CompletedGrace)
		if err := h.eng.UpdateCall(ctx, "9900000", id, engine.Update{Complete: true}); !isConflict(err) {
			t.Errorf("hang-up %v after the end: %v, want a conflict", engine.CompletedGrace+3*time.Second, err)
		}
		if got, want := summary(h.app.events()), "answer@1s\ndisconnect@3s cause=hangup\n"; got != want {
			t.Errorf("webhooks:\n%s\nwant:\n%s", got, want)
		}
	})
}

func isConflict(err error) bool { return engine.ErrorCode(err) == engine.EConflict }
