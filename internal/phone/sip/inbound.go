package sip

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/voicehook/voicehook/callback"
	"github.com/voicehook/voicehook/internal/engine"
	"github.com/voicehook/voicehook/internal/phone/sip/dtmf"
	"github.com/voicehook/voicehook/internal/phone/sip/siphdr"
)

// onInvite takes an INVITE: a new call, or a re-INVITE in a dialog.
func (n *Network) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	if to := req.To(); to != nil && to.Params.Has("tag") {
		n.onReInvite(req, tx)
		return
	}
	number := ""
	if to := req.To(); to != nil {
		number = to.Address.User
	}
	if number == "" {
		number = req.Recipient.User
	}
	var in engine.Inbound
	ok := false
	if n.cfg.Answers != nil && number != "" {
		in, ok = n.cfg.Answers(number)
	}
	var caller *User // the softphone's user calling out through the gateways
	if !ok && number != "" {
		var done bool
		if caller, done = n.outgoing(req, tx, number); done {
			return
		}
		if caller != nil {
			in, ok = n.cfg.Outgoing(*caller, callerNumber(number))
		}
	}
	if !ok || n.cfg.Calls == nil {
		respond(tx, req, 404, "Not Found")
		return
	}
	offer, err := parseSDP(req.Body())
	if err != nil {
		res := sip.NewResponseFromRequest(req, 488, "Not Acceptable Here", nil)
		res.AppendHeader(sip.NewHeader("Warning", `399 voicehook "`+strings.ReplaceAll(err.Error(), `"`, `'`)+`"`))
		_ = tx.Respond(res)
		return
	}
	var se *sessionTimer
	if h := sessionExpiresHeader(req); h != nil {
		if interval, ref, ok := parseSessionExpires(h.Value()); ok {
			if least := time.Duration(n.minSE.Load()); interval < least {
				res := sip.NewResponseFromRequest(req, 422, "Session Interval Too Small", nil)
				res.AppendHeader(sip.NewHeader("Min-SE", strconv.Itoa(int(least/time.Second))))
				_ = tx.Respond(res)
				return
			}
			// The caller refreshes unless it asked us to.
			se = &sessionTimer{interval: interval, ours: ref == "uas"}
		}
	}
	ua := n.udpUA
	if strings.EqualFold(req.Transport(), "tcp") {
		ua = n.tcpUA
	}
	ds, err := ua.ReadInvite(req, tx)
	if err != nil {
		respond(tx, req, 400, "Bad Request")
		return
	}
	callID := ""
	if h := req.CallID(); h != nil {
		callID = h.Value()
	}
	l := newLine(n, false, callID)
	l.srv, l.offer, l.inviteTx, l.se = ds, offer, tx, se
	if !n.track(l) {
		respond(tx, req, 503, "Service Unavailable")
		l.finish()
		return
	}
	n.register(ds.ID, l)
	l.signal("← INVITE")
	l.signalResponse(true, 100, "Trying")
	if err := ds.Respond(100, "Trying", nil); err != nil {
		l.finish()
		return
	}
	l.signalResponse(true, 180, "Ringing")
	if err := ds.Respond(180, "Ringing", nil); err != nil {
		l.finish()
		return
	}

	fields := make([]siphdr.Field, 0, 16)
	for _, h := range req.Headers() {
		fields = append(fields, siphdr.Field{Name: h.Name(), Value: h.Value()})
	}
	hdr := siphdr.ReadInbound(fields)
	in.SIPCallID = callID
	in.To = number
	if from := req.From(); from != nil {
		in.From = callerNumber(from.Address.User)
		if u, ok := n.reg.users[from.Address.User]; ok {
			in.From = u.Number // a softphone calls as its user's number
		}
	}
	if caller != nil {
		in.From = caller.Number // the user it authenticated as
		in.To = callerNumber(number)
	}
	in.SIPHeaders = hdr.SIPHeaders
	in.Diversion = hdr.Diversion
	in.UUI = hdr.UUI
	in.StirShaken = hdr.StirShaken
	attached := false
	in.Attach = func(_ string, notify func(engine.PhoneEvent)) (engine.Line, error) {
		l.mu.Lock()
		again := attached
		attached = true
		l.mu.Unlock()
		if again {
			return nil, errors.New("sip: line already attached")
		}
		l.start(notify)
		return l, nil
	}

	n.wg.Add(1)
	go l.watchInbound(ds.Context())

	defer func() {
		select {
		case <-l.settled:
		case <-n.ctx.Done():
		}
	}()
	if _, err := n.cfg.Calls.InboundCall(n.ctx, in); err != nil {
		n.log.Warn("sip: inbound call refused", "sip_call_id", callID, "err", err)
		l.hangup.Store(true)
		l.mu.Lock()
		ringing := l.state == stateRinging
		l.mu.Unlock()
		if ringing {
			l.signalResponse(true, 503, "Service Unavailable")
			// A trunk tries another node, or this one later.
			_ = ds.Respond(503, "Service Unavailable", nil, sip.NewHeader("Retry-After", "5"))
		}
		l.finish()
	}
}

// watchInbound waits for the dialog to end: a CANCEL (or a transaction
// that died) before the answer is the caller giving up.
func (l *line) watchInbound(ctx context.Context) {
	defer l.n.wg.Done()
	select {
	case <-ctx.Done():
	case <-l.done:
		return
	}
	l.mu.Lock()
	ringing := l.state == stateRinging
	l.mu.Unlock()
	if !ringing || l.hangup.Load() {
		return // answered (BYE is reported by onBye) or declined by us
	}
	if errors.Is(context.Cause(ctx), sip.ErrTransactionCanceled) {
		l.signal("← CANCEL")
		l.signalResponse(true, 200, "OK")
		l.signalResponse(true, 487, "Request Terminated")
	}
	l.farEndHungUp()
}

// callerNumber is the caller's user part, with a + added when it is all
// digits and long enough to be an E.164 number.
func callerNumber(user string) string {
	if user == "" {
		return "anonymous"
	}
	digits := strings.TrimPrefix(user, "+")
	for _, c := range digits {
		if c < '0' || c > '9' {
			return user
		}
	}
	if len(digits) >= 11 && len(digits) <= 15 {
		return "+" + digits
	}
	return user
}

// Answered answers an inbound call: 200 OK with the SDP answer, then media.
func (l *line) Answered() {
	if l.outbound {
		return
	}
	l.do(l.answer)
}

// answer is the Answered step.
func (l *line) answer() {
	l.mu.Lock()
	if l.state != stateRinging || l.hangup.Load() {
		l.mu.Unlock()
		return
	}
	ds, offer := l.srv, l.offer
	l.mu.Unlock()
	conn, err := l.n.ports.listen()
	if err != nil {
		l.n.log.Error("sip: answer", "sip_call_id", l.sipCallID, "err", err)
		l.signalResponse(true, 503, "Service Unavailable")
		_ = ds.Respond(503, "Service Unavailable", nil)
		l.farEndHungUp()
		return
	}
	port := conn.LocalAddr().(*net.UDPAddr).Port
	codec := offer.codecs[0]
	sdp := writeSDP(l.n.host, port, []uint8{codec}, offer.event)
	l.mu.Lock()
	l.rtp, l.sdp = conn, sdp
	l.state = stateAnswered
	l.mu.Unlock()
	l.startMedia(offer.addr, codec, offer.event)
	l.signalResponse(true, 200, "OK")
	// sipgo retransmits the 200 until the ACK comes or its transaction
	// ends; without an ACK after ackWait, ending the transaction makes
	// RespondSDP return at its next retransmission.
	tx := l.inviteTx
	timer := time.AfterFunc(l.n.ackWait, func() {
		if !l.acked.Load() && tx != nil {
			tx.Terminate()
		}
	})
	hdrs := []sip.Header{sip.NewHeader("Content-Type", "application/sdp")}
	if se := l.se; se != nil {
		ref := "uac"
		if se.ours {
			ref = "uas"
		}
		hdrs = append(hdrs, se.header(ref), sip.NewHeader("Supported", "timer"))
	}
	// The dialog is reported as the 200 goes out, before its ACK: a node
	// that dies while it waits for the ACK leaves a dialog another can end.
	l.dialogEstablished()
	err = ds.Respond(200, "OK", sdp, hdrs...)
	timer.Stop()
	l.settle()
	// RespondSDP returns as the ACK is read, a moment before onAck marks
	// it: give onAck that moment.
	select {
	case <-l.ackCh:
	case <-time.After(ackSettle):
	}
	if !l.acked.Load() {
		if err != nil {
			l.n.log.Debug("sip: answer", "sip_call_id", l.sipCallID, "err", err)
		}
		if ds.Context().Err() != nil {
			l.farEndHungUp() // cancelled or hung up while we answered
			return
		}
		// The answer failed: the caller never confirmed it.
		l.n.log.Warn("sip: no ACK for the 200 OK: hanging up", "sip_call_id", l.sipCallID)
		l.emit(engine.PhoneEvent{Kind: engine.PhoneHungUp})
		l.signal("→ BYE")
		ctx, cancel := context.WithTimeout(context.WithoutCancel(l.n.ctx), 10*time.Second)
		if err := ds.Bye(ctx); err != nil {
			l.n.log.Debug("sip: bye", "sip_call_id", l.sipCallID, "err", err)
		}
		cancel()
		l.finish()
		return
	}
	l.signal("← ACK")
	l.startSession()
	l.n.wg.Add(1)
	go func() {
		defer l.n.wg.Done()
		select {
		case <-ds.Context().Done():
			l.farEndHungUp() // a no-op after our own BYE or after onBye
		case <-l.done:
		}
	}()
}

// onReInvite answers a re-INVITE from the far end of an inbound or an
// outbound call. With SDP, it is an offer: hold (sendonly, inactive, or an
// unspecified connection address), resume (sendrecv), or a new codec or
// address, applied to the media; the answer mirrors its direction, with
// the next o= version. Without SDP, the answer is the SDP the call has,
// and the ACK's SDP, if any, changes nothing.
func (n *Network) onReInvite(req *sip.Request, tx sip.ServerTransaction) {
	l := n.lookup(req)
	if l == nil {
		respond(tx, req, 481, "Call/Transaction Does Not Exist")
		return
	}
	body := req.Body()
	if len(body) == 0 {
		l.signal("← INVITE")
		l.mu.Lock()
		sdp := l.sdp
		l.mu.Unlock()
		if sdp == nil {
			l.signalResponse(true, 491, "Request Pending")
			respond(tx, req, 491, "Request Pending")
			return
		}
		n.respondSDP(l, req, tx, sdp)
		return
	}
	offer, err := parseSDPHold(body, true)
	if err == nil && offer.addr.IsValid() && l.guarded && n.cfg.CheckHost != nil {
		ctx, cancel := context.WithTimeout(n.ctx, checkTimeout)
		if cerr := n.cfg.CheckHost(ctx, offer.addr.Addr().String()); cerr != nil {
			err = fmt.Errorf("media address %s refused: %w", offer.addr.Addr(), cerr)
		}
		cancel()
	}
	if offer.held() {
		l.signal("← INVITE (hold)")
	} else {
		l.signal("← INVITE")
	}
	if err != nil {
		l.signalResponse(true, 488, "Not Acceptable Here")
		res := sip.NewResponseFromRequest(req, 488, "Not Acceptable Here", nil)
		res.AppendHeader(sip.NewHeader("Warning", `399 voicehook "`+strings.ReplaceAll(err.Error(), `"`, `'`)+`"`))
		_ = tx.Respond(res)
		return
	}
	l.mu.Lock()
	m, old, conn := l.media, l.sdp, l.rtp
	if m == nil || old == nil || conn == nil || l.state != stateAnswered {
		l.mu.Unlock()
		l.signalResponse(true, 491, "Request Pending")
		respond(tx, req, 491, "Request Pending")
		return
	}
	id, version := sdpOrigin(old)
	codec := offer.codecs[0]
	port := conn.LocalAddr().(*net.UDPAddr).Port
	sdp := writeSDPVersion(n.host, port, []uint8{codec}, offer.event, id, version+1, answerDir(offer.dir))
	l.sdp = sdp
	l.mu.Unlock()
	m.update(offer, codec)
	n.respondSDP(l, req, tx, sdp)
}

// respondSDP answers an in-dialog INVITE 200 with sdp.
func (n *Network) respondSDP(l *line, req *sip.Request, tx sip.ServerTransaction, sdp []byte) {
	res := sip.NewSDPResponseFromRequest(req, sdp)
	l.mu.Lock()
	se := l.se
	l.mu.Unlock()
	if se != nil {
		// A re-INVITE refreshes the session (RFC 4028).
		ref := "uas"
		if !se.ours {
			ref = "uac"
		}
		res.AppendHeader(se.header(ref))
		res.AppendHeader(sip.NewHeader("Supported", "timer"))
		l.sessionRefreshed()
	}
	ua := n.udpUA
	if strings.EqualFold(req.Transport(), "tcp") {
		ua = n.tcpUA
	}
	res.AppendHeader(&ua.ContactHDR)
	l.signalResponse(true, 200, "OK")
	_ = tx.Respond(res)
	l.refreshTarget(req.Contact())
}

// ackSettle is how long an answer waits, once sipgo's RespondSDP returned,
// for onAck to mark the ACK that made it return.
const ackSettle = 500 * time.Millisecond

// onAck confirms an answered inbound dialog.
func (n *Network) onAck(req *sip.Request, tx sip.ServerTransaction) {
	l := n.lookup(req)
	if l == nil || l.srv == nil {
		return
	}
	if l.srv.ReadAck(req, tx) == nil {
		l.acked.Store(true)
		l.ackOnce.Do(func() { close(l.ackCh) })
	}
}

// onBye is the far end hanging up.
func (n *Network) onBye(req *sip.Request, tx sip.ServerTransaction) {
	l := n.lookup(req)
	if l == nil {
		respond(tx, req, 481, "Call/Transaction Does Not Exist")
		return
	}
	// Report first: ReadBye ends the dialog, which finishes the line.
	l.signal("← BYE")
	l.signalResponse(true, 200, "OK")
	l.emit(engine.PhoneEvent{Kind: engine.PhoneHungUp})
	l.mu.Lock()
	srv, cli := l.srv, l.cli
	ringing := l.state == stateRinging
	if ringing {
		l.state = stateEnded // no answer goes out now
	}
	l.mu.Unlock()
	if ringing && srv != nil {
		// A BYE before our 200 ends the INVITE: 487.
		l.signalResponse(true, 487, "Request Terminated")
		if err := srv.Respond(487, "Request Terminated", nil); err != nil {
			l.n.log.Debug("sip: 487", "sip_call_id", l.sipCallID, "err", err)
		}
		l.settle()
	}
	var err error
	if srv != nil {
		err = srv.ReadBye(req, tx)
	} else if cli != nil {
		err = cli.ReadBye(req, tx)
	}
	if err != nil {
		respond(tx, req, 200, "OK")
	}
	l.finish()
}

// onInfo takes a DTMF key sent as SIP INFO.
func (n *Network) onInfo(req *sip.Request, tx sip.ServerTransaction) {
	l := n.lookup(req)
	if l == nil {
		respond(tx, req, 481, "Call/Transaction Does Not Exist")
		return
	}
	l.signal("← INFO")
	ct := ""
	if h := req.ContentType(); h != nil {
		ct = strings.ToLower(strings.TrimSpace(h.Value()))
	}
	if !strings.HasPrefix(ct, "application/dtmf") {
		l.signalResponse(true, 415, "Unsupported Media Type")
		res := sip.NewResponseFromRequest(req, 415, "Unsupported Media Type", nil)
		res.AppendHeader(sip.NewHeader("Accept", "application/dtmf-relay, application/dtmf"))
		_ = tx.Respond(res)
		return
	}
	key, _, err := dtmf.ParseInfo(ct, req.Body())
	if err != nil {
		l.signalResponse(true, 400, "Bad Request")
		respond(tx, req, 400, "Bad Request")
		return
	}
	l.signalResponse(true, 200, "OK")
	respond(tx, req, 200, "OK")
	l.emit(engine.PhoneEvent{Kind: engine.PhoneDigit, Digit: key})
}

// outgoing decides whether an INVITE to a number no application answers is
// a softphone's call out: to another softphone's user while it is
// registered (any user may), or through the gateways (a user allowed to,
// User.Gateway). Config.Outgoing must be set. Such an INVITE must carry
// the user's digest credentials, made for this very Request-URI and never
// used before (a call through the trunk costs money: a captured INVITE
// must not be replayed, nor sent to another number); without them it gets
// a 401 challenge. done is true when outgoing answered the INVITE itself;
// caller is nil when the INVITE is not a call out.
func (n *Network) outgoing(req *sip.Request, tx sip.ServerTransaction, number string) (caller *User, done bool) {
	from := req.From()
	if from == nil || n.cfg.Outgoing == nil {
		return nil, false
	}
	u, known := n.reg.users[from.Address.User]
	if !known {
		if name, ok := n.reg.numbers[callerNumber(from.Address.User)]; ok {
			u, known = n.reg.users[name], true
		}
	}
	_, softphone := n.reg.numbers[callerNumber(number)]
	if !known || !(softphone || u.Gateway && len(n.gateways) > 0) {
		return nil, false
	}
	got, ok, stale := n.reg.authenticate(req)
	if ok && (got.Username != u.Username || !n.reg.fresh(req)) {
		ok, stale = false, false
	}
	if !ok {
		n.challenge(req, tx, stale)
		return nil, true
	}
	if req.Recipient.User != number {
		respond(tx, req, 403, "Forbidden (To is not the Request-URI's number)")
		return nil, true
	}
	if !got.Gateway && !n.Registered(callerNumber(number)) {
		// Only the gateway would take it now, and the user may not use it.
		respond(tx, req, 480, "Temporarily Unavailable")
		return nil, true
	}
	return &got, false
}

// Decline declines an inbound call not yet answered, as Hangup does, with
// the answer that tells the caller why: 486 Busy Here when the call it was
// forwarded to was busy, 480 Temporarily Unavailable when nobody answered,
// 603 Decline otherwise (engine.Decliner).
func (l *line) Decline(cause callback.Cause) string {
	code, reason := 603, "Decline"
	switch cause {
	case callback.CauseBusy:
		code, reason = 486, "Busy Here"
	case callback.CauseTimeout:
		code, reason = 480, "Temporarily Unavailable"
	}
	l.mu.Lock()
	l.decline.code, l.decline.reason = code, reason
	l.mu.Unlock()
	return l.Hangup()
}
