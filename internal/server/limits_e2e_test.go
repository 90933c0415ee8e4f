package server_test

import (
	stdjson "encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/voicehook/voicehook/callback"
	"github.com/voicehook/voicehook/internal/config"
	"github.com/voicehook/voicehook/internal/server"
)

// limitedState is what the tests read of a call's state.
type limitedState struct {
	CallID          string  `json:"callId"`
	State           string  `json:"state"`
	EnqueuedTime    *string `json:"enqueuedTime"`
	StartTime       *string `json:"startTime"`
	DisconnectCause *string `json:"disconnectCause"`
}

func getState(t *testing.T, srv *server.Server, id string) limitedState {
	t.Helper()
	status, _, body := rest(t, srv, "GET", "/api/v2/accounts/9900000/calls/"+id, "", "")
	if status != http.StatusOK {
		t.Fatalf("GET call %s: %d %s", id, status, body)
	}
	var s limitedState
	if err := stdjson.Unmarshal(body, &s); err != nil {
		t.Fatal(err)
	}
	return s
}

// statistics is GET /statistics.
func statistics(t *testing.T, srv *server.Server) (current, capacity int) {
	t.Helper()
	status, _, body := rest(t, srv, "GET", "/api/v2/accounts/9900000/statistics", "", "")
	if status != http.StatusOK {
		t.Fatalf("GET /statistics: %d %s", status, body)
	}
	conforms(t, "accountStatistics", body)
	var s struct {
		Current *int `json:"currentCallQueueSize"`
		Max     *int `json:"maxCallQueueSize"`
	}
	if err := stdjson.Unmarshal(body, &s); err != nil || s.Current == nil || s.Max == nil {
		t.Fatalf("GET /statistics: %s (%v)", body, err)
	}
	return *s.Current, *s.Max
}

func parseTime(t *testing.T, s *string) time.Time {
	t.Helper()
	if s == nil {
		t.Fatal("no time")
	}
	at, err := time.Parse(time.RFC3339Nano, *s)
	if err != nil {
		t.Fatal(err)
	}
	return at
}

// With Bandwidth's limits (serve --limits bandwidth): of 20 calls created
// at once, 5 start in the first second and 15 wait, queued with an
// enqueuedTime and no startTime, as /statistics says; they start 5 a
// second, by priority.
func TestLimitsQueueOverREST(t *testing.T) {
	app := newApp(t, map[string]string{"/answer": `<Response><Pause duration="60"/></Response>`})
	srv := startServerWith(t, server.Config{Limits: server.LimitsBandwidth})
	// The queued calls' priorities: three of each, mixed.
	prios := []int{3, 5, 1, 4, 2, 5, 2, 1, 3, 4, 1, 5, 4, 3, 2}
	type made struct {
		id       string
		priority int
		enqueued bool
	}
	var calls []made
	for i := range 20 {
		fields := callFields(app, fmt.Sprintf("+1555000%04d", i))
		p := 5
		if i >= 5 {
			p = prios[i-5]
		}
		fields["priority"] = p
		id, body := createCall(t, srv, fields)
		calls = append(calls, made{id, p, strings.Contains(string(body), `"enqueuedTime"`)})
	}
	current, capacity := statistics(t, srv)
	if capacity != 1500 || current < 10 || current > 15 {
		t.Errorf("/statistics %d of %d right after, want 15 (or 10 if a second passed) of 1500", current, capacity)
	}
	// The queue as /statistics says and as the calls' states say agree,
	// read between two /statistics that agree.
	for tries := 0; ; tries++ {
		before, _ := statistics(t, srv)
		queued := 0
		for _, c := range calls {
			s := getState(t, srv, c.id)
			if s.State == "queued" {
				queued++
				if s.StartTime != nil || s.EnqueuedTime == nil {
					t.Errorf("queued call %s: startTime %v, enqueuedTime %v; want null and a time", c.id, s.StartTime, s.EnqueuedTime)
				}
			}
		}
		after, _ := statistics(t, srv)
		if before == after {
			if queued != after {
				t.Errorf("%d calls are queued, /statistics says %d", queued, after)
			}
			break
		}
		if tries == 5 {
			t.Fatalf("the queue moved during every reading (%d, then %d)", before, after)
		}
	}
	for i, c := range calls {
		if c.enqueued != (i >= 5) {
			t.Errorf("createCall %d: enqueuedTime in the response %v, want %v", i, c.enqueued, i >= 5)
		}
	}
	// Every call starts, within 15 × 1/5 s and some.
	starts := map[string]time.Time{}
	deadline := time.Now().Add(15 * time.Second)
	for len(starts) < len(calls) && time.Now().Before(deadline) {
		for _, c := range calls {
			if _, ok := starts[c.id]; ok {
				continue
			}
			if s := getState(t, srv, c.id); s.StartTime != nil {
				starts[c.id] = parseTime(t, s.StartTime)
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	if len(starts) != len(calls) {
		t.Fatalf("%d of %d calls started", len(starts), len(calls))
	}
	byStart := slices.Clone(calls)
	slices.SortStableFunc(byStart, func(a, b made) int { return starts[a.id].Compare(starts[b.id]) })
	first := starts[byStart[0].id]
	for i := 0; i+5 < len(byStart); i++ {
		// Never more than 5 in a second (startTime is when the limits let
		// a call start).
		if gap := starts[byStart[i+5].id].Sub(starts[byStart[i].id]); gap < time.Second {
			t.Errorf("calls %d and %d started %v apart: 6 in a second", i, i+5, gap)
		}
	}
	var rounds [][]int // the priorities of the queued calls, by second of their start
	for _, c := range calls[5:] {
		second := int(starts[c.id].Sub(first) / time.Second)
		if second < 1 {
			t.Errorf("a queued call started %v after the first", starts[c.id].Sub(first))
			continue
		}
		for len(rounds) < second {
			rounds = append(rounds, nil)
		}
		rounds[second-1] = append(rounds[second-1], c.priority)
	}
	for i := 1; i < len(rounds); i++ {
		if slices.Max(rounds[i-1]) > slices.Min(rounds[i]) {
			t.Errorf("priorities started in second %d: %v, then %v: want the higher priorities (lower numbers) first", i, rounds[i-1], rounds[i])
		}
	}
	checkHooks(t, app.got())
}

// A queued call cancelled by REST ends with cause cancel and one
// disconnect; any other update of it is a 409.
func TestLimitsCancelQueuedOverREST(t *testing.T) {
	app := newApp(t, map[string]string{"/answer": `<Response><Pause duration="60"/></Response>`})
	srv := startServerWith(t, server.Config{Limits: server.LimitsBandwidth})
	// The sixth call waits (a seventh, … on a machine so slow that a
	// second passed).
	var id string
	for i := 0; id == ""; i++ {
		if i == 50 {
			t.Fatal("50 calls created, none queued")
		}
		created, body := createCall(t, srv, callFields(app, fmt.Sprintf("+1555000%04d", i)))
		if strings.Contains(string(body), `"enqueuedTime"`) {
			id = created
		}
	}
	if s := getState(t, srv, id); s.State != "queued" {
		t.Fatalf("a call created with an enqueuedTime is %s", s.State)
	}
	path := "/api/v2/accounts/9900000/calls/" + id
	status, _, body := rest(t, srv, "POST", path, "application/json", `{"redirectUrl":"`+app.URL+`/answer"}`)
	want := fmt.Sprintf(`{"type":"validation","description":"Call %s cannot be modified in its current state","id":""}`, id)
	if status != http.StatusConflict || string(body) != want {
		t.Errorf("redirect of a queued call: %d %s, want 409 %s", status, body, want)
	}
	if status, _, body := rest(t, srv, "PUT", path+"/bxml", "application/xml", `<Bxml><Hangup/></Bxml>`); status != http.StatusConflict {
		t.Errorf("PUT bxml of a queued call: %d %s, want 409", status, body)
	}
	if status, _, body := rest(t, srv, "POST", path, "application/json", `{"state":"completed"}`); status != http.StatusOK {
		t.Fatalf("cancel a queued call: %d %s", status, body)
	}
	var ends []*callback.Disconnect
	deadline := time.Now().Add(3 * time.Second) // past the second its turn would have come
	for time.Now().Before(deadline) {
		ends = ends[:0]
		for _, h := range app.got() {
			if d, ok := h.event.(*callback.Disconnect); ok && d.CallID == id {
				ends = append(ends, d)
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	if len(ends) != 1 || ends[0].Cause != callback.CauseCancel {
		t.Fatalf("disconnects of the cancelled call: %d, want one, cause cancel", len(ends))
	}
	if s := getState(t, srv, id); s.State != "disconnected" || s.StartTime != nil || s.DisconnectCause == nil || *s.DisconnectCause != "cancel" {
		t.Errorf("cancelled call: %+v", s)
	}
	if current, _ := statistics(t, srv); current != 0 {
		t.Errorf("queue %d after the cancel, want 0", current)
	}
}

// An account's queue holds callsPerSecond × 300 calls: with 1 call per
// second, the createCall that finds 300 waiting gets Bandwidth's 429.
func TestLimitsQueueFullOverREST(t *testing.T) {
	dir, err := config.Load(strings.NewReader(`
accounts:
  - id: "9900000"
    username: dev
    password: dev
    limits: {callsPerSecond: 1}
    applications:
      - id: ` + appID + `
`))
	if err != nil {
		t.Fatal(err)
	}
	app := newApp(t, map[string]string{"/answer": `<Response><Pause duration="60"/></Response>`})
	// --limits bandwidth does not override the account's own limits.
	srv := startServerWith(t, server.Config{Accounts: dir, Limits: server.LimitsBandwidth})
	if _, capacity := statistics(t, srv); capacity != 300 {
		t.Fatalf("maxCallQueueSize %d, want 300", capacity)
	}
	fields := callFields(app, "+15550000000")
	delete(fields, "disconnectUrl")
	body, _ := stdjson.Marshal(fields)
	// One call a second leaves the queue: creating faster fills it.
	for i := range 400 {
		status, hdr, resp := rest(t, srv, "POST", "/api/v2/accounts/9900000/calls", "application/json", string(body))
		if status == http.StatusCreated {
			continue
		}
		if status != http.StatusTooManyRequests {
			t.Fatalf("createCall %d: %d %s", i, status, resp)
		}
		if want := `{"type":"error","description":"Account call creation rate limit exceeded","id":""}`; string(resp) != want {
			t.Errorf("429 body %s, want %s", resp, want)
		}
		if n, err := strconv.Atoi(hdr.Get("Retry-After")); err != nil || n < 1 {
			t.Errorf("Retry-After %q, want whole seconds, 1 or more", hdr.Get("Retry-After"))
		}
		if current, _ := statistics(t, srv); current != 300 && current != 299 {
			t.Errorf("queue %d after the 429, want 300 (299 if one just left)", current)
		}
		if i < 300 {
			t.Errorf("429 after %d calls, want 301 or more (one starts, 300 wait)", i)
		}
		return
	}
	t.Fatal("400 calls created: no 429")
}

// At its concurrent limit, an account's createCall gets Bandwidth's 429
// (the queue is empty and the rate allows it), and so does an inbound
// call through /sim/v1/inbound, and over SIP with 503, as for --max-calls.
func TestLimitsConcurrentOverREST(t *testing.T) {
	app := newApp(t, map[string]string{"/answer": `<Response><Pause duration="60"/></Response>`})
	dir, err := config.Load(strings.NewReader(`
accounts:
  - id: "9900000"
    username: dev
    password: dev
    limits: {concurrentCalls: 1}
    applications:
      - id: ` + appID + `
        callInitiatedCallbackUrl: ` + app.URL + `/answer
        numbers: ["+15550001000"]
`))
	if err != nil {
		t.Fatal(err)
	}
	// SIP on 127.0.1.5, the peer on 127.0.1.6.
	srv := startServerWith(t, server.Config{Accounts: dir, SIP: config.SIP{Addr: "127.0.1.5:0", RTPPorts: [2]int{34000, 34049}}})
	// The account lists its numbers, so its calls come from one of them.
	first := callFields(app, "+15550000000")
	first["from"] = "+15550001000"
	createCall(t, srv, first)
	want := `{"type":"error","description":"Account concurrent call limit exceeded","id":""}`
	second := callFields(app, "+15550000001")
	second["from"] = "+15550001000"
	fields, _ := stdjson.Marshal(second)
	status, hdr, body := rest(t, srv, "POST", "/api/v2/accounts/9900000/calls", "application/json", string(fields))
	if status != http.StatusTooManyRequests || string(body) != want || hdr.Get("Retry-After") != "1" {
		t.Errorf("createCall beyond the limit: %d %s (Retry-After %q), want 429 %s, 1", status, body, hdr.Get("Retry-After"), want)
	}
	status, hdr, body = rest(t, srv, "POST", "/sim/v1/inbound", "application/json", `{"from":"+15557770000","to":"+15550001000"}`)
	if status != http.StatusTooManyRequests || string(body) != want || hdr.Get("Retry-After") != "1" {
		t.Errorf("an inbound call beyond the limit: %d %s (Retry-After %q), want 429 %s, 1", status, body, hdr.Get("Retry-After"), want)
	}
	peer := newSIPPeer(t, "127.0.1.6")
	if code := peer.invite(t, srv.SIPAddr(), "caller", "", "+15550001000"); code != 503 {
		t.Errorf("an INVITE beyond the account's limit: %d, want 503", code)
	}
	if current, capacity := statistics(t, srv); current != 0 || capacity != 0 {
		t.Errorf("/statistics without a rate: %d of %d, want 0 of 0", current, capacity)
	}
}
