package server_test

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/voicehook/voicehook/callback"
	"github.com/voicehook/voicehook/internal/config"
	"github.com/voicehook/voicehook/internal/phone/sip/siptest"
	"github.com/voicehook/voicehook/internal/server"
)

// These tests carry real calls with several legs through voicehook: its
// SIP on 127.0.0.22x, siptest phones on 127.0.0.23x calling in (the dev
// application answers +15550001000 with the app's /initiate) and taking
// the calls voicehook places (<SipUri> targets at their own address). Each
// phone sends a tone of its own; the tests check by frequency who hears
// whom. Everything stays on loopback.

// Tones of the parties: no one a harmonic of another, all at least 300 Hz
// apart, well inside G.711's band.
const (
	toneCaller = 440
	toneAgent  = 1000
	toneThird  = 1700
)

const (
	// hearWithin bounds a wait for a tone to be heard; generous for a
	// loaded machine.
	hearWithin = 10 * time.Second
	// window is the audio over which a tone is checked.
	window = time.Second
	// sipWait bounds a wait for an INVITE, a BYE or a webhook.
	sipWait = 10 * time.Second
)

// startSIPServer starts a voicehook with SIP on 127.0.0.(220+n) and RTP
// ports 31000+50n to 31049+50n, whose dev application sends initiate to
// the app's /initiate and status to its /status.
func startSIPServer(t *testing.T, n int, app *testApp) *server.Server {
	t.Helper()
	return startServerWith(t, server.Config{InitiateURL: app.URL + "/initiate", StatusURL: app.URL + "/status",
		SIP: config.SIP{Addr: fmt.Sprintf("127.0.0.%d:0", 220+n), RTPPorts: [2]int{31000 + 50*n, 31049 + 50*n}}})
}

// setReply makes the app answer path with bxml from now on.
func (a *testApp) setReply(path, bxml string) {
	a.mu.Lock()
	a.replies[path] = bxml
	a.mu.Unlock()
}

// callIn has p call the dev number at srv and returns the call and its
// voicehook call id (from the initiate webhook with its SIP Call-ID).
func callIn(t *testing.T, srv *server.Server, app *testApp, p *siptest.Phone) (*siptest.Call, string) {
	t.Helper()
	c, err := p.Dial("sip:+15550001000@" + srv.SIPAddr())
	if err != nil {
		t.Fatalf("call in: %v", err)
	}
	deadline := time.Now().Add(sipWait)
	for time.Now().Before(deadline) {
		for _, h := range app.got() {
			if in, ok := h.event.(*callback.Initiate); ok && in.SIPCallID == c.SIPCallID() {
				return c, in.CallID
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no initiate webhook for SIP Call-ID %s; got %s", c.SIPCallID(), app.types())
	return nil, ""
}

// answer waits for the next INVITE to p and answers it.
func answer(t *testing.T, p *siptest.Phone) *siptest.Call {
	t.Helper()
	in := p.Next(sipWait)
	if in == nil {
		t.Fatal("the agent got no INVITE")
	}
	if err := in.Ring(); err != nil {
		t.Fatal(err)
	}
	c, err := in.Answer()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// hearsOnly checks that c hears each tone of want and none of wantNot:
// each of want within hearWithin, then none of wantNot over a window.
func hearsOnly(t *testing.T, who string, c *siptest.Call, want []float64, wantNot ...float64) {
	t.Helper()
	for _, f := range want {
		if !c.WaitHears(f, window, hearWithin) {
			heard := c.Listen(window)
			t.Errorf("%s does not hear %.0f Hz (level %.3f, dominant %.0f Hz)", who, f, siptest.Level(heard), siptest.Dominant(heard))
		}
	}
	heard := c.Listen(window)
	for _, f := range wantNot {
		if siptest.Hears(heard, f) {
			t.Errorf("%s hears %.0f Hz (share %.2f), which it should not", who, f, siptest.Share(heard, f))
		}
	}
}

// webhooks returns the app's webhooks of type et, waiting up to sipWait
// for n of them.
func webhooks(t *testing.T, app *testApp, et callback.EventType, n int) []hook {
	t.Helper()
	deadline := time.Now().Add(sipWait)
	for {
		var got []hook
		for _, h := range app.got() {
			if h.event != nil && h.event.Type() == et {
				got = append(got, h)
			}
		}
		if len(got) >= n || time.Now().After(deadline) {
			if len(got) < n {
				t.Fatalf("%d %s webhooks within %v, want %d; got %s", len(got), et, sipWait, n, app.types())
			}
			return got
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// speech tells synthesized speech from the silence of a call: its level
// over half a second, pauses between words included, is well above G.711's
// idle noise.
func speech(samples []int16) bool { return siptest.Level(samples) >= 0.02 }

// needEspeak skips an assertion on synthesized speech without espeak-ng,
// the server's speech synthesizer, except under CI=true where it fails.
func needEspeak(t *testing.T) bool {
	t.Helper()
	if _, err := exec.LookPath("espeak-ng"); err == nil {
		return true
	}
	if os.Getenv("CI") == "true" {
		t.Error("espeak-ng is needed in CI for SpeakSentence audio (Debian package espeak-ng)")
		return false
	}
	t.Log("not checking the speech heard: espeak-ng is not installed (Debian package espeak-ng)")
	return false
}

// TestSIPTransferAgentTalksAndHangsUp: a caller transferred to an agent
// talks with it both ways; the agent hangs up and the app hears of it.
func TestSIPTransferAgentTalksAndHangsUp(t *testing.T) {
	app := newApp(t, map[string]string{})
	srv := startSIPServer(t, 0, app)
	caller := siptest.New(t, "127.0.0.230")
	agent := siptest.New(t, "127.0.0.231")
	agentURI := agent.URI("agent")
	app.setReply("/initiate", `<Response><Transfer transferCompleteUrl="/transfer-complete">`+
		`<SipUri transferDisconnectUrl="/agent-gone">`+agentURI+`</SipUri></Transfer></Response>`)
	app.setReply("/transfer-complete", `<Response><Hangup/></Response>`)

	a, aLeg := callIn(t, srv, app, caller)
	b := answer(t, agent)
	a.Tone(toneCaller)
	b.Tone(toneAgent)
	hearsOnly(t, "the caller", a, []float64{toneAgent}, toneCaller)
	hearsOnly(t, "the agent", b, []float64{toneCaller}, toneAgent)

	if err := b.Hangup(); err != nil {
		t.Fatal(err)
	}
	if !a.WaitHungUp(sipWait) {
		t.Error("the caller was not hung up after the transfer (transferComplete's <Hangup/>)")
	}
	td := webhooks(t, app, callback.EventTransferDisconnect, 1)[0]
	if ev := td.event.(*callback.TransferDisconnect); ev.ParentCallID != aLeg || ev.Cause != callback.CauseHangup || ev.TransferTo != agentURI || td.path != "/agent-gone" {
		t.Errorf("transferDisconnect %+v at %s; want parent %s, cause hangup, to %s", ev, td.path, aLeg, agentURI)
	}
	tc := webhooks(t, app, callback.EventTransferComplete, 1)[0]
	if ev := tc.event.(*callback.TransferComplete); ev.CallID != aLeg || ev.Cause != callback.CauseHangup || ev.TransferTo != agentURI {
		t.Errorf("transferComplete %+v; want the A-leg %s, cause hangup, to %s", ev, aLeg, agentURI)
	}
	d := webhooks(t, app, callback.EventDisconnect, 1)[0]
	if ev := d.event.(*callback.Disconnect); ev.CallID != aLeg || ev.Cause != callback.CauseHangup || d.path != "/status" {
		t.Errorf("disconnect %+v at %s; want the A-leg, cause hangup, at /status", ev, d.path)
	}
	checkHooks(t, app.got())
}

// TestSIPTransferSecondAgentAnswersFirst: of two agents rung together,
// the second answers; the first's INVITE is cancelled, and only the
// second talks with the caller.
func TestSIPTransferSecondAgentAnswersFirst(t *testing.T) {
	app := newApp(t, map[string]string{})
	srv := startSIPServer(t, 1, app)
	caller := siptest.New(t, "127.0.0.230")
	first := siptest.New(t, "127.0.0.231")
	second := siptest.New(t, "127.0.0.232")
	firstURI, secondURI := first.URI("first"), second.URI("second")
	app.setReply("/initiate", `<Response><Transfer>`+
		`<SipUri transferDisconnectUrl="/agent-gone">`+firstURI+`</SipUri>`+
		`<SipUri transferDisconnectUrl="/agent-gone">`+secondURI+`</SipUri></Transfer></Response>`)

	a, aLeg := callIn(t, srv, app, caller)
	ringing := first.Next(sipWait)
	if ringing == nil {
		t.Fatal("the first agent got no INVITE")
	}
	if err := ringing.Ring(); err != nil {
		t.Fatal(err)
	}
	b := answer(t, second)
	select {
	case <-ringing.Cancelled():
	case <-time.After(sipWait):
		t.Error("the first agent's INVITE was not cancelled when the second answered")
	}
	td := webhooks(t, app, callback.EventTransferDisconnect, 1)[0]
	if ev := td.event.(*callback.TransferDisconnect); ev.ParentCallID != aLeg || ev.TransferTo != firstURI || ev.Cause != callback.CauseCancel {
		t.Errorf("first transferDisconnect %+v; want the first agent's B-leg (to %s), cause cancel", ev, firstURI)
	}

	a.Tone(toneCaller)
	b.Tone(toneAgent)
	hearsOnly(t, "the caller", a, []float64{toneAgent}, toneCaller)
	hearsOnly(t, "the second agent", b, []float64{toneCaller}, toneAgent)

	if err := a.Hangup(); err != nil {
		t.Fatal(err)
	}
	if !b.WaitHungUp(sipWait) {
		t.Error("the second agent was not hung up when the caller left")
	}
	tds := webhooks(t, app, callback.EventTransferDisconnect, 2)
	if ev := tds[1].event.(*callback.TransferDisconnect); ev.TransferTo != secondURI || ev.Cause != callback.CauseHangup {
		t.Errorf("second transferDisconnect %+v; want the second agent's B-leg (to %s), cause hangup", ev, secondURI)
	}
	checkHooks(t, app.got())
}

// TestSIPTransferWhisper: the agent hears the transferAnswerUrl BXML, the
// caller does not; then they talk.
func TestSIPTransferWhisper(t *testing.T) {
	app := newApp(t, map[string]string{})
	srv := startSIPServer(t, 2, app)
	caller := siptest.New(t, "127.0.0.230")
	agent := siptest.New(t, "127.0.0.231")
	app.setReply("/initiate", `<Response><Transfer><SipUri transferAnswerUrl="/whisper">`+agent.URI("agent")+`</SipUri></Transfer></Response>`)
	app.setReply("/whisper", `<Response><SpeakSentence>This caller comes from the website and has waited a long time. `+
		`Please be kind to them and help them as well as you can.</SpeakSentence></Response>`)

	a, _ := callIn(t, srv, app, caller)
	b := answer(t, agent)
	webhooks(t, app, callback.EventTransferAnswer, 1)
	// Both are silent: what the agent hears now is the whisper, which
	// lasts some seconds.
	mark := a.Mark()
	if needEspeak(t) {
		if !b.WaitFor(speech, 500*time.Millisecond, hearWithin) {
			t.Errorf("the agent hears no whisper: level %.3f", siptest.Level(b.Listen(window)))
		}
		a.Listen(window) // more of the whisper
	} else {
		a.Listen(2 * window)
	}
	if heard := a.HeardSince(mark); siptest.Level(heard) > 0.01 {
		t.Errorf("the caller hears something during the whisper: level %.3f", siptest.Level(heard))
	}

	a.Tone(toneCaller)
	b.Tone(toneAgent)
	hearsOnly(t, "the caller", a, []float64{toneAgent}, toneCaller)
	hearsOnly(t, "the agent", b, []float64{toneCaller}, toneAgent)
}

// TestSIPBridgeTwoInboundCalls: the app parks one caller and bridges a
// second to it with <Bridge>.
func TestSIPBridgeTwoInboundCalls(t *testing.T) {
	app := newApp(t, map[string]string{})
	srv := startSIPServer(t, 3, app)
	one := siptest.New(t, "127.0.0.230")
	two := siptest.New(t, "127.0.0.231")
	app.setReply("/initiate", `<Response><Pause duration="30"/></Response>`)
	a, parked := callIn(t, srv, app, one)
	app.setReply("/initiate", `<Response><Bridge bridgeCompleteUrl="/bridge-complete">`+parked+`</Bridge></Response>`)
	app.setReply("/bridge-complete", `<Response><Hangup/></Response>`)
	b, _ := callIn(t, srv, app, two)

	a.Tone(toneCaller)
	b.Tone(toneAgent)
	hearsOnly(t, "the parked caller", a, []float64{toneAgent}, toneCaller)
	hearsOnly(t, "the bridging caller", b, []float64{toneCaller}, toneAgent)

	if err := a.Hangup(); err != nil {
		t.Fatal(err)
	}
	webhooks(t, app, callback.EventBridgeComplete, 1)
	if !b.WaitHungUp(sipWait) {
		t.Error("the bridging caller was not hung up (bridgeComplete's <Hangup/>)")
	}
}

// conferenceOf has p call in and join conference room with the
// <Conference> attributes attrs; it returns the call and its id.
func conferenceOf(t *testing.T, srv *server.Server, app *testApp, p *siptest.Phone, attrs string) (*siptest.Call, string) {
	t.Helper()
	app.setReply("/initiate", `<Response><Conference conferenceEventUrl="/conf" `+attrs+`>room</Conference></Response>`)
	c, id := callIn(t, srv, app, p)
	return c, id
}

// TestSIPConferenceThreeMembers: each member hears the other two and not
// itself; a SpeakSentence of the conference's BXML is heard by all.
func TestSIPConferenceThreeMembers(t *testing.T) {
	app := newApp(t, map[string]string{"/conf": ""})
	srv := startSIPServer(t, 4, app)
	tones := []float64{toneCaller, toneAgent, toneThird}
	var calls []*siptest.Call
	for i := range tones {
		c, _ := conferenceOf(t, srv, app, siptest.New(t, fmt.Sprintf("127.0.0.%d", 230+i)), "")
		calls = append(calls, c)
		webhooks(t, app, callback.EventConferenceMemberJoin, i+1)
	}
	for i, c := range calls {
		c.Tone(tones[i])
	}
	for i, c := range calls {
		var others []float64
		for j, f := range tones {
			if j != i {
				others = append(others, f)
			}
		}
		hearsOnly(t, fmt.Sprintf("member %d", i+1), c, others, tones[i])
	}

	for _, c := range calls {
		c.Silence()
	}
	time.Sleep(300 * time.Millisecond) // the tones in flight
	mj := webhooks(t, app, callback.EventConferenceMemberJoin, 1)[0].event.(*callback.ConferenceMemberJoin)
	if status, _, body := rest(t, srv, "PUT", "/api/v2/accounts/9900000/conferences/"+mj.ConferenceID+"/bxml", "application/xml",
		`<Bxml><SpeakSentence>Welcome everyone to the daily meeting. We start in one minute.</SpeakSentence></Bxml>`); status != 204 {
		t.Fatalf("PUT conference BXML: %d %s", status, body)
	}
	if !needEspeak(t) {
		return
	}
	// All listen at once: the sentence lasts a few seconds.
	heard := make([]chan bool, len(calls))
	for i, c := range calls {
		heard[i] = make(chan bool, 1)
		go func() { heard[i] <- c.WaitFor(speech, 500*time.Millisecond, hearWithin) }()
	}
	for i := range calls {
		if !<-heard[i] {
			t.Errorf("member %d does not hear the conference's SpeakSentence", i+1)
		}
	}
}

// TestSIPConferenceMuteAndCoach: a muted member is heard by no one; a
// coach is heard only by the member it coaches, and hears the others.
func TestSIPConferenceMuteAndCoach(t *testing.T) {
	app := newApp(t, map[string]string{"/conf": ""})
	srv := startSIPServer(t, 5, app)
	coached, coachedID := conferenceOf(t, srv, app, siptest.New(t, "127.0.0.230"), "")
	muted, _ := conferenceOf(t, srv, app, siptest.New(t, "127.0.0.231"), `mute="true"`)
	coach, _ := conferenceOf(t, srv, app, siptest.New(t, "127.0.0.232"), `callIdsToCoach="`+coachedID+`"`)
	webhooks(t, app, callback.EventConferenceMemberJoin, 3)
	coached.Tone(toneCaller)
	muted.Tone(toneAgent)
	coach.Tone(toneThird)
	hearsOnly(t, "the coached member", coached, []float64{toneThird}, toneAgent, toneCaller)
	hearsOnly(t, "the muted member", muted, []float64{toneCaller}, toneThird, toneAgent)
	hearsOnly(t, "the coach", coach, []float64{toneCaller}, toneAgent, toneThird)
}

// TestSIPTranscodedBridge: a PCMU caller transferred to a PCMA agent;
// voicehook transcodes both ways.
func TestSIPTranscodedBridge(t *testing.T) {
	app := newApp(t, map[string]string{})
	srv := startSIPServer(t, 6, app)
	caller := siptest.New(t, "127.0.0.230", siptest.WithCodec(siptest.PCMU))
	agent := siptest.New(t, "127.0.0.231", siptest.WithCodec(siptest.PCMA))
	app.setReply("/initiate", `<Response><Transfer><SipUri>`+agent.URI("agent")+`</SipUri></Transfer></Response>`)
	a, _ := callIn(t, srv, app, caller)
	b := answer(t, agent)
	a.Tone(toneCaller)
	b.Tone(toneAgent)
	hearsOnly(t, "the PCMU caller", a, []float64{toneAgent}, toneCaller)
	hearsOnly(t, "the PCMA agent", b, []float64{toneCaller}, toneAgent)
}

// TestSIPBridgedCallHoldAndResume: a caller bridged with an agent holds
// and resumes; the call survives and the tones cross again.
func TestSIPBridgedCallHoldAndResume(t *testing.T) {
	app := newApp(t, map[string]string{})
	srv := startSIPServer(t, 7, app)
	caller := siptest.New(t, "127.0.0.230")
	agent := siptest.New(t, "127.0.0.231")
	app.setReply("/initiate", `<Response><Transfer><SipUri>`+agent.URI("agent")+`</SipUri></Transfer></Response>`)
	a, _ := callIn(t, srv, app, caller)
	b := answer(t, agent)
	a.Tone(toneCaller)
	b.Tone(toneAgent)
	hearsOnly(t, "the caller", a, []float64{toneAgent})

	if code, err := a.Hold(); err != nil || code != 200 {
		t.Fatalf("hold: %d %v", code, err)
	}
	time.Sleep(300 * time.Millisecond) // what was in flight
	if heard := a.Listen(window); siptest.Level(heard) > 0.01 {
		t.Errorf("the caller on hold (sendonly) is still sent audio: level %.3f", siptest.Level(heard))
	}
	select {
	case <-a.Ended():
		t.Fatal("the call ended on hold")
	case <-b.Ended():
		t.Fatal("the agent's call ended when the caller held")
	default:
	}
	if code, err := a.Resume(); err != nil || code != 200 {
		t.Fatalf("resume: %d %v", code, err)
	}
	hearsOnly(t, "the caller after resuming", a, []float64{toneAgent}, toneCaller)
	hearsOnly(t, "the agent after the caller resumed", b, []float64{toneCaller}, toneAgent)
	if strings.Contains(app.types(), "disconnect") {
		t.Errorf("a call ended during hold and resume: %s", app.types())
	}
}

// TestSIPTransferToARegisteredSoftphone: an agent's softphone registers
// (digest) for the dev number; a transfer to that number rings it.
func TestSIPTransferToARegisteredSoftphone(t *testing.T) {
	app := newApp(t, map[string]string{})
	srv := startSIPServer(t, 8, app)
	caller := siptest.New(t, "127.0.0.230")
	agent := siptest.New(t, "127.0.0.231")
	if code, err := agent.Register(srv.SIPAddr(), server.DefaultSIPUsername, "wrong"); err != nil || code != 401 {
		t.Errorf("register with a wrong password: %d %v, want 401", code, err)
	}
	if code, err := agent.Register(srv.SIPAddr(), server.DefaultSIPUsername, server.DefaultSIPPassword); err != nil || code != 200 {
		t.Fatalf("register: %d %v, want 200", code, err)
	}
	app.setReply("/initiate", `<Response><Transfer><PhoneNumber>`+server.DefaultSIPNumber+`</PhoneNumber></Transfer></Response>`)
	a, _ := callIn(t, srv, app, caller)
	b := answer(t, agent)
	a.Tone(toneCaller)
	b.Tone(toneAgent)
	hearsOnly(t, "the caller", a, []float64{toneAgent}, toneCaller)
	hearsOnly(t, "the softphone", b, []float64{toneCaller}, toneAgent)
}
