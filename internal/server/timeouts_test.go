package server_test

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/voicehook/voicehook/internal/server"
)

// dial opens a raw connection to the server, with a deadline for the
// whole exchange.
func dial(t *testing.T, srv *server.Server) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(srv.URL(), "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	return conn
}

// waitClosed reads until the server closes conn, failing if it does not
// within the connection's deadline.
func waitClosed(t *testing.T, conn net.Conn, r *bufio.Reader) {
	t.Helper()
	_, err := io.Copy(io.Discard, r)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatal("the server kept the connection open")
	}
}

// TestIdleConnectionClosed: a kept-alive connection with no request is
// closed after the idle timeout.
func TestIdleConnectionClosed(t *testing.T) {
	srv := startServerWith(t, server.Config{IdleTimeout: 200 * time.Millisecond})
	conn := dial(t, srv)
	if _, err := io.WriteString(conn, "GET /api/v2/accounts/9900000/calls HTTP/1.1\r\nHost: vh\r\nAuthorization: Basic ZGV2OmRldg==\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(conn)
	resp, err := http.ReadResponse(r, nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Close {
		t.Fatalf("listCalls: %d, close %v", resp.StatusCode, resp.Close)
	}
	start := time.Now()
	waitClosed(t, conn, r)
	if idle := time.Since(start); idle < 150*time.Millisecond {
		t.Errorf("closed after %v, before the idle timeout", idle)
	}
}

// TestSlowBodyCutOff: a body that stops arriving is cut off after the
// body timeout: 408, and the connection closed.
func TestSlowBodyCutOff(t *testing.T) {
	srv := startServerWith(t, server.Config{BodyTimeout: 300 * time.Millisecond})
	conn := dial(t, srv)
	if _, err := io.WriteString(conn, "POST /api/v2/accounts/9900000/calls HTTP/1.1\r\nHost: vh\r\nAuthorization: Basic ZGV2OmRldg==\r\n"+
		"Content-Type: application/json\r\nContent-Length: 200\r\n\r\n{\"to\":\"+155500"); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	r := bufio.NewReader(conn)
	resp, err := http.ReadResponse(r, nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestTimeout || !strings.Contains(string(body), "did not arrive in time") {
		t.Errorf("slow body: %d %s", resp.StatusCode, body)
	}
	if waited := time.Since(start); waited < 250*time.Millisecond {
		t.Errorf("cut off after %v, before the body timeout", waited)
	}
	waitClosed(t, conn, r)
}

// TestHeaderLimit: headers larger than MaxHeaderBytes are refused.
func TestHeaderLimit(t *testing.T) {
	srv := startServerWith(t, server.Config{MaxHeaderBytes: 4 << 10})
	req, _ := http.NewRequest("GET", srv.URL()+"/api/v2/accounts/9900000/calls", nil)
	req.SetBasicAuth("dev", "dev")
	req.Header.Set("X-Big", strings.Repeat("a", 16<<10))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("16 KB of headers: %d", resp.StatusCode)
	}
}

// TestConsoleStreamOutlivesTimeouts: the console's live stream is not
// cut by the write or body timeouts.
func TestConsoleStreamOutlivesTimeouts(t *testing.T) {
	srv := startServerWith(t, server.Config{WriteTimeout: 100 * time.Millisecond, BodyTimeout: 100 * time.Millisecond})
	resp, err := http.Get(srv.URL() + "/console/api/stream")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	lines, done := make(chan string), make(chan struct{})
	defer close(done)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-done:
				return
			}
		}
	}()
	start := time.Now()
	// next places a call and waits for the stream's event of it.
	next := func() {
		createCall(t, srv, map[string]any{"from": "+15551112222", "to": "+15550000000", "applicationId": appID, "answerUrl": srv.URL() + "/demo/answer"})
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("the stream ended after %v", time.Since(start))
				}
				if strings.HasPrefix(l, "data:") {
					return
				}
			case <-time.After(5 * time.Second):
				t.Fatal("no event from the stream")
			}
		}
	}
	next()
	// Let both timeouts pass with the stream open, reading what comes.
	quiet := time.After(400 * time.Millisecond)
	for waiting := true; waiting; {
		select {
		case _, ok := <-lines:
			if !ok {
				t.Fatalf("the stream ended after %v", time.Since(start))
			}
		case <-quiet:
			waiting = false
		}
	}
	next() // an event arrives well after both timeouts
}
