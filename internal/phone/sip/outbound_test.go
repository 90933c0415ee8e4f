package sip

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/voicehook/voicehook/internal/engine"
	"github.com/voicehook/voicehook/internal/pcm"
)

var dial = engine.Dial{CallID: "c-out", From: "+15550002000", To: "+15551112222", DisplayName: "Alice"}

func TestDialAnswered(t *testing.T) {
	p := newPhone(t, "127.0.0.41")
	n := startNetwork(t, Config{Addr: "127.0.0.41:0", Gateways: []Gateway{{URI: "sip:" + p.addr}}, TTS: toneTTS{}})
	tl := newTestLine()
	line, err := n.Dial(dial, tl.notify)
	if err != nil {
		t.Fatal(err)
	}
	tl.Line = line
	ds, invite := p.answerNext(200, "OK")
	tl.wait(t, engine.PhoneAnswered)
	if to := invite.To().Address; to.User != "+15551112222" {
		t.Errorf("INVITE To %s", to.String())
	}
	if from := invite.From(); from.DisplayName != "Alice" || from.Address.User != "+15550002000" {
		t.Errorf("INVITE From %s", from.Value())
	}
	events := tl.all()
	if events[0].SIPCallID != invite.CallID().Value() {
		t.Errorf("first event's SIPCallID %q, want the INVITE's %q", events[0].SIPCallID, invite.CallID().Value())
	}
	ringing := slices.IndexFunc(events, func(e engine.PhoneEvent) bool { return e.Kind == engine.PhoneRinging })
	answered := slices.IndexFunc(events, func(e engine.PhoneEvent) bool { return e.Kind == engine.PhoneAnswered })
	if ringing < 0 || ringing > answered || tl.count(engine.PhoneRinging) != 1 {
		t.Errorf("want one PhoneRinging before PhoneAnswered: %s", tl.describe())
	}
	if s := tl.signals(); !slices.Contains(s, "→ INVITE") || !slices.Contains(s, "← 180 Ringing") || !slices.Contains(s, "← 200 OK") {
		t.Errorf("signals %q", s)
	}

	// The far end hears speech.
	tl.Play(engine.Playback{ID: 1, Prompts: []engine.Prompt{{Text: "hello"}}})
	if e := tl.wait(t, engine.PhonePlayed); e.Reason != "" {
		t.Fatalf("played %+v", e)
	}
	time.Sleep(100 * time.Millisecond)
	if f := pcm.Frequency(loud(p.heard()), rate); !within(f, 440, 0.03) {
		t.Errorf("the phone heard %.0f Hz, want 440", f)
	}

	// The far end hangs up.
	if err := ds.Bye(t.Context()); err != nil {
		t.Fatal(err)
	}
	tl.wait(t, engine.PhoneHungUp)
}

func TestDialHangupAfterAnswer(t *testing.T) {
	p := newPhone(t, "127.0.0.42")
	n := startNetwork(t, Config{Addr: "127.0.0.42:0", Gateways: []Gateway{{URI: "sip:" + p.addr}}})
	tl := newTestLine()
	line, err := n.Dial(dial, tl.notify)
	if err != nil {
		t.Fatal(err)
	}
	p.answerNext(200, "OK")
	tl.wait(t, engine.PhoneAnswered)
	line.Hangup()
	if !p.gotBye() {
		t.Fatal("the phone got no BYE")
	}
}

func TestDialFinalResponses(t *testing.T) {
	p := newPhone(t, "127.0.0.43")
	n := startNetwork(t, Config{Addr: "127.0.0.43:0", Gateways: []Gateway{{URI: "sip:" + p.addr}}})
	for _, tc := range []struct {
		code   int
		reason string
		kind   engine.PhoneEventKind
	}{
		{486, "Busy Here", engine.PhoneBusy},
		{603, "Decline", engine.PhoneRejected},
		{480, "Temporarily Unavailable", engine.PhoneNoAnswer},
		{404, "Not Found", engine.PhoneFailed},
		{699, "Something Odd", engine.PhoneUnexplained},
	} {
		t.Run(tc.reason, func(t *testing.T) {
			tl := newTestLine()
			if _, err := n.Dial(dial, tl.notify); err != nil {
				t.Fatal(err)
			}
			p.answerNext(tc.code, tc.reason)
			e := tl.wait(t, tc.kind)
			if e.SIPCode != tc.code {
				t.Errorf("SIPCode %d, want %d", e.SIPCode, tc.code)
			}
			if tc.kind == engine.PhoneFailed && !strings.Contains(e.Reason, "404") {
				t.Errorf("reason %q does not name the code", e.Reason)
			}
			if tl.count(engine.PhoneAnswered) != 0 {
				t.Error("answered")
			}
		})
	}
}

func TestDialHangupWhileRingingCancels(t *testing.T) {
	p := newPhone(t, "127.0.0.44")
	n := startNetwork(t, Config{Addr: "127.0.0.44:0", Gateways: []Gateway{{URI: "sip:" + p.addr}}})
	tl := newTestLine()
	line, err := n.Dial(dial, tl.notify)
	if err != nil {
		t.Fatal(err)
	}
	ds, _ := p.answerNext(0, "")
	tl.wait(t, engine.PhoneRinging)
	line.Hangup()
	select {
	case <-ds.Context().Done():
	case <-time.After(waitFor):
		t.Fatal("the phone saw no CANCEL")
	}
	if err := context.Cause(ds.Context()); !errors.Is(err, sip.ErrTransactionCanceled) {
		t.Errorf("the phone's INVITE ended with %v, want a CANCEL", err)
	}
	time.Sleep(100 * time.Millisecond)
	for _, e := range tl.all() {
		if e.Kind != engine.PhoneSignal && e.Kind != engine.PhoneRinging {
			t.Errorf("event %d after Hangup", e.Kind)
		}
	}
	if s := tl.signals(); !slices.Contains(s, "→ CANCEL") {
		t.Errorf("signals %q lack → CANCEL", s)
	}
}

func TestDial503TriesTheNextGateway(t *testing.T) {
	p1 := newPhone(t, "127.0.0.45")
	p2 := newPhone(t, "127.0.0.45")
	n := startNetwork(t, Config{Addr: "127.0.0.45:0", Gateways: []Gateway{{URI: "sip:" + p1.addr}, {URI: "sip:" + p2.addr}}})
	tl := newTestLine()
	if _, err := n.Dial(dial, tl.notify); err != nil {
		t.Fatal(err)
	}
	p1.answerNext(503, "Service Unavailable")
	p2.answerNext(200, "OK")
	tl.wait(t, engine.PhoneAnswered)
	if tl.count(engine.PhoneFailed) != 0 {
		t.Errorf("failed: %s", tl.describe())
	}
}

func TestDial503OnTheLastGatewayFails(t *testing.T) {
	p := newPhone(t, "127.0.0.46")
	n := startNetwork(t, Config{Addr: "127.0.0.46:0", Gateways: []Gateway{{URI: "sip:" + p.addr}}})
	tl := newTestLine()
	if _, err := n.Dial(dial, tl.notify); err != nil {
		t.Fatal(err)
	}
	p.answerNext(503, "Service Unavailable")
	if e := tl.wait(t, engine.PhoneFailed); e.SIPCode != 503 {
		t.Errorf("failed with %d, want 503", e.SIPCode)
	}
}

func TestDialAnswersADigestChallenge(t *testing.T) {
	p := newPhone(t, "127.0.0.47")
	n := startNetwork(t, Config{Addr: "127.0.0.47:0", Gateways: []Gateway{{URI: "sip:" + p.addr, Username: "trunk", Password: "s3cret"}}})
	tl := newTestLine()
	if _, err := n.Dial(dial, tl.notify); err != nil {
		t.Fatal(err)
	}
	first := p.next()
	if first.req.GetHeader("Authorization") != nil {
		t.Error("credentials sent before a challenge")
	}
	res := sip.NewResponseFromRequest(first.req, 401, "Unauthorized", nil)
	res.AppendHeader(sip.NewHeader("WWW-Authenticate", `Digest realm="trunk.test", nonce="n0nce", algorithm=MD5`))
	if err := first.tx.Respond(res); err != nil {
		t.Fatal(err)
	}
	close(first.done)
	second := p.next()
	h := second.req.GetHeader("Authorization")
	if h == nil {
		close(second.done)
		t.Fatal("no Authorization on the second INVITE")
	}
	f := digestFields(h.Value())
	want := digestResponse("trunk", "trunk.test", "s3cret", "INVITE", f["uri"], "n0nce")
	if f["username"] != "trunk" || f["response"] != want {
		close(second.done)
		t.Fatalf("Authorization %s: response %q, want %q", h.Value(), f["response"], want)
	}
	p.answer(second, 200, "OK")
	tl.wait(t, engine.PhoneAnswered)
}

func TestDialSIPURI(t *testing.T) {
	p := newPhone(t, "127.0.0.48")
	var mu sync.Mutex
	var asked []string
	refuseFrom := atomic.Int32{} // the check from which on hosts are refused, 0 for none
	var checks atomic.Int32
	n := startNetwork(t, Config{Addr: "127.0.0.48:0", CheckHost: func(ctx context.Context, host string) error {
		mu.Lock()
		asked = append(asked, host)
		mu.Unlock()
		if k := refuseFrom.Load(); k > 0 && checks.Add(1) >= k {
			return errors.New("address not allowed")
		}
		if host == "127.0.0.48" {
			return nil
		}
		return errors.New("address not allowed")
	}})
	// No gateway: a number cannot be called.
	if _, err := n.Dial(dial, func(engine.PhoneEvent) {}); err == nil || !strings.Contains(err.Error(), "gateway") {
		t.Errorf("Dial of a number without a gateway: %v", err)
	}
	// A host the guard refuses: Dial returns at once, the call fails.
	// The address is only parsed, never dialled.
	d := dial
	d.To = "sip:bob@10.1.2.3:5070" // only parsed or refused by the guard: never dialled
	tl := newTestLine()
	if _, err := n.Dial(d, tl.notify); err != nil {
		t.Fatal(err)
	}
	if e := tl.wait(t, engine.PhoneFailed); !strings.Contains(e.Reason, "10.1.2.3:5070") || !strings.Contains(e.Reason, "address not allowed") { // only parsed or refused by the guard: never dialled
		t.Errorf("Dial of a refused host failed with %q", e.Reason)
	}
	// A host the guard allows: dialled at its own address.
	d.To = "sip:bob@" + p.addr
	tl = newTestLine()
	if _, err := n.Dial(d, tl.notify); err != nil {
		t.Fatal(err)
	}
	_, invite := p.answerNext(486, "Busy Here")
	if invite.Recipient.User != "bob" {
		t.Errorf("INVITE to %s", invite.Recipient.String())
	}
	if e := tl.wait(t, engine.PhoneBusy); e.SIPCode != 486 {
		t.Errorf("busy with %d", e.SIPCode)
	}
	mu.Lock()
	if !slices.Equal(asked, []string{"10.1.2.3", "127.0.0.48"}) { // only parsed or refused by the guard: never dialled
		t.Errorf("CheckHost asked for %q", asked)
	}
	mu.Unlock()

	// The media address of the answer goes through the guard too: refused,
	// the call fails and is hung up. Checks: the host, the Contact, the
	// media.
	refuseFrom.Store(3)
	tl = newTestLine()
	if _, err := n.Dial(d, tl.notify); err != nil {
		t.Fatal(err)
	}
	p.answerNext(200, "OK")
	if e := tl.wait(t, engine.PhoneFailed); !strings.Contains(e.Reason, "media address 127.0.0.48 refused") {
		t.Errorf("failed with %q", e.Reason)
	}
	if !p.gotBye() {
		t.Error("the phone got no BYE")
	}
	if tl.count(engine.PhoneAnswered) != 0 {
		t.Error("answered")
	}
}

func TestDialSIPURIResolvesTheHostOnce(t *testing.T) {
	p := newPhone(t, "127.0.0.1")
	var mu sync.Mutex
	var asked []string
	n := startNetwork(t, Config{Addr: "127.0.0.1:0", CheckHost: func(ctx context.Context, host string) error {
		mu.Lock()
		asked = append(asked, host)
		mu.Unlock()
		return nil
	}})
	// localhost is resolved once, each address checked, and the INVITE
	// sent to the checked address, with the name kept in the Request-URI.
	_, port, _ := strings.Cut(p.addr, ":")
	d := dial
	d.To = "sip:bob@localhost:" + port
	tl := newTestLine()
	if _, err := n.Dial(d, tl.notify); err != nil {
		t.Fatal(err)
	}
	_, invite := p.answerNext(486, "Busy Here")
	tl.wait(t, engine.PhoneBusy)
	if invite.Recipient.Host != "localhost" {
		t.Errorf("Request-URI %s, want the host localhost", invite.Recipient.String())
	}
	mu.Lock()
	defer mu.Unlock()
	if len(asked) == 0 {
		t.Fatal("CheckHost was not asked")
	}
	for _, h := range asked {
		if _, err := netip.ParseAddr(h); err != nil {
			t.Errorf("CheckHost asked about %q, want an address", h)
		}
	}
}

func TestDialRefusedContactGetsNothing(t *testing.T) {
	p := newPhone(t, "127.0.0.78")
	var checks atomic.Int32
	n := startNetwork(t, Config{Addr: "127.0.0.78:0", CheckHost: func(ctx context.Context, host string) error {
		if checks.Add(1) == 2 { // the answer's Contact
			return errors.New("address not allowed")
		}
		return nil
	}})
	d := dial
	d.To = "sip:bob@" + p.addr
	tl := newTestLine()
	if _, err := n.Dial(d, tl.notify); err != nil {
		t.Fatal(err)
	}
	in := p.next()
	defer close(in.done)
	res := sip.NewSDPResponseFromRequest(in.req, p.offer(101))
	res.AppendHeader(sip.HeaderClone(&p.dua.ContactHDR))
	if err := in.tx.Respond(res); err != nil {
		t.Fatal(err)
	}
	if e := tl.wait(t, engine.PhoneFailed); !strings.Contains(e.Reason, "Contact host 127.0.0.78 refused: address not allowed") {
		t.Errorf("failed with %q", e.Reason)
	}
	if tl.count(engine.PhoneAnswered) != 0 {
		t.Error("answered")
	}
	select {
	case <-p.byes:
		t.Error("the refused Contact got a BYE")
	case <-p.acks:
		t.Error("the refused Contact got an ACK")
	case <-time.After(300 * time.Millisecond):
	}
}

func TestTCP(t *testing.T) {
	p := newPhone(t, "127.0.0.49")
	fe := newFakeEngine("+15550001000")
	n := startNetwork(t, Config{Addr: "127.0.0.49:0", Answers: fe.Answers, Calls: fe,
		Gateways: []Gateway{{URI: "sip:" + p.addr + ";transport=tcp"}}})

	// Outbound through a TCP gateway, hung up by us.
	tl := newTestLine()
	line, err := n.Dial(dial, tl.notify)
	if err != nil {
		t.Fatal(err)
	}
	_, invite := p.answerNext(200, "OK")
	if tr := invite.Transport(); !strings.EqualFold(tr, "tcp") {
		t.Errorf("INVITE came over %s", tr)
	}
	tl.wait(t, engine.PhoneAnswered)
	line.Hangup()
	if !p.gotBye() {
		t.Fatal("the phone got no BYE over TCP")
	}

	// Inbound over TCP, hung up by the phone.
	done := make(chan error, 1)
	var dc *sipgo.DialogClientSession
	go func() {
		c, _, err := p.call(t.Context(), "sip:+15550001000@"+n.Addr()+";transport=tcp", p.offer(101))
		dc = c
		done <- err
	}()
	in := fe.next(t)
	in.Answered()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := dc.Bye(t.Context()); err != nil {
		t.Fatal(err)
	}
	in.wait(t, engine.PhoneHungUp)
}

func TestDialDoesNotWaitForTheHostCheck(t *testing.T) {
	release := make(chan struct{})
	n := startNetwork(t, Config{Addr: "127.0.0.81:0", CheckHost: func(ctx context.Context, host string) error {
		select {
		case <-release:
			return errors.New("address not allowed")
		case <-ctx.Done():
			return ctx.Err()
		}
	}})
	d := dial
	d.To = "sip:bob@127.0.0.81:5999"
	tl := newTestLine()
	returned := make(chan error, 1)
	go func() {
		_, err := n.Dial(d, tl.notify)
		returned <- err
	}()
	select {
	case err := <-returned:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(time.Second):
		t.Fatal("Dial waited for the host check")
	}
	close(release)
	if e := tl.wait(t, engine.PhoneFailed); !strings.Contains(e.Reason, "127.0.0.81:5999") {
		t.Errorf("failed with %q", e.Reason)
	}
}
