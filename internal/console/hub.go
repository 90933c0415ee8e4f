package console

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/go-json-experiment/json"
)

// hub fans call changes out to the live streams. The engine's calls only
// mark a call changed (a map insert); the hub's goroutine reads the call
// and sends its row to every stream, so a busy engine is never slowed by a
// slow browser.
type hub struct {
	row func(context.Context, string) (Row, bool)

	mu      sync.Mutex
	dirty   map[string]struct{}
	streams map[chan []byte]string // each stream's account, "" for all
	closed  bool
	wake    chan struct{} // capacity 1
	done    chan struct{} // closed by close
	stopped chan struct{} // closed when the goroutine ends
}

func newHub(row func(context.Context, string) (Row, bool)) *hub {
	h := &hub{row: row, dirty: map[string]struct{}{}, streams: map[chan []byte]string{},
		wake: make(chan struct{}, 1), done: make(chan struct{}), stopped: make(chan struct{})}
	go h.run()
	return h
}

// changed marks a call changed; without streams it costs nothing more.
func (h *hub) changed(callID string) {
	h.mu.Lock()
	if len(h.streams) == 0 || h.closed {
		h.mu.Unlock()
		return
	}
	h.dirty[callID] = struct{}{}
	h.mu.Unlock()
	select {
	case h.wake <- struct{}{}:
	default:
	}
}

func (h *hub) run() {
	defer close(h.stopped)
	for {
		select {
		case <-h.done:
			return
		case <-h.wake:
		}
		h.mu.Lock()
		ids := h.dirty
		h.dirty = map[string]struct{}{}
		h.mu.Unlock()
		for id := range ids {
			row, ok := h.row(context.Background(), id)
			if !ok {
				continue
			}
			data, err := json.Marshal(row)
			if err != nil {
				continue
			}
			msg := fmt.Appendf(nil, "event: call\ndata: %s\n\n", data)
			h.mu.Lock()
			for s, account := range h.streams {
				if account != "" && account != row.AccountID {
					continue
				}
				select {
				case s <- msg:
				default:
					// A stream this far behind is dropped: the browser
					// reconnects and reloads what it shows.
					delete(h.streams, s)
					close(s)
				}
			}
			h.mu.Unlock()
		}
	}
}

// subscribe adds a stream of the account's calls ("" for every
// account's); nil once the hub is closed.
func (h *hub) subscribe(account string) chan []byte {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil
	}
	s := make(chan []byte, 256)
	h.streams[s] = account
	return s
}

func (h *hub) unsubscribe(s chan []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.streams[s]; ok {
		delete(h.streams, s)
		close(s)
	}
}

// close ends every stream and the goroutine.
func (h *hub) close() {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return
	}
	h.closed = true
	for s := range h.streams {
		delete(h.streams, s)
		close(s)
	}
	h.mu.Unlock()
	close(h.done)
	<-h.stopped
}

// pingEvery keeps idle streams open through proxies.
const pingEvery = 15 * time.Second

// stream is GET /console/api/stream: server-sent events, one "call" event
// with the call's row each time a call changes.
func (c *Console) stream(w http.ResponseWriter, r *http.Request) {
	flusher, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	s := c.hub.subscribe(scope(r.Context()))
	if s == nil {
		http.Error(w, "the server is stopping", http.StatusServiceUnavailable)
		return
	}
	defer c.hub.unsubscribe(s)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, "retry: 1000\n\n")
	flusher.Flush()
	ping := time.NewTicker(pingEvery)
	defer ping.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case msg, ok := <-s:
			if !ok {
				return
			}
			if _, err := w.Write(msg); err != nil {
				return
			}
			flusher.Flush()
		case <-ping.C:
			if _, err := fmt.Fprint(w, ": ping\n\n"); err != nil {
				return
			}
			flusher.Flush()
		}
	}
}
