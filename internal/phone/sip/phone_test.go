package sip

import (
	"bytes"
	"cmp"
	"context"
	"crypto/md5"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/pion/rtp"

	"github.com/voicehook/voicehook/internal/engine"
	"github.com/voicehook/voicehook/internal/pcm"
	"github.com/voicehook/voicehook/internal/tts"
)

// This file holds the test doubles: a SIP phone on sipgo with its own RTP
// socket (the far end), and a fake engine that drives lines the way the
// engine's call actor does.

const waitFor = 4 * time.Second

// phone is a test SIP phone on its own sipgo user agent, at host:port on
// UDP, with an RTP socket that records every packet it gets.
type phone struct {
	t      *testing.T
	host   string
	addr   string
	ua     *sipgo.UserAgent
	dua    *sipgo.DialogUA // UDP
	tcpDUA *sipgo.DialogUA

	// fromUser is the From user of the phone's calls; "" is 15551234567.
	fromUser string

	invites chan incoming // INVITEs to answer (outbound tests)
	byes    chan struct{}
	acks    chan struct{} // ACKs of 2xx, counted whether or not a dialog took them
	infos   chan *sip.Request

	mu      sync.Mutex
	servers map[string]*sipgo.DialogServerSession
	clients map[string]*sipgo.DialogClientSession
	// byeReqs are the BYEs of the phone's dialogs, in order.
	byeReqs []*sip.Request

	rtp    *net.UDPConn
	rtpMu  sync.Mutex
	pkts   []rtp.Packet
	remote *net.UDPAddr
	seq    uint16
	ts     uint32
}

// incoming is an INVITE the phone got. sipgo ends its transaction when
// the handler returns, so the handler waits until done is closed.
type incoming struct {
	req  *sip.Request
	tx   sip.ServerTransaction
	done chan struct{}
}

func newPhone(t *testing.T, host string) *phone {
	t.Helper()
	p := &phone{t: t, host: host, invites: make(chan incoming, 8), byes: make(chan struct{}, 8), acks: make(chan struct{}, 8), infos: make(chan *sip.Request, 8),
		servers: map[string]*sipgo.DialogServerSession{}, clients: map[string]*sipgo.DialogClientSession{}}
	conn, ln, err := listen(host + ":0")
	if err != nil {
		t.Fatal(err)
	}
	p.addr = conn.LocalAddr().String()
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("testphone"), sipgo.WithUserAgentHostname(host))
	if err != nil {
		t.Fatal(err)
	}
	p.ua = ua
	srv, err := sipgo.NewServer(ua)
	if err != nil {
		t.Fatal(err)
	}
	cli, err := sipgo.NewClient(ua, sipgo.WithClientHostname(host), sipgo.WithClientConnectionAddr(p.addr))
	if err != nil {
		t.Fatal(err)
	}
	port := conn.LocalAddr().(*net.UDPAddr).Port
	p.dua = &sipgo.DialogUA{Client: cli, ContactHDR: sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "phone", Host: host, Port: port}}}
	tcpCli, err := sipgo.NewClient(ua, sipgo.WithClientHostname(host))
	if err != nil {
		t.Fatal(err)
	}
	tcpContact := sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "phone", Host: host, Port: port, UriParams: sip.NewParams()}}
	tcpContact.Address.UriParams.Add("transport", "tcp")
	p.tcpDUA = &sipgo.DialogUA{Client: tcpCli, ContactHDR: tcpContact}
	srv.OnInvite(func(req *sip.Request, tx sip.ServerTransaction) {
		in := incoming{req, tx, make(chan struct{})}
		p.invites <- in
		select {
		case <-in.done:
		case <-time.After(10 * time.Second):
		}
	})
	srv.OnAck(func(req *sip.Request, tx sip.ServerTransaction) {
		select {
		case p.acks <- struct{}{}:
		default:
		}
		if ds := p.server(req); ds != nil {
			_ = ds.ReadAck(req, tx)
		}
	})
	srv.OnBye(func(req *sip.Request, tx sip.ServerTransaction) {
		ds, dc := p.server(req), p.client(req)
		if ds == nil && dc == nil {
			_ = tx.Respond(sip.NewResponseFromRequest(req, 481, "No Such Call", nil))
			return
		}
		p.mu.Lock()
		p.byeReqs = append(p.byeReqs, req)
		p.mu.Unlock()
		if ds != nil {
			_ = ds.ReadBye(req, tx)
		} else {
			_ = dc.ReadBye(req, tx)
		}
		p.byes <- struct{}{}
	})
	go func() { _ = srv.ServeUDP(conn) }()
	go func() { _ = srv.ServeTCP(ln) }()
	if err := waitServing(ua, p.addr); err != nil {
		t.Fatal(err)
	}
	rc, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.MustParseAddrPort(host+":0")))
	if err != nil {
		t.Fatal(err)
	}
	p.rtp = rc
	go p.readRTP()
	t.Cleanup(func() {
		rc.Close()
		conn.Close()
		ln.Close()
		ua.Close()
	})
	return p
}

func (p *phone) server(req *sip.Request) *sipgo.DialogServerSession {
	id, _ := sip.DialogIDFromRequestUAS(req)
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.servers[id]
}

func (p *phone) client(req *sip.Request) *sipgo.DialogClientSession {
	id, _ := sip.DialogIDFromRequestUAC(req)
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.clients[id]
}

func (p *phone) rtpPort() int { return p.rtp.LocalAddr().(*net.UDPAddr).Port }

// offer is the phone's SDP: PCMU and PCMA, telephone-event at event.
func (p *phone) offer(event int) []byte {
	return fmt.Appendf(nil, "v=0\r\no=phone 1 1 IN IP4 %[1]s\r\ns=-\r\nc=IN IP4 %[1]s\r\nt=0 0\r\n"+
		"m=audio %[2]d RTP/AVP 0 8 %[3]d\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n"+
		"a=rtpmap:%[3]d telephone-event/8000\r\na=fmtp:%[3]d 0-16\r\na=sendrecv\r\n", p.host, p.rtpPort(), event)
}

// call dials uri and returns the dialog once answered (ACK sent), and the
// codes of the responses seen.
func (p *phone) call(ctx context.Context, uri string, sdp []byte, headers ...sip.Header) (*sipgo.DialogClientSession, []int, error) {
	var u sip.Uri
	if err := sip.ParseUri(uri, &u); err != nil {
		p.t.Fatal(err)
	}
	req := sip.NewRequest(sip.INVITE, u)
	from := &sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: cmp.Or(p.fromUser, "15551234567"), Host: p.host}, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(8))
	req.AppendHeader(from)
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	for _, h := range headers {
		req.AppendHeader(h)
	}
	req.SetBody(sdp)
	dua := p.dua
	if gatewayTransport(u) == "tcp" {
		req.SetTransport("TCP")
		dua = p.tcpDUA
	}
	dc, err := dua.WriteInvite(ctx, req)
	if err != nil {
		return nil, nil, err
	}
	var codes []int
	err = dc.WaitAnswer(ctx, sipgo.AnswerOptions{OnResponse: func(r *sip.Response) error {
		codes = append(codes, r.StatusCode)
		return nil
	}})
	if err != nil {
		return dc, codes, err
	}
	if err := dc.Ack(ctx); err != nil {
		return dc, codes, err
	}
	p.mu.Lock()
	p.clients[dc.ID] = dc
	p.mu.Unlock()
	s, err := parseSDP(dc.InviteResponse.Body())
	if err != nil {
		p.t.Fatalf("answer SDP: %v\n%s", err, dc.InviteResponse.Body())
	}
	p.setRemote(s.addr)
	return dc, codes, nil
}

// answerNext takes the next INVITE and answers it with code (after a
// 180), returning the dialog; for 200 it answers with SDP and waits for
// the ACK.
func (p *phone) answerNext(code int, reason string) (*sipgo.DialogServerSession, *sip.Request) {
	p.t.Helper()
	return p.answer(p.next(), code, reason)
}

// next returns the next INVITE the phone got.
func (p *phone) next() incoming {
	p.t.Helper()
	select {
	case in := <-p.invites:
		return in
	case <-time.After(waitFor):
		p.t.Fatal("no INVITE came")
		return incoming{}
	}
}

// answer answers in as answerNext does.
func (p *phone) answer(in incoming, code int, reason string) (*sipgo.DialogServerSession, *sip.Request) {
	p.t.Helper()
	dua := p.dua
	if strings.EqualFold(in.req.Transport(), "tcp") {
		dua = p.tcpDUA
	}
	ds, err := dua.ReadInvite(in.req, in.tx)
	if err != nil {
		p.t.Fatal(err)
	}
	p.mu.Lock()
	p.servers[ds.ID] = ds
	p.mu.Unlock()
	if err := ds.Respond(180, "Ringing", nil); err != nil {
		p.t.Fatal(err)
	}
	if code == 0 {
		go func() {
			<-ds.Context().Done()
			close(in.done)
		}()
		return ds, in.req
	}
	defer close(in.done)
	// Ring a little: sipgo may drop a 180 that arrives after the 200.
	time.Sleep(30 * time.Millisecond)
	if code != 200 {
		if err := ds.Respond(code, reason, nil); err != nil {
			p.t.Fatal(err)
		}
		return ds, in.req
	}
	s, err := parseSDP(in.req.Body())
	if err != nil {
		p.t.Fatalf("offer SDP: %v", err)
	}
	p.setRemote(s.addr)
	// A BYE that comes right behind the ACK may end the dialog before
	// sipgo saw the ACK: that is no failure of the call.
	if err := ds.RespondSDP(p.offer(101)); err != nil && ds.Context().Err() == nil {
		p.t.Fatal(err)
	}
	return ds, in.req
}

func (p *phone) setRemote(a netip.AddrPort) {
	p.rtpMu.Lock()
	p.remote = net.UDPAddrFromAddrPort(a)
	p.rtpMu.Unlock()
}

func (p *phone) readRTP() {
	buf := make([]byte, 1500)
	for {
		n, err := p.rtp.Read(buf)
		if err != nil {
			return
		}
		var pk rtp.Packet
		if pk.Unmarshal(slices.Clone(buf[:n])) != nil {
			continue
		}
		p.rtpMu.Lock()
		p.pkts = append(p.pkts, pk)
		p.rtpMu.Unlock()
	}
}

func (p *phone) send(pt uint8, marker bool, ts uint32, payload []byte) {
	p.rtpMu.Lock()
	pk := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: pt, Marker: marker, SequenceNumber: p.seq, Timestamp: ts, SSRC: 42}, Payload: payload}
	p.seq++
	remote := p.remote
	p.rtpMu.Unlock()
	b, err := pk.Marshal()
	if err != nil {
		p.t.Fatal(err)
	}
	if _, err := p.rtp.WriteToUDP(b, remote); err != nil {
		p.t.Fatal(err)
	}
}

// say sends samples as PCMU, one packet every 20 ms.
func (p *phone) say(samples []int16) {
	tick := time.NewTicker(ptime)
	defer tick.Stop()
	for len(samples) >= frame {
		p.send(ptPCMU, false, p.ts, pcm.EncodeULaw(nil, samples[:frame]))
		p.ts += frame
		samples = samples[frame:]
		<-tick.C
	}
}

// press sends key as RFC 4733 events at pt the way SIPp's capture does: a
// first packet of duration 0 with the marker, growing durations, then the
// end packet three times.
func (p *phone) press(pt uint8, key byte) {
	ev := byte(strings.IndexByte("0123456789*#ABCD", key))
	ts := p.ts
	tick := time.NewTicker(ptime)
	defer tick.Stop()
	for i := range 6 {
		payload := []byte{ev, 10, 0, 0}
		binary.BigEndian.PutUint16(payload[2:], uint16(i*frame))
		p.send(pt, i == 0, ts, payload)
		<-tick.C
	}
	for range 3 {
		payload := []byte{ev, 0x80 | 10, 0, 0}
		binary.BigEndian.PutUint16(payload[2:], uint16(6*frame))
		p.send(pt, false, ts, payload)
	}
	p.ts += 8 * frame
}

// packets returns the RTP packets received so far, in sequence order.
func (p *phone) packets() []rtp.Packet {
	p.rtpMu.Lock()
	defer p.rtpMu.Unlock()
	out := slices.Clone(p.pkts)
	sort.SliceStable(out, func(i, j int) bool { return int16(out[i].SequenceNumber-out[j].SequenceNumber) < 0 })
	return out
}

// heard decodes the G.711 audio received.
func (p *phone) heard() []int16 {
	var s []int16
	for _, pk := range p.packets() {
		switch pk.PayloadType {
		case ptPCMU:
			s = pcm.DecodeULaw(s, pk.Payload)
		case ptPCMA:
			s = pcm.DecodeALaw(s, pk.Payload)
		}
	}
	return s
}

// events returns the telephone-events received at pt: per event
// timestamp, the key, and how many end packets came.
func (p *phone) events(pt uint8) (keys string, ends []int) {
	var order []uint32
	key := map[uint32]byte{}
	end := map[uint32]int{}
	for _, pk := range p.packets() {
		if pk.PayloadType != pt || len(pk.Payload) < 4 {
			continue
		}
		if _, ok := key[pk.Timestamp]; !ok {
			order = append(order, pk.Timestamp)
			key[pk.Timestamp] = "0123456789*#ABCD"[pk.Payload[0]&15]
		}
		if pk.Payload[1]&0x80 != 0 {
			end[pk.Timestamp]++
		}
	}
	for _, ts := range order {
		keys += string(key[ts])
		ends = append(ends, end[ts])
	}
	return keys, ends
}

// fakeEngine answers numbers and attaches lines the way the engine does.
type fakeEngine struct {
	numbers map[string]bool
	lines   chan *testLine
}

func newFakeEngine(numbers ...string) *fakeEngine {
	f := &fakeEngine{numbers: map[string]bool{}, lines: make(chan *testLine, 8)}
	for _, n := range numbers {
		f.numbers[n] = true
	}
	return f
}

func (f *fakeEngine) Answers(number string) (engine.Inbound, bool) {
	if !f.numbers[number] {
		return engine.Inbound{}, false
	}
	return engine.Inbound{AccountID: "acct", ApplicationID: "app"}, true
}

func (f *fakeEngine) InboundCall(ctx context.Context, in engine.Inbound) (*engine.Call, error) {
	tl := newTestLine()
	tl.in = in
	line, err := in.Attach("c-test", tl.notify)
	if err != nil {
		return nil, err
	}
	tl.Line = line
	f.lines <- tl
	return &engine.Call{CallID: "c-test"}, nil
}

func (f *fakeEngine) next(t *testing.T) *testLine {
	t.Helper()
	select {
	case tl := <-f.lines:
		return tl
	case <-time.After(waitFor):
		t.Fatal("no inbound call reached the engine")
		return nil
	}
}

// testLine records a line's events.
type testLine struct {
	engine.Line
	in engine.Inbound

	mu     sync.Mutex
	events []engine.PhoneEvent
	wake   chan struct{}
}

func newTestLine() *testLine { return &testLine{wake: make(chan struct{}, 1)} }

func (tl *testLine) notify(e engine.PhoneEvent) {
	tl.mu.Lock()
	tl.events = append(tl.events, e)
	tl.mu.Unlock()
	select {
	case tl.wake <- struct{}{}:
	default:
	}
}

// wait returns the first event of kind, waiting for it.
func (tl *testLine) wait(t *testing.T, kind engine.PhoneEventKind) engine.PhoneEvent {
	t.Helper()
	deadline := time.After(waitFor)
	for {
		for _, e := range tl.all() {
			if e.Kind == kind {
				return e
			}
		}
		select {
		case <-tl.wake:
		case <-deadline:
			t.Fatalf("no event of kind %d; got %s", kind, tl.describe())
		}
	}
}

func (tl *testLine) all() []engine.PhoneEvent {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	return slices.Clone(tl.events)
}

func (tl *testLine) count(kind engine.PhoneEventKind) int {
	n := 0
	for _, e := range tl.all() {
		if e.Kind == kind {
			n++
		}
	}
	return n
}

func (tl *testLine) signals() []string {
	var s []string
	for _, e := range tl.all() {
		if e.Kind == engine.PhoneSignal {
			s = append(s, e.Message)
		}
	}
	return s
}

func (tl *testLine) describe() string {
	var b strings.Builder
	for _, e := range tl.all() {
		fmt.Fprintf(&b, "[%d %q %c %d %q] ", e.Kind, e.Message, max(e.Digit, ' '), e.SIPCode, e.Reason)
	}
	return b.String()
}

// startNetwork starts a Network on host, port 0.
func startNetwork(t *testing.T, cfg Config) *Network {
	t.Helper()
	n, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	// Closed by the cleanup rather than by the test's context, so that
	// phones made before it are still there to answer its BYEs.
	if err := n.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	return n
}

// toneTTS speaks every text as one second of 440 Hz at 16 kHz.
type toneTTS struct{}

func (toneTTS) Synthesize(ctx context.Context, r tts.Request) (pcm.Clip, error) {
	return pcm.Clip{Rate: 16000, Samples: pcm.Tone(440, 16000, time.Second, 0.5)}, nil
}

// wavServer serves /tone.wav: one second of freq Hz, 44.1 kHz stereo.
func wavServer(t *testing.T, freq float64) *httptest.Server {
	t.Helper()
	mono := pcm.Tone(freq, 44100, time.Second, 0.5)
	var data bytes.Buffer
	for _, s := range mono {
		binary.Write(&data, binary.LittleEndian, s)
		binary.Write(&data, binary.LittleEndian, s)
	}
	var w bytes.Buffer
	w.WriteString("RIFF")
	binary.Write(&w, binary.LittleEndian, uint32(36+data.Len()))
	w.WriteString("WAVEfmt ")
	for _, v := range []any{uint32(16), uint16(1), uint16(2), uint32(44100), uint32(44100 * 4), uint16(4), uint16(16)} {
		binary.Write(&w, binary.LittleEndian, v)
	}
	w.WriteString("data")
	binary.Write(&w, binary.LittleEndian, uint32(data.Len()))
	w.Write(data.Bytes())
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/tone.wav" {
			http.NotFound(rw, r)
			return
		}
		rw.Header().Set("Content-Type", "audio/wav")
		rw.Write(w.Bytes())
	}))
	t.Cleanup(srv.Close)
	return srv
}

// httpFetch is Config.Fetch on http.DefaultClient.
func httpFetch(ctx context.Context, url, username, password string) (io.ReadCloser, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	if res.StatusCode != http.StatusOK {
		res.Body.Close()
		return nil, fmt.Errorf("%s", res.Status)
	}
	return res.Body, nil
}

// loud returns the part of s from the first to the last sample louder
// than a quiet background.
func loud(s []int16) []int16 {
	first, last := -1, -1
	for i, v := range s {
		if v > 1000 || v < -1000 {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	if first < 0 {
		return nil
	}
	return s[first : last+1]
}

func within(got, want, frac float64) bool { return math.Abs(got-want) <= want*frac }

// digestResponse computes an RFC 2617 digest without qop.
func digestResponse(user, realm, pass, method, uri, nonce string) string {
	h := func(s string) string { x := md5.Sum([]byte(s)); return hex.EncodeToString(x[:]) }
	return h(h(user+":"+realm+":"+pass) + ":" + nonce + ":" + h(method+":"+uri))
}

var digestField = regexp.MustCompile(`(\w+)="?([^",]*)"?`)

func digestFields(v string) map[string]string {
	m := map[string]string{}
	for _, f := range digestField.FindAllStringSubmatch(strings.TrimPrefix(v, "Digest "), -1) {
		m[f[1]] = f[2]
	}
	return m
}

// gotBye reports whether a BYE reaches the phone within waitFor.
func (p *phone) gotBye() bool {
	select {
	case <-p.byes:
		return true
	case <-time.After(waitFor):
		return false
	}
}
