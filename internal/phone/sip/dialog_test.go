package sip

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/voicehook/voicehook/internal/engine"
)

// The RTP ports of these tests: the line's network, and the network that
// ends its dialog (which carries no media).
var (
	dialogLinePorts  = [2]int{33000, 33099}
	dialogEnderPorts = [2]int{33100, 33199}
)

// waitDialogs waits until tl has reported n PhoneDialog events and returns
// their states, in order.
func waitDialogs(t *testing.T, tl *testLine, n int) [][]byte {
	t.Helper()
	deadline := time.After(waitFor)
	for {
		var states [][]byte
		for _, e := range tl.all() {
			if e.Kind == engine.PhoneDialog {
				states = append(states, e.Dialog)
			}
		}
		if len(states) >= n {
			return states
		}
		select {
		case <-tl.wake:
		case <-deadline:
			t.Fatalf("%d PhoneDialog events, want %d: %s", len(states), n, tl.describe())
		}
	}
}

func decodeDialog(t *testing.T, b []byte) *dialogState {
	t.Helper()
	d, err := parseDialog(b)
	if err != nil {
		t.Fatalf("dialog state %s: %v", b, err)
	}
	return d
}

// waitEnded waits for the far end's dialog to end.
func waitEnded(t *testing.T, ctx context.Context) {
	t.Helper()
	select {
	case <-ctx.Done():
	case <-time.After(waitFor):
		t.Fatal("the far end's dialog did not end")
	}
}

// firstBye is the first BYE the phone took in one of its dialogs.
func (p *phone) firstBye(t *testing.T) *sip.Request {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.byeReqs) == 0 {
		t.Fatal("the phone took no BYE")
	}
	return p.byeReqs[0]
}

// checkBye checks that bye came from the network at from, in the dialog
// whose tags are ours (From) and theirs (To), with the CSeq stored+1000.
func checkBye(t *testing.T, bye *sip.Request, from, callID, ours, theirs string, stored uint32) {
	t.Helper()
	if got := bye.CallID().Value(); got != callID {
		t.Errorf("BYE Call-ID %q, want %q", got, callID)
	}
	if got := tag(bye.From().Params); got != ours {
		t.Errorf("BYE From tag %q, want voicehook's %q", got, ours)
	}
	if got := tag(bye.To().Params); got != theirs {
		t.Errorf("BYE To tag %q, want the far end's %q", got, theirs)
	}
	if c := bye.CSeq(); c.SeqNo != stored+byeCSeqStep || c.MethodName != sip.BYE {
		t.Errorf("BYE CSeq %s, want %d BYE", c.Value(), stored+byeCSeqStep)
	}
	if via := bye.Via(); via == nil || via.SentBy() != from {
		t.Errorf("BYE Via %v, want the ending network's %s", bye.Via(), from)
	}
	if bye.Source() != from {
		t.Errorf("BYE came from %s, want %s", bye.Source(), from)
	}
}

func TestEndDialogOfAnOutboundCall(t *testing.T) {
	p := newPhone(t, "127.0.0.150")
	a := startNetwork(t, Config{Addr: "127.0.0.151:0", RTPPorts: dialogLinePorts, Gateways: []Gateway{{URI: "sip:" + p.addr}}})
	b := startNetwork(t, Config{Addr: "127.0.0.152:0", RTPPorts: dialogEnderPorts})
	tl := newTestLine()
	line, err := a.Dial(dial, tl.notify)
	if err != nil {
		t.Fatal(err)
	}
	tl.Line = line
	ds, invite := p.answerNext(200, "OK")
	raw := waitDialogs(t, tl, 1)[0]
	events := tl.all()
	answered := slices.IndexFunc(events, func(e engine.PhoneEvent) bool { return e.Kind == engine.PhoneAnswered })
	reported := slices.IndexFunc(events, func(e engine.PhoneEvent) bool { return e.Kind == engine.PhoneDialog })
	if answered < 0 || reported < answered {
		t.Errorf("want PhoneDialog after PhoneAnswered: %s", tl.describe())
	}
	d := decodeDialog(t, raw)
	if d.Target != p.dua.ContactHDR.Address.String() || d.Transport != "udp" {
		t.Errorf("dialog target %q over %s, want the phone's Contact %s over udp", d.Target, d.Transport, p.dua.ContactHDR.Address.String())
	}

	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
	defer cancel()
	if err := b.EndDialog(ctx, raw); err != nil {
		t.Fatalf("EndDialog: %v", err)
	}
	waitEnded(t, ds.Context())
	bye := p.firstBye(t)
	if got := bye.Recipient.String(); got != p.dua.ContactHDR.Address.String() {
		t.Errorf("BYE Request-URI %s, want the phone's Contact %s", got, p.dua.ContactHDR.Address.String())
	}
	checkBye(t, bye, b.Addr(), invite.CallID().Value(), tag(invite.From().Params), tag(ds.InviteResponse.To().Params), d.CSeq)
}

func TestEndDialogOverTCP(t *testing.T) {
	p := newPhone(t, "127.0.0.150")
	a := startNetwork(t, Config{Addr: "127.0.0.151:0", RTPPorts: dialogLinePorts, Gateways: []Gateway{{URI: "sip:" + p.addr + ";transport=tcp"}}})
	b := startNetwork(t, Config{Addr: "127.0.0.152:0", RTPPorts: dialogEnderPorts})
	tl := newTestLine()
	line, err := a.Dial(dial, tl.notify)
	if err != nil {
		t.Fatal(err)
	}
	tl.Line = line
	ds, _ := p.answerNext(200, "OK")
	raw := waitDialogs(t, tl, 1)[0]
	if d := decodeDialog(t, raw); d.Transport != "tcp" {
		t.Errorf("dialog transport %q, want tcp", d.Transport)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
	defer cancel()
	if err := b.EndDialog(ctx, raw); err != nil {
		t.Fatalf("EndDialog: %v", err)
	}
	waitEnded(t, ds.Context())
	// Over TCP the Via names the connection's own port, not the listener's.
	if via := p.firstBye(t).Via(); !strings.EqualFold(via.Transport, "tcp") || via.Host != "127.0.0.152" {
		t.Errorf("BYE Via %s, want TCP from 127.0.0.152", via.Value())
	}
}

func TestEndDialogOfAnInboundCallAfterATargetRefresh(t *testing.T) {
	p := newPhone(t, "127.0.0.153")
	_, _, tl, dc := inboundCallOn(t, "127.0.0.154", p, Config{RTPPorts: dialogLinePorts}, 101)
	b := startNetwork(t, Config{Addr: "127.0.0.155:0", RTPPorts: dialogEnderPorts})
	first := decodeDialog(t, waitDialogs(t, tl, 1)[0])
	if first.Target != p.dua.ContactHDR.Address.String() {
		t.Errorf("dialog target %q, want the phone's Contact %s", first.Target, p.dua.ContactHDR.Address.String())
	}

	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
	defer cancel()
	reinviteFrom := func(contact sip.Uri) {
		req := sip.NewRequest(sip.INVITE, dc.InviteResponse.Contact().Address)
		req.AppendHeader(&sip.ContactHeader{Address: contact})
		res, err := dc.Do(ctx, req)
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("re-INVITE: %v %v", res, err)
		}
		if err := dc.WriteRequest(sip.NewRequest(sip.ACK, req.Recipient)); err != nil {
			t.Fatalf("ACK: %v", err)
		}
	}
	// A re-INVITE from the same Contact changes nothing: the next report
	// is the one of the move that follows.
	reinviteFrom(p.dua.ContactHDR.Address)
	// The phone moves: a re-INVITE with a new Contact refreshes the target.
	moved := p.dua.ContactHDR.Address
	moved.User = "moved"
	reinviteFrom(moved)
	raw := waitDialogs(t, tl, 2)[1]
	d := decodeDialog(t, raw)
	if d.Target != moved.String() {
		t.Errorf("refreshed target %q, want %s", d.Target, moved.String())
	}

	if err := b.EndDialog(ctx, raw); err != nil {
		t.Fatalf("EndDialog: %v", err)
	}
	waitEnded(t, dc.Context())
	bye := p.firstBye(t)
	if bye.Recipient.User != "moved" {
		t.Errorf("BYE Request-URI %s, want the refreshed target %s", bye.Recipient.String(), moved.String())
	}
	checkBye(t, bye, b.Addr(), dc.InviteRequest.CallID().Value(), tag(dc.InviteResponse.To().Params), tag(dc.InviteRequest.From().Params), d.CSeq)
}

// responder answers every SIP request it gets over UDP with code, and
// records them.
type responder struct {
	addr string
	reqs chan *sip.Request
}

func newResponder(t *testing.T, host string, code int, reason string) *responder {
	t.Helper()
	conn, err := net.ListenPacket("udp", host+":0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	r := &responder{addr: conn.LocalAddr().String(), reqs: make(chan *sip.Request, 8)}
	go func() {
		buf := make([]byte, 65535)
		for {
			n, from, err := conn.ReadFrom(buf)
			if err != nil {
				return
			}
			msg, err := sip.ParseMessage(buf[:n])
			req, ok := msg.(*sip.Request)
			if err != nil || !ok {
				continue
			}
			select {
			case r.reqs <- req:
			default:
			}
			res := sip.NewResponseFromRequest(req, code, reason, nil)
			if _, err := conn.WriteTo([]byte(res.String()), from); err != nil {
				return
			}
		}
	}()
	return r
}

// state is a dialog state whose target is uri.
func state(t *testing.T, uri string) []byte {
	t.Helper()
	b, err := json.Marshal(dialogState{V: dialogVersion, CallID: "call-1", LocalTag: "ours", RemoteTag: "theirs",
		LocalURI: "sip:voicehook@127.0.0.151", RemoteURI: "sip:+15551112222@127.0.0.150", Target: uri, Transport: "udp", CSeq: 7})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestEndDialogFinalResponses(t *testing.T) {
	n := startNetwork(t, Config{Addr: "127.0.0.151:0", RTPPorts: dialogEnderPorts})
	for _, tc := range []struct {
		code    int
		reason  string
		wantErr bool
	}{
		{200, "OK", false},
		{481, "Call/Transaction Does Not Exist", false},
		{500, "Server Internal Error", true},
	} {
		t.Run(tc.reason, func(t *testing.T) {
			r := newResponder(t, "127.0.0.150", tc.code, tc.reason)
			ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
			defer cancel()
			err := n.EndDialog(ctx, state(t, "sip:far@"+r.addr))
			if tc.wantErr {
				if err == nil || !strings.Contains(err.Error(), "500") {
					t.Errorf("EndDialog: %v, want an error naming the 500", err)
				}
			} else if err != nil {
				t.Errorf("EndDialog: %v", err)
			}
			req := <-r.reqs // a response came, so the request did
			if req.Method != sip.BYE || req.Recipient.String() != "sip:far@"+r.addr {
				t.Errorf("the far end got %s %s", req.Method, req.Recipient.String())
			}
		})
	}
}

func TestEndDialogUnreachable(t *testing.T) {
	n := startNetwork(t, Config{Addr: "127.0.0.151:0", RTPPorts: dialogEnderPorts})
	// A port nobody listens on: taken, then let go.
	c, err := net.ListenPacket("udp", "127.0.0.150:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := c.LocalAddr().String()
	c.Close()
	const deadline = 2 * time.Second
	ctx, cancel := context.WithTimeout(t.Context(), deadline)
	defer cancel()
	start := time.Now()
	err = n.EndDialog(ctx, state(t, "sip:far@"+addr))
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "no final response") {
		t.Errorf("EndDialog: %v, want no final response before the deadline", err)
	}
	if took := time.Since(start); took < deadline-50*time.Millisecond || took > deadline+time.Second {
		t.Errorf("EndDialog returned after %v, want about %v", took, deadline)
	}
}

func TestEndDialogBadState(t *testing.T) {
	n := startNetwork(t, Config{Addr: "127.0.0.151:0", RTPPorts: dialogEnderPorts})
	good := func(edit func(d *dialogState)) []byte {
		d := dialogState{V: dialogVersion, CallID: "c", LocalTag: "a", RemoteTag: "b", LocalURI: "sip:a@127.0.0.151",
			RemoteURI: "sip:b@127.0.0.150", Target: "sip:b@127.0.0.150:5", Transport: "udp"}
		edit(&d)
		b, err := json.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for _, tc := range []struct {
		state []byte
		want  string
	}{
		{[]byte("\x00garbage"), "not JSON"},
		{nil, "not JSON"},
		{[]byte(`{"v":2}`), "version 2"},
		{good(func(d *dialogState) { d.RemoteTag = "" }), "no remoteTag"},
		{good(func(d *dialogState) { d.Target = "" }), "no target"},
		{good(func(d *dialogState) { d.Target = "tel:+1555" }), `target "tel:+1555"`},
		{good(func(d *dialogState) { d.Routes = []string{"<<"} }), `route "<<"`},
		{good(func(d *dialogState) { d.Transport = "sctp" }), `transport "sctp"`},
		{good(func(d *dialogState) { d.CSeq = 1<<31 - 1 }), "cseq"},
	} {
		err := n.EndDialog(t.Context(), tc.state)
		if err == nil || !strings.Contains(err.Error(), "dialog state: "+tc.want) {
			t.Errorf("EndDialog(%q): %v, want an error with %q", tc.state, err, tc.want)
		}
	}
}

func TestEndDialogOfANetworkNotStarted(t *testing.T) {
	n, err := New(Config{Addr: "127.0.0.151:0", RTPPorts: dialogEnderPorts})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.EndDialog(t.Context(), state(t, "sip:far@127.0.0.150:5")); err == nil || !strings.Contains(err.Error(), "not running") {
		t.Errorf("EndDialog: %v, want an error saying the network is not running", err)
	}
}

// parse parses a SIP message written with \n line ends.
func parse(t *testing.T, text string) sip.Message {
	t.Helper()
	m, err := sip.ParseMessage([]byte(strings.ReplaceAll(text, "\n", "\r\n")))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

const routedInvite = `INVITE sip:+15551112222@127.0.0.150 SIP/2.0
Via: SIP/2.0/UDP 127.0.0.151:5060;branch=z9hG4bK1
Record-Route: <sip:p2.example;lr>, <sip:p1.example;lr>
From: <sip:+15550002000@127.0.0.151>;tag=caller
To: <sip:+15551112222@127.0.0.150>
Call-ID: routed-1
CSeq: 5 INVITE
Contact: <sip:caller@127.0.0.151:5060>
Content-Length: 0

`

const routedAnswer = `SIP/2.0 200 OK
Via: SIP/2.0/UDP 127.0.0.151:5060;branch=z9hG4bK1
Record-Route: <sip:p2.example;lr>
Record-Route: <sip:p1.example;lr>
From: <sip:+15550002000@127.0.0.151>;tag=caller
To: <sip:+15551112222@127.0.0.150>;tag=callee
Call-ID: routed-1
CSeq: 5 INVITE
Contact: <sip:callee@127.0.0.150:5070>
Content-Length: 0

`

// The route set is the Record-Route reversed for the caller, as it came
// for the callee; the BYE's Route headers follow it.
func TestDialogRouteSet(t *testing.T) {
	inv := parse(t, routedInvite).(*sip.Request)
	res := parse(t, routedAnswer).(*sip.Response)
	uac, err := uacDialog(&sipgo.DialogClientSession{Dialog: sipgo.Dialog{InviteRequest: inv, InviteResponse: res}})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"sip:p1.example;lr", "sip:p2.example;lr"}; !slices.Equal(uac.Routes, want) {
		t.Errorf("caller's route set %q, want %q", uac.Routes, want)
	}
	if uac.LocalTag != "caller" || uac.RemoteTag != "callee" || uac.Target != "sip:callee@127.0.0.150:5070" {
		t.Errorf("caller's dialog %+v", uac)
	}
	inv.To().Params.Add("tag", "callee") // as sipgo's ReadInvite does
	uas, err := uasDialog(&sipgo.DialogServerSession{Dialog: sipgo.Dialog{InviteRequest: inv}})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"sip:p2.example;lr", "sip:p1.example;lr"}; !slices.Equal(uas.Routes, want) {
		t.Errorf("callee's route set %q, want %q", uas.Routes, want)
	}
	if uas.LocalTag != "callee" || uas.RemoteTag != "caller" || uas.Target != "sip:caller@127.0.0.151:5060" {
		t.Errorf("callee's dialog %+v", uas)
	}

	bye, err := byeRequest(uac)
	if err != nil {
		t.Fatal(err)
	}
	var routes []string
	for _, h := range bye.GetHeaders("Route") {
		routes = append(routes, h.Value())
	}
	if want := []string{"<sip:p1.example;lr>", "<sip:p2.example;lr>"}; !slices.Equal(routes, want) || bye.Recipient.String() != uac.Target {
		t.Errorf("BYE to %s by %q, want to %s by %q", bye.Recipient.String(), routes, uac.Target, want)
	}
	if bye.Destination() != "p1.example:5060" {
		t.Errorf("BYE goes to %s, want the first route", bye.Destination())
	}

	// A strict router (no lr) takes the Request-URI; the target goes last.
	uac.Routes = []string{"sip:strict.example:5080;transport=udp", "sip:p2.example;lr"}
	if bye, err = byeRequest(uac); err != nil {
		t.Fatal(err)
	}
	routes = routes[:0]
	for _, h := range bye.GetHeaders("Route") {
		routes = append(routes, h.Value())
	}
	if want := []string{"<sip:p2.example;lr>", "<" + uac.Target + ">"}; !slices.Equal(routes, want) || bye.Recipient.String() != "sip:strict.example:5080" {
		t.Errorf("BYE to %s by %q, want to sip:strict.example:5080 by %q", bye.Recipient.String(), routes, want)
	}
	if bye.Destination() != "strict.example:5080" {
		t.Errorf("BYE goes to %s, want the strict router", bye.Destination())
	}
}

// A call to a SIP URI's own host takes a new target only where
// Config.CheckHost allows it.
func TestGuardedTargetRefresh(t *testing.T) {
	p := newPhone(t, "127.0.0.150")
	a := startNetwork(t, Config{Addr: "127.0.0.151:0", RTPPorts: dialogLinePorts, CheckHost: func(ctx context.Context, host string) error {
		if host == "127.0.0.150" {
			return nil
		}
		return errors.New("address not allowed")
	}})
	tl := newTestLine()
	d := dial
	d.To = "sip:bob@" + p.addr
	line, err := a.Dial(d, tl.notify)
	if err != nil {
		t.Fatal(err)
	}
	tl.Line = line
	ds, invite := p.answerNext(200, "OK")
	waitDialogs(t, tl, 1)
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
	defer cancel()
	reinviteFrom := func(contact sip.Uri) {
		req := sip.NewRequest(sip.INVITE, invite.Contact().Address)
		req.AppendHeader(&sip.ContactHeader{Address: contact})
		res, err := ds.Do(ctx, req)
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("re-INVITE: %v %v", res, err)
		}
		if err := ds.WriteRequest(sip.NewRequest(sip.ACK, req.Recipient)); err != nil {
			t.Fatalf("ACK: %v", err)
		}
	}
	// Refused (the address is only checked, never sent to).
	reinviteFrom(sip.Uri{Scheme: "sip", User: "elsewhere", Host: "127.0.0.155", Port: 5060})
	moved := p.dua.ContactHDR.Address
	moved.User = "moved"
	reinviteFrom(moved)
	if got := decodeDialog(t, waitDialogs(t, tl, 2)[1]).Target; got != moved.String() {
		t.Errorf("target after the refreshes %q, want %s (the refused one skipped)", got, moved.String())
	}
}
