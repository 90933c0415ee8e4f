package server_test

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/voicehook/voicehook/callback"
	"github.com/voicehook/voicehook/internal/config"
	"github.com/voicehook/voicehook/internal/server"
)

// sipPeer is a SIP endpoint on loopback (a softphone or a gateway) that
// answers every INVITE 486 Busy Here and reports its Request-URI.
type sipPeer struct {
	addr    string
	client  *sipgo.Client
	invites chan string
}

func newSIPPeer(t *testing.T, host string) *sipPeer {
	t.Helper()
	conn, err := net.ListenPacket("udp", host+":0")
	if err != nil {
		t.Fatal(err)
	}
	p := &sipPeer{addr: conn.LocalAddr().String(), invites: make(chan string, 4)}
	ua, err := sipgo.NewUA(sipgo.WithUserAgentHostname(host))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sipgo.NewServer(ua)
	if err != nil {
		t.Fatal(err)
	}
	if p.client, err = sipgo.NewClient(ua, sipgo.WithClientHostname(host), sipgo.WithClientConnectionAddr(p.addr)); err != nil {
		t.Fatal(err)
	}
	srv.OnInvite(func(req *sip.Request, tx sip.ServerTransaction) {
		select {
		case p.invites <- req.Recipient.String():
		default:
		}
		_ = tx.Respond(sip.NewResponseFromRequest(req, 486, "Busy Here", nil))
	})
	srv.OnAck(func(req *sip.Request, tx sip.ServerTransaction) {})
	go func() { _ = srv.ServeUDP(conn) }()
	t.Cleanup(func() { conn.Close(); ua.Close() })
	// Requests leave from the listening socket once sipgo serves it.
	deadline := time.Now().Add(time.Second)
	for {
		if c, err := ua.TransportLayer().GetConnection("udp", p.addr); err == nil && c != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the SIP peer did not start")
		}
		time.Sleep(time.Millisecond)
	}
	return p
}

// register registers the peer as user at the SIP address to, answering
// the digest challenge, and returns the final status code.
func (p *sipPeer) register(t *testing.T, to, user, password string) int {
	t.Helper()
	host, _, _ := net.SplitHostPort(to)
	var recipient sip.Uri
	if err := sip.ParseUri("sip:"+to, &recipient); err != nil {
		t.Fatal(err)
	}
	req := sip.NewRequest(sip.REGISTER, recipient)
	aor := sip.Uri{Scheme: "sip", User: user, Host: host}
	from := &sip.FromHeader{Address: aor, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(8))
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: aor})
	var contact sip.Uri
	if err := sip.ParseUri("sip:phone@"+p.addr, &contact); err != nil {
		t.Fatal(err)
	}
	req.AppendHeader(&sip.ContactHeader{Address: contact})
	req.AppendHeader(sip.NewHeader("Expires", "600"))
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Second)
	defer cancel()
	res, err := p.client.Do(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode == 401 {
		if res, err = p.client.DoDigestAuth(ctx, req, res, sipgo.DigestAuth{Username: user, Password: password}); err != nil {
			t.Fatal(err)
		}
	}
	return res.StatusCode
}

// A call to the number of a registered softphone rings the softphone,
// not the gateway, and not a simulated phone when there is no gateway.
func TestCallToARegisteredSoftphone(t *testing.T) {
	phone := newSIPPeer(t, "127.0.0.171")
	gateway := newSIPPeer(t, "127.0.0.172")
	for i, gateways := range [][]config.Gateway{{{URI: "sip:" + gateway.addr}}, nil} {
		srv := startServerWith(t, server.Config{SIP: config.SIP{Addr: "127.0.0.170:0", RTPPorts: [2]int{25000 + 100*i, 25099 + 100*i}, Gateways: gateways}})
		if code := phone.register(t, srv.SIPAddr(), server.DefaultSIPUsername, "wrong"); code != 401 {
			t.Errorf("wrong password: %d, want 401", code)
		}
		if code := phone.register(t, srv.SIPAddr(), server.DefaultSIPUsername, server.DefaultSIPPassword); code != 200 {
			t.Fatalf("register as dev/dev: %d, want 200", code)
		}
		app := newApp(t, nil)
		createCall(t, srv, callFields(app, server.DefaultSIPNumber))
		select {
		case uri := <-phone.invites:
			if !strings.Contains(uri, "phone@127.0.0.171") {
				t.Errorf("the softphone's INVITE went to %s", uri)
			}
		case <-time.After(4 * time.Second):
			t.Fatalf("gateways %v: the softphone got no INVITE", gateways)
		}
		if disc := app.waitFor(t, callback.EventDisconnect, 4*time.Second).event.(*callback.Disconnect); disc.Cause != "busy" || disc.SIPResponseCode != 486 {
			t.Errorf("disconnect cause %q, SIP %d; want busy, 486 (the softphone's)", disc.Cause, disc.SIPResponseCode)
		}
		select {
		case uri := <-gateway.invites:
			t.Errorf("the gateway got an INVITE to %s", uri)
		default:
		}
		if gateways == nil {
			continue
		}
		// A number no softphone registered still goes to the gateway.
		createCall(t, srv, callFields(app, "+15553334444"))
		select {
		case <-gateway.invites:
		case <-time.After(4 * time.Second):
			t.Fatal("the gateway got no INVITE for another number")
		}
	}
}

// The dev and agent softphone users come only with the dev account, and
// their passwords refuse SIP beyond loopback.
func TestSoftphoneUsers(t *testing.T) {
	srv := startServerWith(t, server.Config{SIP: config.SIP{Addr: "127.0.0.173:0", RTPPorts: [2]int{25100, 25199}}})
	if u := srv.Config().SIP.Users; len(u) != 2 || u[0] != (config.User{Username: "dev", Password: "dev", Number: "+15557770000"}) ||
		u[1] != (config.User{Username: "agent", Password: "agent", Number: "+15557770001"}) {
		t.Errorf("dev account's softphone users %+v, want dev/dev at +15557770000 and agent/agent at +15557770001", u)
	}

	dir, err := config.Load(strings.NewReader(`
accounts:
  - {id: "9900001", username: alice, password: wonderland}
sip:
  users:
    - {username: bob, password: builder, number: "+15557770002"}
`))
	if err != nil {
		t.Fatal(err)
	}
	cfg := server.Config{Accounts: dir, SIP: dir.SIP}
	cfg.SIP.Addr, cfg.SIP.RTPPorts = "127.0.0.174:0", [2]int{25200, 25299}
	srv = startServerWith(t, cfg)
	if u := srv.Config().SIP.Users; len(u) != 1 || u[0].Username != "bob" {
		t.Errorf("a config file's softphone users came out as %+v, want bob alone", u)
	}

	// A softphone user whose password is dev is refused beyond loopback,
	// before anything listens on 0.0.0.0 (only described: nothing here listens on or dials it; the dev account's own dev user
	// is only added on loopback).
	weak := cfg
	weak.SIP.Addr = "0.0.0.0:0" // only parsed or refused by the guard: never dialled
	weak.SIP.Users = []config.User{{Username: "carol", Password: "dev", Number: "+15557770003"}}
	weak.Addr, weak.DB = "127.0.0.1:0", ":memory:"
	_, err = server.Start(context.Background(), weak)
	if err == nil || !strings.Contains(err.Error(), "refusing to listen for SIP on 0.0.0.0:0 with the softphone user carol's password dev") { // only parsed or refused by the guard: never dialled
		t.Errorf("SIP beyond loopback with a user's password dev: err %v", err)
	}
	weak.SIP.Users = []config.User{{Username: "dave", Password: "agent", Number: "+15557770004"}}
	_, err = server.Start(context.Background(), weak)
	if err == nil || !strings.Contains(err.Error(), "with the softphone user dave's password agent") {
		t.Errorf("SIP beyond loopback with a user's password agent: err %v", err)
	}
}
