// Package streamer is the WebSocket client side of Bandwidth media streams
// (<StartStream>): it implements engine.Streamer, connecting to a stream's
// destination, sending start, one media message per track every 20 ms and
// stop (the frames of package stream), and reading what a bidirectional
// destination sends back. It also implements engine.TranscriptionSockets:
// the destination socket of a real-time transcription
// (<StartTranscription destination=…>) is the same kind of stream, which
// sends transcripts instead of audio (see Transcription sockets below).
//
// # Goroutines and buffers
//
// A Streamer owns every goroutine it starts and Close waits for all of
// them. Each stream has:
//
//   - a writer goroutine: it dials, sends start, then encodes and writes
//     the frames queued for it (µ-law, base64, AppendMedia into one reused
//     buffer; AppendTranscription on a transcription socket), and finally
//     sends stop and closes the socket. It is the
//     socket's owner: when it returns, the socket is closed.
//   - a reader goroutine, once connected: it reads the destination's
//     frames (at most stream.MaxFrame bytes each; a larger one ends the
//     stream), turns playAudio into StreamAudio and clear into
//     StreamClear, and sees the socket close.
//   - an event goroutine: it calls notify, one event at a time, in order,
//     so that a notify that blocks for a while stalls neither the writer
//     nor Feed. At most 256 events wait; past that StreamAudio and
//     StreamWarning are dropped (and logged), never the terminal event.
//     StreamStarted or StreamRejected always comes first: a warning raised
//     while connecting (a Say that could not be rendered) waits for it.
//   - on a paced stream, a chain of Clock.AfterFunc timers, one at a time:
//     every 20 ms it queues one frame per track, taken from what Say
//     rendered on that track, or silence. Ticks are timed from the stream's
//     start (tick n at start + n×20 ms), so they do not drift.
//   - one goroutine per Say while it renders its prompts (text-to-speech,
//     fetching and decoding files); StopSaying and Stop cancel them.
//
// The frames waiting for the writer sit in a ring of 50 frames per track
// (one second), filled by Feed or by the paced ticks. When it is full —
// the destination, or the network to it, reads slower than real time —
// the oldest frame is dropped to make room: a live stream is better
// current with a gap than complete and ever later. Drops are reported
// with a StreamWarning at most once a second, which counts them. What one
// Say renders is bounded to 15 minutes of audio.
//
// Stop returns at once: the writer sends what is queued, then stop, then
// closes with status 1000 and waits for the destination's close. All of
// that gets 5 s: then the socket is closed whatever it was waiting for, so
// a destination that stopped reading keeps no goroutine. No event is taken
// from the event queue after Stop; one that notify was already being
// given may still complete. Close waits for notify calls to return.
//
// # Transcription sockets
//
// OpenTranscription opens a socket that connects, reports, stops and
// closes as a media stream does, with the same goroutines (writer,
// reader, events; no pacing, no Say), and the same events: StreamStarted
// or StreamRejected, StreamWarning, at most one StreamStopped, nothing
// after Stop. It dials without credentials (<StartTranscription> has none
// for its destination). It sends start (the call, the transcription, its
// tracks, stabilized, the <CustomParam>s as customParams), one
// transcription message per transcript Send queues — words as
// PRONUNCIATION items, the punctuation that ends a word as a PUNCTUATION
// item, every item stable, isPartial false — then, on Stop, what is still
// queued, stop, and a close with status 1000 (the frames of package
// stream, whose documentation gives the time unit: seconds from the
// transcription's start, to the millisecond, a unit Bandwidth does not
// document).
//
// Send never blocks: transcripts wait in a queue of 1000, filled from the
// moment the socket is opened, so that those sent while it connects
// follow start. When it is full the oldest is dropped; a StreamWarning
// says so at most once a second. A transcript whose Err is set is not
// sent. The socket is one-way: its reader reads what the destination
// sends, whatever its size, and drops it without a warning; it only
// watches for the close, which stops the socket as it stops a stream.
//
// # Decisions
//
// sequenceNumber: every media message carries one, counting the frames
// of its track from 1, fed or paced, including those dropped from a full
// queue, so a destination can see a gap. Bandwidth's StartStream page
// does not list the field, but Pipecat's Bandwidth serializer describes
// Bandwidth's media messages as carrying one; a destination that does not
// know it ignores it.
//
// A bidirectional destination's audio on a paced stream is both reported
// (StreamAudio) and queued on the outbound track, after what is queued
// there: it is what the call plays. A clear drops that audio from the
// outbound track, but not what Say queued. Audio at 16 or 24 kHz is
// resampled to 8 kHz message by message (no filter state carries across
// messages).
//
// Malformed frames from the destination (not JSON, an unknown eventType,
// a bad content type, anything on a stream that is not bidirectional)
// become a StreamWarning naming what was wrong, at most one a second, the
// ones held back counted in the next; the stream goes on.
//
// # Dependency
//
// github.com/coder/websocket v1.8.15: ISC licence, no dependencies,
// context-first API, concurrent writes, maintained; the WebSocket client.
package streamer

import (
	"context"
	"crypto/tls"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/voicehook/voicehook/internal/engine"
	"github.com/voicehook/voicehook/internal/tts"
)

// DefaultDialTimeout bounds connecting and upgrading when
// Config.DialTimeout is zero.
const DefaultDialTimeout = 10 * time.Second

// closeGrace is how long Close lets streams send stop and close their
// sockets before it closes what is left without a handshake.
const closeGrace = 3 * time.Second

// Config is what a Streamer needs. Only Client is required in practice;
// every other field has a default.
type Config struct {
	// Client dials the destinations; the server passes the guarded
	// egress client, voicetest an in-memory one. Its *http.Transport (if
	// it is one) is cloned with HTTP/2 and keep-alives off, because the
	// WebSocket upgrade needs HTTP/1.1 and each stream has its own
	// connection; any other RoundTripper is used as is. nil: a clone of
	// http.DefaultTransport.
	Client *http.Client
	// Clock paces paced streams and times warnings (engine.RealClock{}
	// by default).
	Clock engine.Clock
	// TTS renders Say's sentences (nil: silence, and a StreamWarning once
	// per stream).
	TTS tts.Synthesizer
	// Fetch opens an audio file of a Say prompt with a URL (nil: silence
	// and a StreamWarning once per stream).
	Fetch func(ctx context.Context, url, username, password string) (io.ReadCloser, error)
	// Log gets what is worth an operator's attention (nil: discarded).
	Log *slog.Logger
	// DialTimeout bounds connecting and upgrading; DefaultDialTimeout (10
	// s) when zero.
	DialTimeout time.Duration
	// Batch is how many frames per track a paced stream sends at once,
	// every Batch × 20 ms: 1 (the default) paces them as Bandwidth does;
	// on a virtual clock (voicetest) a larger batch costs fewer wake-ups
	// for the same frames. At most 25.
	Batch int
}

// Streamer opens media streams: it implements engine.Streamer. It is safe
// for concurrent use. Close stops its streams and waits for their
// goroutines.
type Streamer struct {
	cfg       Config
	client    *http.Client
	transport *http.Transport // our clone, when Config.Client had one
	ctx       context.Context // cancelled when Close gives up on graceful stops
	cancel    context.CancelFunc

	mu      sync.Mutex
	streams map[*stream]struct{}
	closed  bool
	wg      sync.WaitGroup // every goroutine of every stream
}

// New returns a Streamer.
func New(cfg Config) *Streamer {
	if cfg.Clock == nil {
		cfg.Clock = engine.RealClock{}
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.DialTimeout <= 0 {
		cfg.DialTimeout = DefaultDialTimeout
	}
	cfg.Batch = min(max(cfg.Batch, 1), 25)
	s := &Streamer{cfg: cfg, streams: map[*stream]struct{}{}}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.client, s.transport = http1Client(cfg.Client)
	return s
}

// http1Client returns a client like c whose transport speaks HTTP/1.1
// only, without keep-alives.
func http1Client(c *http.Client) (*http.Client, *http.Transport) {
	if c == nil {
		c = &http.Client{}
	}
	rt := c.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	tr, ok := rt.(*http.Transport)
	if !ok {
		return c, nil
	}
	tr = tr.Clone()
	tr.ForceAttemptHTTP2 = false
	tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
	var p http.Protocols
	p.SetHTTP1(true)
	tr.Protocols = &p
	tr.DisableKeepAlives = true
	if tr.TLSClientConfig != nil {
		tr.TLSClientConfig.NextProtos = []string{"http/1.1"}
	}
	cc := *c
	cc.Transport = tr
	return &cc, tr
}

// Open starts a stream and returns at once; see engine.Streamer. After
// Close, the stream is rejected with cause error.
func (s *Streamer) Open(spec engine.StreamSpec, notify func(engine.StreamEvent)) engine.Stream {
	st := newStream(s, spec, nil, notify)
	s.start(st)
	return st
}

// start runs st's writer and event goroutines, or rejects it after Close.
func (s *Streamer) start(st *stream) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		st.rejectClosed()
		return
	}
	s.streams[st] = struct{}{}
	s.wg.Add(2)
	s.mu.Unlock()
	go st.deliver()
	go st.run()
}

// goCounted runs f in a goroutine that Close waits for, unless Close has
// begun: then it reports false and does not run f.
func (s *Streamer) goCounted(f func()) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		f()
	}()
	return true
}

// addTick counts a paced tick about to be scheduled; false once Close has
// begun.
func (s *Streamer) addTick() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.wg.Add(1)
	return true
}

func (s *Streamer) forget(st *stream) {
	s.mu.Lock()
	delete(s.streams, st)
	s.mu.Unlock()
}

// Close stops every stream — sending stop where one is open — and waits
// for their goroutines. Streams that have not closed their sockets within
// 3 s are closed without a handshake. Closing twice is harmless.
func (s *Streamer) Close() {
	s.mu.Lock()
	s.closed = true
	live := make([]*stream, 0, len(s.streams))
	for st := range s.streams {
		live = append(live, st)
	}
	s.mu.Unlock()
	for _, st := range live {
		st.Stop()
	}
	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	t := time.NewTimer(closeGrace)
	select {
	case <-done:
	case <-t.C:
		s.cancel()
		<-done
	}
	t.Stop()
	s.cancel()
	if s.transport != nil {
		s.transport.CloseIdleConnections()
	}
}
