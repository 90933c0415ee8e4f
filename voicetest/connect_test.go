package voicetest_test

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/voicehook/voicehook/internal/phone/sim"
	"github.com/voicehook/voicehook/internal/server"
	"github.com/voicehook/voicehook/voicetest"
)

// wrongKey is one test body for both modes: the caller presses 7, hears
// that it is not an option, presses 1 and is put through to sales, who
// hangs up after a second.
func wrongKey(t *testing.T, v *voicetest.Env) {
	call := v.Inbound("+15557770000", "+15550001000")
	v.Run()
	call.WantSpoken(prompt, "Sorry, that is not an option.", prompt)
	if got := call.Dialled(); !slices.Equal(got, []string{sales}) {
		t.Errorf("dialled %q", got)
	}
	call.WantEvents("initiate", "gather", "gather")
	call.WantCause("hangup")
}

func TestWrongKeyInProcess(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		wrongKey(t, voicetest.New(t, menu(), voicetest.Options{Phones: map[string]voicetest.Phone{
			"+15557770000": {GatherInputs: []string{"7", "1"}},
			sales:          {HangupAfter: time.Second},
		}}))
	})
}

// The same test against a voicehook serving HTTP on loopback, in real
// time.
func TestWrongKeyAgainstAServer(t *testing.T) {
	srv, err := server.Start(context.Background(), server.Config{Addr: "127.0.0.1:0", DB: filepath.Join(t.TempDir(), "v.db"),
		Phones: map[string]sim.Script{
			"+15557770000": {GatherInputs: []string{"7", "1"}},
			sales:          {HangupAfter: time.Second},
		}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close(context.Background()) })
	wrongKey(t, voicetest.Connect(t, srv.URL(), menu(), voicetest.Options{Limit: time.Minute}))
}
