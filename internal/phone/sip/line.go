package sip

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/voicehook/voicehook/internal/engine"
)

// Line states.
const (
	stateRinging  = iota // INVITE sent or taken, no final response
	stateAnswered        // 200 OK sent or received
	stateEnded           // the dialog is over
)

// line is one call's SIP dialog and media: the engine.Line of a SIP call.
type line struct {
	n         *Network
	outbound  bool
	sipCallID string

	// Events go out in order through evQ, drained by the line's event
	// goroutine (deliver), so no producer ever waits on the engine.
	evMu     sync.Mutex
	evQ      []engine.PhoneEvent
	evClosed bool
	evWake   chan struct{}
	notify   func(engine.PhoneEvent)
	hungUp   atomic.Bool   // PhoneHungUp reported
	hangup   atomic.Bool   // Hangup called: only PhoneSignal follows
	acked    atomic.Bool   // inbound: the ACK of our 200 came
	ackCh    chan struct{} // closed when acked is set
	ackOnce  sync.Once

	// ops are the line's signalling steps (dial, answer, hang up), run in
	// order by its op goroutine.
	ops chan func()

	// cmds are media commands from the Line methods, taken by the media
	// sender on its next tick.
	cmds cmdQueue
	// taps and inj are the line's streams: the taps the sender hands its
	// audio every tick, and the audio injected to go out (tap.go). Each
	// has its own mutex, so that they work before the answer too.
	taps tapSet
	inj  injectQueue

	mu       sync.Mutex
	state    int
	srv      *sipgo.DialogServerSession // inbound
	inviteTx sip.ServerTransaction      // inbound: the INVITE's transaction
	cli      *sipgo.DialogClientSession // outbound
	offer    session                    // inbound: the caller's offer
	rtp      *net.UDPConn
	media    *media
	sdp      []byte // our SDP, for a re-INVITE
	// guarded: an outbound call to a SIP URI's own host, whose media
	// address Config.CheckHost must allow, in a re-INVITE too.
	guarded bool
	// decline is the answer that declines an inbound call not yet
	// answered: 603 Decline, unless Decline says why.
	decline struct {
		code   int
		reason string
	}
	// se is the call's session timer, nil when none was asked for.
	se *sessionTimer
	// dialog is the dialog state last reported (PhoneDialog), nil before.
	dialog *dialogState
	dialCx context.CancelFunc
	// detect is createCall's machine detection (engine.Dial.Detect), set
	// by Dial: the media sender hears the greeting for it.
	detect *engine.MachineDetection

	finishOnce sync.Once
	done       chan struct{} // closed by finish
	// settled is closed once an inbound INVITE has its final response (and
	// the ACK of a 200): sipgo ends the transaction when onInvite returns,
	// so onInvite waits for it.
	settleOnce sync.Once
	settled    chan struct{}
}

func (l *line) settle() { l.settleOnce.Do(func() { close(l.settled) }) }

// newLine is a line not yet running: Network.track starts its op
// goroutine, unless the network is closed.
func newLine(n *Network, outbound bool, sipCallID string) *line {
	l := &line{n: n, outbound: outbound, sipCallID: sipCallID,
		evWake: make(chan struct{}, 1), ops: make(chan func(), 8), done: make(chan struct{}), settled: make(chan struct{}),
		ackCh: make(chan struct{})}
	l.decline.code, l.decline.reason = 603, "Decline"
	return l
}

// runOps runs the signalling steps in order until the line finishes.
func (l *line) runOps() {
	defer l.n.wg.Done()
	for {
		select {
		case op := <-l.ops:
			op()
		case <-l.done:
			return
		}
	}
}

// do queues a signalling step. The queue holds more than the steps a line
// ever takes (dial or answer, then hang up).
func (l *line) do(op func()) {
	select {
	case l.ops <- op:
	default:
		l.n.log.Error("sip: signalling queue full, step dropped", "sip_call_id", l.sipCallID)
	}
}

// start begins delivering events to notify.
func (l *line) start(notify func(engine.PhoneEvent)) {
	l.evMu.Lock()
	l.notify = notify
	l.evMu.Unlock()
	// Join n.wg under n.mu, and not once Close has begun to wait.
	l.n.mu.Lock()
	defer l.n.mu.Unlock()
	if l.n.closed {
		return
	}
	l.n.wg.Add(1)
	go l.deliver()
}

// emit queues an event. After Hangup only PhoneSignal goes out; PhoneHungUp
// goes out once.
func (l *line) emit(e engine.PhoneEvent) {
	if e.Kind != engine.PhoneSignal && l.hangup.Load() {
		return
	}
	if e.Kind == engine.PhoneHungUp && !l.hungUp.CompareAndSwap(false, true) {
		return
	}
	l.evMu.Lock()
	if l.evClosed {
		l.evMu.Unlock()
		return
	}
	l.evQ = append(l.evQ, e)
	l.evMu.Unlock()
	select {
	case l.evWake <- struct{}{}:
	default:
	}
}

// signal reports a SIP message: "→ INVITE", "← 180 Ringing".
func (l *line) signal(format string, args ...any) {
	l.emit(engine.PhoneEvent{Kind: engine.PhoneSignal, Message: fmt.Sprintf(format, args...)})
}

func (l *line) signalResponse(sent bool, code int, reason string) {
	arrow := "←"
	if sent {
		arrow = "→"
	}
	l.signal("%s %d %s", arrow, code, reason)
}

// deliver hands queued events to notify, in order, the first with the
// Call-ID; it returns once the line has finished and the queue is empty.
func (l *line) deliver() {
	defer l.n.wg.Done()
	first := true
	for {
		l.evMu.Lock()
		q := l.evQ
		l.evQ = nil
		closed := l.evClosed
		notify := l.notify
		l.evMu.Unlock()
		for _, e := range q {
			if first {
				e.SIPCallID = l.sipCallID
				first = false
			}
			notify(e)
		}
		if closed && len(q) == 0 {
			return
		}
		if len(q) == 0 {
			<-l.evWake
		}
	}
}

// finish ends the line: stops media, frees the RTP port, forgets the
// dialog and lets the event goroutine end once it has delivered what is
// queued.
func (l *line) finish() {
	l.finishOnce.Do(func() {
		l.mu.Lock()
		l.state = stateEnded
		m, conn := l.media, l.rtp
		if l.se != nil && l.se.t != nil {
			l.se.t.Stop()
		}
		cancel := l.dialCx
		l.mu.Unlock()
		if cancel != nil {
			cancel()
		}
		if m != nil {
			m.stop()
		} else if conn != nil {
			conn.Close()
		}
		l.taps.close()
		l.inj.clear()
		l.n.forget(l)
		l.evMu.Lock()
		l.evClosed = true
		l.evMu.Unlock()
		select {
		case l.evWake <- struct{}{}:
		default:
		}
		close(l.done)
		l.settle()
	})
}

// endFor ends an answered call from our side for reason (the far end's
// silence): PhoneHungUp with the reason, then BYE.
func (l *line) endFor(reason string) {
	l.mu.Lock()
	state, srv, cli := l.state, l.srv, l.cli
	l.mu.Unlock()
	if state != stateAnswered || l.hangup.Load() {
		return
	}
	l.n.log.Warn("sip: ending the call", "sip_call_id", l.sipCallID, "reason", reason)
	l.emit(engine.PhoneEvent{Kind: engine.PhoneHungUp, Reason: reason})
	l.hangup.Store(true) // the engine's Hangup that follows sends nothing
	l.signal("→ BYE")
	ctx, cancel := context.WithTimeout(context.WithoutCancel(l.n.ctx), 10*time.Second)
	defer cancel()
	var err error
	if srv != nil {
		err = srv.Bye(ctx)
	} else if cli != nil {
		err = cli.Bye(ctx)
	}
	if err != nil {
		l.n.log.Debug("sip: bye", "sip_call_id", l.sipCallID, "err", err)
	} else {
		l.signalResponse(false, 200, "OK")
	}
	l.finish()
}

// farEndHungUp reports the far end's BYE or CANCEL and ends the line.
func (l *line) farEndHungUp() {
	l.emit(engine.PhoneEvent{Kind: engine.PhoneHungUp})
	l.finish()
}

// startMedia opens the RTP stream to the far end.
func (l *line) startMedia(remote netip.AddrPort, codec uint8, event int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.state == stateEnded || l.media != nil {
		return
	}
	l.media = newMedia(l, l.rtp, remote, codec, event)
	l.media.start()
}

// Hangup ends the call from our side: CANCEL while an outbound call rings,
// 603 Decline while an inbound one rings, BYE once answered. It returns
// that message for the call's history: no event reaches the engine after
// Hangup.
func (l *line) Hangup() string {
	if l.hangup.Swap(true) {
		return ""
	}
	l.mu.Lock()
	var msg string
	switch {
	case l.state == stateRinging && l.srv != nil:
		msg = fmt.Sprintf("→ %d %s", l.decline.code, l.decline.reason)
	case l.state == stateRinging:
		msg = "→ CANCEL"
	case l.state == stateAnswered:
		msg = "→ BYE"
	}
	if c := l.dialCx; c != nil && l.state == stateRinging {
		c() // WaitAnswer sends CANCEL
	}
	l.mu.Unlock()
	l.do(l.end)
	return msg
}

// end is the Hangup step.
func (l *line) end() {
	l.mu.Lock()
	state, srv, cli := l.state, l.srv, l.cli
	l.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(l.n.ctx), 10*time.Second)
	defer cancel()
	switch {
	case state == stateEnded:
	case state == stateRinging && srv != nil:
		l.mu.Lock()
		d := l.decline
		l.mu.Unlock()
		if err := srv.Respond(d.code, d.reason, nil); err != nil {
			l.n.log.Debug("sip: decline", "sip_call_id", l.sipCallID, "err", err)
		}
		l.settle()
	case state == stateAnswered && srv != nil:
		if err := srv.Bye(ctx); err != nil {
			l.n.log.Debug("sip: bye", "sip_call_id", l.sipCallID, "err", err)
		} else {
			l.signalResponse(false, 200, "OK")
		}
	case state == stateAnswered && cli != nil:
		if err := cli.Bye(ctx); err != nil {
			l.n.log.Debug("sip: bye", "sip_call_id", l.sipCallID, "err", err)
		} else {
			l.signalResponse(false, 200, "OK")
		}
	}
	l.finish()
}

// Listening does nothing: a real phone presses keys when its user does.
func (l *line) Listening() {}

// Recording does nothing: a real phone speaks when its user does.
func (l *line) Recording() {}

// Play queues p on the media sender; PhonePlayed follows.
func (l *line) Play(p engine.Playback) bool {
	l.cmds.push(cmd{play: &p})
	return true
}

// StopPlaying stops what plays within one packet.
func (l *line) StopPlaying() { l.cmds.push(cmd{stop: true}) }

// SendDigits queues RFC 4733 digits on the media sender.
func (l *line) SendDigits(d engine.Digits) {
	l.cmds.push(cmd{digits: &d})
}

// Capture starts recording what the line hears and plays.
func (l *line) Capture(channels int) engine.Capture {
	c := &capture{channels: channels, full: func() {
		l.n.log.Warn("sip: capture reached its limit: what follows is not recorded", "sip_call_id", l.sipCallID, "limit", maxCapture)
	}}
	l.cmds.push(cmd{capture: c})
	return c
}

// cmd is one media command: exactly one field is set.
type cmd struct {
	play    *engine.Playback
	stop    bool
	digits  *engine.Digits
	capture *capture
	link    *link // joins a room
}

// cmdQueue is the Line methods' mailbox to the media sender. push never
// blocks; a queue over maxCmds drops the command (the engine never sends
// that many within 20 ms).
type cmdQueue struct {
	mu sync.Mutex
	q  []cmd
}

const maxCmds = 256

func (q *cmdQueue) push(c cmd) {
	q.mu.Lock()
	if len(q.q) < maxCmds {
		q.q = append(q.q, c)
	}
	q.mu.Unlock()
}

func (q *cmdQueue) take(dst []cmd) []cmd {
	q.mu.Lock()
	dst = append(dst, q.q...)
	clear(q.q)
	q.q = q.q[:0]
	q.mu.Unlock()
	return dst
}
