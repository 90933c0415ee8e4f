package voicetest

import (
	"io"
	"net"
	"os"
	"sync"
	"time"
)

// memConn is one end of an in-memory connection whose writes do not wait
// for the reader, unlike net.Pipe's: a stream's writer queues a batch of
// frames and the bot reads them in one go, so a conversation costs a
// wake-up per batch, not per frame. Deadlines are kept (net/http's server
// uses a past read deadline to stop a background read) on the bubble's
// clock.
type memConn struct {
	in, out *halfPipe
}

// memPipe returns the two ends of a connection.
func memPipe() (net.Conn, net.Conn) {
	a, b := newHalfPipe(), newHalfPipe()
	return &memConn{in: a, out: b}, &memConn{in: b, out: a}
}

func (c *memConn) Read(p []byte) (int, error)  { return c.in.read(p) }
func (c *memConn) Write(p []byte) (int, error) { return c.out.write(p) }

// Close ends both directions: the peer reads EOF once it has read what
// was written, and writes fail.
func (c *memConn) Close() error {
	c.in.close()
	c.out.close()
	return nil
}

func (c *memConn) LocalAddr() net.Addr  { return pipeAddr{} }
func (c *memConn) RemoteAddr() net.Addr { return pipeAddr{} }

func (c *memConn) SetDeadline(t time.Time) error {
	c.in.setDeadline(t)
	return nil
}

func (c *memConn) SetReadDeadline(t time.Time) error {
	c.in.setDeadline(t)
	return nil
}

// SetWriteDeadline is accepted and ignored: a write never waits.
func (c *memConn) SetWriteDeadline(time.Time) error { return nil }

// halfPipe is one direction: bytes written and not yet read.
type halfPipe struct {
	mu      sync.Mutex
	cond    *sync.Cond
	buf     []byte // written; buf[off:] not read yet
	off     int
	closed  bool
	expired bool        // the read deadline has passed
	timer   *time.Timer // the pending read deadline
}

func newHalfPipe() *halfPipe {
	h := &halfPipe{}
	h.cond = sync.NewCond(&h.mu)
	return h
}

func (h *halfPipe) read(p []byte) (int, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for h.off == len(h.buf) && !h.closed && !h.expired {
		h.cond.Wait()
	}
	switch {
	case h.expired:
		return 0, os.ErrDeadlineExceeded
	case h.off == len(h.buf):
		return 0, io.EOF
	}
	n := copy(p, h.buf[h.off:])
	h.off += n
	if h.off == len(h.buf) {
		// All read: the array takes the next writes, unless a burst made
		// it large.
		h.buf, h.off = h.buf[:0], 0
		if cap(h.buf) > 1<<20 {
			h.buf = nil
		}
	}
	return n, nil
}

func (h *halfPipe) write(p []byte) (int, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return 0, io.ErrClosedPipe
	}
	h.buf = append(h.buf, p...)
	h.cond.Broadcast()
	return len(p), nil
}

func (h *halfPipe) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	if h.timer != nil {
		h.timer.Stop()
	}
	h.cond.Broadcast()
}

// setDeadline makes reads fail from t on; the zero time clears it.
func (h *halfPipe) setDeadline(t time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.timer != nil {
		h.timer.Stop()
		h.timer = nil
	}
	h.expired = false
	if t.IsZero() {
		return
	}
	if d := time.Until(t); d > 0 {
		h.timer = time.AfterFunc(d, func() {
			h.mu.Lock()
			defer h.mu.Unlock()
			h.expired = true
			h.cond.Broadcast()
		})
		return
	}
	h.expired = true
	h.cond.Broadcast()
}
