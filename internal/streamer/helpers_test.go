package streamer

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"go.uber.org/goleak"

	"github.com/voicehook/voicehook/internal/engine"
	"github.com/voicehook/voicehook/internal/pcm"
	"github.com/voicehook/voicehook/internal/tts"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// received is a message the test destination read.
type received struct {
	at   time.Time
	typ  websocket.MessageType
	data []byte
	err  error // the Read error that ended the connection (data nil)
}

// message is a frame voicehook sent, decoded.
type message struct {
	EventType      string
	Track          string
	SequenceNumber uint64
	Payload        string
	Metadata       json.RawMessage
	StreamParams   json.RawMessage
}

func (r received) message(t testing.TB) message {
	t.Helper()
	var m message
	if err := json.Unmarshal(r.data, &m); err != nil {
		t.Fatalf("not JSON: %v: %s", err, r.data)
	}
	return m
}

// samples decodes a media message's payload.
func (m message) samples(t testing.TB) []int16 {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(m.Payload)
	if err != nil {
		t.Fatalf("payload not base64: %v", err)
	}
	return pcm.DecodeULaw(nil, b)
}

// destination is a test WebSocket destination: each connection's
// messages go to msgs; then, if set, talk runs beside the reading.
type destination struct {
	msgs  chan received
	conns chan *websocket.Conn
	reqs  chan *http.Request
	// status, when set, refuses the upgrade with it.
	status int
}

func newDestination() *destination {
	return &destination{msgs: make(chan received, 100000), conns: make(chan *websocket.Conn, 16), reqs: make(chan *http.Request, 16)}
}

func (d *destination) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	d.reqs <- r
	if d.status != 0 {
		http.Error(w, "go away", d.status)
		return
	}
	c, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	c.SetReadLimit(1 << 20)
	d.conns <- c
	for {
		typ, data, err := c.Read(context.Background())
		d.msgs <- received{at: time.Now(), typ: typ, data: data, err: err}
		if err != nil {
			c.CloseNow()
			return
		}
	}
}

// next waits for the next message (a bounded wait: outside a bubble it is
// real time).
func (d *destination) next(t testing.TB) received {
	t.Helper()
	select {
	case r := <-d.msgs:
		return r
	case <-time.After(5 * time.Second):
		t.Fatal("the destination received nothing in 5 s")
		return received{}
	}
}

// conn waits for the destination's side of the next connection.
func (d *destination) conn(t testing.TB) *websocket.Conn {
	t.Helper()
	select {
	case c := <-d.conns:
		return c
	case <-time.After(5 * time.Second):
		t.Fatal("no connection in 5 s")
		return nil
	}
}

// serve starts d on a loopback port and returns its ws:// URL.
func serve(t testing.TB, d *destination) string {
	srv := httptest.NewServer(d)
	t.Cleanup(srv.Close)
	return "ws" + srv.URL[len("http"):] + "/stream"
}

// pipeNet is an in-memory network for a synctest bubble, where time only
// moves once every goroutine is blocked on something in the bubble (a
// loopback socket is not): an http.Server on a listener of net.Pipe ends,
// and a client that dials them.
type pipeNet struct {
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
	srv   *http.Server
}

func newPipeNet(h http.Handler) *pipeNet {
	n := &pipeNet{conns: make(chan net.Conn), done: make(chan struct{})}
	n.srv = &http.Server{Handler: h}
	go n.srv.Serve(n)
	return n
}

func (n *pipeNet) Accept() (net.Conn, error) {
	select {
	case c := <-n.conns:
		return c, nil
	case <-n.done:
		return nil, net.ErrClosed
	}
}

func (n *pipeNet) Close() error {
	n.once.Do(func() { close(n.done) })
	return nil
}

func (n *pipeNet) Addr() net.Addr { return pipeAddr{} }

type pipeAddr struct{}

func (pipeAddr) Network() string { return "pipe" }
func (pipeAddr) String() string  { return "pipe" }

// client dials the in-memory server whatever the address.
func (n *pipeNet) client() *http.Client {
	return &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		c, s := net.Pipe()
		select {
		case n.conns <- s:
			return c, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-n.done:
			return nil, net.ErrClosed
		}
	}}}
}

func (n *pipeNet) shutdown() {
	n.srv.Close()
	n.Close()
}

// recorder keeps a stream's events.
type recorder struct {
	mu  sync.Mutex
	evs []engine.StreamEvent
	ch  chan engine.StreamEvent
}

func newRecorder() *recorder { return &recorder{ch: make(chan engine.StreamEvent, 10000)} }

func (r *recorder) notify(ev engine.StreamEvent) {
	r.mu.Lock()
	r.evs = append(r.evs, ev)
	r.mu.Unlock()
	r.ch <- ev
}

func (r *recorder) all() []engine.StreamEvent {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]engine.StreamEvent(nil), r.evs...)
}

// next waits for the next event.
func (r *recorder) next(t testing.TB) engine.StreamEvent {
	t.Helper()
	select {
	case ev := <-r.ch:
		return ev
	case <-time.After(5 * time.Second):
		t.Fatal("no stream event in 5 s")
		return engine.StreamEvent{}
	}
}

// want waits for the next event and checks its kind.
func (r *recorder) want(t testing.TB, kind engine.StreamEventKind) engine.StreamEvent {
	t.Helper()
	ev := r.next(t)
	if ev.Kind != kind {
		t.Fatalf("event %+v, want kind %d", ev, kind)
	}
	return ev
}

// fakeTTS says every sentence as a 1 kHz tone at 16 kHz, as long as the
// text says ("300ms").
type fakeTTS struct{}

func (fakeTTS) Synthesize(_ context.Context, r tts.Request) (pcm.Clip, error) {
	d, err := time.ParseDuration(r.Text)
	if err != nil {
		return pcm.Clip{}, err
	}
	return pcm.Clip{Rate: 16000, Samples: pcm.Tone(1000, 16000, d, 0.5)}, nil
}

func spec(dest string, tracks ...string) engine.StreamSpec {
	return engine.StreamSpec{ID: "s-1", Name: "bot", AccountID: "9900000", CallID: "c-1", Destination: dest, Tracks: tracks}
}

// loud reports whether a frame is not silence.
func loud(s []int16) bool { return pcm.RMS(s) > 0.01 }
