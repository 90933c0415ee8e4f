package server_test

import (
	"testing"
	"time"

	"github.com/voicehook/voicehook/callback"
	"github.com/voicehook/voicehook/internal/config"
	"github.com/voicehook/voicehook/internal/server"
)

// --max-calls: a createCall beyond it ends at once with
// node-capacity-exceeded; an INVITE beyond it gets 503 (with Retry-After,
// for the trunk to try another node). SIP on 127.0.0.236, the peer on
// 127.0.0.237.
func TestMaxCalls(t *testing.T) {
	app := newApp(t, map[string]string{"/answer": `<Response><Pause duration="5"/></Response>`,
		"/initiate": `<Response><Pause duration="5"/></Response>`})
	srv := startServerWith(t, server.Config{MaxCalls: 1, InitiateURL: app.URL + "/initiate",
		SIP: config.SIP{Addr: "127.0.0.236:0", RTPPorts: [2]int{32250, 32299}}})
	first, _ := createCall(t, srv, callFields(app, "+15550000000"))
	app.waitFor(t, callback.EventAnswer, 10*time.Second)
	second, _ := createCall(t, srv, callFields(app, "+15550000000"))
	peer := newSIPPeer(t, "127.0.0.237")
	if code := peer.invite(t, srv.SIPAddr(), "caller", "", "+15550001000"); code != 503 {
		t.Errorf("an INVITE to a full node: %d, want 503", code)
	}
	deadline := time.Now().Add(20 * time.Second)
	causes := map[string]callback.Cause{}
	for len(causes) < 2 && time.Now().Before(deadline) {
		for _, h := range app.got() {
			if ev, ok := h.event.(*callback.Disconnect); ok {
				causes[ev.CallID] = ev.Cause
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	if causes[second] != callback.CauseNodeCapacityExceeded || causes[first] != callback.CauseHangup {
		t.Errorf("causes: first %q, second %q; want hangup and node-capacity-exceeded", causes[first], causes[second])
	}
	checkHooks(t, app.got())
}
