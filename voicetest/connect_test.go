package voicetest_test

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

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

// wrongKeyOptions are the phones of wrongKey, for both modes.
var wrongKeyOptions = voicetest.Options{Limit: time.Minute, Phones: map[string]voicetest.Phone{
	"+15557770000": {GatherInputs: []string{"7", "1"}},
	sales:          {HangupAfter: time.Second, Voice: voicetest.Person, Ring: 500 * time.Millisecond},
}}

func TestWrongKeyInProcess(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		wrongKey(t, voicetest.New(t, menu(), wrongKeyOptions))
	})
}

// The same test against a voicehook serving HTTP on loopback, in real
// time; the phones are set on the server for the test, then reset.
func TestWrongKeyAgainstAServer(t *testing.T) {
	srv, err := server.Start(context.Background(), server.Config{Addr: "127.0.0.1:0", DB: filepath.Join(t.TempDir(), "v.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close(context.Background()) })
	t.Run("connected", func(t *testing.T) {
		wrongKey(t, voicetest.Connect(t, srv.URL(), menu(), wrongKeyOptions))
	})
	// A script the server refuses fails the test, naming the phone and why.
	f := &fakeT{TB: t}
	if got := f.run(func() {
		voicetest.Connect(f, srv.URL(), menu(), voicetest.Options{Phones: map[string]voicetest.Phone{"+15557770001": {Outcome: "maybe"}}})
	}); !strings.Contains(got, `phone +15557770001: 400 Invalid script`) || !strings.Contains(got, `outcome "maybe"`) {
		t.Errorf("a bad phone reported %q", got)
	}
	// After the test, the server's phones are as they were.
	for _, n := range srv.Network().Numbers() {
		if n[0] == sales || n[0] == "+15557770000" {
			t.Errorf("phone %s still scripted after the test: %s", n[0], n[1])
		}
	}
}
