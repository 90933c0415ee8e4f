// Package server assembles voicehook: the SQLite store, the webhook sender,
// the simulated phones, the engine and the HTTP API, listening on one
// address. cmd/voicehook runs it; end-to-end tests start it on port 0.
//
// A Server owns every goroutine it starts; Close stops them all.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/voicehook/voicehook/internal/api"
	"github.com/voicehook/voicehook/internal/config"
	"github.com/voicehook/voicehook/internal/console"
	"github.com/voicehook/voicehook/internal/delivery"
	"github.com/voicehook/voicehook/internal/engine"
	"github.com/voicehook/voicehook/internal/media"
	"github.com/voicehook/voicehook/internal/phone/sim"
	"github.com/voicehook/voicehook/internal/recordings"
	"github.com/voicehook/voicehook/internal/store/sqlite"
)

// Config is the configuration of a server. The zero value of each field is
// its documented default.
type Config struct {
	// Addr is where to listen; default "127.0.0.1:8080". Port 0 picks one.
	Addr string
	// DB is the SQLite file; default "voicehook.db". ":memory:" keeps
	// nothing.
	DB string
	// RecordingsDir holds the audio of recordings; default "recordings"
	// beside DB, or a temporary directory, removed on Close, with
	// ":memory:".
	RecordingsDir string
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
	// Client makes the server's outbound requests: webhooks and audio
	// fetches. Default: clients of their own. voicetest points it at the
	// app under test, in process.
	Client *http.Client
	// BaseURL is how the server names itself in URLs it gives out (callUrl,
	// mediaUrl); Start sets it to where it listens.
	BaseURL string
	// Version is shown by the console.
	Version string
	// Logger defaults to discarding.
	Logger *slog.Logger
}

// Defaults.
const (
	DefaultAddr      = "127.0.0.1:8080"
	DefaultDB        = "voicehook.db"
	DefaultAccountID = "9900000"
	DefaultUsername  = "dev"
	DefaultPassword  = "dev"
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
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.BaseURL == "" {
		c.BaseURL = "http://" + c.Addr
	}
	host, _, err := net.SplitHostPort(c.Addr)
	if err != nil {
		return c, fmt.Errorf("address %q: %w", c.Addr, err)
	}
	for name, u := range map[string]string{"initiate URL": c.InitiateURL, "status URL": c.StatusURL} {
		if u == "" {
			continue
		}
		if p, err := url.Parse(u); err != nil || p.Host == "" || (p.Scheme != "http" && p.Scheme != "https") {
			return c, fmt.Errorf("%s %q: want an http or https URL", name, u)
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
	for _, a := range c.Accounts.Accounts {
		if a.Username == DefaultUsername && a.Password == DefaultPassword && !isLoopback(host) {
			return c, fmt.Errorf("refusing to listen on %s with the default credentials dev/dev: set --username and --password, or listen on 127.0.0.1", c.Addr)
		}
	}
	return c, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Server is a running voicehook.
type Server struct {
	cfg     Config
	http    *http.Server
	store   *sqlite.Store
	sender  *delivery.Sender
	engine  *engine.Engine
	net     *sim.Network
	dir     *config.Directory
	served  chan error
	handler http.Handler
	console atomic.Pointer[console.Console]
	// The schedule of Config.Calls.
	stopCalls context.CancelFunc
	tempDir   string // removed on Close
	callsDone sync.WaitGroup

	closeOnce sync.Once
	closeErr  error
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
		return nil, fmt.Errorf("listen: %w", err)
	}
	cfg.BaseURL = "http://" + ln.Addr().String()
	s, err := Open(ctx, cfg)
	if err != nil {
		ln.Close()
		return nil, err
	}
	s.http = &http.Server{Handler: s.handler, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelWarn)}
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
	store, err := sqlite.Open(ctx, cfg.DB)
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, store: store, dir: cfg.Accounts, served: make(chan error, 1), stopCalls: func() {}}
	base := s.cfg.BaseURL + "/api/v2"
	if s.cfg.RecordingsDir == "" {
		if cfg.DB == ":memory:" {
			if s.cfg.RecordingsDir, err = os.MkdirTemp("", "voicehook-recordings-"); err != nil {
				store.Close()
				return nil, err
			}
			s.tempDir = s.cfg.RecordingsDir
		} else {
			s.cfg.RecordingsDir = filepath.Join(filepath.Dir(cfg.DB), "recordings")
		}
	}
	keeper, err := recordings.New(s.cfg.RecordingsDir, store)
	if err != nil {
		s.closeStore()
		return nil, err
	}
	s.sender = delivery.New(delivery.Config{Logger: cfg.Logger, Client: cfg.Client, Signers: signers(s.dir)})
	s.net = sim.New(engine.RealClock{}, cfg.Phones)
	s.engine, err = engine.New(engine.Config{Clock: engine.RealClock{}, Store: store, Sender: s.sender,
		Network: s.net, Media: media.New(media.Config{Client: cfg.Client}), Recorder: keeper, RetryWebhooks: cfg.RetryWebhooks, Logger: cfg.Logger, BaseURL: base,
		Changed: s.changed})
	if err == nil {
		err = s.engine.Start(ctx)
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
	handler := api.New(api.Config{Engine: s.engine, Sim: s.net, Accounts: s.dir, BaseURL: base, Answerer: s.answerer, Logger: cfg.Logger})
	host, _, _ := net.SplitHostPort(cfg.Addr)
	con := console.New(console.Config{Engine: s.engine, Accounts: s.dir, API: handler, BaseURL: cfg.BaseURL,
		Phones: s.net.Numbers, RequireAuth: !isLoopback(host), Client: cfg.Client, Version: cfg.Version, Logger: cfg.Logger})
	s.console.Store(con)
	mux := http.NewServeMux()
	mux.Handle("/demo/", demoApp())
	mux.Handle("GET /{$}", con.Handler())
	mux.Handle("/console/", con.Handler())
	mux.Handle("/", handler)
	s.handler = mux
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
func (s *Server) closeStore() error {
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

// URL is the server's base URL, "http://127.0.0.1:8080".
func (s *Server) URL() string { return s.cfg.BaseURL }

// Config returns the configuration in force, defaults filled in.
func (s *Server) Config() Config { return s.cfg }

// Network returns the simulated phone network.
func (s *Server) Network() *sim.Network { return s.net }

// Close stops the server: no new requests, then the engine (live calls stay
// live in the store, for the next Start to end), pending webhooks until ctx
// ends, and the store. Calling it again returns the first result.
func (s *Server) Close(ctx context.Context) error {
	s.closeOnce.Do(func() {
		s.stopCalls()
		s.callsDone.Wait()
		var errHTTP, errServe error
		if s.http != nil {
			errHTTP = s.http.Shutdown(ctx)
		}
		s.console.Load().Close()
		errEngine := s.engine.Shutdown(ctx)
		errSender := s.sender.Close(ctx)
		errStore := s.closeStore()
		if s.http != nil {
			if errServe = <-s.served; errors.Is(errServe, http.ErrServerClosed) {
				errServe = nil
			}
		}
		s.closeErr = errors.Join(errHTTP, errEngine, errSender, errStore, errServe)
	})
	return s.closeErr
}
