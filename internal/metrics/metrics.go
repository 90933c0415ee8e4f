// Package metrics counts what the engine does, for Prometheus: it
// implements engine.Metrics with collectors in a registry of its own (never
// the global one), reads the engine's gauges at each scrape, and serves the
// text exposition format.
//
// Every label value comes from a small fixed set — a direction, a cause, an
// event type, a verb name, an outcome — never a call id or a number, so
// that a busy server keeps a bounded number of series. Values outside the
// known sets are counted as "other".
//
// Dependencies: github.com/prometheus/client_golang (Apache-2.0), the
// reference Prometheus client: its registry, collectors for the Go runtime
// and the process, and the exposition handler. Tests parse what it serves
// with github.com/prometheus/common/expfmt and client_model (Apache-2.0),
// which it depends on already.
//
// A Metrics is safe for concurrent use.
package metrics

import (
	"net/http"
	"strings"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/voicehook/voicehook/callback"
	"github.com/voicehook/voicehook/internal/engine"
)

// Label names. These are the only ones voicehook's own metrics use.
const (
	LabelDirection = "direction"
	LabelCause     = "cause"
	LabelEvent     = "event"
	LabelOutcome   = "outcome"
	LabelVerb      = "verb"
)

// Outcomes of a webhook attempt, the values of the outcome label: those
// of engine.Outcome.
const (
	OutcomeOK              = string(engine.OutcomeOK)              // a 2xx answer, read in full
	OutcomeHTTPError       = string(engine.OutcomeHTTPError)       // any other status (4xx, 5xx, a redirect not followed)
	OutcomeTimeout         = string(engine.OutcomeTimeout)         // no answer within callbackTimeout
	OutcomeConnectionError = string(engine.OutcomeConnectionError) // no answer: refused, reset, closed, bad URL, DNS
	OutcomeRefused         = string(engine.OutcomeRefused)         // the address was refused by voicehook's own guard
	OutcomeCanceled        = string(engine.OutcomeCanceled)        // voicehook stopped while it waited
)

// other stands for a label value outside the known set.
const other = "other"

// LatencyBuckets are the upper bounds, in seconds, of the webhook latency
// histogram: from a local app's few milliseconds up to the longest
// callbackTimeout (25 s).
var LatencyBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 25}

// Metrics is voicehook's Prometheus registry and the engine.Metrics that
// fills it.
type Metrics struct {
	reg      *prometheus.Registry
	ended    *prometheus.CounterVec
	verbs    *prometheus.CounterVec
	invalid  *prometheus.CounterVec
	attempts *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	stats    atomic.Pointer[func() engine.Stats]
}

var _ engine.Metrics = (*Metrics)(nil)

// New returns a registry with voicehook's metrics and the Go runtime and
// process collectors (goroutines, memory, GC, CPU, open files). The gauges
// of live calls and of the outbox read the function given to Track.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		ended: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "voicehook_calls_ended_total",
			Help: "Call legs ended, by direction and disconnect cause (B-legs of a transfer are outbound).",
		}, []string{LabelDirection, LabelCause}),
		verbs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "voicehook_bxml_verbs_total",
			Help: "BXML verbs started, on calls and in conferences, by verb name.",
		}, []string{LabelVerb}),
		invalid: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "voicehook_bxml_invalid_total",
			Help: "Replies that were not valid BXML, by the event they answered.",
		}, []string{LabelEvent}),
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "voicehook_webhook_attempts_total",
			Help: "HTTP requests made to deliver webhooks (retries and fallbacks each count), by event type and outcome.",
		}, []string{LabelEvent, LabelOutcome}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "voicehook_webhook_latency_seconds",
			Help:    "Time from sending a webhook request to its outcome (the reply read, or the failure), by event type.",
			Buckets: LatencyBuckets,
		}, []string{LabelEvent}),
	}
	m.reg.MustRegister(m.ended, m.verbs, m.invalid, m.attempts, m.latency, gauges{m},
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Track makes the gauges read stats at each scrape (Engine.Stats). Until
// it is called they are not exported.
func (m *Metrics) Track(stats func() engine.Stats) { m.stats.Store(&stats) }

// Registry is the registry, for tests and for adding collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the registry in the Prometheus exposition formats.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

// CallEnded counts an ended call leg.
func (m *Metrics) CallEnded(d callback.Direction, c callback.Cause) {
	m.ended.WithLabelValues(direction(d), cause(c)).Inc()
}

// VerbRan counts a verb started.
func (m *Metrics) VerbRan(verb string) { m.verbs.WithLabelValues(verbName(verb)).Inc() }

// InvalidBXML counts a reply that was not valid BXML.
func (m *Metrics) InvalidBXML(ev callback.EventType) { m.invalid.WithLabelValues(eventType(ev)).Inc() }

// WebhookAttempt counts one delivery attempt and observes its latency.
func (m *Metrics) WebhookAttempt(ev callback.EventType, a engine.Attempt) {
	e := eventType(ev)
	m.attempts.WithLabelValues(e, Outcome(a)).Inc()
	m.latency.WithLabelValues(e).Observe(a.Latency.Seconds())
}

// Outcome classifies a delivery attempt for the outcome label: its own
// Outcome, which internal/delivery sets. An attempt without one (or with
// a value not listed above) is classified from its status first, then from
// the exact messages internal/delivery writes, so that a word in a URL or
// a host name ("/timeout", "timeout.internal") does not change the label.
func Outcome(a engine.Attempt) string {
	switch o := a.Outcome; o {
	case engine.OutcomeOK, engine.OutcomeHTTPError, engine.OutcomeTimeout,
		engine.OutcomeConnectionError, engine.OutcomeRefused, engine.OutcomeCanceled:
		return string(o)
	}
	msg := strings.TrimPrefix(a.Err, "reading reply: ")
	switch {
	case a.Err == "":
		return OutcomeOK
	case strings.HasPrefix(msg, "canceled: "):
		return OutcomeCanceled
	case a.Status != 0 && (a.Status < 200 || a.Status > 299):
		return OutcomeHTTPError
	case strings.HasPrefix(msg, "timeout after "):
		return OutcomeTimeout
	case strings.HasPrefix(msg, "refused to connect to ") && strings.Contains(msg, "--webhook-allow"):
		return OutcomeRefused
	}
	return OutcomeConnectionError
}

func direction(d callback.Direction) string {
	if d.Known() {
		return string(d)
	}
	return other
}

func cause(c callback.Cause) string {
	if c.Known() {
		return string(c)
	}
	return other
}

func eventType(ev callback.EventType) string {
	if ev.Known() {
		return string(ev)
	}
	return other
}

// verbName keeps the name of a BXML verb. The engine only runs verbs of
// the bxml package's types, whose names are fixed by code; anything not
// shaped like one ("Gather", "SpeakSentence") is counted as other, so that
// no input can add series.
func verbName(v string) string {
	if len(v) == 0 || len(v) > 32 || v[0] < 'A' || v[0] > 'Z' {
		return other
	}
	for i := range len(v) {
		if c := v[i]; (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') {
			return other
		}
	}
	return v
}

// gauges reads the engine's live calls and outbox at each scrape.
type gauges struct{ m *Metrics }

var (
	liveDesc = prometheus.NewDesc("voicehook_calls_active",
		"Call legs live now, by direction.", []string{LabelDirection}, nil)
	depthDesc = prometheus.NewDesc("voicehook_outbox_depth",
		"Asynchronous webhooks (disconnect, dtmf, …) queued and not yet delivered, those being sent included.", nil, nil)
	ageDesc = prometheus.NewDesc("voicehook_outbox_oldest_age_seconds",
		"How long the oldest undelivered asynchronous webhook has waited; 0 when none waits.", nil, nil)
)

func (gauges) Describe(ch chan<- *prometheus.Desc) {
	ch <- liveDesc
	ch <- depthDesc
	ch <- ageDesc
}

func (g gauges) Collect(ch chan<- prometheus.Metric) {
	f := g.m.stats.Load()
	if f == nil {
		return
	}
	st := (*f)()
	for _, d := range []callback.Direction{callback.Inbound, callback.Outbound} {
		ch <- prometheus.MustNewConstMetric(liveDesc, prometheus.GaugeValue, float64(st.Live[d]), string(d))
	}
	ch <- prometheus.MustNewConstMetric(depthDesc, prometheus.GaugeValue, float64(st.Queued))
	ch <- prometheus.MustNewConstMetric(ageDesc, prometheus.GaugeValue, st.OldestQueued.Seconds())
}
