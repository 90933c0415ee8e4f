package streamer

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"sync"
	"syscall"
	"time"

	"github.com/coder/websocket"

	"github.com/voicehook/voicehook/callback"
	"github.com/voicehook/voicehook/internal/egress"
	"github.com/voicehook/voicehook/internal/engine"
	"github.com/voicehook/voicehook/internal/pcm"
	"github.com/voicehook/voicehook/internal/redact"
	frames "github.com/voicehook/voicehook/internal/stream"
)

const (
	rate         = 8000
	frameSamples = 160 // 20 ms at 8 kHz
	frameTime    = 20 * time.Millisecond
	// queueFrames is how many frames per track wait for the writer: one
	// second.
	queueFrames = 50
	// stopTimeout bounds sending what is queued, stop and the close
	// handshake once Stop is called.
	stopTimeout = 5 * time.Second
)

// Stream states.
const (
	stateDialling = iota
	stateOpen     // start sent
	stateStopping // Stop called: the writer sends stop and closes
	stateEnded    // the socket closed or failed, or it never opened
)

// stream is one media stream. mu guards the state, the frame ring, the
// tracks and the pacing timer; evMu (events.go) guards the event queue.
// Lock order: mu before evMu.
type stream struct {
	s      *Streamer
	spec   engine.StreamSpec
	dest   string // the destination, redacted
	log    *slog.Logger
	tracks []*track // spec.Tracks, in order

	// life is cancelled by Stop and when the stream ends: it aborts the
	// dial and the renders.
	life       context.Context
	endLife    context.CancelFunc
	connCtx    context.Context // the socket's: cancelled when the writer returns
	cancelConn context.CancelFunc
	wake       chan struct{} // the writer has work (cap 1)

	mu      sync.Mutex
	state   int
	out     ring
	drops   limiter // frames dropped from a full ring
	timer   engine.Timer
	t0      time.Time // the first paced tick's reference
	ticks   int64
	warned  limiter // the destination's malformed frames
	noTTS   bool    // the warning about a missing TTS or Fetch was given
	noFetch bool
	// hardStop closes the socket stopTimeout after Stop, whatever the
	// writer is waiting for.
	hardStop *time.Timer
	// tx, on a transcription socket, is what it sends instead of media
	// (out and tracks are then unused).
	tx *transcripts

	events
}

// track is one track of a stream: its sequence numbers and, when paced,
// what Say queued on it.
type track struct {
	name string
	seq  uint64
	segs []*segment
}

// segment is audio queued on a paced track: a Say's rendering (ready once
// rendered), or audio a bidirectional destination sent back.
type segment struct {
	samples  []int16
	pos      int
	ready    bool
	fromDest bool
	cancel   context.CancelFunc
}

// newStream returns a media stream, or, with tx set, a transcription
// socket.
func newStream(s *Streamer, spec engine.StreamSpec, tx *transcripts, notify func(engine.StreamEvent)) *stream {
	st := &stream{s: s, spec: spec, tx: tx, dest: redact.URL(spec.Destination), wake: make(chan struct{}, 1)}
	st.log = s.cfg.Log.With("call_id", spec.CallID, "stream_id", spec.ID)
	if tx == nil {
		for _, name := range spec.Tracks {
			st.tracks = append(st.tracks, &track{name: name})
		}
		st.out.init(queueFrames * max(len(st.tracks), 1))
	}
	st.life, st.endLife = context.WithCancel(s.ctx)
	st.connCtx, st.cancelConn = context.WithCancel(s.ctx)
	st.events.init(notify, spec.ID)
	return st
}

func (st *stream) kick() {
	select {
	case st.wake <- struct{}{}:
	default:
	}
}

func (st *stream) trackIndex(name string) int {
	for i, t := range st.tracks {
		if t.name == name {
			return i
		}
	}
	return -1
}

// Feed queues one frame of a track of a stream that is not paced.
func (st *stream) Feed(track string, frame []int16) {
	if st.spec.Paced {
		return
	}
	i := st.trackIndex(track)
	if i < 0 {
		return
	}
	st.mu.Lock()
	if st.state != stateOpen {
		st.mu.Unlock()
		return
	}
	f := st.enqueue(i)
	n := copy(f.pcm[:], frame)
	clear(f.pcm[n:])
	st.mu.Unlock()
	st.kick()
}

// enqueue takes the next slot of the ring for track i, dropping the oldest
// frame when it is full. mu is held.
func (st *stream) enqueue(i int) *frame {
	t := st.tracks[i]
	t.seq++
	f, dropped := st.out.push()
	f.track, f.seq = i, t.seq
	if dropped {
		if ok, n := st.drops.note(st.s.cfg.Clock.Now()); ok {
			st.emit(engine.StreamEvent{Kind: engine.StreamWarning,
				Reason: fmt.Sprintf("the destination reads slower than real time: %d frame(s) dropped (the oldest of a full 1 s queue)", n)})
		}
	}
	return f
}

// Stop sends stop, closes the socket and releases the stream; no event
// follows. It does not wait for the network.
func (st *stream) Stop() {
	st.events.stop()
	st.mu.Lock()
	if st.state == stateDialling || st.state == stateOpen {
		st.state = stateStopping
		st.stopPacing()
		st.endLife() // aborts a dial, and renders
		// A destination that stopped reading must not keep the writer:
		// the socket closes stopTimeout from now in any case.
		st.hardStop = time.AfterFunc(stopTimeout, st.cancelConn)
	}
	st.mu.Unlock()
	st.kick()
}

// end records that the socket closed or failed: ev is the terminal event
// (none if zero). It reports whether the stream was still open.
func (st *stream) end(ev engine.StreamEvent) bool {
	st.mu.Lock()
	was := st.state
	if was == stateOpen || was == stateDialling {
		st.state = stateEnded
		st.stopPacing()
	}
	st.mu.Unlock()
	if was != stateOpen && was != stateDialling {
		return false
	}
	st.endLife()
	if ev.Kind != 0 {
		st.emit(ev)
	}
	st.kick()
	return true
}

// rejectClosed rejects a stream opened after Close, from a goroutine of
// its own: Open returns at once.
func (st *stream) rejectClosed() {
	st.state = stateEnded
	st.endLife()
	st.cancelConn()
	go st.notify(engine.StreamEvent{Kind: engine.StreamRejected, StreamID: st.spec.ID, Cause: callback.StreamError,
		Reason: "the stream adapter is shut down"})
}

// run is the writer goroutine: dial, start, frames, stop.
func (st *stream) run() {
	defer st.s.wg.Done()
	defer st.s.forget(st)
	defer st.closeEvents()
	defer st.cancelConn()
	defer func() {
		st.mu.Lock()
		if st.hardStop != nil {
			st.hardStop.Stop()
		}
		if st.tx != nil {
			st.tx.q = nil // what was not sent; Send queues nothing more
		}
		st.mu.Unlock()
	}()
	conn, reason := st.dial()
	if conn == nil {
		if reason != "" {
			st.end(engine.StreamEvent{Kind: engine.StreamRejected, Cause: callback.StreamConnectionError, Reason: reason})
		}
		return
	}
	defer conn.CloseNow()
	conn.SetReadLimit(frames.MaxFrame)
	if st.tx != nil {
		conn.SetReadLimit(-1) // what it sends is dropped unread (drain)
	}
	start, err := st.startMessage()
	if err != nil {
		st.end(engine.StreamEvent{Kind: engine.StreamRejected, Cause: callback.StreamError, Reason: fmt.Sprintf("start frame: %v", err)})
		return
	}
	// Stop aborts writing start (life): the destination gets nothing more.
	if err := st.write(conn, st.life, start); err != nil {
		st.end(engine.StreamEvent{Kind: engine.StreamRejected, Cause: callback.StreamConnectionError,
			Reason: fmt.Sprintf("connected to %s but could not send start: %s", st.dest, describe(err))})
		return
	}
	st.mu.Lock()
	if st.state != stateDialling { // stopped meanwhile
		st.mu.Unlock()
		st.finish(conn)
		return
	}
	st.state = stateOpen
	st.emit(engine.StreamEvent{Kind: engine.StreamStarted})
	if st.spec.Paced {
		st.t0 = st.s.cfg.Clock.Now()
		st.schedule()
	}
	st.mu.Unlock()

	readerDone := make(chan struct{})
	if !st.s.goCounted(func() { defer close(readerDone); st.read(conn) }) {
		close(readerDone)
	}
	defer func() { <-readerDone }()
	defer st.cancelConn() // ends the reader once the writer is done
	st.writeFrames(conn)
}

// writeFrames writes queued frames — media, or a transcription socket's
// transcripts — until the stream stops or ends.
func (st *stream) writeFrames(conn *websocket.Conn) {
	var (
		f     frame
		t     engine.Transcript
		words []frames.Word
		ulaw  = make([]byte, 0, frameSamples)
		buf   = make([]byte, 0, 512)
	)
	for {
		var ok bool
		st.mu.Lock()
		if st.tx != nil {
			ok = st.tx.pop(&t)
		} else {
			ok = st.out.pop(&f)
		}
		state := st.state
		st.mu.Unlock()
		if ok {
			if st.tx != nil {
				buf, words = st.tx.encode(buf[:0], words[:0], t)
			} else {
				ulaw = pcm.EncodeULaw(ulaw[:0], f.pcm[:])
				buf = frames.AppendMedia(buf[:0], st.tracks[f.track].name, f.seq, ulaw)
			}
			// No context per frame: the reader's (connCtx) closes the
			// socket when the stream ends, which fails a blocked write,
			// and a frame costs no timer.
			if err := st.write(conn, context.Background(), buf); err != nil {
				st.lost(conn, err)
				return
			}
			continue
		}
		switch state {
		case stateStopping:
			st.finish(conn)
			return
		case stateEnded:
			return
		}
		select {
		case <-st.wake:
		case <-st.connCtx.Done():
			return
		}
	}
}

// finish sends stop and closes the socket with status 1000 (Stop).
func (st *stream) finish(conn *websocket.Conn) {
	if err := st.write(conn, st.connCtx, frames.Stop()); err == nil {
		_ = conn.Close(websocket.StatusNormalClosure, "")
	}
}

func (st *stream) write(conn *websocket.Conn, ctx context.Context, b []byte) error {
	return conn.Write(ctx, websocket.MessageText, b)
}

// lost ends the stream after a write failed.
func (st *stream) lost(conn *websocket.Conn, err error) {
	st.end(engine.StreamEvent{Kind: engine.StreamStopped, Cause: callback.StreamConnectionError,
		Reason: fmt.Sprintf("sending to %s failed: %s", st.dest, describe(err))})
	_ = conn.CloseNow()
}

// startMessage is the stream's start, encoded.
func (st *stream) startMessage() ([]byte, error) {
	if st.tx != nil {
		return json.Marshal(st.tx.startFrame())
	}
	return json.Marshal(st.startFrame())
}

// startFrame is a media stream's start.
func (st *stream) startFrame() frames.Start {
	s := frames.Start{Metadata: frames.Metadata{AccountID: st.spec.AccountID, CallID: st.spec.CallID,
		StreamID: st.spec.ID, StreamName: st.spec.Name, Tracks: []frames.Track{}}}
	for _, t := range st.spec.Tracks {
		s.Metadata.Tracks = append(s.Metadata.Tracks, frames.Track{Name: t, MediaFormat: frames.PCMU})
	}
	for _, p := range st.spec.Params {
		s.Params = append(s.Params, frames.Param{Name: p.Name, Value: p.Value})
	}
	return s
}

// dial connects to the destination. It returns the socket, or why it
// could not ("" when Stop aborted it).
func (st *stream) dial() (*websocket.Conn, string) {
	ctx, cancel := context.WithTimeout(st.life, st.s.cfg.DialTimeout)
	defer cancel()
	h := http.Header{}
	if st.spec.Username != "" {
		h.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(st.spec.Username+":"+st.spec.Password)))
	}
	// The socket must outlive ctx: coder/websocket ties only the handshake
	// to it.
	conn, resp, err := websocket.Dial(ctx, st.spec.Destination, &websocket.DialOptions{
		HTTPClient: st.s.client, HTTPHeader: h, CompressionMode: websocket.CompressionDisabled})
	if err == nil {
		return conn, ""
	}
	st.mu.Lock()
	stopped := st.state != stateDialling
	st.mu.Unlock()
	if stopped {
		return nil, ""
	}
	what := describe(err)
	switch {
	case resp != nil && resp.StatusCode != http.StatusSwitchingProtocols:
		what = fmt.Sprintf("HTTP %d %s on upgrade", resp.StatusCode, http.StatusText(resp.StatusCode))
	case errors.Is(err, context.DeadlineExceeded):
		what = fmt.Sprintf("timed out after %v", st.s.cfg.DialTimeout)
	}
	return nil, redact.Text(fmt.Sprintf("cannot connect to %s: %s", st.dest, what))
}

// describe says what a network error was, without the layers of context
// the libraries add.
func describe(err error) string {
	var (
		ue      *url.Error
		refused *egress.RefusedError
	)
	switch {
	case errors.As(err, &refused):
		return refused.Error()
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "the connection ended without a close frame"
	case errors.Is(err, net.ErrClosed):
		return "connection closed"
	case errors.As(err, &ue):
		err = ue.Err
	}
	var dns *net.DNSError
	if errors.As(err, &dns) && dns.IsNotFound {
		return fmt.Sprintf("host %s not found", dns.Name)
	}
	return redact.Text(err.Error())
}

// read is the reader goroutine.
func (st *stream) read(conn *websocket.Conn) {
	if st.tx != nil {
		st.drain(conn)
		return
	}
	var buf bytes.Buffer // a message, reused: playAudio's are tens of KB
	for {
		typ, r, err := conn.Reader(st.connCtx)
		if err == nil {
			buf.Reset()
			_, err = buf.ReadFrom(r)
		}
		if err != nil {
			st.readFailed(err)
			return
		}
		data := buf.Bytes()
		if typ != websocket.MessageText {
			st.warn(fmt.Sprintf("a binary message of %d bytes was ignored: a destination sends JSON text", len(data)))
			continue
		}
		if !st.spec.Bidirectional {
			st.warn(fmt.Sprintf("the stream is not bidirectional: a message of %d bytes was ignored", len(data)))
			continue
		}
		m, err := frames.Read(data)
		if err != nil {
			st.warn(err.Error() + ": ignored")
			continue
		}
		if m.Clear {
			st.clearDest()
			st.emit(engine.StreamEvent{Kind: engine.StreamClear})
			continue
		}
		audio := decode(m.Play)
		if len(audio) == 0 {
			continue
		}
		st.queueDest(audio)
		st.emit(engine.StreamEvent{Kind: engine.StreamAudio, Audio: audio})
	}
}

// decode turns a playAudio's audio into 8 kHz linear samples.
func decode(a *frames.Audio) []int16 {
	if a.ULaw {
		return pcm.DecodeULaw(nil, a.Data)
	}
	if a.Rate == rate || len(a.Samples) == 0 {
		return a.Samples
	}
	return pcm.Resample(pcm.Clip{Rate: a.Rate, Samples: a.Samples}, rate).Samples
}

// readFailed ends the stream on a read error: the destination closed the
// socket (closed), or it failed (connection-error). After Stop it says
// nothing.
func (st *stream) readFailed(err error) {
	var ce websocket.CloseError
	switch {
	case errors.As(err, &ce):
		reason := fmt.Sprintf("the destination closed the stream with status %d", int(ce.Code))
		if ce.Reason != "" {
			reason += fmt.Sprintf(" (%s)", ce.Reason)
		}
		st.end(engine.StreamEvent{Kind: engine.StreamStopped, Cause: callback.StreamClosed, Reason: redact.Text(reason)})
	case errors.Is(err, websocket.ErrMessageTooBig):
		st.end(engine.StreamEvent{Kind: engine.StreamStopped, Cause: callback.StreamConnectionError,
			Reason: fmt.Sprintf("the destination sent a message over %d bytes: stream closed", frames.MaxFrame)})
	default:
		st.end(engine.StreamEvent{Kind: engine.StreamStopped, Cause: callback.StreamConnectionError,
			Reason: fmt.Sprintf("connection to %s lost: %s", st.dest, describe(err))})
	}
}

// warn reports something the destination sent that was ignored, at most
// once a second.
func (st *stream) warn(reason string) {
	st.mu.Lock()
	ok, held := st.warned.note(st.s.cfg.Clock.Now())
	st.mu.Unlock()
	if !ok {
		return
	}
	if held > 1 {
		reason += fmt.Sprintf(" (and %d more ignored since the last warning)", held-1)
	}
	st.emit(engine.StreamEvent{Kind: engine.StreamWarning, Reason: reason})
}
