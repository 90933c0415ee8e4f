package sip

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/google/uuid"

	"github.com/voicehook/voicehook/internal/engine"
	"github.com/voicehook/voicehook/internal/phone/sip/siphdr"
)

// target is where one INVITE goes.
type target struct {
	uri                sip.Uri
	username, password string
	// guarded: dialled at a SIP URI's own host, so the host, the Contact
	// of its answer and the address of its media go through
	// Config.CheckHost.
	guarded bool
	// dest is the checked ip:port the INVITE goes to ("" lets sipgo
	// resolve the URI's host).
	dest string
	// contact: a registered softphone's binding, rung together with the
	// user's other bindings; toUser is the user's number, put in To.
	contact bool
	toUser  string
	// fork is shared by the INVITEs rung at once, index is this one's.
	fork  *fork
	index int
}

// fork is the state the INVITEs to every binding of a user share: the
// first 2xx claims the call and cancels the others.
type fork struct {
	rang    atomic.Bool
	mu      sync.Mutex
	won     int // the index that answered, -1 before
	cancels []context.CancelFunc
}

// claim makes index the answer, unless another answered first, and
// cancels the other INVITEs.
func (f *fork) claim(index int) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.won >= 0 {
		return f.won == index
	}
	f.won = index
	for i, c := range f.cancels {
		if i != index {
			c()
		}
	}
	return true
}

// checkTimeout bounds resolving a host and asking Config.CheckHost.
const checkTimeout = 3 * time.Second

// checkHost resolves host once (an IP address stands for itself) and asks
// Config.CheckHost about every address it resolves to; it returns the
// first address, or the one refused with the refusal. Sending to the
// returned address, not to the name, keeps a DNS answer that changes
// after the check (rebinding) from redirecting the call.
func (n *Network) checkHost(ctx context.Context, host string) (netip.Addr, error) {
	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	var ips []netip.Addr
	if ip, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
		ips = []netip.Addr{ip}
	} else {
		ips, err = net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		if err != nil {
			return netip.Addr{}, fmt.Errorf("resolve: %w", err)
		}
		if len(ips) == 0 {
			return netip.Addr{}, errors.New("resolve: no address")
		}
	}
	for _, ip := range ips {
		ip = ip.Unmap()
		if err := n.cfg.CheckHost(ctx, ip.String()); err != nil {
			return ip, err
		}
	}
	return ips[0].Unmap(), nil
}

// sipPort is the port of u, 5060 when it names none.
func sipPort(u sip.Uri) uint16 {
	if u.Port > 0 && u.Port <= 65535 {
		return uint16(u.Port)
	}
	return 5060
}

// Dial places an outbound call: to a gateway for a number, or to the host
// of a `to` that is a SIP URI once Config.CheckHost allowed it. The check
// and the INVITE happen in the background (a refused host ends the call
// with PhoneFailed); what happens arrives through notify.
func (n *Network) Dial(d engine.Dial, notify func(engine.PhoneEvent)) (engine.Line, error) {
	targets, err := n.targets(d.To)
	if err != nil {
		return nil, err
	}
	conn, err := n.ports.listen()
	if err != nil {
		return nil, err
	}
	l := newLine(n, true, uuid.NewString())
	l.rtp = conn
	l.detect = d.Detect
	ctx, cancel := context.WithCancel(n.ctx)
	l.dialCx = cancel
	if !n.track(l) {
		l.finish()
		return nil, errors.New("sip: network closed")
	}
	l.start(notify)
	l.do(func() { l.dial(ctx, d, targets) })
	return l, nil
}

// targets are the INVITE's destinations, in the order to try them.
func (n *Network) targets(to string) ([]target, error) {
	if strings.HasPrefix(strings.ToLower(to), "sip:") {
		var u sip.Uri
		if err := sip.ParseUri(to, &u); err != nil || u.Host == "" {
			return nil, fmt.Errorf("sip: %q is not a SIP URI", to)
		}
		if t := gatewayTransport(u); t != "udp" && t != "tcp" {
			return nil, fmt.Errorf("sip: %q: transport %q: want udp or tcp", to, t)
		}
		return []target{{uri: u, guarded: true}}, nil
	}
	if !isNumber(to) {
		return nil, fmt.Errorf("sip: %q is neither a phone number nor a SIP URI", to)
	}
	if ts := n.contactTargets(to); len(ts) > 0 {
		return ts, nil
	}
	if len(n.gateways) == 0 {
		return nil, fmt.Errorf("sip: no SIP gateway configured to call %s", to)
	}
	ts := make([]target, 0, len(n.gateways))
	for _, g := range n.gateways {
		u := g.uri
		u.Scheme = "sip"
		u.User = to
		u.Password = ""
		ts = append(ts, target{uri: u, username: g.username, password: g.password})
	}
	return ts, nil
}

// isNumber accepts E.164 numbers and dialled digits.
func isNumber(s string) bool {
	s = strings.TrimPrefix(s, "+")
	if s == "" || len(s) > 32 {
		return false
	}
	for _, c := range s {
		if (c < '0' || c > '9') && c != '*' && c != '#' {
			return false
		}
	}
	return true
}

// dial is the Dial step: INVITE each target until one answers or fails
// with something other than 503.
func (l *line) dial(ctx context.Context, d engine.Dial, targets []target) {
	if len(targets) > 0 && targets[0].contact {
		l.fork(ctx, d, targets)
		return
	}
	for i, t := range targets {
		if t.guarded && l.n.cfg.CheckHost != nil {
			ip, err := l.n.checkHost(ctx, t.uri.Host)
			if ctx.Err() != nil || l.hangup.Load() {
				return
			}
			if err != nil {
				where := t.uri.Host
				if ip.IsValid() {
					where = fmt.Sprintf("%s (%s)", t.uri.Host, netip.AddrPortFrom(ip, sipPort(t.uri)))
				}
				l.emit(engine.PhoneEvent{Kind: engine.PhoneFailed, Reason: fmt.Sprintf("host %s refused: %v", where, err)})
				l.finish()
				return
			}
			t.dest = netip.AddrPortFrom(ip, sipPort(t.uri)).String()
		}
		outcome, code, reason := l.invite(ctx, d, t)
		if outcome == siphdr.Answered || ctx.Err() != nil || l.hangup.Load() {
			return
		}
		if outcome == siphdr.TryNext && i+1 < len(targets) {
			continue
		}
		l.fail(outcome, code, reason)
		return
	}
}

// fail reports a call that was not answered and ends the line.
func (l *line) fail(outcome siphdr.Outcome, code int, reason string) {
	kind := engine.PhoneFailed
	switch outcome {
	case siphdr.Busy:
		kind = engine.PhoneBusy
	case siphdr.Rejected:
		kind = engine.PhoneRejected
	case siphdr.NoAnswer:
		kind = engine.PhoneNoAnswer
	case siphdr.Unexplained:
		kind = engine.PhoneUnexplained
	}
	l.emit(engine.PhoneEvent{Kind: kind, SIPCode: code, Reason: reason})
	l.finish()
}

// fork is the Dial step of a registered number: INVITE every binding at
// once; the first 2xx wins and the others are cancelled. When none
// answers, the outcome is busy if one was busy, else the first final
// response that came.
func (l *line) fork(ctx context.Context, d engine.Dial, targets []target) {
	f := &fork{won: -1, cancels: make([]context.CancelFunc, len(targets))}
	ctxs := make([]context.Context, len(targets))
	for i := range targets {
		ctxs[i], f.cancels[i] = context.WithCancel(ctx)
		targets[i].fork, targets[i].index = f, i
	}
	type result struct {
		outcome siphdr.Outcome
		code    int
		reason  string
	}
	results := make(chan result, len(targets))
	for i, t := range targets {
		go func() {
			o, c, r := l.invite(ctxs[i], d, t)
			results <- result{o, c, r}
		}()
	}
	var all []result
	for range targets {
		all = append(all, <-results)
	}
	f.mu.Lock()
	won := f.won
	for i, c := range f.cancels {
		if i != won {
			c()
		}
	}
	f.mu.Unlock()
	if won >= 0 || ctx.Err() != nil || l.hangup.Load() {
		return
	}
	best := all[0]
	for _, r := range all {
		if r.outcome == siphdr.Busy {
			best = r
			break
		}
	}
	if best.outcome != siphdr.Busy {
		for _, r := range all {
			if r.code > 0 {
				best = r
				break
			}
		}
	}
	l.fail(best.outcome, best.code, best.reason)
}

// invite sends one INVITE and waits for its outcome. On an answer it
// starts the media and reports PhoneAnswered.
func (l *line) invite(ctx context.Context, d engine.Dial, t target) (outcome siphdr.Outcome, code int, reason string) {
	n := l.n
	transport := gatewayTransport(t.uri)
	ua := n.udpUA
	if transport == "tcp" {
		ua = n.tcpUA
	}
	port := l.rtp.LocalAddr().(*net.UDPAddr).Port
	req := sip.NewRequest(sip.INVITE, t.uri)
	req.SetTransport(strings.ToUpper(transport))
	if t.dest != "" {
		req.SetDestination(t.dest)
	}
	fromValue, extra := siphdr.OutboundFields(siphdr.Outbound{From: d.From, DisplayName: d.DisplayName, Privacy: d.Privacy, UUI: d.UUI, Host: n.host})
	from := &sip.FromHeader{Params: sip.NewParams()}
	name, err := sip.ParseAddressValue(fromValue, &from.Address, &from.Params)
	if err != nil {
		return siphdr.Failed, 0, fmt.Sprintf("bad From %q: %v", fromValue, err)
	}
	from.DisplayName = name
	from.Params.Add("tag", sip.GenerateTagN(16))
	req.AppendHeader(from)
	to := &sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: t.uri.User, Host: t.uri.Host, Port: t.uri.Port}}
	if t.toUser != "" {
		to.Address = sip.Uri{Scheme: "sip", User: t.toUser, Host: n.host}
	}
	req.AppendHeader(to)
	callID := sip.CallIDHeader(l.sipCallID)
	req.AppendHeader(&callID)
	for _, f := range extra {
		req.AppendHeader(sip.NewHeader(f.Name, f.Value))
	}
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	req.SetBody(writeSDP(n.host, port, []uint8{ptPCMU, ptPCMA}, ptEvent))

	l.signal("→ INVITE")
	cs, err := ua.WriteInvite(ctx, req)
	if err != nil {
		return siphdr.Failed, 0, fmt.Sprintf("INVITE to %s: %v", t.uri.HostPort(), err)
	}
	defer func() {
		if outcome != siphdr.Answered {
			cs.Close()
		}
	}()
	rang := false
	firstRing := func() bool {
		if t.fork != nil {
			return t.fork.rang.CompareAndSwap(false, true)
		}
		first := !rang
		rang = true
		return first
	}
	err = cs.WaitAnswer(ctx, sipgo.AnswerOptions{
		Username: t.username, Password: t.password,
		OnResponse: func(res *sip.Response) error {
			l.signalResponse(false, res.StatusCode, res.Reason)
			switch {
			case (res.StatusCode == 180 || res.StatusCode == 183) && firstRing():
				l.emit(engine.PhoneEvent{Kind: engine.PhoneRinging})
			case (res.StatusCode == 401 || res.StatusCode == 407) && t.password != "":
				l.signal("→ INVITE")
			}
			return nil
		},
	})
	if err == nil && t.fork != nil && !t.fork.claim(t.index) {
		// Another binding answered first: this one is acknowledged and
		// hung up at once.
		bctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		l.signal("→ ACK")
		if err := cs.Ack(bctx); err != nil {
			n.log.Debug("sip: ack", "sip_call_id", l.sipCallID, "err", err)
		}
		l.signal("→ BYE")
		if err := cs.Bye(bctx); err != nil {
			n.log.Debug("sip: bye", "sip_call_id", l.sipCallID, "err", err)
		}
		return siphdr.Failed, 0, "answered elsewhere"
	}
	if ctx.Err() != nil || l.hangup.Load() {
		if err != nil {
			l.signal("→ CANCEL")
			if r := cs.InviteResponse; r != nil && r.StatusCode >= 300 {
				l.signalResponse(false, r.StatusCode, r.Reason)
			}
			return siphdr.Failed, 0, "cancelled"
		}
		// Answered as we hung up: the end step sends BYE.
	}
	if err != nil {
		var de *sipgo.ErrDialogResponse
		if errors.As(err, &de) {
			outcome, reason := siphdr.Final(de.Res.StatusCode)
			return outcome, de.Res.StatusCode, reason
		}
		return siphdr.Failed, 0, fmt.Sprintf("INVITE to %s: %v", t.uri.HostPort(), err)
	}
	res := cs.InviteResponse
	if t.guarded && n.cfg.CheckHost != nil {
		// The ACK and BYE go to the answer's Contact: it is guarded too,
		// and when refused nothing more is sent.
		if c := res.Contact(); c != nil {
			if ip, err := n.checkHost(ctx, c.Address.Host); err != nil {
				where := c.Address.Host
				if ip.IsValid() && ip.String() != where {
					where = fmt.Sprintf("%s (%s)", where, ip)
				}
				return siphdr.Failed, 0, fmt.Sprintf("the answer's Contact host %s refused: %v", where, err)
			}
		}
	}
	answer, sdpErr := parseSDP(res.Body())
	l.signal("→ ACK")
	if err := cs.Ack(context.WithoutCancel(ctx)); err != nil {
		n.log.Debug("sip: ack", "sip_call_id", l.sipCallID, "err", err)
	}
	l.mu.Lock()
	l.cli = cs
	l.guarded = t.guarded
	l.sdp = cs.InviteRequest.Body() // our offer: a re-INVITE's answer follows its o= version
	if h := sessionExpiresHeader(res); h != nil {
		if interval, ref, ok := parseSessionExpires(h.Value()); ok {
			// The answer names the refresher; we (the UAC) when it does not.
			l.se = &sessionTimer{interval: interval, ours: ref != "uas"}
		}
	}
	l.state = stateAnswered
	l.mu.Unlock()
	n.register(cs.ID, l)
	if sdpErr != nil {
		// Nothing to talk with: report it, then hang up.
		l.emit(engine.PhoneEvent{Kind: engine.PhoneFailed, SIPCode: 488, Reason: "the answer's SDP: " + sdpErr.Error()})
		l.hangup.Store(true)
		l.end()
		return siphdr.Answered, 488, ""
	}
	if t.guarded && n.cfg.CheckHost != nil {
		if err := n.cfg.CheckHost(ctx, answer.addr.Addr().String()); err != nil {
			l.emit(engine.PhoneEvent{Kind: engine.PhoneFailed, Reason: fmt.Sprintf("media address %s refused: %v", answer.addr.Addr(), err)})
			l.hangup.Store(true)
			l.end()
			return siphdr.Answered, 200, ""
		}
	}
	event := answer.event
	l.startMedia(answer.addr, answer.codecs[0], event)
	l.emit(engine.PhoneEvent{Kind: engine.PhoneAnswered, GreetingFollows: l.detect != nil})
	l.dialogEstablished()
	l.startSession()
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		select {
		case <-cs.Context().Done():
			l.farEndHungUp() // a no-op after our own BYE or after onBye
		case <-l.done:
		}
	}()
	return siphdr.Answered, 200, ""
}
