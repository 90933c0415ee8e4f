package sip

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/voicehook/voicehook/internal/engine"
)

var alice = User{Username: "alice", Password: "s3cret", Number: "+15557770001"}

// register sends a REGISTER as user to the network at addr, with the
// given Contact values (the phone's own when none) and an Expires header
// when expires >= 0; a 401 is answered once with password ("" answers
// none). It returns the final response.
func (p *phone) register(addr, user, password string, expires int, contacts ...string) *sip.Response {
	p.t.Helper()
	req := sip.NewRequest(sip.REGISTER, sip.Uri{Scheme: "sip", Host: hostOf(addr), Port: portOf(p.t, addr)})
	aor := sip.Uri{Scheme: "sip", User: user, Host: hostOf(addr)}
	from := &sip.FromHeader{Address: aor, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(8))
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: aor})
	if len(contacts) == 0 {
		contacts = []string{p.dua.ContactHDR.Value()}
	}
	for _, c := range contacts {
		req.AppendHeader(sip.NewHeader("Contact", c))
	}
	if expires >= 0 {
		req.AppendHeader(sip.NewHeader("Expires", strconv.Itoa(expires)))
	}
	// Reparse, so that the Contact headers are sipgo's parsed ones as
	// they are on the wire.
	parsed, err := sip.ParseMessage([]byte(req.String()))
	if err != nil {
		p.t.Fatal(err)
	}
	req = parsed.(*sip.Request)
	req.SetTransport("UDP")
	req.SetDestination(addr)
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	res, err := p.dua.Client.Do(ctx, req)
	if err != nil {
		p.t.Fatal(err)
	}
	if res.StatusCode == 401 && password != "" {
		res, err = p.dua.Client.DoDigestAuth(ctx, req, res, sipgo.DigestAuth{Username: user, Password: password})
		if err != nil {
			p.t.Fatal(err)
		}
	}
	return res
}

func portOf(t *testing.T, addr string) int {
	_, port, _ := strings.Cut(addr, ":")
	n, err := strconv.Atoi(port)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// contactsOf returns the Contact values of a response.
func contactsOf(res *sip.Response) []string {
	var cs []string
	for _, h := range res.GetHeaders("Contact") {
		cs = append(cs, h.Value())
	}
	return cs
}

// A softphone registers with digest authentication: without credentials
// or with a wrong password it gets 401, with the right one 200 listing
// its contact; expires=0 and Contact: * unregister it.
func TestRegister(t *testing.T) {
	p := newPhone(t, "127.0.0.160")
	n := startNetwork(t, Config{Addr: "127.0.0.160:0", Users: []User{alice}})
	addr := n.Addr()

	res := p.register(addr, "alice", "", 600)
	if res.StatusCode != 401 {
		t.Fatalf("no credentials: %d, want 401", res.StatusCode)
	}
	if h := res.GetHeader("WWW-Authenticate"); h == nil || !strings.Contains(h.Value(), `realm="voicehook"`) || !strings.Contains(h.Value(), "nonce=") {
		t.Errorf("401 without a digest challenge: %v", h)
	}
	if res := p.register(addr, "alice", "wrong", 600); res.StatusCode != 401 {
		t.Errorf("wrong password: %d, want 401", res.StatusCode)
	}
	if res := p.register(addr, "mallory", "s3cret", 600); res.StatusCode != 401 {
		t.Errorf("unknown user: %d, want 401", res.StatusCode)
	}
	if n.Registered(alice.Number) {
		t.Fatal("registered without the right password")
	}

	res = p.register(addr, "alice", "s3cret", 600)
	if res.StatusCode != 200 {
		t.Fatalf("right password: %d %s, want 200", res.StatusCode, res.Reason)
	}
	cs := contactsOf(res)
	if len(cs) != 1 || !strings.Contains(cs[0], "phone@127.0.0.160") || !strings.Contains(cs[0], "expires=600") {
		t.Errorf("200 Contact %q, want the phone's with expires=600", cs)
	}
	if !n.Registered(alice.Number) {
		t.Fatal("not registered after a 200")
	}

	// Too short an interval is refused; the binding stays.
	res = p.register(addr, "alice", "s3cret", 30)
	if res.StatusCode != 423 || res.GetHeader("Min-Expires") == nil || res.GetHeader("Min-Expires").Value() != "60" {
		t.Errorf("expires 30: %d, Min-Expires %v; want 423 with Min-Expires: 60", res.StatusCode, res.GetHeader("Min-Expires"))
	}

	// A second contact, with its own expires param, over the maximum.
	second := "<sip:desk@127.0.0.160:5999>;expires=100000"
	res = p.register(addr, "alice", "s3cret", -1, second)
	if cs := contactsOf(res); res.StatusCode != 200 || len(cs) != 2 || !strings.Contains(cs[1], "expires=7200") {
		t.Errorf("second contact: %d %q, want both bound, the second for 7200 s", res.StatusCode, cs)
	}

	// expires=0 removes that contact only.
	res = p.register(addr, "alice", "s3cret", -1, p.dua.ContactHDR.Value()+";expires=0")
	if cs := contactsOf(res); res.StatusCode != 200 || len(cs) != 1 || !strings.Contains(cs[0], "desk@") {
		t.Errorf("expires=0: %d %q, want the desk contact left", res.StatusCode, cs)
	}
	// Contact: * with Expires: 0 removes every contact.
	res = p.register(addr, "alice", "s3cret", 0, "*")
	if res.StatusCode != 200 || len(contactsOf(res)) != 0 {
		t.Errorf("Contact: *: %d %q, want 200 and no contact", res.StatusCode, contactsOf(res))
	}
	if n.Registered(alice.Number) {
		t.Error("still registered after Contact: *")
	}
	if res := p.register(addr, "alice", "s3cret", 600, "*"); res.StatusCode != 400 {
		t.Errorf("Contact: * with Expires: 600: %d, want 400", res.StatusCode)
	}
}

// A binding lapses once its expiry passes, whether a lookup or the sweep
// finds it first.
func TestRegistrationExpires(t *testing.T) {
	p := newPhone(t, "127.0.0.161")
	n, err := New(Config{Addr: "127.0.0.161:0", Users: []User{alice}})
	if err != nil {
		t.Fatal(err)
	}
	var skew atomic.Int64 // how far the test moved the registrar's clock
	n.reg.now = func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }
	if err := n.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })

	if res := p.register(n.Addr(), "alice", "s3cret", 60); res.StatusCode != 200 {
		t.Fatalf("register: %d", res.StatusCode)
	}
	skew.Store(int64(59 * time.Second))
	if !n.Registered(alice.Number) {
		t.Fatal("expired before its time")
	}
	skew.Store(int64(61 * time.Second))
	if n.Registered(alice.Number) {
		t.Error("still registered after 60 s")
	}

	skew.Store(0)
	if res := p.register(n.Addr(), "alice", "s3cret", 60); res.StatusCode != 200 {
		t.Fatalf("register: %d", res.StatusCode)
	}
	skew.Store(int64(61 * time.Second))
	n.reg.sweep()
	n.reg.mu.Lock()
	left := len(n.reg.bindings)
	n.reg.mu.Unlock()
	if left != 0 {
		t.Errorf("the sweep left %d users' bindings", left)
	}
}

func TestNewRejectsBadUsers(t *testing.T) {
	for _, c := range []struct {
		users []User
		want  string
	}{
		{[]User{{Username: "", Password: "p", Number: "+1555"}}, "user 1: username"},
		{[]User{{Username: "a", Password: "", Number: "+1555"}}, "user a: password"},
		{[]User{{Username: "a", Password: "p", Number: "alice"}}, "user a: number"},
		{[]User{{Username: "a", Password: "p", Number: "+1555"}, {Username: "a", Password: "q", Number: "+1556"}}, "user a is given twice"},
		{[]User{{Username: "a", Password: "p", Number: "+1555"}, {Username: "b", Password: "q", Number: "+1555"}}, "user b: number +1555 is user a's"},
	} {
		_, err := New(Config{Addr: "127.0.0.160:0", Users: c.users})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: err %v, want it to say %q", c.users, err, c.want)
		}
	}
}

// A Dial to a registered user's number rings the softphone, even with a
// gateway configured.
func TestDialRegisteredUser(t *testing.T) {
	p := newPhone(t, "127.0.0.162")
	gw := newPhone(t, "127.0.0.162")
	n := startNetwork(t, Config{Addr: "127.0.0.162:0", Users: []User{alice}, Gateways: []Gateway{{URI: "sip:" + gw.addr}}, TTS: toneTTS{}})
	if res := p.register(n.Addr(), "alice", "s3cret", 600); res.StatusCode != 200 {
		t.Fatalf("register: %d", res.StatusCode)
	}
	tl := newTestLine()
	d := dial
	d.To = alice.Number
	line, err := n.Dial(d, tl.notify)
	if err != nil {
		t.Fatal(err)
	}
	tl.Line = line
	_, invite := p.answerNext(200, "OK")
	tl.wait(t, engine.PhoneAnswered)
	if invite.Recipient.User != "phone" || invite.To().Address.User != alice.Number {
		t.Errorf("INVITE %s To %s, want the phone's contact, To the user's number", invite.Recipient.String(), invite.To().Address.String())
	}
	if tl.count(engine.PhoneRinging) != 1 {
		t.Errorf("want one PhoneRinging: %s", tl.describe())
	}
	select {
	case <-gw.invites:
		t.Error("the gateway got an INVITE")
	default:
	}
	line.Hangup()
	if !p.gotBye() {
		t.Error("the phone got no BYE")
	}
}

// dialForked starts a network at hostA with cfg and the user alice,
// registers phones at hostA and hostB as her two bindings, and dials her
// number: both phones get the INVITE. tl.Line is the line dialled.
func dialForked(t *testing.T, hostA, hostB string, cfg Config) (a, b *phone, tl *testLine) {
	t.Helper()
	a, b = newPhone(t, hostA), newPhone(t, hostB)
	cfg.Addr, cfg.Users = hostA+":0", []User{alice}
	n := startNetwork(t, cfg)
	for _, p := range []*phone{a, b} {
		if res := p.register(n.Addr(), "alice", "s3cret", 600); res.StatusCode != 200 {
			t.Fatalf("register: %d", res.StatusCode)
		}
	}
	tl = newTestLine()
	d := dial
	d.To = alice.Number
	line, err := n.Dial(d, tl.notify)
	if err != nil {
		t.Fatal(err)
	}
	tl.Line = line
	return a, b, tl
}

// With two bindings both ring; the one that answers wins and the other
// gets CANCEL.
func TestDialForksToEveryBinding(t *testing.T) {
	a, b, tl := dialForked(t, "127.0.0.163", "127.0.0.164", Config{TTS: toneTTS{}})
	line := tl.Line
	inA := a.next()
	ringing, _ := a.answer(inA, 0, "")
	b.answerNext(200, "OK")
	tl.wait(t, engine.PhoneAnswered)
	select {
	case <-ringing.Context().Done():
	case <-time.After(waitFor):
		t.Fatal("the phone that did not answer saw no CANCEL")
	}
	if err := context.Cause(ringing.Context()); !errors.Is(err, sip.ErrTransactionCanceled) {
		t.Errorf("the other phone's INVITE ended with %v, want a CANCEL", err)
	}
	if tl.count(engine.PhoneRinging) != 1 || tl.count(engine.PhoneAnswered) != 1 {
		t.Errorf("want one PhoneRinging and one PhoneAnswered: %s", tl.describe())
	}
	line.Hangup()
	if !b.gotBye() {
		t.Error("the phone that answered got no BYE")
	}
}

// When no binding answers, busy beats the other failures.
func TestDialForkBusyWins(t *testing.T) {
	a, b, tl := dialForked(t, "127.0.0.165", "127.0.0.166", Config{})
	inA, inB := a.next(), b.next()
	a.answer(inA, 603, "Decline")
	b.answer(inB, 486, "Busy Here")
	if e := tl.wait(t, engine.PhoneBusy); e.SIPCode != 486 {
		t.Errorf("busy with SIP code %d, want 486", e.SIPCode)
	}
	if tl.count(engine.PhoneRejected) != 0 {
		t.Errorf("rejected reported too: %s", tl.describe())
	}
}

// A softphone that calls an application's number calls as its user's
// number, whether its From names the user or the number.
func TestSoftphoneCallsAsItsNumber(t *testing.T) {
	for i, from := range []string{"alice", alice.Number} {
		host := "127.0.0.16" + strconv.Itoa(7+i)
		p := newPhone(t, host)
		p.fromUser = from
		_, _, tl, _ := inboundCallOn(t, host, p, Config{Users: []User{alice}}, 101)
		if tl.in.From != alice.Number {
			t.Errorf("From %s: the call is from %q, want %s", from, tl.in.From, alice.Number)
		}
	}
}

// Hanging up while every binding rings cancels each INVITE.
func TestDialForkHangupCancelsEveryBinding(t *testing.T) {
	a, b, tl := dialForked(t, "127.0.0.169", "127.0.0.170", Config{})
	line := tl.Line
	ringA, _ := a.answer(a.next(), 0, "")
	ringB, _ := b.answer(b.next(), 0, "")
	tl.wait(t, engine.PhoneRinging)
	line.Hangup()
	for i, ds := range []*sipgo.DialogServerSession{ringA, ringB} {
		select {
		case <-ds.Context().Done():
		case <-time.After(waitFor):
			t.Fatalf("phone %d saw no CANCEL", i+1)
		}
		if err := context.Cause(ds.Context()); !errors.Is(err, sip.ErrTransactionCanceled) {
			t.Errorf("phone %d's INVITE ended with %v, want a CANCEL", i+1, err)
		}
	}
	time.Sleep(100 * time.Millisecond)
	for _, e := range tl.all() {
		if e.Kind != engine.PhoneSignal && e.Kind != engine.PhoneRinging {
			t.Errorf("event %d after Hangup", e.Kind)
		}
	}
}

// parseDigest reads what a softphone sends and never panics on what a
// hostile one does.
func FuzzParseDigest(f *testing.F) {
	f.Add(`Digest username="alice", realm="voicehook", nonce="1.ab", uri="sip:127.0.0.1", response="0f", qop=auth, nc=00000001, cnonce="x"`)
	f.Add(`Digest username="a\"b`)
	f.Add(`Digest =,=,"`)
	f.Fuzz(func(t *testing.T, v string) {
		fields, ok := parseDigest(v)
		if ok && len(fields) > 32 {
			t.Errorf("%d fields", len(fields))
		}
	})
}

func TestParseDigest(t *testing.T) {
	f, ok := parseDigest(`Digest username="alice", realm="voicehook", nonce="1.ab", uri="sip:127.0.0.1:5060", response="0F", algorithm=MD5, qop=auth, nc=00000001, cnonce="a,b"`)
	if !ok || f["username"] != "alice" || f["uri"] != "sip:127.0.0.1:5060" || f["qop"] != "auth" || f["nc"] != "00000001" || f["cnonce"] != "a,b" || f["algorithm"] != "MD5" {
		t.Errorf("fields %q", f)
	}
	if _, ok := parseDigest(`Basic YWxpY2U6czNjcmV0`); ok {
		t.Error("Basic taken for Digest")
	}
}
