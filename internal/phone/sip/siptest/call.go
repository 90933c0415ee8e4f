package siptest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/pion/rtp"

	"github.com/voicehook/voicehook/internal/pcm"
	"github.com/voicehook/voicehook/internal/phone/sip/dtmf"
)

const (
	frame = Rate / 50 // samples per 20 ms packet
	ptime = 20 * time.Millisecond
	// amplitude is the peak of Tone, as a fraction of full scale.
	amplitude = 0.5
	// maxHeard caps the audio a call keeps: ten minutes.
	maxHeard = 10 * 60 * Rate
	// pressFor is how long Press holds a key.
	pressFor = 100 * time.Millisecond
)

// Call is a call of a Phone, placed (Dial) or answered (Incoming.Answer).
// From the answer until it ends it sends one RTP packet every 20 ms and
// records the G.711 audio and key presses it gets. Its methods are safe
// for concurrent use.
type Call struct {
	p      *Phone
	callID string
	dc     *sipgo.DialogClientSession // placed calls
	ds     *sipgo.DialogServerSession // answered calls
	conn   *net.UDPConn

	// sipMu serialises the requests the phone sends in the dialog.
	sipMu sync.Mutex

	// mu guards the fields below it.
	mu      sync.Mutex
	version int            // of the phone's SDP origin
	remote  netip.AddrPort // where RTP goes; invalid while the far end holds with 0.0.0.0
	event   uint8          // the far end's telephone-event payload type
	sending bool           // false while the far end holds us (recvonly/inactive answer)
	source  func([]int16)  // fills the next frame; nil is silence
	presses []dtmf.Packet  // telephone-event packets waiting to go
	pressTS uint32         // timestamp of the event being sent
	heard   []int16
	keys    []byte
	decoder *dtmf.Decoder
	seq     uint16
	ts      uint32
	ssrc    uint32

	endOnce sync.Once
	ended   chan struct{} // closed when the call ends, either way
	byeOnce sync.Once
	byeIn   chan struct{} // closed when the far end's BYE came
	stop    chan struct{} // closed to stop the media loops
	loops   sync.WaitGroup
}

func (p *Phone) newCall() (*Call, error) {
	conn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(netip.MustParseAddr(p.host), 0)))
	if err != nil {
		return nil, fmt.Errorf("siptest: RTP socket: %w", err)
	}
	return &Call{p: p, conn: conn, sending: true, decoder: dtmf.NewDecoder(), ssrc: rand.Uint32(),
		seq: uint16(rand.Uint32()), ts: rand.Uint32(), ended: make(chan struct{}), byeIn: make(chan struct{}),
		stop: make(chan struct{}), event: eventPT}, nil
}

// sdp is the call's SDP in direction dir, with a new origin version.
func (c *Call) sdp(dir string) []byte {
	c.mu.Lock()
	c.version++
	v := c.version
	c.mu.Unlock()
	return writeSDP(c.p.host, c.conn.LocalAddr().(*net.UDPAddr).Port, c.p.codec, v, dir)
}

// start begins sending to and reading from the far end m describes.
func (c *Call) start(m media) {
	c.update(m)
	c.loops.Add(2)
	go c.send()
	go c.read()
}

// update takes a new SDP from the far end.
func (c *Call) update(m media) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.remote = m.addr
	if m.event != 0 {
		c.event = m.event
	}
	c.sending = m.dir == "sendrecv" || m.dir == "recvonly"
}

// SIPCallID is the SIP Call-ID of the call.
func (c *Call) SIPCallID() string { return c.callID }

// Codec is the call's codec, the phone's.
func (c *Call) Codec() Codec { return c.p.codec }

// Ended is closed when the call ends: the far end's BYE, Hangup, or the
// end of the test.
func (c *Call) Ended() <-chan struct{} { return c.ended }

// HungUp is closed when the far end sent BYE.
func (c *Call) HungUp() <-chan struct{} { return c.byeIn }

// WaitHungUp reports whether the far end sends BYE within timeout.
func (c *Call) WaitHungUp(timeout time.Duration) bool {
	select {
	case <-c.byeIn:
		return true
	case <-time.After(timeout):
		return false
	}
}

// Tone sends a continuous sine of freq Hz at half full scale, until
// Silence, Play or another Tone.
func (c *Call) Tone(freq float64) {
	step := 2 * math.Pi * freq / Rate
	n := 0
	c.setSource(func(f []int16) {
		for i := range f {
			f[i] = int16(math.Round(amplitude * 32767 * math.Sin(step*float64(n))))
			n = (n + 1) % (Rate * 100) // whole cycles for any integral freq
		}
	})
}

// Play sends samples (8 kHz) over and over, until Silence, Tone or another
// Play.
func (c *Call) Play(samples []int16) {
	if len(samples) == 0 {
		c.Silence()
		return
	}
	samples = slices.Clone(samples)
	n := 0
	c.setSource(func(f []int16) {
		for i := range f {
			f[i] = samples[n]
			n = (n + 1) % len(samples)
		}
	})
}

// Silence sends silence (the call keeps sending packets).
func (c *Call) Silence() { c.setSource(nil) }

func (c *Call) setSource(f func([]int16)) {
	c.mu.Lock()
	c.source = f
	c.mu.Unlock()
}

// Press sends key (0-9, *, #, A-D) as RFC 4733 telephone-events held for
// 100 ms, in place of the audio meanwhile; presses queue behind each
// other.
func (c *Call) Press(key byte) error {
	pkts, err := dtmf.Encode(key, pressFor)
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.presses = append(c.presses, pkts...)
	c.mu.Unlock()
	return nil
}

// Keys are the keys the far end pressed (RFC 4733), in order.
func (c *Call) Keys() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return string(c.keys)
}

// Heard is the audio the call got so far, decoded, in arrival order. Lost
// packets leave no gap; the far end's silence is there as silence.
func (c *Call) Heard() []int16 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.heard)
}

// Mark is how many samples the call has heard: HeardSince(Mark()) later
// is what it heard in between.
func (c *Call) Mark() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.heard)
}

// HeardSince is the audio heard after mark (a Mark).
func (c *Call) HeardSince(mark int) []int16 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.heard[min(mark, len(c.heard)):])
}

// Listen waits d and returns what the call heard meanwhile.
func (c *Call) Listen(d time.Duration) []int16 {
	mark := c.Mark()
	select {
	case <-time.After(d):
	case <-c.ended:
	}
	return c.HeardSince(mark)
}

// WaitHears waits up to timeout for the last window of audio heard (window
// is rounded to 20 ms packets) to carry freq as Hears says, and reports
// whether it did. Audio heard before the call is asked is not looked at.
func (c *Call) WaitHears(freq float64, window, timeout time.Duration) bool {
	return c.WaitFor(func(s []int16) bool { return Hears(s, freq) }, window, timeout)
}

// WaitFor waits up to timeout for ok to hold of the last window of audio
// heard (rounded to 20 ms packets), looking every 50 ms, and reports
// whether it did. Audio heard before the call is asked is not looked at;
// a call that ends stops the wait.
func (c *Call) WaitFor(ok func(samples []int16) bool, window, timeout time.Duration) bool {
	n := max(1, int(window/ptime)) * frame
	mark := c.Mark()
	deadline := time.Now().Add(timeout)
	for {
		if got := c.HeardSince(mark); len(got) >= n && ok(got[len(got)-n:]) {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		select {
		case <-time.After(50 * time.Millisecond):
		case <-c.ended:
			return false
		}
	}
}

// Hold puts the far end on hold: a re-INVITE with a=sendonly. The phone
// keeps sending; the far end should stop. It returns the status code of
// the answer.
func (c *Call) Hold() (int, error) { return c.reinvite("sendonly") }

// Resume takes the far end off hold: a re-INVITE with a=sendrecv.
func (c *Call) Resume() (int, error) { return c.reinvite("sendrecv") }

func (c *Call) reinvite(dir string) (int, error) {
	c.sipMu.Lock()
	defer c.sipMu.Unlock()
	var target sip.Uri
	if c.dc != nil {
		target = c.dc.InviteResponse.Contact().Address
	} else {
		target = c.ds.InviteRequest.Contact().Address
	}
	req := sip.NewRequest(sip.INVITE, target)
	req.SetBody(c.sdp(dir))
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	ctx, cancel := context.WithTimeout(context.Background(), DefaultTimeout)
	defer cancel()
	var res *sip.Response
	var err error
	if c.dc != nil {
		res, err = c.dc.Do(ctx, req)
	} else {
		res, err = c.ds.Do(ctx, req)
	}
	if err != nil {
		return 0, fmt.Errorf("siptest: re-INVITE: %w", err)
	}
	if !res.IsSuccess() {
		return res.StatusCode, nil
	}
	ack := sip.NewRequest(sip.ACK, req.Recipient)
	if c.dc != nil {
		err = c.dc.WriteRequest(ack)
	} else {
		err = c.ds.WriteRequest(ack)
	}
	if err != nil {
		return res.StatusCode, fmt.Errorf("siptest: ACK of the re-INVITE: %w", err)
	}
	if m, err := parseSDP(res.Body()); err == nil {
		c.mu.Lock()
		if m.addr.IsValid() {
			c.remote = m.addr
		}
		c.mu.Unlock()
	}
	return res.StatusCode, nil
}

// Hangup sends BYE (when the call is still up) and ends the call.
func (c *Call) Hangup() error {
	ctx, cancel := context.WithTimeout(context.Background(), DefaultTimeout)
	defer cancel()
	err := c.bye(ctx)
	c.end()
	return err
}

func (c *Call) bye(ctx context.Context) error {
	select {
	case <-c.ended:
		return nil
	default:
	}
	c.sipMu.Lock()
	defer c.sipMu.Unlock()
	var err error
	switch {
	case c.dc != nil:
		err = c.dc.Bye(ctx)
	case c.ds != nil:
		err = c.ds.Bye(ctx)
	}
	if err != nil {
		return fmt.Errorf("siptest: BYE: %w", err)
	}
	return nil
}

// byeReceived ends the call, then tells HungUp: a call hung up has ended.
func (c *Call) byeReceived() {
	c.end()
	c.byeOnce.Do(func() { close(c.byeIn) })
}

// end stops the media and forgets the call.
func (c *Call) end() {
	c.endOnce.Do(func() {
		close(c.stop)
		c.conn.Close()
		c.loops.Wait()
		c.p.untrack(c)
		close(c.ended)
	})
}

// close releases a call that never started.
func (c *Call) close() { c.end() }

// send is the sending loop: a packet every 20 ms.
func (c *Call) send() {
	defer c.loops.Done()
	tick := time.NewTicker(ptime)
	defer tick.Stop()
	f := make([]int16, frame)
	var buf []byte
	marker := true
	for {
		select {
		case <-c.stop:
			return
		case <-tick.C:
		}
		c.mu.Lock()
		remote, sending := c.remote, c.sending && c.remote.IsValid()
		var pk rtp.Packet
		if len(c.presses) > 0 {
			dp := c.presses[0]
			c.presses = c.presses[1:]
			if dp.Marker {
				c.pressTS = c.ts
			}
			pk = rtp.Packet{Header: rtp.Header{PayloadType: c.event, Marker: dp.Marker, Timestamp: c.pressTS}, Payload: dp.Payload[:]}
			// The end packets go together, as RFC 4733 allows.
			for dp.End && len(c.presses) > 0 && c.presses[0].End {
				c.presses = c.presses[1:]
				if sending {
					c.write(remote, pk)
				}
			}
		} else {
			clear(f)
			if c.source != nil {
				c.source(f)
			}
			if c.p.codec == PCMA {
				buf = pcm.EncodeALaw(buf[:0], f)
			} else {
				buf = pcm.EncodeULaw(buf[:0], f)
			}
			pk = rtp.Packet{Header: rtp.Header{PayloadType: uint8(c.p.codec), Marker: marker, Timestamp: c.ts}, Payload: buf}
			marker = false
		}
		c.ts += frame
		if sending {
			c.write(remote, pk)
		}
		c.mu.Unlock()
	}
}

// write sends pk with the next sequence number; c.mu is held.
func (c *Call) write(to netip.AddrPort, pk rtp.Packet) {
	pk.Version = 2
	pk.SSRC = c.ssrc
	pk.SequenceNumber = c.seq
	c.seq++
	b, err := pk.Marshal()
	if err != nil {
		return
	}
	_, _ = c.conn.WriteToUDPAddrPort(b, to)
}

// read is the receiving loop.
func (c *Call) read() {
	defer c.loops.Done()
	buf := make([]byte, 1500)
	for {
		n, err := c.conn.Read(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		var pk rtp.Packet
		if pk.Unmarshal(buf[:n]) != nil {
			continue
		}
		c.mu.Lock()
		switch {
		case pk.PayloadType == uint8(PCMU) && len(c.heard) < maxHeard:
			c.heard = pcm.DecodeULaw(c.heard, pk.Payload)
		case pk.PayloadType == uint8(PCMA) && len(c.heard) < maxHeard:
			c.heard = pcm.DecodeALaw(c.heard, pk.Payload)
		case pk.PayloadType == c.event:
			if k, ok := c.decoder.Packet(pk.SequenceNumber, pk.Timestamp, pk.Marker, pk.Payload); ok {
				c.keys = append(c.keys, k)
			}
		}
		c.mu.Unlock()
	}
}
