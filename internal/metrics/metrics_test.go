package metrics_test

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/voicehook/voicehook/callback"
	"github.com/voicehook/voicehook/internal/engine"
	"github.com/voicehook/voicehook/internal/metrics"
)

// scrape GETs the handler's exposition over a real loopback connection and
// parses it.
func scrape(t *testing.T, h http.Handler) map[string]*dto.MetricFamily {
	t.Helper()
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET metrics: %s", resp.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse the exposition: %v", err)
	}
	return fams
}

// value returns the value of the family's series with these labels
// ("name=value" pairs), and whether it exists.
func value(fams map[string]*dto.MetricFamily, name string, labels ...string) (float64, bool) {
	f := fams[name]
	if f == nil {
		return 0, false
	}
	for _, m := range f.GetMetric() {
		var have []string
		for _, l := range m.GetLabel() {
			have = append(have, l.GetName()+"="+l.GetValue())
		}
		slices.Sort(have)
		want := slices.Sorted(slices.Values(labels))
		if !slices.Equal(have, want) {
			continue
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount()), true
		}
	}
	return 0, false
}

func TestOutcome(t *testing.T) {
	// The messages internal/delivery gives its attempts.
	cases := []struct {
		a    engine.Attempt
		want string
	}{
		{engine.Attempt{Status: 200}, metrics.OutcomeOK},
		{engine.Attempt{Status: 204}, metrics.OutcomeOK},
		{engine.Attempt{Status: 500, Err: "500 Internal Server Error"}, metrics.OutcomeHTTPError},
		{engine.Attempt{Status: 404, Err: "404 Not Found"}, metrics.OutcomeHTTPError},
		{engine.Attempt{Status: 302, Err: "302 Found: redirect to http://127.0.0.1:9/x not followed"}, metrics.OutcomeHTTPError},
		{engine.Attempt{Err: "timeout after 15s"}, metrics.OutcomeTimeout},
		{engine.Attempt{Status: 200, Err: "reading reply: timeout after 50ms"}, metrics.OutcomeTimeout},
		{engine.Attempt{Err: "connection refused"}, metrics.OutcomeConnectionError},
		{engine.Attempt{Err: "connection reset"}, metrics.OutcomeConnectionError},
		{engine.Attempt{Err: "connection closed before a response"}, metrics.OutcomeConnectionError},
		{engine.Attempt{Status: 200, Err: "reading reply: unexpected EOF"}, metrics.OutcomeConnectionError},
		{engine.Attempt{Err: "invalid URL: no host"}, metrics.OutcomeConnectionError},
		{engine.Attempt{Err: "canceled: delivery: sender closed"}, metrics.OutcomeCanceled},
		// The egress guard's refusal (branch egress).
		{engine.Attempt{Err: "refused to connect to 127.0.0.1:8080: loopback addresses are not allowed for outbound requests (allow with --webhook-allow 127.0.0.1/32)"},
			metrics.OutcomeRefused},
		// A word in a URL or a host name is not what happened.
		{engine.Attempt{Status: 302, Err: "302 Found: redirect to http://127.0.0.1:9/timeout not followed"}, metrics.OutcomeHTTPError},
		{engine.Attempt{Status: 503, Err: "503 Service Unavailable"}, metrics.OutcomeHTTPError},
		{engine.Attempt{Err: "dial tcp: lookup timeout.internal: no such host"}, metrics.OutcomeConnectionError},
		{engine.Attempt{Err: "dial tcp 127.0.0.1:9: connect: refused-by-peer.test"}, metrics.OutcomeConnectionError},
	}
	for _, c := range cases {
		if got := metrics.Outcome(c.a); got != c.want {
			t.Errorf("Outcome(%d, %q) = %s, want %s", c.a.Status, c.a.Err, got, c.want)
		}
	}
}

// TestOutcomeTyped: an attempt's own Outcome, set by internal/delivery,
// is the label, whatever its message says.
func TestOutcomeTyped(t *testing.T) {
	cases := []struct {
		a    engine.Attempt
		want string
	}{
		{engine.Attempt{Status: 200, Outcome: engine.OutcomeOK}, metrics.OutcomeOK},
		{engine.Attempt{Status: 302, Err: "302 Found: redirect to http://timeout.internal/timeout not followed",
			Outcome: engine.OutcomeHTTPError}, metrics.OutcomeHTTPError},
		{engine.Attempt{Err: "dial tcp: lookup timeout.internal: no such host", Outcome: engine.OutcomeConnectionError},
			metrics.OutcomeConnectionError},
		{engine.Attempt{Err: "timeout after 15s", Outcome: engine.OutcomeTimeout}, metrics.OutcomeTimeout},
		{engine.Attempt{Status: 200, Err: "reading reply: canceled: delivery: sender closed", Outcome: engine.OutcomeCanceled},
			metrics.OutcomeCanceled},
		{engine.Attempt{Err: "refused to connect to 127.0.0.1:8080: …", Outcome: engine.OutcomeRefused}, metrics.OutcomeRefused},
		// A value metrics does not know is read from the message instead.
		{engine.Attempt{Status: 500, Err: "500 Internal Server Error", Outcome: "weird"}, metrics.OutcomeHTTPError},
	}
	for _, c := range cases {
		if got := metrics.Outcome(c.a); got != c.want {
			t.Errorf("Outcome(%q, %d, %q) = %s, want %s", c.a.Outcome, c.a.Status, c.a.Err, got, c.want)
		}
	}
}

// TestLabelsAreFromFixedSets: whatever the engine passes, voicehook's
// series carry only the label names of the package and values from their
// fixed sets; a call id or a number never becomes a label value.
func TestLabelsAreFromFixedSets(t *testing.T) {
	m := metrics.New()
	m.Track(func() engine.Stats {
		return engine.Stats{Live: map[callback.Direction]int{callback.Inbound: 2}, Queued: 3, OldestQueued: 1500 * time.Millisecond}
	})
	callID := callback.NewCallID()
	number := "+15550000000"
	m.CallEnded(callback.Outbound, callback.CauseBusy)
	m.CallEnded(callback.Direction(callID), callback.Cause(number))
	m.VerbRan("Gather")
	m.VerbRan(number)
	m.VerbRan("<Gather " + callID + ">")
	m.InvalidBXML(callback.EventAnswer)
	m.InvalidBXML(callback.EventType(callID))
	m.WebhookAttempt(callback.EventDisconnect, engine.Attempt{URL: "http://127.0.0.1/" + callID, Status: 204, Latency: 3 * time.Millisecond})
	m.WebhookAttempt(callback.EventType(number), engine.Attempt{URL: "http://127.0.0.1/" + number, Err: callID})

	allowed := map[string]func(string) bool{
		metrics.LabelDirection: func(v string) bool { return v == "other" || callback.Direction(v).Known() },
		metrics.LabelCause:     func(v string) bool { return v == "other" || callback.Cause(v).Known() },
		metrics.LabelEvent:     func(v string) bool { return v == "other" || callback.EventType(v).Known() },
		metrics.LabelVerb: func(v string) bool {
			return v == "other" || !strings.ContainsAny(v, "0123456789+<> -") && v != ""
		},
		metrics.LabelOutcome: func(v string) bool {
			return slices.Contains([]string{metrics.OutcomeOK, metrics.OutcomeHTTPError, metrics.OutcomeTimeout,
				metrics.OutcomeConnectionError, metrics.OutcomeRefused, metrics.OutcomeCanceled}, v)
		},
		"le": func(string) bool { return true }, // histogram buckets
	}
	fams := scrape(t, m.Handler())
	ours := 0
	for name, f := range fams {
		if !strings.HasPrefix(name, "voicehook_") {
			continue
		}
		ours++
		if f.GetHelp() == "" {
			t.Errorf("%s has no help", name)
		}
		for _, s := range f.GetMetric() {
			for _, l := range s.GetLabel() {
				ok, known := allowed[l.GetName()]
				if !known {
					t.Errorf("%s has label %s, not one of the fixed set", name, l.GetName())
					continue
				}
				if !ok(l.GetValue()) || strings.Contains(l.GetValue(), callID) || strings.Contains(l.GetValue(), number) {
					t.Errorf("%s has %s=%q, outside the label's set", name, l.GetName(), l.GetValue())
				}
			}
		}
	}
	if ours != 8 {
		t.Errorf("%d voicehook_ families, want 8", ours)
	}
	checks := []struct {
		name   string
		labels []string
		want   float64
	}{
		{"voicehook_calls_ended_total", []string{"direction=outbound", "cause=busy"}, 1},
		{"voicehook_calls_ended_total", []string{"direction=other", "cause=other"}, 1},
		{"voicehook_bxml_verbs_total", []string{"verb=Gather"}, 1},
		{"voicehook_bxml_verbs_total", []string{"verb=other"}, 2},
		{"voicehook_bxml_invalid_total", []string{"event=answer"}, 1},
		{"voicehook_bxml_invalid_total", []string{"event=other"}, 1},
		{"voicehook_webhook_attempts_total", []string{"event=disconnect", "outcome=ok"}, 1},
		{"voicehook_webhook_attempts_total", []string{"event=other", "outcome=connection_error"}, 1},
		{"voicehook_webhook_latency_seconds", []string{"event=disconnect"}, 1},
		{"voicehook_calls_active", []string{"direction=inbound"}, 2},
		{"voicehook_calls_active", []string{"direction=outbound"}, 0},
		{"voicehook_outbox_depth", nil, 3},
		{"voicehook_outbox_oldest_age_seconds", nil, 1.5},
	}
	for _, c := range checks {
		if got, ok := value(fams, c.name, c.labels...); !ok || got != c.want {
			t.Errorf("%s%v = %v (present %v), want %v", c.name, c.labels, got, ok, c.want)
		}
	}
	for _, name := range []string{"go_goroutines", "go_memstats_alloc_bytes", "process_cpu_seconds_total", "process_open_fds"} {
		if fams[name] == nil {
			t.Errorf("no %s: the Go and process collectors are missing", name)
		}
	}
}

// BenchmarkCallHooks is what one simple call tells the metrics: two verbs,
// an answer and a disconnect attempt, and its end.
func BenchmarkCallHooks(b *testing.B) {
	m := metrics.New()
	answer := engine.Attempt{Status: 200, Latency: 2 * time.Millisecond}
	disc := engine.Attempt{Status: 204, Latency: time.Millisecond}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m.WebhookAttempt(callback.EventAnswer, answer)
			m.VerbRan("SpeakSentence")
			m.VerbRan("Hangup")
			m.CallEnded(callback.Outbound, callback.CauseHangup)
			m.WebhookAttempt(callback.EventDisconnect, disc)
		}
	})
}
