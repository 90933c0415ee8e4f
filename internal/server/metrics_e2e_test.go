package server_test

import (
	"context"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/voicehook/voicehook/callback"
	"github.com/voicehook/voicehook/internal/config"
	"github.com/voicehook/voicehook/internal/server"
)

// scrapeMetrics GETs url (an admin /metrics) and parses the exposition.
func scrapeMetrics(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse %s: %v", url, err)
	}
	return fams
}

// waitMetrics scrapes url until ok holds, for at most 10 s, and returns the
// last scrape.
func waitMetrics(t *testing.T, url string, ok func(map[string]*dto.MetricFamily) bool) map[string]*dto.MetricFamily {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		fams := scrapeMetrics(t, url)
		if ok(fams) {
			return fams
		}
		if time.Now().After(deadline) {
			t.Logf("last scrape: %v", fams)
			t.Fatal("metrics not as expected within 10 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// sample is the value of a series, the sample count for a histogram, or -1
// when the series is absent; labels are "name=value".
func sample(fams map[string]*dto.MetricFamily, name string, labels ...string) float64 {
	want := slices.Sorted(slices.Values(labels))
	for _, m := range fams[name].GetMetric() {
		var have []string
		for _, l := range m.GetLabel() {
			have = append(have, l.GetName()+"="+l.GetValue())
		}
		slices.Sort(have)
		if !slices.Equal(have, want) {
			continue
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue()
		case m.Gauge != nil:
			return m.Gauge.GetValue()
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount())
		}
	}
	return -1
}

// TestMetricsAfterCalls: calls that end with different causes, both ways,
// show on /metrics by direction and cause, with their webhook attempts and
// verbs; live calls go back to 0. The Go profiler answers beside it.
func TestMetricsAfterCalls(t *testing.T) {
	app := newApp(t, map[string]string{
		"/answer":   `<Response><SpeakSentence>Hello</SpeakSentence><Pause duration="60"/></Response>`,
		"/bad":      `<Response><Pause duration="-1"/></Response>`,
		"/initiate": `<Response><SpeakSentence>Thanks</SpeakSentence><Hangup/></Response>`,
	})
	app.status["/fail"] = http.StatusInternalServerError
	srv := startServerWith(t, server.Config{AdminAddr: "127.0.0.1:0", InitiateURL: app.URL + "/initiate", StatusURL: app.URL + "/status"})
	if !strings.HasPrefix(srv.AdminURL(), "http://127.0.0.1:") {
		t.Fatalf("AdminURL %q", srv.AdminURL())
	}
	metricsURL := srv.AdminURL() + "/metrics"

	// An answered call, live until REST hangs it up.
	live, _ := createCall(t, srv, callFields(app, "+15550000000"))
	app.waitFor(t, callback.EventAnswer, 10*time.Second)
	fams := waitMetrics(t, metricsURL, func(fams map[string]*dto.MetricFamily) bool {
		return sample(fams, "voicehook_bxml_verbs_total", "verb=SpeakSentence") == 1
	})
	if got := sample(fams, "voicehook_calls_active", "direction=outbound"); got != 1 {
		t.Errorf("voicehook_calls_active{outbound} while a call is live = %v, want 1", got)
	}
	if s, _, b := rest(t, srv, "POST", "/api/v2/accounts/9900000/calls/"+live, "application/json", `{"state":"completed"}`); s != 200 {
		t.Fatalf("hang up over REST: %d %s", s, b)
	}
	createCall(t, srv, callFields(app, "+15550000486"))
	createCall(t, srv, callFields(app, "+15550000603"))
	bad := callFields(app, "+15550000000")
	bad["answerUrl"] = app.URL + "/bad"
	createCall(t, srv, bad)
	failing := callFields(app, "+15550000000")
	failing["answerUrl"] = app.URL + "/fail"
	createCall(t, srv, failing)
	if s, _, b := rest(t, srv, "POST", "/sim/v1/inbound", "application/json", `{"from":"+15557770000","to":"+15550001000"}`); s != 201 {
		t.Fatalf("inbound: %d %s", s, b)
	}
	waitHooks(t, app, callback.EventDisconnect, 6)

	// The outbox marks a disconnect delivered just after the app has it.
	fams = waitMetrics(t, metricsURL, func(fams map[string]*dto.MetricFamily) bool {
		return sample(fams, "voicehook_calls_active", "direction=outbound") == 0 &&
			sample(fams, "voicehook_calls_active", "direction=inbound") == 0 && sample(fams, "voicehook_outbox_depth") == 0
	})
	checks := []struct {
		name   string
		labels []string
		want   float64
	}{
		{"voicehook_calls_ended_total", []string{"direction=outbound", "cause=hangup"}, 1},
		{"voicehook_calls_ended_total", []string{"direction=outbound", "cause=busy"}, 1},
		{"voicehook_calls_ended_total", []string{"direction=outbound", "cause=rejected"}, 1},
		{"voicehook_calls_ended_total", []string{"direction=outbound", "cause=invalid-bxml"}, 1},
		{"voicehook_calls_ended_total", []string{"direction=outbound", "cause=callback-error"}, 1},
		{"voicehook_calls_ended_total", []string{"direction=inbound", "cause=hangup"}, 1},
		{"voicehook_webhook_attempts_total", []string{"event=answer", "outcome=ok"}, 2},
		{"voicehook_webhook_attempts_total", []string{"event=answer", "outcome=http_error"}, 1},
		{"voicehook_webhook_attempts_total", []string{"event=initiate", "outcome=ok"}, 1},
		{"voicehook_webhook_attempts_total", []string{"event=disconnect", "outcome=ok"}, 6},
		{"voicehook_webhook_latency_seconds", []string{"event=disconnect"}, 6},
		{"voicehook_webhook_latency_seconds", []string{"event=answer"}, 3},
		{"voicehook_bxml_verbs_total", []string{"verb=SpeakSentence"}, 2},
		{"voicehook_bxml_verbs_total", []string{"verb=Hangup"}, 1},
		{"voicehook_bxml_invalid_total", []string{"event=answer"}, 1},
		{"voicehook_calls_active", []string{"direction=outbound"}, 0},
		{"voicehook_calls_active", []string{"direction=inbound"}, 0},
		{"voicehook_outbox_depth", nil, 0},
		{"voicehook_outbox_oldest_age_seconds", nil, 0},
	}
	for _, c := range checks {
		if got := sample(fams, c.name, c.labels...); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	if got := sample(fams, "go_goroutines"); got <= 0 {
		t.Errorf("go_goroutines = %v, want the Go collector's count", got)
	}

	for path, want := range map[string]string{"/debug/pprof/": "goroutine", "/debug/pprof/goroutine?debug=1": "goroutine profile:"} {
		resp, err := http.Get(srv.AdminURL() + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(body), want) {
			t.Errorf("GET %s: %d, body without %q", path, resp.StatusCode, want)
		}
	}
	// The main listener serves neither.
	if s, _, _ := rest(t, srv, "GET", "/metrics", "", ""); s == 200 {
		t.Errorf("GET /metrics on the API listener: 200, want it on the admin listener only")
	}
}

// TestAdminNeedsCredentialsBeyondLoopback: on every address the admin
// endpoints want the credentials of an account, any account; with the
// default dev/dev the server does not start.
func TestAdminNeedsCredentialsBeyondLoopback(t *testing.T) {
	dir := t.TempDir()
	// 0.0.0.0 is a listen address, refused before listening: nothing is dialled.
	_, err := server.Start(context.Background(), server.Config{Addr: "127.0.0.1:0", AdminAddr: "0.0.0.0:0", DB: filepath.Join(dir, "dev.db")})
	if err == nil || !strings.Contains(err.Error(), "--admin-addr") || !strings.Contains(err.Error(), "dev/dev") {
		t.Fatalf("Start beyond loopback with dev/dev: %v, want a refusal naming --admin-addr", err)
	}

	accounts, err := config.Load(strings.NewReader(`
accounts:
  - {id: "1000001", username: alice, password: wonderland}
  - {id: "1000002", username: bob, password: builder}
`))
	if err != nil {
		t.Fatal(err)
	}
	// The admin listener binds every interface; the test reaches it through
	// 127.0.0.1 only.
	srv, err := server.Start(context.Background(), server.Config{Addr: "127.0.0.1:0", AdminAddr: "0.0.0.0:0", DB: filepath.Join(dir, "vh.db"),
		Accounts: accounts})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close(context.Background()) })
	base := strings.Replace(srv.AdminURL(), "0.0.0.0", "127.0.0.1", 1)
	for _, path := range []string{"/metrics", "/debug/pprof/", "/debug/pprof/heap"} {
		for _, c := range []struct {
			user, pass string
			want       int
		}{{"", "", 401}, {"alice", "builder", 401}, {"dev", "dev", 401}, {"alice", "wonderland", 200}, {"bob", "builder", 200}} {
			req, _ := http.NewRequest("GET", base+path, nil)
			if c.user != "" {
				req.SetBasicAuth(c.user, c.pass)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != c.want {
				t.Errorf("GET %s as %q: %d, want %d", path, c.user, resp.StatusCode, c.want)
			}
			if c.want == 401 && (!strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Basic") || strings.Contains(string(body), "voicehook_")) {
				t.Errorf("GET %s as %q: a 401 without a Basic challenge, or with metrics: %q", path, c.user, body)
			}
		}
	}
}
