package sip

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"

	"github.com/voicehook/voicehook/internal/engine"
	"github.com/voicehook/voicehook/internal/pcm"
	"github.com/voicehook/voicehook/internal/phone/sip/dtmf"
	"github.com/voicehook/voicehook/internal/redact"
	"github.com/voicehook/voicehook/internal/tts"
)

const (
	rate       = 8000                  // G.711 samples a second
	frame      = 160                   // samples in a 20 ms packet
	ptime      = 20 * time.Millisecond // one packet
	speechTick = 25                    // ticks between PhoneSpeech reports (500 ms)
	// rxMax caps the far end's samples waiting for a tick (one second);
	// rxKeep is what a backlog is cut to, and rxStart what a tick waits
	// for after running dry (a 40 ms playout delay against jitter).
	rxMax   = rate
	rxKeep  = 3 * frame
	rxStart = 2 * frame
	// lateBy is how late a packet must leave to count as late.
	lateBy = 5 * time.Millisecond
	// maxPrompt caps one prompt's length.
	maxPrompt = 15 * time.Minute
	// maxCapture caps the audio one capture keeps: two hours (115 MB a
	// channel at 8 kHz). A capture that reaches it keeps what it has and
	// takes no more, with a warning in the log.
	maxCapture = 2 * time.Hour
)

// media is an answered call's RTP stream. Its sender, ticked by the
// network's pacer under the sender's mutex, owns the playback, the digits
// being sent and the captures; its reader goroutine owns the DTMF decoder.
// They share only rx (under rxMu).
type media struct {
	l    *line
	conn *net.UDPConn
	// remote and codec are where and how the sender sends; a re-INVITE
	// changes them under the sender's mutex.
	remote *net.UDPAddr
	codec  uint8
	event  int // telephone-event payload type, -1 when none was negotiated

	rxMu sync.Mutex
	rx   []int16 // the far end's decoded samples, waiting for a tick
	// sdp is the far end's SDP address: packets from it are always taken.
	// Under rxMu: a re-INVITE may change it.
	sdp netip.AddrPort

	// lastRx is when the far end's last packet came (Unix nanoseconds).
	lastRx atomic.Int64

	snd  *sender
	quit chan struct{}
	wg   sync.WaitGroup
	once sync.Once
}

func newMedia(l *line, conn *net.UDPConn, remote netip.AddrPort, codec uint8, event int) *media {
	return &media{l: l, conn: conn, remote: net.UDPAddrFromAddrPort(remote), sdp: unmap(remote), codec: codec, event: event,
		quit: make(chan struct{})}
}

func (m *media) start() {
	m.lastRx.Store(time.Now().UnixNano())
	m.snd = newSender(m)
	m.l.n.pacer.add(m.snd)
	m.wg.Add(1)
	go m.read()
}

// stop takes the sender off the pacer, ends the reader and closes the
// socket.
func (m *media) stop() {
	m.once.Do(func() {
		close(m.quit)
		m.l.n.pacer.remove(m.snd)
		m.snd.mu.Lock()
		m.snd.stopped = true
		m.snd.stopPlay()
		m.snd.mu.Unlock()
		m.conn.Close()
		m.wg.Wait()
	})
}

// read takes the far end's packets: audio into rx, telephone-events into
// PhoneDigit. It takes them only from the far end: the address of its SDP,
// or the first source that sent a packet (a peer bound to a wildcard
// address sends from another address than its SDP names); packets from
// anywhere else are dropped, so nobody who reaches the port can inject
// digits.
func (m *media) read() {
	defer m.wg.Done()
	dec := dtmf.NewDecoder()
	buf := make([]byte, 1500)
	var p rtp.Packet
	var latched netip.AddrPort
	samples := make([]int16, 0, frame)
	for {
		nr, src, err := m.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			return
		}
		src = unmap(src)
		if !latched.IsValid() {
			latched = src
		}
		m.rxMu.Lock()
		sdp := m.sdp
		m.rxMu.Unlock()
		if src != sdp && src != latched {
			continue
		}
		if p.Unmarshal(buf[:nr]) != nil {
			continue
		}
		m.lastRx.Store(time.Now().UnixNano())
		switch {
		case m.event >= 0 && int(p.PayloadType) == m.event:
			if key, ok := dec.Packet(p.SequenceNumber, p.Timestamp, p.Marker, p.Payload); ok {
				m.l.emit(engine.PhoneEvent{Kind: engine.PhoneDigit, Digit: key})
			}
		case p.PayloadType == ptPCMU:
			samples = pcm.DecodeULaw(samples[:0], p.Payload)
			m.received(samples)
		case p.PayloadType == ptPCMA:
			samples = pcm.DecodeALaw(samples[:0], p.Payload)
			m.received(samples)
		}
	}
}

// unmap turns an IPv4-mapped IPv6 address into IPv4.
func unmap(a netip.AddrPort) netip.AddrPort {
	return netip.AddrPortFrom(a.Addr().Unmap(), a.Port())
}

func (m *media) received(s []int16) {
	m.rxMu.Lock()
	m.rx = append(m.rx, s...)
	if len(m.rx) > rxMax {
		m.rx = append(m.rx[:0], m.rx[len(m.rx)-rxKeep:]...)
	}
	m.rxMu.Unlock()
}

// sender is the state of a call's sending; mu guards all of it.
type sender struct {
	mu       sync.Mutex
	stopped  bool
	shard    *shard // set by pacer.add
	m        *media
	seq      uint16
	ts       uint32
	ssrc     uint32
	buf      []byte
	cmds     []cmd
	play     *playing
	digits   []*digitRun
	captures []*capture
	vad      *pcm.VAD
	greet    *greeter // hears the greeting for machine detection, until it is known
	rxLive   bool     // rx is being drained (not refilling after running dry)
	// held is set while the far end holds the call: the clock runs, the
	// playback and digits go on, but no packet is sent and the far end's
	// silence does not end the call.
	held bool
	// quiet is set while the far end's SDP says it sends nothing
	// (anything but sendrecv): its silence does not end the call.
	quiet bool
	// silent is set once the far end's silence ended the call.
	silent bool
	// sinceSpeech counts ticks since the last PhoneSpeech: one goes out
	// when the far end speaks and 500 ms have passed.
	sinceSpeech int
	heard       [frame]int16
	out         [frame]int16
	// link joins the call to a room: heard goes in, the mix comes out.
	link    *link
	mix     [frame]int16
	payload []byte
	// sentAudio is set when this tick sent out (not a digit's event
	// packet, not held): the taps hear silence otherwise.
	sentAudio bool
}

// newSender is the state of a call's sending, ticked by the pacer.
func newSender(m *media) *sender {
	s := &sender{m: m, seq: uint16(rand.Uint32()), ts: rand.Uint32(), ssrc: rand.Uint32(),
		buf: make([]byte, 1500), vad: pcm.NewVAD(rate), payload: make([]byte, 0, frame), sinceSpeech: speechTick}
	if md := m.l.detect; md != nil {
		s.greet = &greeter{md: *md}
	}
	return s
}

// tick sends one packet and takes one frame of what the far end sent.
func (s *sender) tick() {
	s.cmds = s.m.l.cmds.take(s.cmds[:0])
	for _, c := range s.cmds {
		s.apply(c)
	}
	clear(s.cmds)

	clear(s.out[:])
	s.sentAudio = false
	// In a room, what the call hears of it goes on top of its playback.
	mixed := s.link != nil && s.pullMix()
	if len(s.digits) > 0 && s.m.event >= 0 {
		if mixed {
			addFrame(s.out[:], s.mix[:])
		}
		s.sendDigit()
	} else {
		if len(s.digits) > 0 {
			// No telephone-event was negotiated: the digits cannot go.
			s.m.l.n.log.Warn("sip: digits not sent: the far end's SDP has no telephone-event", "sip_call_id", s.m.l.sipCallID)
			s.digits = nil
		}
		if s.play != nil {
			s.fill()
		}
		s.m.l.inj.mixInto(s.out[:])
		if mixed {
			addFrame(s.out[:], s.mix[:])
		}
		s.sendAudio()
	}
	s.ts += frame
	s.checkSilence()

	s.take()
	if s.link != nil {
		s.link.putHeard(s.heard[:])
	}
	s.listen()
	for i := 0; i < len(s.captures); {
		if !s.captures[i].add(s.heard[:], s.out[:]) {
			s.captures = append(s.captures[:i], s.captures[i+1:]...)
			continue
		}
		i++
	}
	// Taps last: they hear the frame sent, or silence when none left.
	if !s.sentAudio {
		clear(s.out[:])
	}
	s.m.l.taps.hand(s.heard[:], s.out[:])
}

// checkSilence ends the call once the far end has sent nothing for
// Config.RTPTimeout while not on hold.
func (s *sender) checkSilence() {
	l := s.m.l
	limit := l.n.cfg.RTPTimeout
	if limit <= 0 || s.held || s.quiet || s.silent {
		return
	}
	if time.Since(time.Unix(0, s.m.lastRx.Load())) < limit {
		return
	}
	s.silent = true
	reason := "no audio from the far end for " + limit.String()
	if limit%time.Second == 0 {
		reason = fmt.Sprintf("no audio from the far end for %ds", int(limit/time.Second))
	}
	l.do(func() { l.endFor(reason) })
}

// update applies a re-INVITE's SDP: hold or resume, and the codec and
// address to send to.
func (m *media) update(sess session, codec uint8) {
	s := m.snd
	s.mu.Lock()
	defer s.mu.Unlock()
	held := sess.held()
	quiet := sess.dir != "sendrecv"
	if s.quiet && !quiet {
		m.lastRx.Store(time.Now().UnixNano()) // the silence timer starts again
	}
	s.held, s.quiet = held, quiet
	m.codec = codec
	if sess.addr.IsValid() {
		m.remote = net.UDPAddrFromAddrPort(sess.addr)
		m.rxMu.Lock()
		m.sdp = unmap(sess.addr)
		m.rxMu.Unlock()
	}
}

func (s *sender) write(pt uint8, marker bool, ts uint32, payload []byte) {
	if s.held {
		return
	}
	p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: pt, Marker: marker,
		SequenceNumber: s.seq, Timestamp: ts, SSRC: s.ssrc}, Payload: payload}
	s.seq++
	n, err := p.MarshalTo(s.buf)
	if err != nil {
		return
	}
	_, _ = s.m.conn.WriteToUDP(s.buf[:n], s.m.remote)
}

// take moves one frame of the far end's audio into heard (silence when
// none came).
func (s *sender) take() {
	m := s.m
	m.rxMu.Lock()
	if !s.rxLive && len(m.rx) >= rxStart {
		s.rxLive = true
	}
	if len(m.rx) > rxKeep+2*frame {
		m.rx = append(m.rx[:0], m.rx[len(m.rx)-rxKeep:]...)
	}
	n := 0
	if s.rxLive {
		n = copy(s.heard[:], m.rx)
		m.rx = append(m.rx[:0], m.rx[n:]...)
		if n < frame {
			s.rxLive = false
		}
	}
	m.rxMu.Unlock()
	clear(s.heard[n:])
}

// listen runs voice activity detection on what was heard, and reports
// PhoneSpeech every 500 ms while the far end speaks.
// While machine detection listens (greet), it hears the greeting too.
func (s *sender) listen() {
	s.sinceSpeech++
	speaking := s.vad.Feed(s.heard[:])
	if speaking && s.sinceSpeech >= speechTick {
		s.sinceSpeech = 0
		s.m.l.emit(engine.PhoneEvent{Kind: engine.PhoneSpeech})
	}
	if s.greet != nil {
		if g, ok := s.greet.feed(speaking, pureTone(s.heard[:])); ok {
			s.greet = nil
			s.m.l.emit(engine.PhoneEvent{Kind: engine.PhoneGreeting, Greeting: g})
		}
	}
}

func (s *sender) apply(c cmd) {
	switch {
	case c.play != nil:
		s.stopPlay()
		s.startPlay(*c.play)
	case c.stop:
		s.stopPlay()
	case c.digits != nil:
		s.digits = append(s.digits, &digitRun{d: *c.digits})
	case c.capture != nil:
		s.captures = append(s.captures, c.capture)
	case c.link != nil:
		s.link = c.link
	}
}

// playing is a Playback in progress. Its prompts are prepared (spoken,
// fetched, decoded, resampled) by one goroutine, in order, while the
// sender sends silence; the sender owns the rest.
type playing struct {
	p       engine.Playback
	clips   [][]int16
	ready   []bool
	results chan prepared
	cancel  context.CancelFunc
	idx     int // prompt playing
	pos     int // sample within it
	rep     int // repetitions finished
	gap     int // samples of gap still to send
}

type prepared struct {
	i       int
	samples []int16
	err     error
}

func (s *sender) startPlay(p engine.Playback) {
	s.play = s.m.l.n.startPlaying(p)
}

// startPlaying begins p: one goroutine prepares its prompts, in order,
// while fill gives silence. A line's sender and a room both play this way.
func (n *Network) startPlaying(p engine.Playback) *playing {
	ctx, cancel := context.WithCancel(n.ctx)
	pl := &playing{p: p, clips: make([][]int16, len(p.Prompts)), ready: make([]bool, len(p.Prompts)),
		results: make(chan prepared, len(p.Prompts)), cancel: cancel}
	if pl.p.Repeat < 1 {
		pl.p.Repeat = 1
	}
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		for i, pr := range p.Prompts {
			samples, err := n.prepare(ctx, pr)
			pl.results <- prepared{i, samples, err}
			if err != nil || ctx.Err() != nil {
				return
			}
		}
	}()
	return pl
}

func (s *sender) stopPlay() {
	if s.play != nil {
		s.play.cancel()
		s.play = nil
	}
}

// fill puts the next frame of the playback into out, and reports
// PhonePlayed when it ends.
func (s *sender) fill() {
	pl := s.play
	done, err := pl.fill(s.out[:])
	if !done {
		return
	}
	s.stopPlay()
	e := engine.PhoneEvent{Kind: engine.PhonePlayed, PlayID: pl.p.ID}
	if err != nil {
		e.Reason = err.Error()
	}
	s.m.l.emit(e)
}

// fill copies the next frame of the playback into out (silence, left as
// it is, while a prompt is being prepared). done is set once the playback
// has ended, err when a prompt could not be prepared; the caller then
// drops pl and calls its cancel.
func (pl *playing) fill(out []int16) (done bool, err error) {
	for len(out) > 0 {
		if pl.gap > 0 {
			k := min(pl.gap, len(out))
			pl.gap -= k
			out = out[k:]
			continue
		}
		if pl.idx == len(pl.p.Prompts) {
			pl.rep++
			if pl.rep >= pl.p.Repeat {
				return true, nil
			}
			pl.idx, pl.pos = 0, 0
			pl.gap = int(pl.p.Gap * rate / time.Second)
			continue
		}
		for !pl.ready[pl.idx] {
			select {
			case r := <-pl.results:
				if r.err != nil {
					return true, r.err
				}
				pl.clips[r.i], pl.ready[r.i] = r.samples, true
			default:
				return false, nil // still preparing: silence meanwhile
			}
		}
		k := copy(out, pl.clips[pl.idx][pl.pos:])
		out = out[k:]
		pl.pos += k
		if pl.pos >= len(pl.clips[pl.idx]) {
			pl.idx++
			pl.pos = 0
		}
	}
	return false, nil
}

// prepare turns a prompt into 8 kHz samples.
func (n *Network) prepare(ctx context.Context, p engine.Prompt) ([]int16, error) {
	var clip pcm.Clip
	if p.URL != "" {
		if n.cfg.Fetch == nil {
			return nil, fmt.Errorf("cannot fetch %s: no HTTP client", p.URL)
		}
		url := redact.URL(p.URL)
		rc, err := n.cfg.Fetch(ctx, p.URL, p.Username, p.Password)
		if err != nil {
			if strings.Contains(err.Error(), url) {
				return nil, err // it names the file already
			}
			return nil, fmt.Errorf("fetch %s: %w", url, err)
		}
		clip, err = pcm.Decode(rc, maxPrompt)
		rc.Close()
		if err != nil {
			return nil, fmt.Errorf("audio file %s: %w", url, err)
		}
	} else {
		if n.cfg.TTS == nil {
			return nil, fmt.Errorf("cannot speak %q: no text-to-speech engine", clipText(p.Text))
		}
		var err error
		clip, err = n.cfg.TTS.Synthesize(ctx, tts.Request{Text: p.Text, SSML: p.SSML, Voice: p.Voice, Locale: p.Locale, Gender: p.Gender})
		if err != nil {
			return nil, fmt.Errorf("speak %q: %w", clipText(p.Text), err)
		}
	}
	if clip.Rate != rate {
		clip = pcm.Resample(clip, rate)
	}
	return clip.Samples, nil
}

func clipText(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// digitRun is one SendDigits in progress.
type digitRun struct {
	d       engine.Digits
	pos     int // next key
	pkts    []dtmf.Packet
	pi      int    // next packet of the key sounding
	evTS    uint32 // the event's timestamp
	wait    int    // ticks of silence left (gap or pause)
	started bool
}

// sendDigit sends this tick's telephone-event packet, or silence in a gap
// or pause; it reports PhoneHeard when a run ends.
func (s *sender) sendDigit() {
	r := s.digits[0]
	if !r.started {
		r.started = true
		if r.d.Tone <= 0 {
			r.d.Tone = 100 * time.Millisecond
		}
		if r.d.Gap <= 0 {
			r.d.Gap = 60 * time.Millisecond
		}
	}
	for r.pi >= len(r.pkts) && r.wait == 0 {
		if r.pos >= len(r.d.Keys) {
			s.digits = s.digits[1:]
			s.m.l.emit(engine.PhoneEvent{Kind: engine.PhoneHeard, Digits: r.d.Tones()})
			s.sendAudio()
			return
		}
		k := r.d.Keys[r.pos]
		r.pos++
		switch k {
		case ',', 'w':
			r.wait = 25
		case 'W':
			r.wait = 50
		default:
			pkts, err := dtmf.Encode(k, r.d.Tone)
			if err != nil {
				s.m.l.n.log.Warn("sip: digit not sent", "sip_call_id", s.m.l.sipCallID, "err", err)
				continue
			}
			r.pkts, r.pi, r.evTS = pkts, 0, s.ts
			r.wait = int((r.d.Gap + ptime - 1) / ptime)
		}
	}
	if r.pi < len(r.pkts) {
		p := r.pkts[r.pi]
		r.pi++
		s.write(uint8(s.m.event), p.Marker, r.evTS, p.Payload[:])
		return
	}
	r.wait--
	s.sendAudio()
}

// sendAudio sends the frame out holds, in the call's codec: silence
// unless a playback filled it.
func (s *sender) sendAudio() {
	s.payload = s.payload[:0]
	if s.m.codec == ptPCMA {
		s.payload = pcm.EncodeALaw(s.payload, s.out[:])
	} else {
		s.payload = pcm.EncodeULaw(s.payload, s.out[:])
	}
	s.write(s.m.codec, false, s.ts, s.payload)
	s.sentAudio = !s.held
}

// capture is a recording in progress: the sender appends a frame of each
// direction every tick; the engine's actor pauses, resumes and stops it.
// It owns its samples until Stop hands them over.
type capture struct {
	channels int
	// limit is the samples a channel keeps; 0 means maxCapture.
	limit int
	// full is called once, when the capture reaches its limit.
	full    func()
	mu      sync.Mutex
	paused  bool
	stopped bool
	began   time.Time // when the first frame came (for benchmarks)
	filled  bool
	heard   []int16 // channel 1, or the mix with one channel
	played  []int16 // channel 2
}

// add appends one frame; false once the capture is stopped.
func (c *capture) add(heard, played []int16) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped {
		return false
	}
	if c.began.IsZero() {
		c.began = time.Now()
	}
	if c.paused || c.filled {
		return true
	}
	limit := c.limit
	if limit == 0 {
		limit = int(maxCapture / time.Second * rate)
	}
	if len(c.heard)+len(heard) > limit {
		c.filled = true
		if c.full != nil {
			c.full()
		}
		return true
	}
	if c.channels == 2 {
		c.heard = append(c.heard, heard...)
		c.played = append(c.played, played...)
	} else {
		c.heard = pcm.Mix(c.heard, heard, played)
	}
	return true
}

// Pause leaves out what is heard and played until Resume.
func (c *capture) Pause() {
	c.mu.Lock()
	c.paused = true
	c.mu.Unlock()
}

// Resume continues a paused capture.
func (c *capture) Resume() {
	c.mu.Lock()
	c.paused = false
	c.mu.Unlock()
}

// Stop ends the capture and hands over its samples.
func (c *capture) Stop() engine.Audio {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stopped = true
	a := engine.Audio{Rate: rate, Channels: [][]int16{c.heard}}
	if c.channels == 2 {
		a.Channels = append(a.Channels, c.played)
	}
	c.heard, c.played = nil, nil
	return a
}
