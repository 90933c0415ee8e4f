package voicetest

import (
	"context"
	"net"
	"net/http"
	"sync"
)

// pipes serves the WebSocket destinations of streams in process: each
// connection voicehook dials is one end of an in-memory pipe (memPipe),
// the other end served by an http.Server with the bot's handler. A
// WebSocket needs a connection it can keep (handlerTransport has none),
// and a pipe keeps everything on the bubble's virtual clock.
type pipes struct {
	srv   *http.Server
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
	wg    sync.WaitGroup
}

func newPipes(h http.Handler) *pipes {
	p := &pipes{srv: &http.Server{Handler: h}, conns: make(chan net.Conn), done: make(chan struct{})}
	p.wg.Go(func() { _ = p.srv.Serve(p) })
	return p
}

// client dials the pipes, whatever the URL's host.
func (p *pipes) client() *http.Client {
	dial := func(ctx context.Context, _, _ string) (net.Conn, error) {
		near, far := memPipe()
		select {
		case p.conns <- far:
			return near, nil
		case <-p.done:
			return nil, net.ErrClosed
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	// wss:// is dialled as ws://: nothing leaves the process, so there is
	// no TLS to speak, and the bot serves both.
	return &http.Client{Transport: &http.Transport{DialContext: dial, DialTLSContext: dial, DisableKeepAlives: true}}
}

// Accept hands the server the far ends of the pipes dialled.
func (p *pipes) Accept() (net.Conn, error) {
	select {
	case c := <-p.conns:
		return c, nil
	case <-p.done:
		return nil, net.ErrClosed
	}
}

// Close stops accepting; the server's Close calls it.
func (p *pipes) Close() error {
	p.once.Do(func() { close(p.done) })
	return nil
}

// Addr is a name for the listener.
func (p *pipes) Addr() net.Addr { return pipeAddr{} }

type pipeAddr struct{}

func (pipeAddr) Network() string { return "pipe" }
func (pipeAddr) String() string  { return "bot.voicetest" }

// close stops the server: connections still open (a stream's socket,
// hijacked by the bot's WebSocket library) end when voicehook closes its
// side, which it does when it stops.
func (p *pipes) close() {
	_ = p.srv.Close() // it only reports the listener's Close, which cannot fail
	p.wg.Wait()
}
