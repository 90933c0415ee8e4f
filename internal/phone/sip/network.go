package sip

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/voicehook/voicehook/internal/engine"
	"github.com/voicehook/voicehook/internal/tts"
)

// Gateway is a SIP trunk that outbound calls go to.
type Gateway struct {
	// URI is sip:host:port, with ;transport=tcp for TCP (UDP otherwise).
	URI string
	// Username and Password answer a digest challenge (401 or 407).
	Username, Password string
}

// Config configures a Network. Addr is required; the rest have defaults.
type Config struct {
	// Addr is the host:port to listen on, with UDP and TCP. Port 0 picks a
	// free port (the same for both).
	Addr string
	// ExternalHost is the host put in Contact and in the SDP c= line, for
	// a node behind NAT; "" uses Addr's host (or, when that is a wildcard,
	// the first non-loopback address of the machine).
	ExternalHost string
	// RTPPorts is the inclusive range of UDP ports for RTP; the zero
	// value means 20000-20999. Each call takes one even port.
	RTPPorts [2]int
	// Gateways receive outbound calls: the first, and the next when one
	// answers 503.
	Gateways []Gateway
	// Answers says whether an application answers a number (the To user
	// part: "+15550001000" or digits), and returns the Inbound with the
	// application's fields filled. false answers the INVITE 404. nil
	// answers every INVITE 404.
	Answers func(number string) (engine.Inbound, bool)
	// Outgoing builds the call of a softphone whose user may use the
	// gateways (User.Gateway) calling a number no application answers:
	// an Inbound with its own BXML (a <Forward> to the number). nil, or
	// false, answers such an INVITE 404 as for any other number.
	Outgoing func(user User, number string) (engine.Inbound, bool)
	// Calls starts an inbound call (engine.Engine.InboundCall in
	// production).
	Calls interface {
		InboundCall(ctx context.Context, in engine.Inbound) (*engine.Call, error)
	}
	// TTS speaks a prompt's text; nil makes speech prompts fail.
	TTS tts.Synthesizer
	// Fetch fetches a PlayAudio file (the guarded HTTP client); nil makes
	// audio prompts fail.
	Fetch func(ctx context.Context, url, username, password string) (io.ReadCloser, error)
	// CheckHost is the address guard, asked about every IP address (as a
	// string) of the host of a `to` that is a SIP URI, and of its
	// answer's Contact and media, before they are sent to; nil allows
	// every host.
	CheckHost func(ctx context.Context, host string) error
	// Users are the softphones that may REGISTER (digest authentication,
	// realm "voicehook"); a Dial to a registered user's Number rings every
	// contact it registered.
	Users []User
	// RTPTimeout ends an answered call that has received no RTP for this
	// long while not on hold (BYE, then PhoneHungUp with a Reason); 0 means
	// 60 s, a negative value never ends a call for silence.
	RTPTimeout time.Duration
	// Log receives the network's logs; nil discards them.
	Log *slog.Logger
}

// Network is the SIP phone network: it takes INVITEs for the numbers
// applications answer and places outbound calls through the gateways. It
// implements engine.Network. Its methods are safe for concurrent use.
type Network struct {
	cfg      Config
	log      *slog.Logger
	bindHost string // the host to bind, "" for every address
	host     string // the host in Contact and SDP
	gateways []gateway
	ports    *portPool
	reg      *registrar

	mu      sync.Mutex
	addr    string
	started bool
	closed  bool
	ua      *sipgo.UserAgent
	udpUA   *sipgo.DialogUA
	tcpUA   *sipgo.DialogUA
	udpConn net.PacketConn
	tcpLn   net.Listener
	// dialogs are the lines by SIP dialog id, for in-dialog requests.
	dialogs map[string]*line
	// lines are every line not yet finished.
	lines map[*line]struct{}

	ctx       context.Context
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	closeDone chan struct{} // closed when Close has finished

	// rtpSent counts the RTP packets sent by every call, rtpLate those
	// that left more than lateBy after their time.
	rtpSent, rtpLate atomic.Int64
	// pacer sends every call's RTP.
	pacer *pacer
	// ackWait is how long an answered inbound call waits for the ACK of
	// its 200 before it hangs up (64*T1, as RFC 3261 section 13.3.1.4).
	ackWait time.Duration
	// minSE is the shortest session interval an INVITE may ask for
	// (minSE, shortened by tests).
	minSE atomic.Int64
}

// gateway is a parsed Gateway.
type gateway struct {
	uri                sip.Uri
	username, password string
}

// New checks cfg and returns a Network that is not yet listening.
func New(cfg Config) (*Network, error) {
	host, port, err := net.SplitHostPort(cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("sip: address %q: %w", cfg.Addr, err)
	}
	if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		return nil, fmt.Errorf("sip: address %q: bad port", cfg.Addr)
	}
	if cfg.RTPPorts == [2]int{} {
		cfg.RTPPorts = [2]int{20000, 20999}
	}
	lo, hi := cfg.RTPPorts[0], cfg.RTPPorts[1]
	if lo < 1024 || hi > 65535 || hi < lo+1 {
		return nil, fmt.Errorf("sip: RTP ports %d-%d: want a range of at least two ports within 1024-65535", lo, hi)
	}
	n := &Network{cfg: cfg, log: cfg.Log, dialogs: map[string]*line{}, lines: map[*line]struct{}{}, closeDone: make(chan struct{})}
	n.pacer = newPacer(&n.rtpSent, &n.rtpLate)
	n.ackWait = 64 * sip.T1
	n.minSE.Store(int64(minSE))
	if n.cfg.RTPTimeout == 0 {
		n.cfg.RTPTimeout = 60 * time.Second
	}
	if n.log == nil {
		n.log = slog.New(slog.DiscardHandler)
	}
	// sipgo writes some warnings (a transport's reference count going
	// negative on close) to a package-wide logger, Go's default unless
	// set: the first network's log takes them, at debug level.
	setSipgoLogger.Do(func() { sip.SetDefaultLogger(slog.New(debugOnly{n.log.Handler()})) })
	for i, g := range cfg.Gateways {
		var u sip.Uri
		if err := sip.ParseUri(g.URI, &u); err != nil || u.Host == "" || (u.Scheme != "sip" && u.Scheme != "") {
			return nil, fmt.Errorf("sip: gateway %d: %q is not a sip:host:port URI", i+1, g.URI)
		}
		if t := gatewayTransport(u); t != "udp" && t != "tcp" {
			return nil, fmt.Errorf("sip: gateway %d: transport %q: want udp or tcp", i+1, t)
		}
		n.gateways = append(n.gateways, gateway{uri: u, username: g.Username, password: g.Password})
	}
	if n.reg, err = newRegistrar(cfg.Users); err != nil {
		return nil, err
	}
	n.bindHost = host
	if a, err := netip.ParseAddr(host); err == nil && a.IsUnspecified() {
		n.bindHost = ""
	}
	n.host = cfg.ExternalHost
	if n.host == "" {
		n.host = n.bindHost
	}
	if n.host == "" {
		n.host = localAddress()
	}
	n.ports = newPortPool(n.bindHost, lo, hi)
	return n, nil
}

// localAddress is the first non-loopback unicast address of the machine,
// or 127.0.0.1.
func localAddress() string {
	addrs, err := net.InterfaceAddrs()
	if err == nil {
		for _, a := range addrs {
			if ip, ok := a.(*net.IPNet); ok && ip.IP.To4() != nil && !ip.IP.IsLoopback() {
				return ip.IP.String()
			}
		}
	}
	return "127.0.0.1"
}

func gatewayTransport(u sip.Uri) string {
	if u.UriParams != nil {
		if t, ok := u.UriParams.Get("transport"); ok {
			return strings.ToLower(t)
		}
	}
	return "udp"
}

// Start listens on Config.Addr with UDP and TCP; it returns once both
// listen. Cancelling ctx closes the network.
func (n *Network) Start(ctx context.Context) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.started {
		return errors.New("sip: network already started")
	}
	udp, tcp, err := listen(n.cfg.Addr)
	if err != nil {
		return err
	}
	var ua *sipgo.UserAgent
	ok := false
	defer func() {
		if !ok {
			udp.Close()
			tcp.Close()
			if ua != nil {
				ua.Close()
			}
		}
	}()
	port := udp.LocalAddr().(*net.UDPAddr).Port
	n.udpConn, n.tcpLn = udp, tcp
	n.addr = net.JoinHostPort(hostOf(n.cfg.Addr), strconv.Itoa(port))

	ua, err = sipgo.NewUA(sipgo.WithUserAgent("voicehook"), sipgo.WithUserAgentHostname(n.host),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(n.log)),
		sipgo.WithUserAgentTransactionLayerOptions(sip.WithTransactionLayerLogger(n.log)))
	if err != nil {
		return fmt.Errorf("sip: %w", err)
	}
	srv, err := sipgo.NewServer(ua, sipgo.WithServerLogger(n.log))
	if err != nil {
		return fmt.Errorf("sip: %w", err)
	}
	udpCli, err := sipgo.NewClient(ua, sipgo.WithClientLogger(n.log), sipgo.WithClientHostname(n.host),
		sipgo.WithClientConnectionAddr(udp.LocalAddr().String()))
	if err != nil {
		return fmt.Errorf("sip: %w", err)
	}
	tcpCli, err := sipgo.NewClient(ua, sipgo.WithClientLogger(n.log), sipgo.WithClientHostname(n.host))
	if err != nil {
		return fmt.Errorf("sip: %w", err)
	}
	contact := func(transport string) sip.ContactHeader {
		c := sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "voicehook", Host: n.host, Port: port}}
		if transport == "tcp" {
			c.Address.UriParams = sip.NewParams()
			c.Address.UriParams.Add("transport", "tcp")
		}
		return c
	}
	n.ua = ua
	n.udpUA = &sipgo.DialogUA{Client: udpCli, ContactHDR: contact("udp")}
	n.tcpUA = &sipgo.DialogUA{Client: tcpCli, ContactHDR: contact("tcp")}
	n.ctx, n.cancel = context.WithCancel(context.WithoutCancel(ctx))

	srv.OnInvite(n.onInvite)
	srv.OnAck(n.onAck)
	srv.OnBye(n.onBye)
	srv.OnInfo(n.onInfo)
	srv.OnRegister(n.onRegister)
	srv.OnCancel(func(req *sip.Request, tx sip.ServerTransaction) {
		// A CANCEL that matched a pending INVITE never reaches here.
		respond(tx, req, 481, "Call/Transaction Does Not Exist")
	})
	srv.OnOptions(func(req *sip.Request, tx sip.ServerTransaction) {
		res := sip.NewResponseFromRequest(req, 200, "OK", nil)
		res.AppendHeader(sip.NewHeader("Allow", "INVITE, ACK, BYE, CANCEL, INFO, OPTIONS, REGISTER"))
		if err := tx.Respond(res); err != nil {
			n.log.Debug("respond to OPTIONS", "err", err)
		}
	})
	n.wg.Add(2)
	go func() { defer n.wg.Done(); _ = srv.ServeUDP(udp) }()
	go func() { defer n.wg.Done(); _ = srv.ServeTCP(tcp) }()
	// Requests go out on the UDP listener, which sipgo's transport knows
	// once ServeUDP has begun: wait for that.
	if err := waitServing(ua, udp.LocalAddr().String()); err != nil {
		n.cancel()
		return err
	}
	ok = true
	n.started = true
	n.pacer.run(n.ctx, &n.wg)
	n.wg.Add(2)
	go func() { defer n.wg.Done(); n.sweepBindings(n.ctx) }()
	go func() {
		defer n.wg.Done()
		select {
		case <-ctx.Done():
			go n.Close()
		case <-n.ctx.Done():
		}
	}()
	return nil
}

// waitServing waits (a second at most) until sipgo's transport serves the
// UDP listener at addr.
func waitServing(ua *sipgo.UserAgent, addr string) error {
	deadline := time.Now().Add(time.Second)
	for {
		if c, err := ua.TransportLayer().GetConnection("udp", addr); err == nil && c != nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("sip: UDP listener %s did not start", addr)
		}
		time.Sleep(time.Millisecond)
	}
}

// listen opens UDP and TCP on the same port.
func listen(addr string) (net.PacketConn, net.Listener, error) {
	host, port, _ := net.SplitHostPort(addr)
	for range 20 {
		udp, err := net.ListenPacket("udp", net.JoinHostPort(host, port))
		if err != nil {
			return nil, nil, fmt.Errorf("sip: listen on udp %s: %w", addr, err)
		}
		p := strconv.Itoa(udp.LocalAddr().(*net.UDPAddr).Port)
		tcp, err := net.Listen("tcp", net.JoinHostPort(host, p))
		if err == nil {
			return udp, tcp, nil
		}
		udp.Close()
		if port != "0" {
			return nil, nil, fmt.Errorf("sip: listen on tcp %s: %w", addr, err)
		}
	}
	return nil, nil, fmt.Errorf("sip: no port free for both UDP and TCP on %s", host)
}

func hostOf(addr string) string {
	h, _, _ := net.SplitHostPort(addr)
	return h
}

// Addr returns the SIP address (host:port) listened on, once started.
func (n *Network) Addr() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.addr
}

// Close ends every call (BYE, CANCEL, or 603 for a call not answered),
// waits up to five seconds for them to end, and stops listening. A second
// Close waits for the first.
func (n *Network) Close() error {
	n.mu.Lock()
	if !n.started {
		n.mu.Unlock()
		return nil
	}
	if n.closed {
		n.mu.Unlock()
		<-n.closeDone // another Close is at work: wait for it
		return nil
	}
	n.closed = true
	defer close(n.closeDone)
	lines := make([]*line, 0, len(n.lines))
	for l := range n.lines {
		lines = append(lines, l)
	}
	n.mu.Unlock()
	for _, l := range lines {
		l.Hangup()
	}
	deadline := time.After(5 * time.Second)
	for _, l := range lines {
		select {
		case <-l.done:
		case <-deadline:
		}
	}
	for _, l := range lines {
		l.finish()
	}
	n.cancel()
	n.udpConn.Close()
	n.tcpLn.Close()
	n.ua.Close()
	n.wg.Wait()
	return nil
}

// Incoming is not how SIP callers connect: an inbound SIP call brings its
// line with engine.Inbound.Attach.
func (n *Network) Incoming(d engine.Dial, notify func(engine.PhoneEvent)) (engine.Line, error) {
	return nil, errors.New("sip: an inbound SIP call connects through Inbound.Attach, not Incoming")
}

// track adds a live line and starts its op goroutine; false when the
// network is closed. The goroutine joins n.wg under n.mu, so it is never
// added once Close has begun to wait.
func (n *Network) track(l *line) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed || !n.started {
		return false
	}
	n.lines[l] = struct{}{}
	n.wg.Add(1)
	go l.runOps()
	return true
}

// register makes a line reachable by in-dialog requests.
func (n *Network) register(id string, l *line) {
	n.mu.Lock()
	n.dialogs[id] = l
	n.mu.Unlock()
}

// forget drops a finished line.
func (n *Network) forget(l *line) {
	n.mu.Lock()
	delete(n.lines, l)
	for id, x := range n.dialogs {
		if x == l {
			delete(n.dialogs, id)
		}
	}
	n.mu.Unlock()
}

// lookup finds the line of an in-dialog request.
func (n *Network) lookup(req *sip.Request) *line {
	n.mu.Lock()
	defer n.mu.Unlock()
	if id, err := sip.DialogIDFromRequestUAS(req); err == nil {
		if l := n.dialogs[id]; l != nil {
			return l
		}
	}
	if id, err := sip.DialogIDFromRequestUAC(req); err == nil {
		if l := n.dialogs[id]; l != nil {
			return l
		}
	}
	return nil
}

func respond(tx sip.ServerTransaction, req *sip.Request, code int, reason string) {
	_ = tx.Respond(sip.NewResponseFromRequest(req, code, reason, nil))
}

// portPool hands out RTP ports: even ports in a range, tried in turn
// from a random start.
type portPool struct {
	mu     sync.Mutex
	host   string
	lo, hi int
	next   int
}

func newPortPool(host string, lo, hi int) *portPool {
	lo += lo % 2
	p := &portPool{host: host, lo: lo, hi: hi}
	p.next = lo + 2*rand.IntN((hi-lo)/2+1)
	return p
}

// listen opens a UDP socket on the next free port.
func (p *portPool) listen() (*net.UDPConn, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	count := (p.hi-p.lo)/2 + 1
	for range count {
		port := p.next
		p.next += 2
		if p.next > p.hi {
			p.next = p.lo
		}
		c, err := net.ListenPacket("udp", net.JoinHostPort(p.host, strconv.Itoa(port)))
		if err == nil {
			return c.(*net.UDPConn), nil
		}
	}
	return nil, fmt.Errorf("sip: no free RTP port in %d-%d", p.lo, p.hi)
}

// setSipgoLogger sets sipgo's package-wide logger once.
var setSipgoLogger sync.Once

// debugOnly writes every record at debug level: sipgo's package-wide
// warnings are about its own bookkeeping, not about calls.
type debugOnly struct{ slog.Handler }

func (h debugOnly) Enabled(ctx context.Context, _ slog.Level) bool {
	return h.Handler.Enabled(ctx, slog.LevelDebug)
}

func (h debugOnly) Handle(ctx context.Context, r slog.Record) error {
	r.Level = slog.LevelDebug
	return h.Handler.Handle(ctx, r)
}

func (h debugOnly) WithAttrs(as []slog.Attr) slog.Handler { return debugOnly{h.Handler.WithAttrs(as)} }
func (h debugOnly) WithGroup(g string) slog.Handler       { return debugOnly{h.Handler.WithGroup(g)} }
