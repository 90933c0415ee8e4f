package streamer

import (
	"fmt"
	"io"

	"github.com/coder/websocket"

	"github.com/voicehook/voicehook/internal/engine"
	frames "github.com/voicehook/voicehook/internal/stream"
)

// maxTranscripts bounds the transcripts waiting for a transcription
// socket's writer.
const maxTranscripts = 1000

// defaultLanguage is a transcript's language when the spec names none.
const defaultLanguage = "en-US"

// transcripts is what a transcription socket sends: its start, and the
// transcripts queued for the writer. The stream's mu guards q, drops and
// dropped.
type transcripts struct {
	spec    engine.TranscriptionSocketSpec
	q       []engine.Transcript
	drops   limiter
	dropped int // transcripts dropped from a full queue, in all
}

// transcriptionSocket is a real-time transcription's destination socket:
// a stream whose writer sends transcripts instead of media.
type transcriptionSocket struct{ st *stream }

// OpenTranscription connects to a transcription's destination in the
// background and returns at once; see engine.TranscriptionSockets. The
// socket behaves as a media stream's — the same events, Stop and Close —
// but sends no audio and is not paced, carries no credentials, and
// ignores what the destination sends. After Close, it is rejected with
// cause error.
func (s *Streamer) OpenTranscription(spec engine.TranscriptionSocketSpec, notify func(engine.StreamEvent)) engine.TranscriptionSocket {
	media := engine.StreamSpec{ID: spec.ID, Name: spec.Name, AccountID: spec.AccountID, CallID: spec.CallID,
		Destination: spec.Destination}
	st := newStream(s, media, &transcripts{spec: spec}, notify)
	s.start(st)
	return transcriptionSocket{st}
}

// Send queues t as a transcription message and returns: the writer sends
// it once the socket is open. It keeps t, whose Words must not change
// afterwards. A transcript with Err set is not sent, nor one sent after
// Stop or once the socket has closed. When 1000 wait, the oldest is
// dropped, and a StreamWarning says so, at most once a second, with the
// count dropped so far.
func (ts transcriptionSocket) Send(t engine.Transcript) {
	if t.Err != "" {
		return
	}
	st := ts.st
	st.mu.Lock()
	if st.state != stateDialling && st.state != stateOpen {
		st.mu.Unlock()
		return
	}
	tx := st.tx
	if len(tx.q) >= maxTranscripts {
		tx.q[0] = engine.Transcript{}
		tx.q = tx.q[1:]
		tx.dropped++
		if ok, _ := tx.drops.note(st.s.cfg.Clock.Now()); ok {
			st.emit(engine.StreamEvent{Kind: engine.StreamWarning,
				Reason: fmt.Sprintf("the destination reads slower than transcripts come: the queue of %d is full and the oldest are dropped (%d so far)", maxTranscripts, tx.dropped)})
		}
	}
	tx.q = append(tx.q, t)
	st.mu.Unlock()
	st.kick()
}

// Stop sends what is queued, then stop, and closes the socket; see
// stream.Stop.
func (ts transcriptionSocket) Stop() { ts.st.Stop() }

// pop moves the first queued transcript into t. The stream's mu is held.
func (tx *transcripts) pop(t *engine.Transcript) bool {
	if len(tx.q) == 0 {
		return false
	}
	*t = tx.q[0]
	tx.q[0] = engine.Transcript{}
	tx.q = tx.q[1:]
	if len(tx.q) == 0 {
		tx.q = tx.q[:0:0] // let the emptied array go
	}
	return true
}

// startFrame is the socket's start.
func (tx *transcripts) startFrame() frames.TranscriptionStart {
	s := frames.TranscriptionStart{Metadata: frames.TranscriptionMetadata{AccountID: tx.spec.AccountID, CallID: tx.spec.CallID,
		RealTimeTranscriptionID: tx.spec.ID, TranscriptionName: tx.spec.Name, Stabilized: tx.spec.Stabilized,
		Tracks: []frames.TranscriptionTrack{}}}
	for _, t := range tx.spec.Tracks {
		s.Metadata.Tracks = append(s.Metadata.Tracks, frames.TranscriptionTrack{Name: t})
	}
	for _, p := range tx.spec.Params {
		s.Params = append(s.Params, frames.Param{Name: p.Name, Value: p.Value})
	}
	return s
}

// encode appends t's transcription message to buf, its words converted
// in words; it returns both for reuse.
func (tx *transcripts) encode(buf []byte, words []frames.Word, t engine.Transcript) ([]byte, []frames.Word) {
	for _, w := range t.Words {
		words = append(words, frames.Word{Text: w.Text, Start: w.Start, End: w.End, Confidence: w.Confidence})
	}
	lang := tx.spec.Language
	if lang == "" {
		lang = defaultLanguage
	}
	buf = frames.AppendTranscription(buf, frames.Transcription{Track: t.Track, Start: t.Start, End: t.End,
		Language: lang, Text: t.Text, Words: words})
	return buf, words
}

// drain is a transcription socket's reader: the socket is one-way, so
// what the destination sends is read and dropped, whatever its size,
// until the socket closes or fails.
func (st *stream) drain(conn *websocket.Conn) {
	for {
		_, r, err := conn.Reader(st.connCtx)
		if err == nil {
			_, err = io.Copy(io.Discard, r)
		}
		if err != nil {
			st.readFailed(err)
			return
		}
	}
}

var _ engine.TranscriptionSockets = (*Streamer)(nil)
