// Package server assembles voicehook: the SQLite store, the webhook sender,
// the simulated phones, the engine and the HTTP API, listening on one
// address, and with Config.AdminAddr metrics and profiles on a second
// (admin.go). cmd/voicehook runs it; end-to-end tests start it on port 0.
//
// A Server owns every goroutine it starts; Close stops them all.
package server

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/voicehook/voicehook/internal/api"
	"github.com/voicehook/voicehook/internal/config"
	"github.com/voicehook/voicehook/internal/console"
	"github.com/voicehook/voicehook/internal/delivery"
	"github.com/voicehook/voicehook/internal/egress"
	"github.com/voicehook/voicehook/internal/engine"
	"github.com/voicehook/voicehook/internal/media"
	"github.com/voicehook/voicehook/internal/metrics"
	"github.com/voicehook/voicehook/internal/phone/sim"
	sipnet "github.com/voicehook/voicehook/internal/phone/sip"
	"github.com/voicehook/voicehook/internal/recordings"
	"github.com/voicehook/voicehook/internal/redact"
	"github.com/voicehook/voicehook/internal/store/postgres"
	"github.com/voicehook/voicehook/internal/store/sqlite"
	"github.com/voicehook/voicehook/internal/streamer"
	"github.com/voicehook/voicehook/internal/stt"
	"github.com/voicehook/voicehook/internal/tts"
)

// Config is the configuration of a server. The zero value of each field is
// its documented default.
type Config struct {
	// Addr is where to listen; default "127.0.0.1:8080". Port 0 picks one.
	Addr string
	// DB is the SQLite file; default "voicehook.db". ":memory:" keeps
	// nothing. A postgres:// or postgresql:// URL keeps calls in that
	// PostgreSQL database instead (its password is never logged).
	DB string
	// RecordingsDir holds the audio of recordings; default "recordings"
	// beside DB, or a temporary directory, removed on Close, with
	// ":memory:".
	RecordingsDir string
	// LAME is the MP3 encoder of recordings in fileFormat mp3: the path of
	// the lame program. Default: lame in PATH. Without it, mp3 recordings
	// are refused (logged once at start).
	LAME string
	// AccountID, Username and Password are the one account and its Basic
	// credentials; defaults "9900000", "dev", "dev".
	AccountID string
	Username  string
	Password  string
	// Phones add to and override the magic numbers.
	Phones map[string]sim.Script
	// Calls are inbound calls the simulated phones place on a schedule,
	// from when the server starts.
	Calls []sim.ScheduledCall
	// InitiateURL and StatusURL are the dev application's call-initiated
	// and call-status URLs: inbound calls to its numbers get the initiate
	// webhook at the first and their disconnect at the second. Without
	// InitiateURL, inbound calls to it are refused.
	InitiateURL string
	StatusURL   string
	// Accounts, when set (voicehook serve --config), replace the dev
	// account that AccountID, Username, Password, InitiateURL, StatusURL
	// and WebhookSecrets describe.
	Accounts *config.Directory
	// WebhookSecrets sign the dev account's webhooks (Standard Webhooks):
	// "whsec_" and base64 each, two during a rotation. Default: unsigned.
	// With Accounts, each application has its own, in the config file.
	WebhookSecrets []string
	// RetryWebhooks retries failed asynchronous webhooks with backoff, for
	// up to a day; by default they follow Bandwidth's rule (one retry, on
	// a connection error only).
	RetryWebhooks bool
	// Client makes the server's outbound requests: webhooks, audio
	// fetches and console replays. Default: one client of the server's
	// own (package egress), guarded as WebhookGuard says. A given client
	// is used as it is, without the guard: voicetest points it at the app
	// under test, in process.
	Client *http.Client
	// StreamClient dials the WebSockets of media streams (<StartStream>).
	// Default: a client of the server's own, guarded as WebhookGuard says;
	// voicetest points it at the bot under test, in process.
	StreamClient *http.Client
	// StreamBatch is how many 20 ms frames per track a simulated call's
	// stream sends at once (streamer.Config.Batch); default 1, as
	// Bandwidth does. voicetest, on a virtual clock, sends more at once.
	StreamBatch int
	// WebhookGuard says whether the server's own client refuses to dial
	// loopback, private, link-local and other special-purpose addresses
	// (package egress): GuardAuto, the default, turns it on when Addr is
	// beyond loopback and off on loopback; GuardOn and GuardOff force it.
	// Config returns it resolved to GuardOn or GuardOff.
	WebhookGuard string
	// WebhookAllow are prefixes the guard lets through, such as the
	// operator's own app subnet 10.1.0.0/16. Default none.
	WebhookAllow []netip.Prefix
	// BaseURL is how the server names itself in URLs it gives out (callUrl,
	// mediaUrl); Start sets it to where it listens.
	BaseURL string
	// Version is shown by the console.
	Version string
	// Logger defaults to discarding.
	Logger *slog.Logger
	// AdminAddr, when set, is where Start serves Prometheus metrics
	// (/metrics) and Go profiles (/debug/pprof/); default off. On a
	// loopback address they are open, beyond it they need an account's
	// Basic credentials. Port 0 picks one.
	AdminAddr string

	// SIP, when SIP.Addr is set, carries real calls over SIP: inbound
	// INVITEs to the applications' numbers, and outbound calls to SIP URIs
	// and, through SIP.Gateways, to numbers that are not simulated phones.
	// Default off.
	SIP config.SIP
	// TTSCommand is the text-to-speech program of real calls, with its
	// arguments: it reads SSML on stdin, VOICEHOOK_TTS_VOICE, _LOCALE and
	// _GENDER in its environment, and writes a WAV to stdout. Default:
	// espeak-ng.
	TTSCommand []string
	// Limits gives every account without limits of its own (the limits:
	// key of a config file) a rate and a bound on live calls (--limits):
	// LimitsOff (or ""), the default, gives none; LimitsBandwidth gives
	// Bandwidth's, 5 calls per second and 100 live calls. Each node
	// counts its own calls.
	Limits string
	// MaxCalls bounds the calls this node carries at once (--max-calls):
	// beyond it createCall ends the call with node-capacity-exceeded and
	// an inbound INVITE gets 503 with Retry-After. 0 is no bound.
	MaxCalls int
	// STT recognizes real calls' speech: real-time transcription and the
	// transcription of their recordings. Default: pocketsphinx.
	STT STT
	// SimVoice says simulated phones' speech, and what calls play to them,
	// on their media streams. Default: the text-to-speech of real calls
	// (TTSCommand, or espeak-ng) when it is installed, else tts.Babble, a
	// voice-like signal made in process.
	SimVoice tts.Synthesizer

	// Node is this node's id among the nodes sharing a PostgreSQL
	// database (DB): its calls are its own, its lease is in its name.
	// Default: the host and port of AdvertiseURL. A node restarted under
	// the same id ends the calls its earlier life left, as one node does.
	Node string
	// AdvertiseURL is where the other nodes reach this one, to forward it
	// requests for its calls; default BaseURL.
	AdvertiseURL string
	// ClusterSecret is the secret nodes send with the requests they
	// forward each other, and check (env VOICEHOOK_CLUSTER_SECRET). Every
	// node of a cluster needs the same. Required on PostgreSQL beyond
	// loopback; on loopback it may be empty, for nodes on one machine.
	ClusterSecret string
	// Lease is how long a node's lease lasts unrenewed (DefaultLease): it
	// renews it every fifth of that, and when a node has not renewed it in
	// that time, another adopts its calls.
	Lease time.Duration

	// TokenLifetime is how long the OAuth2 access tokens of
	// POST /api/v1/oauth2/token last; default an hour, as Bandwidth's.
	// Tests shorten it.
	TokenLifetime time.Duration
	// KeepCalls is how long a call's record — GET /calls/{id}, listings,
	// its history, its real-time transcriptions — is kept after it ends,
	// and a completed conference after it completed: DefaultKeepCalls (7
	// days, Bandwidth's) when zero; negative (KeepForever) keeps them for
	// good. A live call is never removed.
	KeepCalls time.Duration
	// KeepRecordings is how long a recording — its record, transcription
	// and audio — is kept after it started, whether or not its call is
	// still kept: DefaultKeepRecordings (30 days, Bandwidth's) when zero;
	// negative (KeepForever) keeps them for good.
	KeepRecordings time.Duration

	// DisableSim turns the simulator off, for a server that carries real
	// calls only: no /sim/v1, no simulated phones, Phones and Calls
	// refused. Calls placed then have no network: they end with cause
	// error, saying so. Default false: the simulator is on.
	DisableSim bool

	// The HTTP server's limits; each zero value is the default named.
	//
	// HeaderTimeout bounds reading a request's headers
	// (DefaultHeaderTimeout, 10 s), BodyTimeout reading its body
	// (DefaultBodyTimeout, 30 s), WriteTimeout writing the response
	// (DefaultWriteTimeout, 60 s; a recording's audio and the console's
	// live stream may last as long as they go on: for them each write
	// must be taken by the client within WriteTimeout, so a client that
	// stops reading is cut off). IdleTimeout closes a kept-alive connection with
	// no request for that long (DefaultIdleTimeout, 2 min). MaxHeaderBytes
	// bounds a request's headers (DefaultMaxHeaderBytes, 64 KB); larger is
	// 431.
	HeaderTimeout  time.Duration
	BodyTimeout    time.Duration
	WriteTimeout   time.Duration
	IdleTimeout    time.Duration
	MaxHeaderBytes int
}

// Defaults of the HTTP server's limits (see Config).
const (
	DefaultHeaderTimeout  = 10 * time.Second
	DefaultBodyTimeout    = 30 * time.Second
	DefaultWriteTimeout   = 60 * time.Second
	DefaultIdleTimeout    = 2 * time.Minute
	DefaultMaxHeaderBytes = 64 << 10
)

// Defaults.
const (
	DefaultAddr      = "127.0.0.1:8080"
	DefaultDB        = "voicehook.db"
	DefaultAccountID = "9900000"
	DefaultUsername  = "dev"
	DefaultPassword  = "dev"
)

// Values of Config.WebhookGuard.
const (
	GuardAuto = "auto"
	GuardOn   = "on"
	GuardOff  = "off"
)

// answerer finds the application that answers a number. When the
// application has no call-initiated URL, it returns the inbound call with
// the error, for /sim/v1/inbound to give it one.
func (s *Server) answerer(to string) (engine.Inbound, error) {
	account, app, ok := s.dir.Answering(to)
	if !ok {
		return engine.Inbound{}, &engine.Error{Code: engine.ENotFound, Msg: fmt.Sprintf("No application answers %s", to)}
	}
	in := engine.Inbound{
		AccountID: account.ID, ApplicationID: app.ID, To: to,
		Initiate: engine.Target{URL: app.InitiateURL, Method: app.InitiateMethod, Username: app.Username, Password: app.Password,
			FallbackURL: app.InitiateFallbackURL, FallbackMethod: app.InitiateFallbackMethod,
			FallbackUsername: app.FallbackUsername, FallbackPassword: app.FallbackPassword},
		StatusURL: app.StatusURL, StatusMethod: app.StatusMethod,
		Username: app.Username, Password: app.Password, CallbackTimeout: app.CallbackTimeout,
	}
	if app.InitiateURL == "" {
		msg := fmt.Sprintf("Application %s has no call-initiated URL", app.ID)
		if app.ID == config.DevApplicationID {
			msg = "The dev application has no call-initiated URL: start voicehook with --initiate-url"
		}
		return in, &engine.Error{Code: engine.EConflict, Msg: msg}
	}
	return in, nil
}

// withDefaults fills in the defaults and checks the configuration.
func (c Config) withDefaults() (Config, error) {
	if c.Addr == "" {
		c.Addr = DefaultAddr
	}
	if c.DB == "" {
		c.DB = DefaultDB
	}
	if c.AccountID == "" {
		c.AccountID = DefaultAccountID
	}
	if c.Username == "" {
		c.Username = DefaultUsername
	}
	if c.Password == "" {
		c.Password = DefaultPassword
	}
	if c.Lease == 0 {
		c.Lease = DefaultLease
	}
	c.defaultRetention()
	if c.Lease < time.Second {
		return c, fmt.Errorf("node lease %v: want 1s or more", c.Lease)
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	// No log line shows a URL's password, whatever package wrote it.
	c.Logger = slog.New(redact.NewHandler(c.Logger.Handler()))
	c.HeaderTimeout = cmp.Or(c.HeaderTimeout, DefaultHeaderTimeout)
	c.BodyTimeout = cmp.Or(c.BodyTimeout, DefaultBodyTimeout)
	c.WriteTimeout = cmp.Or(c.WriteTimeout, DefaultWriteTimeout)
	c.IdleTimeout = cmp.Or(c.IdleTimeout, DefaultIdleTimeout)
	c.MaxHeaderBytes = cmp.Or(c.MaxHeaderBytes, DefaultMaxHeaderBytes)
	if c.DisableSim && (len(c.Phones) > 0 || len(c.Calls) > 0) {
		return c, errors.New("the simulator is off (--sim=false): phones and scheduled calls (--phones) need it on")
	}
	if c.BaseURL == "" {
		c.BaseURL = "http://" + c.Addr
	}
	host, _, err := net.SplitHostPort(c.Addr)
	if err != nil {
		return c, fmt.Errorf("address %q: %w", c.Addr, err)
	}
	switch c.WebhookGuard {
	case "", GuardAuto:
		c.WebhookGuard = GuardOn
		if isLoopback(host) {
			c.WebhookGuard = GuardOff
		}
	case GuardOn, GuardOff:
	default:
		return c, fmt.Errorf("webhook guard %q: want auto, on or off", c.WebhookGuard)
	}
	for name, u := range map[string]string{"initiate URL": c.InitiateURL, "status URL": c.StatusURL} {
		if u == "" {
			continue
		}
		if p, err := url.Parse(u); err != nil || p.Host == "" || (p.Scheme != "http" && p.Scheme != "https") {
			return c, fmt.Errorf("%s %q: want an http or https URL", name, redact.URL(u))
		}
	}
	if c.Accounts == nil {
		c.Accounts = config.Dev(c.AccountID, c.Username, c.Password, c.InitiateURL, c.StatusURL)
		keys, err := config.ParseSecrets(c.WebhookSecrets)
		if err != nil {
			return c, fmt.Errorf("webhook secret of the dev application (--webhook-secret, VOICEHOOK_WEBHOOK_SECRET): %w", err)
		}
		c.Accounts.Accounts[0].Applications[0].SigningKeys = keys
	} else if len(c.WebhookSecrets) > 0 && !c.Accounts.Accounts[0].AnyApplication {
		// (A dev directory is one withDefaults built on an earlier call.)
		return c, errors.New("the webhook secret is the dev application's: with a config file, set webhookSecrets on each application in it")
	}
	switch c.Limits {
	case "", LimitsOff:
	case LimitsBandwidth:
		c.Accounts.DefaultLimits(config.BandwidthLimits)
	default:
		return c, fmt.Errorf("limits %q (--limits, VOICEHOOK_LIMITS): want off or bandwidth", c.Limits)
	}
	devCredentials := slices.ContainsFunc(c.Accounts.Accounts, func(a *config.Account) bool {
		return a.Username == DefaultUsername && a.Password == DefaultPassword
	})
	if devCredentials && !isLoopback(host) {
		return c, fmt.Errorf("refusing to listen on %s with the default credentials dev/dev: set --username and --password, or listen on 127.0.0.1", c.Addr)
	}
	if c.AdminAddr != "" {
		adminHost, _, err := net.SplitHostPort(c.AdminAddr)
		if err != nil {
			return c, fmt.Errorf("admin address %q (--admin-addr): %w", c.AdminAddr, err)
		}
		if devCredentials && !isLoopback(adminHost) {
			return c, fmt.Errorf("refusing to serve metrics and profiles on %s with the default credentials dev/dev: set --username and --password, or use --admin-addr 127.0.0.1:PORT", c.AdminAddr)
		}
	}
	return c, nil
}

// BeyondLoopback reports whether the server listens beyond loopback,
// where every request but the demo app's needs an account's credentials.
func (c Config) BeyondLoopback() bool {
	host, _, _ := net.SplitHostPort(c.Addr)
	return !isLoopback(host)
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// ListenError is a failure to listen on one of the server's addresses:
// Flag names the serve flag that sets it ("addr" or "admin-addr").
type ListenError struct {
	Flag, Addr string
	Err        error
}

func (e *ListenError) Error() string {
	return fmt.Sprintf("listen on %s (--%s): %v", e.Addr, e.Flag, e.Err)
}

func (e *ListenError) Unwrap() error { return e.Err }

// Server is a running voicehook.
type Server struct {
	cfg    Config
	http   *http.Server
	store  store
	sender *delivery.Sender
	client *http.Client // built by Open (no Config.Client): Close closes its idle connections
	engine *engine.Engine
	net    *sim.Network
	sip    *sipnet.Network // nil with SIP off
	// sipStarted is closed once sip listens: the dialogs of calls left
	// live by the last run are ended then.
	sipStarted chan struct{}
	streams    *streamer.Streamer
	// transcriber hears real calls for real-time transcription.
	transcriber *stt.Transcriber
	dir         *config.Directory
	served      chan error
	handler     http.Handler
	console     atomic.Pointer[console.Console]
	// The schedule of Config.Calls.
	stopCalls context.CancelFunc
	tempDir   string // removed on Close
	callsDone sync.WaitGroup

	closeOnce sync.Once
	closeErr  error

	// cluster is this node's part among the nodes of a PostgreSQL
	// database; nil on SQLite.
	cluster *cluster
	// sweeper expires calls and recordings (retention.go); nil when
	// everything is kept forever.
	sweeper *sweeper

	// The admin listener (Config.AdminAddr) and the metrics it serves.
	metrics     *metrics.Metrics
	admin       *http.Server
	adminServed chan error
	adminURL    string
}

// Start opens the server (see Open), listening on Config.Addr. It returns
// once the server accepts requests.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, &ListenError{Flag: "addr", Addr: cfg.Addr, Err: err}
	}
	cfg.BaseURL = "http://" + ln.Addr().String()
	var adminLn net.Listener
	if cfg.AdminAddr != "" {
		if adminLn, err = net.Listen("tcp", cfg.AdminAddr); err != nil {
			ln.Close()
			return nil, &ListenError{Flag: "admin-addr", Addr: cfg.AdminAddr, Err: err}
		}
	}
	s, err := Open(ctx, cfg)
	if err != nil {
		ln.Close()
		if adminLn != nil {
			adminLn.Close()
		}
		return nil, err
	}
	if s.sip != nil {
		if err := s.sip.Start(ctx); err != nil {
			ln.Close()
			if adminLn != nil {
				adminLn.Close()
			}
			s.engine.Shutdown(ctx)
			s.sip.Close()
			s.closeStore()
			return nil, &ListenError{Flag: "sip-addr", Addr: cfg.SIP.Addr, Err: err}
		}
		close(s.sipStarted)
	}
	if adminLn != nil {
		s.startAdmin(adminLn)
	}
	s.http = &http.Server{Handler: s.deadlines(s.handler), ReadHeaderTimeout: cfg.HeaderTimeout, IdleTimeout: cfg.IdleTimeout,
		MaxHeaderBytes: cfg.MaxHeaderBytes, ErrorLog: slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelWarn)}
	// The console's live streams never go idle: end them first.
	s.http.RegisterOnShutdown(s.console.Load().Close)
	go func() { s.served <- s.http.Serve(ln) }()
	s.schedule(cfg.Calls)
	return s, nil
}

// Open opens the store, ends the calls a previous run left live and starts
// the engine, without listening: Handler serves the API. Scheduled calls
// (Config.Calls) need Start.
func Open(ctx context.Context, cfg Config) (*Server, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	store, err := openStore(ctx, cfg.DB)
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, store: store, dir: cfg.Accounts, served: make(chan error, 1), stopCalls: func() {}}
	if pg, ok := store.(*postgres.Store); ok {
		if cfg.ClusterSecret == "" && cfg.BeyondLoopback() {
			store.Close()
			return nil, errors.New("a node on PostgreSQL beyond loopback needs the cluster's secret, the same on every node, in VOICEHOOK_CLUSTER_SECRET: nodes forward each other requests with it")
		}
		if s.cfg.AdvertiseURL == "" {
			s.cfg.AdvertiseURL = s.cfg.BaseURL
		}
		u, err := url.Parse(s.cfg.AdvertiseURL)
		if err != nil || u.Host == "" {
			store.Close()
			return nil, fmt.Errorf("advertise URL %q: want http://HOST:PORT", s.cfg.AdvertiseURL)
		}
		if ip, err := netip.ParseAddr(strings.Trim(u.Hostname(), "[]")); err == nil && ip.IsUnspecified() {
			store.Close()
			return nil, fmt.Errorf("advertise URL %s: the other nodes cannot reach %s; set --advertise-url (VOICEHOOK_ADVERTISE_URL) to this node's address on their network",
				s.cfg.AdvertiseURL, u.Hostname())
		}
		if s.cfg.Node == "" {
			s.cfg.Node = u.Host
		}
		if s.cluster, err = joinCluster(ctx, pg, s.cfg); err != nil {
			store.Close()
			return nil, err
		}
		cfg = s.cfg
	}
	var observer engine.Metrics
	if cfg.AdminAddr != "" {
		s.metrics = metrics.New()
		observer = s.metrics
	}
	base := s.cfg.BaseURL + "/api/v2"
	if s.cfg.RecordingsDir == "" {
		if cfg.DB == ":memory:" {
			if s.cfg.RecordingsDir, err = os.MkdirTemp("", "voicehook-recordings-"); err != nil {
				store.Close()
				return nil, err
			}
			s.tempDir = s.cfg.RecordingsDir
		} else if postgresDSN(cfg.DB) {
			s.cfg.RecordingsDir = "recordings" // in the working directory: a database URL has no directory
		} else {
			s.cfg.RecordingsDir = filepath.Join(filepath.Dir(cfg.DB), "recordings")
		}
	}
	keeper, err := recordings.New(s.cfg.RecordingsDir, store)
	if err != nil {
		s.closeStore()
		return nil, err
	}
	useMP3(ctx, keeper, s.cfg)
	client, replay := cfg.Client, cfg.Client
	if client == nil {
		client = egress.New(egress.Config{Guard: cfg.WebhookGuard == GuardOn, Allow: cfg.WebhookAllow})
		if u, err := url.Parse(cfg.BaseURL); err == nil {
			client.Transport = &demoTransport{host: u.Host, demo: demoApp(), next: client.Transport}
		}
		s.client = client
		// Replays follow no redirect, as webhooks do.
		replay = &http.Client{Transport: client.Transport, CheckRedirect: egress.NoRedirects, Timeout: 15 * time.Second}
	}
	s.sender = delivery.New(delivery.Config{Logger: cfg.Logger, Client: client, Signers: signers(s.dir)})
	var sender engine.Sender = s.sender
	if s.cluster != nil {
		sender = fencedSender{Sender: s.sender, c: s.cluster}
	}
	var network engine.Network = noNetwork{}
	if !cfg.DisableSim {
		s.net = sim.New(engine.RealClock{}, cfg.Phones)
		network = s.net
	}
	// One fetcher measures PlayAudio files for the engine and opens them
	// for the real calls that play them.
	fetcher := media.New(media.Config{Client: client})
	var mixer engine.Mixer // real calls' rooms: bridges and conferences hear each other
	speech, installed := s.speech()
	streamClient := cfg.StreamClient
	if streamClient == nil {
		streamClient = egress.New(egress.Config{Guard: cfg.WebhookGuard == GuardOn, Allow: cfg.WebhookAllow})
	}
	simVoice := cfg.SimVoice
	if simVoice == nil {
		// Simulated phones speak on streams with the real calls' voice
		// when it is installed; else with a voice-like signal made here.
		simVoice = speech
		if !installed {
			simVoice = tts.Babble{}
		}
	}
	speechToText := s.recognizer()
	s.transcriber = &stt.Transcriber{Recognizer: speechToText, Log: cfg.Logger.With("part", "stt")}
	s.streams = streamer.New(streamer.Config{Client: streamClient, Clock: engine.RealClock{}, TTS: simVoice, Fetch: fetcher.Open, Batch: cfg.StreamBatch,
		Log: cfg.Logger.With("part", "streams")})
	if sipOn(cfg.SIP) {
		if s.sip, err = s.newSIP(fetcher, speech); err != nil {
			s.closeStore()
			return nil, fmt.Errorf("SIP: %w", err)
		}
		s.sipStarted = make(chan struct{})
		network = router{sim: s.net, sip: s.sip, gateway: len(cfg.SIP.Gateways) > 0, started: s.sipStarted}
		mixer = s.sip
	}
	s.engine, err = engine.New(engine.Config{Clock: engine.RealClock{}, Store: store, Sender: sender,
		Network: network, Media: fetcher, Recorder: keeper, RetryWebhooks: cfg.RetryWebhooks, Logger: cfg.Logger, BaseURL: base,
		Changed: s.changed, Metrics: observer, Mixer: mixer, Transcripts: keeper, Streamer: s.streams, TranscriptionSockets: s.streams, Recognizer: recognizer{speechToText}, Transcriber: s.transcriber, MaxCalls: cfg.MaxCalls,
		Limits: accountLimits(s.dir)})
	if err == nil && s.metrics != nil {
		s.metrics.Track(s.engine.Stats)
	}
	if err == nil {
		err = s.engine.Start(ctx)
	}
	if err == nil && s.cluster != nil {
		s.cluster.run(s.engine, s.changed)
	}
	if err != nil {
		s.closeStore()
		return nil, err
	}
	for _, c := range cfg.Calls {
		if _, err := s.answerer(c.To); err != nil {
			s.engine.Shutdown(ctx)
			s.closeStore()
			return nil, fmt.Errorf("scheduled call from %s to %s: %w", c.From, c.To, err)
		}
	}
	s.startRetention(keeper)
	apiCfg := api.Config{Engine: s.engine, Accounts: s.dir, BaseURL: base, RequireAuth: cfg.BeyondLoopback(), Logger: cfg.Logger}
	apiCfg.TokenLifetime = cfg.TokenLifetime
	var phones func() [][2]string
	if s.net != nil {
		apiCfg.Sim, apiCfg.Answerer, phones = s.net, s.answerer, s.net.Numbers
	}
	handler := api.New(apiCfg)
	con := console.New(console.Config{Engine: s.engine, Accounts: s.dir, API: handler, BaseURL: cfg.BaseURL,
		Phones: phones, RequireAuth: cfg.BeyondLoopback(), Client: replay, Version: cfg.Version, Logger: cfg.Logger})
	s.console.Store(con)
	mux := http.NewServeMux()
	mux.Handle("/demo/", demoApp())
	mux.Handle("GET /{$}", con.Handler())
	mux.Handle("/console/", con.Handler())
	mux.Handle("/", handler)
	s.handler = mux
	if s.cluster != nil {
		s.handler = s.cluster.forward(mux)
	}
	return s, nil
}

// signers returns the lookup of the signer of each application's webhooks.
// An account that takes any applicationId (the dev account) signs the
// webhooks of applications it does not list with its first application's
// secrets (the dev application's), so --webhook-secret signs every webhook
// of the dev account.
func signers(d *config.Directory) func(accountID, applicationID string) *delivery.Signer {
	type app struct{ account, id string }
	byApp := map[app]*delivery.Signer{}
	byAccount := map[string]*delivery.Signer{}
	for _, a := range d.Accounts {
		for i, ap := range a.Applications {
			if len(ap.SigningKeys) == 0 {
				continue
			}
			byApp[app{a.ID, ap.ID}] = delivery.NewSigner(ap.SigningKeys...)
			if i == 0 && a.AnyApplication {
				byAccount[a.ID] = byApp[app{a.ID, ap.ID}]
			}
		}
	}
	if len(byApp) == 0 {
		return nil
	}
	return func(accountID, applicationID string) *delivery.Signer {
		if s, ok := byApp[app{accountID, applicationID}]; ok {
			return s
		}
		return byAccount[accountID]
	}
}

// changed passes the engine's call changes to the console.
func (s *Server) changed(callID string) {
	if c := s.console.Load(); c != nil {
		c.Changed(callID)
	}
}

// closeStore closes the store and removes a temporary recordings
// directory.
// store keeps calls, their histories, queued webhooks and recordings'
// records: SQLite (a file) or PostgreSQL (a database several nodes share).
type store interface {
	engine.Store
	recordings.Records
	Close() error
}

// openStore opens the store DB names: a postgres:// URL, or an SQLite
// file.
func openStore(ctx context.Context, db string) (store, error) {
	if postgresDSN(db) {
		s, err := postgres.Open(ctx, db)
		if err != nil {
			return nil, err
		}
		return s, nil
	}
	s, err := sqlite.Open(ctx, db)
	if err != nil {
		return nil, err
	}
	return s, nil
}

// postgresDSN reports whether db is a PostgreSQL URL.
func postgresDSN(db string) bool {
	return strings.HasPrefix(db, "postgres://") || strings.HasPrefix(db, "postgresql://")
}

func (s *Server) closeStore() error {
	s.stopRetention()
	err := s.store.Close()
	if s.tempDir != "" {
		err = errors.Join(err, os.RemoveAll(s.tempDir))
	}
	return err
}

// Handler serves the API, /sim/v1 and the demo app.
func (s *Server) Handler() http.Handler { return s.handler }

// schedule places the scheduled inbound calls until Close.
func (s *Server) schedule(calls []sim.ScheduledCall) {
	ctx, cancel := context.WithCancel(context.Background())
	s.stopCalls = cancel
	for _, c := range calls {
		s.callsDone.Add(1)
		go func() {
			defer s.callsDone.Done()
			wait := c.After
			for n := 0; c.Count == 0 || n < c.Count; n++ {
				t := time.NewTimer(wait)
				select {
				case <-ctx.Done():
					t.Stop()
					return
				case <-t.C:
				}
				s.placeInbound(ctx, c)
				wait = c.Every
			}
		}()
	}
}

// placeInbound rings an application from a simulated phone.
func (s *Server) placeInbound(ctx context.Context, c sim.ScheduledCall) {
	in, err := s.answerer(c.To)
	if err == nil {
		in.From, in.SIPHeaders = c.From, c.SIPHeaders
		var call *engine.Call
		if call, err = s.engine.InboundCall(ctx, in); err == nil {
			s.cfg.Logger.Info("scheduled inbound call", "call_id", call.CallID, "from", c.From, "to", c.To)
			return
		}
	}
	s.cfg.Logger.Warn("scheduled inbound call failed", "from", c.From, "to", c.To, "err", err)
}

// deadlines sets each request's read and write deadlines: a body must
// arrive within BodyTimeout, and the response leave within WriteTimeout.
// A recording's audio and the console's live stream last as long as they
// go on: their write deadline moves with each write instead. Once the body
// is read, the read deadline is lifted, so that it does not end a long
// response.
func (s *Server) deadlines(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		now := time.Now()
		if r.ContentLength != 0 { // a body, of known length or chunked
			_ = rc.SetReadDeadline(now.Add(s.cfg.BodyTimeout))
			r.Body = &bodyRead{ReadCloser: r.Body, rc: rc}
		}
		if r.URL.Path == "/console/api/stream" || strings.HasSuffix(r.URL.Path, "/media") {
			w = &progressWriter{ResponseWriter: w, rc: rc, each: s.cfg.WriteTimeout}
		}
		_ = rc.SetWriteDeadline(now.Add(s.cfg.WriteTimeout))
		next.ServeHTTP(w, r)
	})
}

// bodyRead lifts the read deadline when the body has been read.
type bodyRead struct {
	io.ReadCloser
	rc *http.ResponseController
}

func (b *bodyRead) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF {
		_ = b.rc.SetReadDeadline(time.Time{})
	}
	return n, err
}

// progressWriter gives each write of a long response WriteTimeout of its
// own: the response lasts as long as the client keeps taking it.
type progressWriter struct {
	http.ResponseWriter
	rc   *http.ResponseController
	each time.Duration
}

func (p *progressWriter) Write(b []byte) (int, error) {
	_ = p.rc.SetWriteDeadline(time.Now().Add(p.each))
	return p.ResponseWriter.Write(b)
}

func (p *progressWriter) Flush() {
	_ = p.rc.SetWriteDeadline(time.Now().Add(p.each))
	_ = p.rc.Flush()
}

// Unwrap lets http.ResponseController reach the connection.
func (p *progressWriter) Unwrap() http.ResponseWriter { return p.ResponseWriter }

// noNetwork is the phone network when the simulator is off and no SIP
// gateway is configured: nothing can be dialled.
type noNetwork struct{}

var errNoRoute = errors.New("no route: the simulator is off (--sim=false) and no SIP gateway is configured")

func (noNetwork) Dial(engine.Dial, func(engine.PhoneEvent)) (engine.Line, error) {
	return nil, errNoRoute
}

func (noNetwork) Incoming(engine.Dial, func(engine.PhoneEvent)) (engine.Line, error) {
	return nil, errNoRoute
}

// URL is the server's base URL, "http://127.0.0.1:8080".
func (s *Server) URL() string { return s.cfg.BaseURL }

// Config returns the configuration in force, defaults filled in.
func (s *Server) Config() Config { return s.cfg }

// AdminURL is where metrics and profiles are served,
// "http://127.0.0.1:9090", or "" without Config.AdminAddr.
func (s *Server) AdminURL() string { return s.adminURL }

// Network returns the simulated phone network, nil when the simulator is
// off (Config.DisableSim).
func (s *Server) Network() *sim.Network { return s.net }

// Close stops the server: no new requests, then the engine (live calls stay
// live in the store, for the next Start to end), pending webhooks until ctx
// ends, and the store. Calling it again returns the first result.
// DefaultDrainTimeout is how long voicehook serve gives live calls to end
// when it is stopped (--drain-timeout).
const DefaultDrainTimeout = 30 * time.Second

// Drain stops taking calls (a createCall gets 503, an INVITE 503 with
// Retry-After) and gives the live ones until ctx ends to finish; then it
// ends those left, one disconnect each. It returns how many it ended.
// Close follows it.
func (s *Server) Drain(ctx context.Context) int {
	s.stopCalls()
	s.stopRetention()
	if s.cluster != nil {
		s.cluster.stopAdopting()
	}
	return s.engine.Drain(ctx)
}

// Lost is closed when this node finds that it lost its lease in the
// cluster (it froze, or could not reach the database, for longer than its
// lease): another node has adopted its calls, and it must stop. Never
// closed on SQLite.
func (s *Server) Lost() <-chan struct{} {
	if s.cluster == nil {
		return nil
	}
	return s.cluster.lost
}

// Node is this node's id in its cluster, "" on SQLite.
func (s *Server) Node() string {
	if s.cluster == nil {
		return ""
	}
	return s.cluster.id
}

// Live is how many calls the server carries.
func (s *Server) Live() int { return s.engine.Live() }

func (s *Server) Close(ctx context.Context) error {
	s.closeOnce.Do(func() {
		s.stopCalls()
		s.stopRetention()
		s.callsDone.Wait()
		var errHTTP, errServe error
		if s.http != nil {
			// Past ctx, connections still busy (a download, a stream that
			// stopped reading) are closed rather than left to run on.
			if errHTTP = s.http.Shutdown(ctx); errHTTP != nil {
				errHTTP = errors.Join(errHTTP, s.http.Close())
			}
		}
		errAdmin := s.closeAdmin(ctx)
		s.console.Load().Close()
		if s.cluster != nil {
			s.cluster.stopAdopting()
		}
		errEngine := s.engine.Shutdown(ctx)
		s.streams.Close() // after the engine: the streams of calls left live end now
		s.transcriber.Close()
		var errSIP error
		if s.sip != nil {
			// After the engine: its calls stay live for the next start to
			// end; the SIP peers get their BYE or CANCEL now.
			errSIP = s.sip.Close()
		}
		errSender := s.sender.Close(ctx)
		if s.client != nil {
			s.client.CloseIdleConnections()
		}
		var errCluster error
		if s.cluster != nil {
			errCluster = s.cluster.close(ctx)
		}
		errStore := s.closeStore()
		if s.http != nil {
			if errServe = <-s.served; errors.Is(errServe, http.ErrServerClosed) {
				errServe = nil
			}
		}
		s.closeErr = errors.Join(errHTTP, errEngine, errSIP, errSender, errCluster, errStore, errServe, errAdmin)
	})
	return s.closeErr
}
