// Package siptest is a SIP phone for tests: a user agent on sipgo with
// an RTP socket per call and G.711 audio, made to call voicehook (or
// another Phone) on loopback and check what each side hears.
//
// A Phone dials (Dial, DialContext), takes calls (Next, then Ring, Answer
// or Reject; or WithAutoAnswer and Answered) and registers (Register). A
// Call sends audio all the time it is up, one 20 ms packet per tick:
// silence, a tone (Tone), given samples (Play) or key presses (Press); it
// records what it hears (Heard, HeardSince, Listen, WaitHears, WaitFor) and
// the keys pressed at the far end (Keys). Hold and Resume re-INVITE; Hangup
// sends BYE; HungUp tells a BYE from the far end, Ended any end of the call.
//
// Hears, Share, Level and Dominant judge the audio heard: end-to-end tests
// give each party a tone of its own (Tone) and check by frequency who
// hears whom, over a second or so, waiting with a deadline (WaitHears)
// rather than for a fixed time. A typical test, voicehook's SIP at addr
// transferring the call to <SipUri> agent.URI("agent"):
//
//	caller := siptest.New(t, "127.0.0.230")
//	agent := siptest.New(t, "127.0.0.231")
//	a, err := caller.Dial("sip:+15550001000@" + addr)
//	...
//	b, err := agent.Next(10 * time.Second).Answer()
//	...
//	a.Tone(440)
//	b.Tone(1000)
//	if !a.WaitHears(1000, time.Second, 10*time.Second) {
//		t.Error("the caller does not hear the agent")
//	}
//
// Each Phone offers and accepts a single codec, PCMU unless WithCodec says
// PCMA, plus telephone-event at payload type 101: a call between a PCMU
// phone and a PCMA phone through voicehook needs voicehook to transcode.
//
// A Phone belongs to the test that made it: New registers a Cleanup that
// hangs up its calls and closes its sockets. Phones and Calls are safe
// for concurrent use. Everything here sends to the addresses it is given
// and listens on the host given to New; tests keep both on loopback.
package siptest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// Codec is an RTP payload type of G.711.
type Codec uint8

// The codecs a Phone can offer and accept.
const (
	PCMU Codec = 0
	PCMA Codec = 8
)

func (c Codec) String() string {
	if c == PCMA {
		return "PCMA"
	}
	return "PCMU"
}

// Option configures a Phone.
type Option func(*Phone)

// WithCodec makes c the only codec the phone offers and accepts; the
// default is PCMU.
func WithCodec(c Codec) Option { return func(p *Phone) { p.codec = c } }

// WithUser sets the user part of the phone's From and Contact; the
// default is "siptest".
func WithUser(user string) Option { return func(p *Phone) { p.user = user } }

// WithAutoAnswer makes the phone answer every INVITE by itself: 180, then
// 200 after delay. The calls answered come out of Answered.
func WithAutoAnswer(delay time.Duration) Option {
	return func(p *Phone) { p.auto, p.autoDelay = true, delay }
}

// Phone is a SIP user agent listening on UDP at one address. Make it with
// New.
type Phone struct {
	t         testing.TB
	host      string
	addr      string
	user      string
	codec     Codec
	auto      bool
	autoDelay time.Duration

	ua  *sipgo.UserAgent
	cli *sipgo.Client
	dua *sipgo.DialogUA

	incoming chan *Incoming // INVITEs waiting for Next
	answered chan *Call     // calls WithAutoAnswer took

	mu    sync.Mutex
	calls map[string]*Call // by SIP Call-ID
	done  chan struct{}    // closed by the cleanup
}

// DefaultTimeout bounds every wait of a Phone that takes no timeout: a
// Dial's answer, a re-INVITE's, a BYE's.
const DefaultTimeout = 5 * time.Second

// New starts a phone listening for SIP on UDP at host (an IP address),
// on a free port. It fails the test if it cannot.
func New(t testing.TB, host string, opts ...Option) *Phone {
	t.Helper()
	p := &Phone{t: t, host: host, user: "siptest", incoming: make(chan *Incoming, 16), answered: make(chan *Call, 16),
		calls: map[string]*Call{}, done: make(chan struct{})}
	for _, o := range opts {
		o(p)
	}
	conn, err := net.ListenPacket("udp", net.JoinHostPort(host, "0"))
	if err != nil {
		t.Fatalf("siptest: %v", err)
	}
	p.addr = conn.LocalAddr().String()
	port := conn.LocalAddr().(*net.UDPAddr).Port
	if p.ua, err = sipgo.NewUA(sipgo.WithUserAgent("siptest"), sipgo.WithUserAgentHostname(host)); err != nil {
		t.Fatalf("siptest: %v", err)
	}
	srv, err := sipgo.NewServer(p.ua)
	if err != nil {
		t.Fatalf("siptest: %v", err)
	}
	if p.cli, err = sipgo.NewClient(p.ua, sipgo.WithClientHostname(host), sipgo.WithClientConnectionAddr(p.addr)); err != nil {
		t.Fatalf("siptest: %v", err)
	}
	p.dua = &sipgo.DialogUA{Client: p.cli, ContactHDR: sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: p.user, Host: host, Port: port}}}
	srv.OnInvite(p.onInvite)
	srv.OnAck(p.onAck)
	srv.OnBye(p.onBye)
	srv.OnOptions(func(req *sip.Request, tx sip.ServerTransaction) {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
	})
	go func() { _ = srv.ServeUDP(conn) }()
	t.Cleanup(func() {
		close(p.done)
		p.hangupAll()
		conn.Close()
		p.ua.Close()
	})
	// Requests leave from the listening socket once sipgo serves it.
	deadline := time.Now().Add(2 * time.Second)
	for {
		if c, err := p.ua.TransportLayer().GetConnection("udp", p.addr); err == nil && c != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("siptest: the phone at %s did not start", p.addr)
		}
		time.Sleep(time.Millisecond)
	}
	return p
}

// Addr is the phone's SIP address, host:port.
func (p *Phone) Addr() string { return p.addr }

// URI is a SIP URI of the phone for user, such as sip:+15550000200@127.0.0.221:41234.
func (p *Phone) URI(user string) string { return "sip:" + user + "@" + p.addr }

// Codec is the phone's codec.
func (p *Phone) Codec() Codec { return p.codec }

// Register registers the phone's Contact as user at registrar (host:port),
// answering a digest challenge with password, and returns the final status
// code.
func (p *Phone) Register(registrar, user, password string) (int, error) {
	host, _, err := net.SplitHostPort(registrar)
	if err != nil {
		return 0, fmt.Errorf("siptest: registrar %q: %w", registrar, err)
	}
	var recipient sip.Uri
	if err := sip.ParseUri("sip:"+registrar, &recipient); err != nil {
		return 0, fmt.Errorf("siptest: registrar %q: %w", registrar, err)
	}
	req := sip.NewRequest(sip.REGISTER, recipient)
	aor := sip.Uri{Scheme: "sip", User: user, Host: host}
	from := &sip.FromHeader{Address: aor, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(8))
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: aor})
	contact := p.dua.ContactHDR
	contact.Address.User = user
	req.AppendHeader(&contact)
	req.AppendHeader(sip.NewHeader("Expires", "600"))
	ctx, cancel := context.WithTimeout(context.Background(), DefaultTimeout)
	defer cancel()
	res, err := p.cli.Do(ctx, req)
	if err != nil {
		return 0, fmt.Errorf("siptest: REGISTER: %w", err)
	}
	if res.StatusCode == 401 || res.StatusCode == 407 {
		if res, err = p.cli.DoDigestAuth(ctx, req, res, sipgo.DigestAuth{Username: user, Password: password}); err != nil {
			return 0, fmt.Errorf("siptest: REGISTER with credentials: %w", err)
		}
	}
	return res.StatusCode, nil
}

// DialError is a final response other than 2xx to a Dial.
type DialError struct {
	Code   int
	Reason string
}

func (e *DialError) Error() string {
	return fmt.Sprintf("siptest: call refused: %d %s", e.Code, e.Reason)
}

// Dial calls uri (sip:user@host:port), offering the phone's codec, and
// returns the call once answered and ACKed. A final response other than
// 2xx is a *DialError. It gives up after DefaultTimeout.
func (p *Phone) Dial(uri string) (*Call, error) {
	ctx, cancel := context.WithTimeout(context.Background(), DefaultTimeout)
	defer cancel()
	return p.DialContext(ctx, uri)
}

// DialContext is Dial until ctx ends: then it sends CANCEL (once the far
// end rang) and gives up.
func (p *Phone) DialContext(ctx context.Context, uri string) (*Call, error) {
	var u sip.Uri
	if err := sip.ParseUri(uri, &u); err != nil {
		return nil, fmt.Errorf("siptest: dial %q: %w", uri, err)
	}
	c, err := p.newCall()
	if err != nil {
		return nil, err
	}
	req := sip.NewRequest(sip.INVITE, u)
	from := &sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: p.user, Host: p.host}, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(8))
	req.AppendHeader(from)
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	req.SetBody(c.sdp("sendrecv"))
	dc, err := p.dua.WriteInvite(ctx, req)
	if err != nil {
		c.close()
		return nil, fmt.Errorf("siptest: INVITE %s: %w", uri, err)
	}
	c.callID = req.CallID().Value()
	c.dc = dc
	p.track(c)
	if err := dc.WaitAnswer(ctx, sipgo.AnswerOptions{}); err != nil {
		c.end()
		var de *sipgo.ErrDialogResponse
		if errors.As(err, &de) {
			return nil, &DialError{Code: de.Res.StatusCode, Reason: de.Res.Reason}
		}
		return nil, fmt.Errorf("siptest: INVITE %s: %w", uri, err)
	}
	if err := dc.Ack(context.Background()); err != nil {
		c.end()
		return nil, fmt.Errorf("siptest: ACK: %w", err)
	}
	m, err := parseSDP(dc.InviteResponse.Body())
	if err != nil || !m.has(uint8(p.codec)) {
		c.Hangup()
		return nil, fmt.Errorf("siptest: the answer does not take %v: %v\n%s", p.codec, err, dc.InviteResponse.Body())
	}
	c.start(m)
	return c, nil
}

// Incoming is an INVITE the phone got, waiting to be rung, answered or
// rejected. Its handler keeps the INVITE's transaction open until it is
// answered or rejected, or the caller cancels.
type Incoming struct {
	p    *Phone
	req  *sip.Request
	ds   *sipgo.DialogServerSession
	once sync.Once
	done chan struct{} // answered or rejected
}

// Next returns the next INVITE the phone got, waiting up to timeout; nil
// when none came.
func (p *Phone) Next(timeout time.Duration) *Incoming {
	select {
	case in := <-p.incoming:
		return in
	case <-time.After(timeout):
		return nil
	}
}

// Answered returns the next call WithAutoAnswer answered, waiting up to
// timeout; nil when none was.
func (p *Phone) Answered(timeout time.Duration) *Call {
	select {
	case c := <-p.answered:
		return c
	case <-time.After(timeout):
		return nil
	}
}

// To is the Request-URI of the INVITE, such as sip:+15550000200@127.0.0.221:41234.
func (in *Incoming) To() string { return in.req.Recipient.String() }

// User is the user part of the INVITE's Request-URI: the number dialled.
func (in *Incoming) User() string { return in.req.Recipient.User }

// From is the From URI of the INVITE.
func (in *Incoming) From() string { return in.req.From().Address.String() }

// Header is the value of the INVITE's header name, "" when absent.
func (in *Incoming) Header(name string) string {
	if h := in.req.GetHeader(name); h != nil {
		return h.Value()
	}
	return ""
}

// Cancelled is closed when the INVITE ends before it is answered: the
// caller sent CANCEL (or the transaction died).
func (in *Incoming) Cancelled() <-chan struct{} { return in.ds.Context().Done() }

// Ring sends 180 Ringing.
func (in *Incoming) Ring() error { return in.ds.Respond(180, "Ringing", nil) }

// Reject answers the INVITE with code (4xx to 6xx).
func (in *Incoming) Reject(code int, reason string) error {
	defer in.finish()
	return in.ds.Respond(code, reason, nil)
}

// Answer answers the INVITE with 200 and the phone's SDP and returns the
// call. An offer without the phone's codec gets 488 and an error.
func (in *Incoming) Answer() (*Call, error) {
	defer in.finish()
	p := in.p
	m, err := parseSDP(in.req.Body())
	if err != nil || !m.has(uint8(p.codec)) {
		_ = in.ds.Respond(488, "Not Acceptable Here", nil)
		return nil, fmt.Errorf("siptest: the offer does not have %v: %v\n%s", p.codec, err, in.req.Body())
	}
	c, err := p.newCall()
	if err != nil {
		_ = in.ds.Respond(500, "Server Internal Error", nil)
		return nil, err
	}
	c.callID = in.req.CallID().Value()
	c.ds = in.ds
	p.track(c)
	c.start(m)
	if err := in.ds.RespondSDP(c.sdp(answerDir(m.dir))); err != nil {
		c.end()
		return nil, fmt.Errorf("siptest: 200 OK: %w", err)
	}
	return c, nil
}

func (in *Incoming) finish() { in.once.Do(func() { close(in.done) }) }

func (p *Phone) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	if to := req.To(); to != nil && to.Params.Has("tag") {
		p.onReInvite(req, tx)
		return
	}
	ds, err := p.dua.ReadInvite(req, tx)
	if err != nil {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 400, "Bad Request", nil))
		return
	}
	in := &Incoming{p: p, req: req, ds: ds, done: make(chan struct{})}
	if p.auto {
		go func() {
			_ = in.Ring()
			select {
			case <-time.After(p.autoDelay):
			case <-in.Cancelled():
				in.finish()
				return
			}
			if c, err := in.Answer(); err == nil {
				p.answered <- c
			}
		}()
	} else {
		select {
		case p.incoming <- in:
		default:
			_ = ds.Respond(486, "Busy Here", nil)
			return
		}
	}
	// sipgo ends the transaction when the handler returns.
	select {
	case <-in.done:
	case <-ds.Context().Done():
	case <-p.done:
	}
}

// onReInvite answers an INVITE in a dialog: the far end holds, resumes or
// moves its media.
func (p *Phone) onReInvite(req *sip.Request, tx sip.ServerTransaction) {
	c := p.call(req.CallID().Value())
	if c == nil {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 481, "Call/Transaction Does Not Exist", nil))
		return
	}
	m, err := parseSDP(req.Body())
	if err != nil || !m.has(uint8(p.codec)) {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 488, "Not Acceptable Here", nil))
		return
	}
	c.update(m)
	res := sip.NewResponseFromRequest(req, 200, "OK", c.sdp(answerDir(m.dir)))
	res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	res.AppendHeader(sip.HeaderClone(&p.dua.ContactHDR))
	_ = tx.Respond(res)
}

func (p *Phone) onAck(req *sip.Request, tx sip.ServerTransaction) {
	if c := p.call(req.CallID().Value()); c != nil && c.ds != nil {
		_ = c.ds.ReadAck(req, tx)
	}
}

func (p *Phone) onBye(req *sip.Request, tx sip.ServerTransaction) {
	c := p.call(req.CallID().Value())
	switch {
	case c == nil:
		_ = tx.Respond(sip.NewResponseFromRequest(req, 481, "Call/Transaction Does Not Exist", nil))
		return
	case c.ds != nil:
		_ = c.ds.ReadBye(req, tx)
	case c.dc != nil:
		_ = c.dc.ReadBye(req, tx)
	}
	c.byeReceived()
}

func (p *Phone) track(c *Call) {
	p.mu.Lock()
	p.calls[c.callID] = c
	p.mu.Unlock()
}

func (p *Phone) untrack(c *Call) {
	p.mu.Lock()
	if p.calls[c.callID] == c {
		delete(p.calls, c.callID)
	}
	p.mu.Unlock()
}

func (p *Phone) call(callID string) *Call {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.calls[callID]
}

// hangupAll sends BYE on every call still up, together, waiting up to
// three seconds for the answers: a server under test that never saw the
// BYE would keep the call and wait for it on shutdown.
func (p *Phone) hangupAll() {
	p.mu.Lock()
	var calls []*Call
	for _, c := range p.calls {
		calls = append(calls, c)
	}
	p.mu.Unlock()
	var wg sync.WaitGroup
	for _, c := range calls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			defer cancel()
			_ = c.bye(ctx)
			c.end()
		}()
	}
	wg.Wait()
}
