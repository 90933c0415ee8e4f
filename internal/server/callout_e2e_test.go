package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/voicehook/voicehook/internal/config"
	"github.com/voicehook/voicehook/internal/server"
)

// invite sends an INVITE from user's softphone (the peer) to number at
// voicehook, answering a digest challenge with password when it is not
// "", and returns the final status code.
func (p *sipPeer) invite(t *testing.T, to, user, password, number string) int {
	t.Helper()
	code, _ := p.inviteReq(t, to, user, password, number)
	return code
}

// inviteReq is invite, which also returns the request as last sent (with
// its Authorization, when challenged).
func (p *sipPeer) inviteReq(t *testing.T, to, user, password, number string) (int, *sip.Request) {
	t.Helper()
	host, _, _ := net.SplitHostPort(to)
	var recipient sip.Uri
	if err := sip.ParseUri("sip:"+number+"@"+to, &recipient); err != nil {
		t.Fatal(err)
	}
	req := sip.NewRequest(sip.INVITE, recipient)
	from := &sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: user, Host: host}, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(8))
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: number, Host: host}})
	var contact sip.Uri
	if err := sip.ParseUri("sip:"+user+"@"+p.addr, &contact); err != nil {
		t.Fatal(err)
	}
	req.AppendHeader(&sip.ContactHeader{Address: contact})
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	phost, _, _ := net.SplitHostPort(p.addr)
	req.SetBody([]byte(fmt.Sprintf("v=0\r\no=- 1 1 IN IP4 %[1]s\r\ns=-\r\nc=IN IP4 %[1]s\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0 101\r\n"+
		"a=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n", phost)))
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Second)
	defer cancel()
	tx, err := p.client.TransactionRequest(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Terminate()
	res := finalResponse(t, ctx, tx, "INVITE to "+number)
	if res.StatusCode == 401 && password != "" {
		tx2, err := p.client.TransactionDigestAuth(ctx, req, res, sipgo.DigestAuth{Username: user, Password: password})
		if err != nil {
			t.Fatal(err)
		}
		defer tx2.Terminate()
		res = finalResponse(t, ctx, tx2, "INVITE to "+number)
	}
	return res.StatusCode, req
}

// replay sends req again as a new call (a new Call-ID, From tag and
// branch), its Authorization as it was, to number, and returns the final
// status code: what someone who captured the INVITE could do.
func (p *sipPeer) replay(t *testing.T, req *sip.Request, number string) int {
	t.Helper()
	again := req.Clone()
	again.Recipient.User = number
	again.To().Address.User = number
	again.From().Params.Add("tag", sip.GenerateTagN(8))
	again.RemoveHeader("Call-ID")
	again.AppendHeader(sip.NewHeader("Call-ID", sip.GenerateTagN(16)))
	again.RemoveHeader("Via")
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Second)
	defer cancel()
	tx, err := p.client.TransactionRequest(ctx, again, sipgo.ClientRequestAddVia)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Terminate()
	return finalResponse(t, ctx, tx, "replayed INVITE").StatusCode
}

// finalResponse waits for the final response of tx, what names it.
func finalResponse(t *testing.T, ctx context.Context, tx sip.ClientTransaction, what string) *sip.Response {
	t.Helper()
	for {
		select {
		case res := <-tx.Responses():
			if res.StatusCode >= 200 {
				return res
			}
		case <-tx.Done():
			t.Fatalf("%s: no final response", what)
		case <-ctx.Done():
			t.Fatalf("%s: no final response in time", what)
		}
	}
}

// A softphone calls out: to another softphone's number, or, when its user
// may use the gateway, to any number no application answers. Its INVITE
// must carry the user's credentials; voicehook forwards the call, which
// shows up as two legs from the user's number.
func TestSoftphoneCallsOut(t *testing.T) {
	gateway := newSIPPeer(t, "127.0.0.176")
	bob := newSIPPeer(t, "127.0.0.177")
	alice := newSIPPeer(t, "127.0.0.178")
	srv := startServerWith(t, server.Config{SIP: config.SIP{Addr: "127.0.0.179:0", RTPPorts: [2]int{25300, 25399},
		Gateways: []config.Gateway{{URI: "sip:" + gateway.addr}},
		Users: []config.User{{Username: "alice", Password: "a-secret", Number: "+15557770011", Gateway: true},
			{Username: "bob", Password: "b-secret", Number: "+15557770012"}}}})
	if code := bob.register(t, srv.SIPAddr(), "bob", "b-secret"); code != 200 {
		t.Fatalf("bob registers: %d", code)
	}

	if code := alice.invite(t, srv.SIPAddr(), "alice", "", "+15557770012"); code != 401 {
		t.Errorf("alice calls bob without credentials: %d, want 401", code)
	}
	if code := alice.invite(t, srv.SIPAddr(), "alice", "wrong", "+15557770012"); code != 401 {
		t.Errorf("alice calls bob with a wrong password: %d, want 401", code)
	}
	// Bob's softphone is busy (every sipPeer answers 486): alice's call
	// is declined, after bob's phone got the INVITE.
	if code := alice.invite(t, srv.SIPAddr(), "alice", "a-secret", "15557770012"); code != 486 {
		t.Errorf("alice calls bob, who is busy: %d, want 486 (bob's answer, passed on)", code)
	}
	select {
	case uri := <-bob.invites:
		if !strings.Contains(uri, "@127.0.0.177") {
			t.Errorf("bob's INVITE went to %s", uri)
		}
	case <-time.After(4 * time.Second):
		t.Fatal("bob's softphone got no INVITE")
	}

	// Alice may use the gateway; bob may not.
	if code := alice.invite(t, srv.SIPAddr(), "alice", "a-secret", "+15553334444"); code != 486 {
		t.Errorf("alice calls out through the busy gateway: %d, want 486", code)
	}
	select {
	case uri := <-gateway.invites:
		if !strings.HasPrefix(uri, "sip:+15553334444@") {
			t.Errorf("the gateway's INVITE went to %s", uri)
		}
	case <-time.After(4 * time.Second):
		t.Fatal("the gateway got no INVITE for alice's call")
	}
	// A captured INVITE cannot be sent again, to the same number or
	// another: its credentials were for one call.
	code, spent := alice.inviteReq(t, srv.SIPAddr(), "alice", "a-secret", "+15553334446")
	if code != 486 {
		t.Fatalf("alice calls +15553334446: %d", code)
	}
	<-gateway.invites
	for _, n := range []string{"+15553334446", "+15553334447"} {
		if code := alice.replay(t, spent, n); code != 401 {
			t.Errorf("alice's INVITE replayed to %s: %d, want 401 (a new challenge)", n, code)
		}
	}
	// Bob may not use the gateway, and alice's softphone has not
	// registered: a call to her number would go to the trunk.
	if code := bob.invite(t, srv.SIPAddr(), "bob", "b-secret", "+15557770011"); code != 480 {
		t.Errorf("bob calls alice, who is not registered: %d, want 480", code)
	}
	if code := bob.invite(t, srv.SIPAddr(), "bob", "b-secret", "+15553334445"); code != 404 {
		t.Errorf("bob, not allowed the gateway, calls out: %d, want 404", code)
	}
	select {
	case uri := <-gateway.invites:
		t.Errorf("the gateway got bob's call to %s", uri)
	case <-time.After(500 * time.Millisecond):
	}

	// The console and the API see the forwarded calls, from alice.
	var calls []struct{ Direction, From, To, DisconnectCause string }
	deadline := time.Now().Add(4 * time.Second)
	var got string
	for {
		status, _, body := rest(t, srv, "GET", "/api/v2/accounts/9900000/calls", "", "")
		if status != 200 || json.Unmarshal(body, &calls) != nil {
			t.Fatalf("list calls: %d %s", status, body)
		}
		var legs []string
		for _, c := range calls {
			legs = append(legs, fmt.Sprintf("%s %s→%s %s", c.Direction, c.From, c.To, c.DisconnectCause))
		}
		got = strings.Join(legs, "\n")
		if strings.Count(got, " busy") >= 2 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, want := range []string{"inbound +15557770011→+15557770012", "outbound +15557770011→+15557770012 busy",
		"inbound +15557770011→+15553334444", "outbound +15557770011→+15553334444 busy"} {
		if !strings.Contains(got, want) {
			t.Errorf("calls:\n%s\nwant one %q", got, want)
		}
	}
}
