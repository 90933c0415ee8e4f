package sip

import (
	"context"
	"net"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/pion/rtp"

	"github.com/voicehook/voicehook/internal/engine"
)

// reinvite sends a re-INVITE in dc with sdp (none when nil), ACKs its 2xx
// and returns the response.
func reinvite(t *testing.T, dc *sipgo.DialogClientSession, sdp []byte) *sip.Response {
	t.Helper()
	req := sip.NewRequest(sip.INVITE, dc.InviteResponse.Contact().Address)
	if sdp != nil {
		req.SetBody(sdp)
		req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	}
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
	defer cancel()
	res, err := dc.Do(ctx, req)
	if err != nil {
		t.Fatalf("re-INVITE: %v", err)
	}
	if res.IsSuccess() {
		if err := dc.WriteRequest(sip.NewRequest(sip.ACK, req.Recipient)); err != nil {
			t.Fatalf("ACK: %v", err)
		}
	}
	return res
}

// withDir is the phone's offer with its direction attribute replaced.
func withDir(offer []byte, dir string) []byte {
	return []byte(strings.Replace(string(offer), "a=sendrecv", "a="+dir, 1))
}

// flowing reports whether the phone gets RTP during the next 200 ms.
func flowing(p *phone) bool {
	before := len(p.packets())
	time.Sleep(200 * time.Millisecond)
	return len(p.packets()) > before
}

// originVersion is the version of an SDP's o= line.
func originVersion(t *testing.T, sdp []byte) int64 {
	t.Helper()
	_, v := sdpOrigin(sdp)
	if v == 0 {
		t.Fatalf("no o= version in %q", sdp)
	}
	return v
}

func TestReInviteHoldAndResume(t *testing.T) {
	_, p, tl, dc := inboundCall(t, "127.0.0.180", Config{}, 101)
	if !flowing(p) {
		t.Fatal("no RTP before the hold")
	}
	res := reinvite(t, dc, withDir(p.offer(101), "sendonly"))
	if res.StatusCode != 200 {
		t.Fatalf("hold answered %d, want 200", res.StatusCode)
	}
	if !strings.Contains(string(res.Body()), "a=recvonly") {
		t.Errorf("the answer to a=sendonly does not say a=recvonly:\n%s", res.Body())
	}
	v1 := originVersion(t, res.Body())
	time.Sleep(60 * time.Millisecond) // packets already in flight
	if flowing(p) {
		t.Error("RTP still flows while held")
	}
	if !slices.Contains(tl.signals(), "← INVITE (hold)") {
		t.Errorf("signals %q lack the hold", tl.signals())
	}

	res = reinvite(t, dc, p.offer(101))
	if res.StatusCode != 200 || !strings.Contains(string(res.Body()), "a=sendrecv") {
		t.Fatalf("resume answered %d:\n%s", res.StatusCode, res.Body())
	}
	if v2 := originVersion(t, res.Body()); v2 <= v1 {
		t.Errorf("o= version %d after %d, want it to grow", v2, v1)
	}
	if !flowing(p) {
		t.Error("no RTP after the resume")
	}
	// The clock kept running while held: the timestamps jump by the hold.
	pk := p.packets()
	var gap uint32
	for i := 1; i < len(pk); i++ {
		gap = max(gap, pk[i].Timestamp-pk[i-1].Timestamp)
	}
	if gap < 10*frame {
		t.Errorf("largest timestamp step %d, want the hold's length (at least %d)", gap, 10*frame)
	}
}

func TestReInviteHoldByUnspecifiedAddress(t *testing.T) {
	const host = "127.0.0.181"
	_, p, _, dc := inboundCall(t, host, Config{}, 101)
	if !flowing(p) {
		t.Fatal("no RTP before the hold")
	}
	offer := strings.Replace(string(p.offer(101)), "c=IN IP4 "+host, "c=IN IP4 0.0.0.0", 1) // only parsed or refused by the guard: never dialled
	res := reinvite(t, dc, []byte(offer))
	if res.StatusCode != 200 {
		t.Fatalf("hold answered %d, want 200", res.StatusCode)
	}
	if !strings.Contains(string(res.Body()), "a=recvonly") {
		t.Errorf("the answer to c=0.0.0.0 does not say a=recvonly:\n%s", res.Body()) // only parsed or refused by the guard: never dialled
	}
	time.Sleep(60 * time.Millisecond)
	if flowing(p) {
		t.Error("RTP still flows while held")
	}
	res = reinvite(t, dc, p.offer(101))
	if res.StatusCode != 200 || !flowing(p) {
		t.Errorf("resume answered %d; RTP flowing: %v", res.StatusCode, flowing(p))
	}
}

func TestReInviteInactiveAndBadSDP(t *testing.T) {
	_, p, _, dc := inboundCall(t, "127.0.0.182", Config{}, 101)
	res := reinvite(t, dc, withDir(p.offer(101), "inactive"))
	if res.StatusCode != 200 || !strings.Contains(string(res.Body()), "a=inactive") {
		t.Fatalf("inactive answered %d:\n%s", res.StatusCode, res.Body())
	}
	time.Sleep(60 * time.Millisecond)
	if flowing(p) {
		t.Error("RTP flows while inactive")
	}
	bad := strings.Replace(string(p.offer(101)), "RTP/AVP 0 8", "RTP/AVP 18", 1)
	if res := reinvite(t, dc, []byte(bad)); res.StatusCode != 488 {
		t.Errorf("a re-INVITE without G.711 answered %d, want 488", res.StatusCode)
	}
	// Without SDP: our current SDP, and the call goes on.
	res = reinvite(t, dc, nil)
	if res.StatusCode != 200 || !strings.Contains(string(res.Body()), "m=audio") {
		t.Errorf("a re-INVITE without SDP answered %d:\n%s", res.StatusCode, res.Body())
	}
}

func TestReInviteChangesCodecAndAddress(t *testing.T) {
	const host = "127.0.0.183"
	_, p, _, dc := inboundCall(t, host, Config{}, 101)
	if !flowing(p) {
		t.Fatal("no RTP before the change")
	}
	if pk := p.packets(); pk[len(pk)-1].PayloadType != ptPCMU {
		t.Fatalf("payload type %d before the change, want PCMU", pk[len(pk)-1].PayloadType)
	}
	moved, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(host)})
	if err != nil {
		t.Fatal(err)
	}
	defer moved.Close()
	offer := strings.Replace(string(p.offer(101)), "RTP/AVP 0 8", "RTP/AVP 8 0", 1)
	offer = strings.Replace(offer, "m=audio "+strconv.Itoa(p.rtpPort()), "m=audio "+strconv.Itoa(moved.LocalAddr().(*net.UDPAddr).Port), 1)
	res := reinvite(t, dc, []byte(offer))
	if res.StatusCode != 200 || !strings.Contains(string(res.Body()), "RTP/AVP 8 ") {
		t.Fatalf("codec change answered %d:\n%s", res.StatusCode, res.Body())
	}
	buf := make([]byte, 1500)
	_ = moved.SetReadDeadline(time.Now().Add(time.Second))
	n, err := moved.Read(buf)
	if err != nil {
		t.Fatalf("no RTP at the new address: %v", err)
	}
	var pk rtp.Packet
	if err := pk.Unmarshal(buf[:n]); err != nil {
		t.Fatal(err)
	}
	if pk.PayloadType != ptPCMA {
		t.Errorf("payload type %d at the new address, want PCMA (8)", pk.PayloadType)
	}
}

func TestRTPTimeoutEndsTheCall(t *testing.T) {
	_, p, tl, _ := inboundCall(t, "127.0.0.184", Config{RTPTimeout: 400 * time.Millisecond}, 101)
	start := time.Now()
	e := tl.wait(t, engine.PhoneHungUp)
	if want := "no audio from the far end for 400ms"; e.Reason != want {
		t.Errorf("reason %q, want %q", e.Reason, want)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("hung up after %v, want about 400ms", d)
	}
	if !p.gotBye() {
		t.Fatal("no BYE")
	}
	if !slices.Contains(tl.signals(), "→ BYE") {
		t.Errorf("signals %q lack the BYE", tl.signals())
	}
}

func TestRTPTimeoutKeptOffByAudioAndHold(t *testing.T) {
	_, p, tl, dc := inboundCall(t, "127.0.0.185", Config{RTPTimeout: 500 * time.Millisecond}, 101)
	p.say(make([]int16, 40*frame)) // 800 ms of audio keep the call
	if tl.count(engine.PhoneHungUp) != 0 {
		t.Fatal("hung up while the far end sent audio")
	}
	if res := reinvite(t, dc, withDir(p.offer(101), "sendonly")); res.StatusCode != 200 {
		t.Fatalf("hold answered %d", res.StatusCode)
	}
	time.Sleep(1200 * time.Millisecond)
	if tl.count(engine.PhoneHungUp) != 0 {
		t.Fatal("hung up for silence while held")
	}
	if res := reinvite(t, dc, p.offer(101)); res.StatusCode != 200 {
		t.Fatalf("resume answered %d", res.StatusCode)
	}
	start := time.Now()
	e := tl.wait(t, engine.PhoneHungUp)
	if d := time.Since(start); d < 300*time.Millisecond || e.Reason == "" {
		t.Errorf("hung up %v after the resume (reason %q), want the timeout to start again", d, e.Reason)
	}
}

func TestReInviteHoldOnAnOutboundCall(t *testing.T) {
	p := newPhone(t, "127.0.0.186")
	n := startNetwork(t, Config{Addr: "127.0.0.186:0", Gateways: []Gateway{{URI: "sip:" + p.addr}}})
	tl := newTestLine()
	line, err := n.Dial(dial, tl.notify)
	if err != nil {
		t.Fatal(err)
	}
	tl.Line = line
	ds, invite := p.answerNext(200, "OK")
	tl.wait(t, engine.PhoneAnswered)
	if !flowing(p) {
		t.Fatal("no RTP before the hold")
	}
	send := func(sdp []byte) *sip.Response {
		req := sip.NewRequest(sip.INVITE, invite.Contact().Address)
		req.SetBody(sdp)
		req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
		ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
		defer cancel()
		res, err := ds.Do(ctx, req)
		if err != nil {
			t.Fatalf("re-INVITE: %v", err)
		}
		if err := ds.WriteRequest(sip.NewRequest(sip.ACK, req.Recipient)); err != nil {
			t.Fatalf("ACK: %v", err)
		}
		return res
	}
	res := send(withDir(p.offer(101), "sendonly"))
	if res.StatusCode != 200 || !strings.Contains(string(res.Body()), "a=recvonly") {
		t.Fatalf("hold answered %d:\n%s", res.StatusCode, res.Body())
	}
	time.Sleep(60 * time.Millisecond)
	if flowing(p) {
		t.Error("RTP still flows while held")
	}
	if res := send(p.offer(101)); res.StatusCode != 200 || !flowing(p) {
		t.Errorf("resume answered %d, or no RTP after it", res.StatusCode)
	}
}

// timedCall is inboundCall on host with a Session-Expires header, the
// network accepting intervals down to one second.
func timedCall(t *testing.T, host, sessionExpires string) (*phone, *testLine, *sipgo.DialogClientSession) {
	t.Helper()
	p := newPhone(t, host)
	fe := newFakeEngine("+15550001000")
	n := startNetwork(t, Config{Addr: host + ":0", Answers: fe.Answers, Calls: fe})
	n.minSE.Store(int64(time.Second))
	done := make(chan *sipgo.DialogClientSession, 1)
	go func() {
		dc, _, err := p.call(t.Context(), "sip:+15550001000@"+n.Addr(), p.offer(101),
			sip.NewHeader("Session-Expires", sessionExpires), sip.NewHeader("Supported", "timer"))
		if err != nil {
			t.Errorf("call: %v", err)
		}
		done <- dc
	}()
	tl := fe.next(t)
	tl.Answered()
	var dc *sipgo.DialogClientSession
	select {
	case dc = <-done:
	case <-time.After(waitFor):
		t.Fatal("the call was not answered")
	}
	if dc == nil {
		t.FailNow()
	}
	return p, tl, dc
}

func TestSessionTimerFarEndRefreshes(t *testing.T) {
	p, tl, dc := timedCall(t, "127.0.0.187", "1;refresher=uac")
	if h := dc.InviteResponse.GetHeader("Session-Expires"); h == nil || h.Value() != "1;refresher=uac" {
		t.Errorf("200 Session-Expires %v, want 1;refresher=uac", h)
	}
	if h := dc.InviteResponse.GetHeader("Supported"); h == nil || !strings.Contains(h.Value(), "timer") {
		t.Errorf("200 Supported %v, want timer", h)
	}
	start := time.Now()
	for range 2 {
		time.Sleep(600 * time.Millisecond)
		if res := reinvite(t, dc, p.offer(101)); res.StatusCode != 200 || res.GetHeader("Session-Expires") == nil {
			t.Fatalf("refresh answered %d without Session-Expires", res.StatusCode)
		}
	}
	if tl.count(engine.PhoneHungUp) != 0 {
		t.Fatalf("hung up %v in though refreshed", time.Since(start))
	}
	e := tl.wait(t, engine.PhoneHungUp)
	if e.Reason != "session timer expired" {
		t.Errorf("reason %q, want session timer expired", e.Reason)
	}
	if !p.gotBye() {
		t.Fatal("no BYE")
	}
}

func TestSessionTimerWeRefresh(t *testing.T) {
	p, tl, dc := timedCall(t, "127.0.0.188", "2;refresher=uas")
	if h := dc.InviteResponse.GetHeader("Session-Expires"); h == nil || h.Value() != "2;refresher=uas" {
		t.Errorf("200 Session-Expires %v, want 2;refresher=uas", h)
	}
	start := time.Now()
	in := p.next()
	if d := time.Since(start); d < 700*time.Millisecond || d > 1500*time.Millisecond {
		t.Errorf("refresh after %v, want about 1s (half the interval)", d)
	}
	if h := in.req.GetHeader("Session-Expires"); h == nil || !strings.HasPrefix(h.Value(), "2;") {
		t.Errorf("refresh Session-Expires %v", h)
	}
	if !strings.Contains(string(in.req.Body()), "m=audio") {
		t.Errorf("refresh without our SDP:\n%s", in.req.Body())
	}
	_ = in.tx.Respond(sip.NewSDPResponseFromRequest(in.req, p.offer(101)))
	close(in.done)
	time.Sleep(300 * time.Millisecond)
	if tl.count(engine.PhoneHungUp) != 0 || !slices.Contains(tl.signals(), "→ INVITE (session refresh)") {
		t.Errorf("after the refresh: %s", tl.describe())
	}
}

func TestSessionTimerTooShortGets422(t *testing.T) {
	p := newPhone(t, "127.0.0.189")
	fe := newFakeEngine("+15550001000")
	n := startNetwork(t, Config{Addr: "127.0.0.189:0", Answers: fe.Answers, Calls: fe})
	_, codes, err := p.call(t.Context(), "sip:+15550001000@"+n.Addr(), p.offer(101), sip.NewHeader("Session-Expires", "30"))
	if err == nil || !slices.Contains(codes, 422) && !strings.Contains(err.Error(), "422") {
		t.Errorf("Session-Expires 30: codes %v, err %v; want 422", codes, err)
	}
}
