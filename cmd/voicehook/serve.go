package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/voicehook/voicehook/internal/config"
	"github.com/voicehook/voicehook/internal/egress"
	"github.com/voicehook/voicehook/internal/phone/sim"
	"github.com/voicehook/voicehook/internal/redact"
	"github.com/voicehook/voicehook/internal/server"
)

// serveFlags are the flags of `voicehook serve`. Each can also be set with
// an environment variable, which the flag overrides.
type serveFlags struct {
	addr, db, account, username, password, phones string
	initiateURL, statusURL, config, recordings    string
	quiet, retry                                  bool
	webhookGuard, webhookAllow                    string
	adminAddr                                     string
	sim                                           bool
	webhookSecret                                 string // comma-separated
	sipAddr, sipGateway, rtpPorts, sipExternal    string
	ttsCommand                                    string
	sttURL, sttModel                              string
	maxCalls                                      int
	limits                                        string
	drainTimeout                                  time.Duration
	node, advertiseURL                            string
	lease                                         time.Duration
	keepCalls, keepRecordings                     keep
}

func runServe(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return serve(ctx, args, stdout, stderr, nil)
}

// serve runs the server until ctx ends. ready, if set, receives the server
// once it accepts requests (tests use it).
func serve(ctx context.Context, args []string, stdout, stderr io.Writer, ready func(*server.Server)) int {
	var f serveFlags
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.addr, "addr", env("VOICEHOOK_ADDR", server.DefaultAddr), "listen address (env VOICEHOOK_ADDR)")
	fs.StringVar(&f.db, "db", env("VOICEHOOK_DB", server.DefaultDB), `SQLite file; ":memory:" keeps nothing; or a PostgreSQL URL, postgres://user:password@host:5432/db (env VOICEHOOK_DB)`)
	fs.StringVar(&f.recordings, "recordings", env("VOICEHOOK_RECORDINGS", ""),
		`directory of recordings' audio; default "recordings" beside --db, a temporary one with :memory: (env VOICEHOOK_RECORDINGS)`)
	fs.StringVar(&f.account, "account-id", env("VOICEHOOK_ACCOUNT_ID", server.DefaultAccountID), "the account id (env VOICEHOOK_ACCOUNT_ID)")
	fs.StringVar(&f.username, "username", env("VOICEHOOK_USERNAME", server.DefaultUsername), "Basic auth user of the REST API (env VOICEHOOK_USERNAME)")
	fs.StringVar(&f.password, "password", env("VOICEHOOK_PASSWORD", server.DefaultPassword), "Basic auth password of the REST API (env VOICEHOOK_PASSWORD)")
	fs.StringVar(&f.initiateURL, "initiate-url", env("VOICEHOOK_INITIATE_URL", ""),
		"the dev application's call-initiated URL: inbound calls to +15550001000-1999 send initiate here (env VOICEHOOK_INITIATE_URL)")
	fs.StringVar(&f.statusURL, "status-url", env("VOICEHOOK_STATUS_URL", ""),
		"the dev application's call-status URL: disconnects of inbound calls go here (env VOICEHOOK_STATUS_URL)")
	fs.StringVar(&f.config, "config", env("VOICEHOOK_CONFIG", ""),
		"YAML file of accounts, applications and their numbers, in place of the dev account (env VOICEHOOK_CONFIG)")
	fs.StringVar(&f.phones, "phones", env("VOICEHOOK_PHONES", ""), "YAML scenario file of simulated phones (env VOICEHOOK_PHONES)")
	var badEnv []string // boolean variables that are not booleans
	envBool := func(name string, def bool) bool {
		v := os.Getenv(name)
		if v == "" {
			return def
		}
		b, err := strconv.ParseBool(v)
		if err != nil {
			badEnv = append(badEnv, fmt.Sprintf("%s=%q: want true or false", name, v))
			return def
		}
		return b
	}
	envInt := func(name string) int {
		v := os.Getenv(name)
		if v == "" {
			return 0
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			badEnv = append(badEnv, fmt.Sprintf("%s=%q: want a whole number, 0 or more", name, v))
			return 0
		}
		return n
	}
	fs.IntVar(&f.maxCalls, "max-calls", envInt("VOICEHOOK_MAX_CALLS"),
		"the most calls this node carries at once: a createCall beyond it ends at once with cause node-capacity-exceeded,\nan inbound call gets SIP 503 with Retry-After (env VOICEHOOK_MAX_CALLS; default 0, no limit)")
	fs.StringVar(&f.limits, "limits", env("VOICEHOOK_LIMITS", server.LimitsOff),
		"off, or bandwidth: every account without limits: in the config file gets Bandwidth's, 5 calls per second (the rest\nwait in a queue) and 100 live calls, per node (env VOICEHOOK_LIMITS)")
	// envDuration is the duration in env name, or def; one that is not a
	// duration, or is below min, is an error of the environment.
	envDuration := func(name string, def, min time.Duration, example string) time.Duration {
		v := os.Getenv(name)
		if v == "" {
			return def
		}
		if d, err := time.ParseDuration(v); err == nil && d >= min {
			return d
		}
		badEnv = append(badEnv, fmt.Sprintf("%s=%q: want a duration such as %s", name, v, example))
		return def
	}
	fs.DurationVar(&f.drainTimeout, "drain-timeout", envDuration("VOICEHOOK_DRAIN_TIMEOUT", server.DefaultDrainTimeout, 0, "30s"),
		"on SIGTERM or Ctrl-C, stop taking calls and give the live ones this long to end before ending them, one disconnect each;\na second signal ends them at once (env VOICEHOOK_DRAIN_TIMEOUT)")
	fs.StringVar(&f.node, "node", env("VOICEHOOK_NODE", ""),
		"with a PostgreSQL --db: this node's id among the nodes sharing the database; default the host:port of --advertise-url (env VOICEHOOK_NODE)")
	fs.StringVar(&f.advertiseURL, "advertise-url", env("VOICEHOOK_ADVERTISE_URL", ""),
		"with a PostgreSQL --db: where the other nodes reach this one, to forward it requests for its calls; default http://--addr\n(env VOICEHOOK_ADVERTISE_URL; the nodes' shared secret in env VOICEHOOK_CLUSTER_SECRET)")
	fs.DurationVar(&f.lease, "node-lease", envDuration("VOICEHOOK_NODE_LEASE", server.DefaultLease, time.Nanosecond, "10s"),
		"with a PostgreSQL --db: a node that has not renewed its lease for this long is taken for dead, and another node\nends its calls, one disconnect each (env VOICEHOOK_NODE_LEASE)")
	f.keepCalls, f.keepRecordings = keep(server.DefaultKeepCalls), keep(server.DefaultKeepRecordings)
	for _, k := range []struct {
		v    *keep
		name string
	}{{&f.keepCalls, "VOICEHOOK_KEEP_CALLS"}, {&f.keepRecordings, "VOICEHOOK_KEEP_RECORDINGS"}} {
		if v := os.Getenv(k.name); v != "" {
			if err := k.v.Set(v); err != nil {
				badEnv = append(badEnv, fmt.Sprintf("%s=%v", k.name, err))
			}
		}
	}
	fs.Var(&f.keepCalls, "keep-calls",
		"how long a call's record and history are kept after it ends, and a conference's after it completes (GET then answers 404):\na `duration` such as 168h, days such as 7d, or 0 to keep them forever; live calls are never removed (env VOICEHOOK_KEEP_CALLS)")
	fs.Var(&f.keepRecordings, "keep-recordings",
		"how long a recording, its transcription and its audio file are kept after it started, even once its call is gone:\na `duration`, days such as 30d, or 0 to keep them forever (env VOICEHOOK_KEEP_RECORDINGS)")
	fs.BoolVar(&f.retry, "retry-webhooks", envBool("VOICEHOOK_RETRY_WEBHOOKS", false),
		"retry failed asynchronous webhooks (disconnect, dtmf, …) with backoff for up to a day, instead of\nBandwidth's single retry on a connection error (env VOICEHOOK_RETRY_WEBHOOKS=true)")
	fs.StringVar(&f.webhookGuard, "webhook-guard", env("VOICEHOOK_WEBHOOK_GUARD", server.GuardAuto),
		"auto, on or off: refuse webhooks, audio fetches and replays to loopback, private, link-local and other\nspecial-purpose addresses; auto is on when --addr is beyond loopback (env VOICEHOOK_WEBHOOK_GUARD)")
	fs.StringVar(&f.webhookAllow, "webhook-allow", env("VOICEHOOK_WEBHOOK_ALLOW", ""),
		"CIDR prefixes, comma-separated, that the webhook guard lets through, e.g. 10.1.0.0/16,fd00::/8\n(env VOICEHOOK_WEBHOOK_ALLOW)")
	fs.StringVar(&f.adminAddr, "admin-addr", env("VOICEHOOK_ADMIN_ADDR", ""),
		"serve Prometheus /metrics and Go profiles /debug/pprof/ on this second address; off by default.\nOpen on loopback, an account's Basic credentials beyond it (env VOICEHOOK_ADMIN_ADDR)")
	fs.BoolVar(&f.quiet, "q", false, "log only problems (and every call that ended with a cause but hangup), not every call event and webhook")
	fs.BoolVar(&f.sim, "sim", envBool("VOICEHOOK_SIM", true),
		"the simulator: simulated phones and /sim/v1; --sim=false turns it off for a server that carries real calls only (env VOICEHOOK_SIM=false)")
	fs.StringVar(&f.webhookSecret, "webhook-secret", env("VOICEHOOK_WEBHOOK_SECRET", ""),
		"sign the dev application's webhooks (Standard Webhooks): whsec_ and base64; two, comma-separated, while rotating (env VOICEHOOK_WEBHOOK_SECRET)")
	fs.StringVar(&f.sipAddr, "sip-addr", env("VOICEHOOK_SIP_ADDR", ""),
		"carry real calls: listen for SIP on HOST:PORT, UDP and TCP, e.g. 127.0.0.1:5060 (env VOICEHOOK_SIP_ADDR; default off)")
	fs.StringVar(&f.sipGateway, "sip-gateway", env("VOICEHOOK_SIP_GATEWAY", ""),
		"send calls to numbers that are not simulated phones to this SIP trunk, sip:HOST:PORT; several, comma-separated, are tried in order on a 503 (env VOICEHOOK_SIP_GATEWAY)")
	fs.StringVar(&f.rtpPorts, "rtp-ports", env("VOICEHOOK_RTP_PORTS", ""),
		"RTP port range of real calls, FIRST-LAST (env VOICEHOOK_RTP_PORTS; default 20000-20999)")
	fs.StringVar(&f.sipExternal, "sip-external-host", env("VOICEHOOK_SIP_EXTERNAL_HOST", ""),
		"the address a SIP peer reaches voicehook at, put in Contact and SDP, when behind NAT (env VOICEHOOK_SIP_EXTERNAL_HOST)")
	fs.StringVar(&f.ttsCommand, "tts-command", env("VOICEHOOK_TTS_COMMAND", ""),
		"text-to-speech program for real calls instead of espeak-ng: it reads SSML on stdin and writes a WAV to stdout (env VOICEHOOK_TTS_COMMAND)")
	fs.StringVar(&f.sttURL, "stt-url", env("VOICEHOOK_STT_URL", ""),
		"recognize real calls' speech with an OpenAI-compatible /v1/audio/transcriptions service at this base URL (a local Whisper server, a hosted provider) instead of pocketsphinx; its key, if any, in env VOICEHOOK_STT_KEY (env VOICEHOOK_STT_URL)")
	fs.StringVar(&f.sttModel, "stt-model", env("VOICEHOOK_STT_MODEL", ""),
		"the model --stt-url runs (env VOICEHOOK_STT_MODEL; default whisper-1)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: voicehook serve [flags]\n\nRuns the engine: the Bandwidth-compatible REST API under /api/v2, simulated phones\nand their control API under /sim/v1, and webhooks to your app.\n\nFlags:")
		hideSecretDefaults(fs)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	for _, e := range badEnv {
		fmt.Fprintf(stderr, "voicehook serve: %s\n", e)
	}
	if f.maxCalls < 0 {
		fmt.Fprintf(stderr, "voicehook serve: --max-calls %d: want 0 (no limit) or more\n", f.maxCalls)
		return 2
	}
	if len(badEnv) > 0 {
		return 2
	}
	if f.limits != server.LimitsOff && f.limits != server.LimitsBandwidth {
		fmt.Fprintf(stderr, "voicehook serve: --limits %q: want off or bandwidth\n", f.limits)
		return 2
	}
	switch f.webhookGuard {
	case server.GuardAuto, server.GuardOn, server.GuardOff:
	default:
		fmt.Fprintf(stderr, "voicehook serve: --webhook-guard %q: want auto, on or off\n", f.webhookGuard)
		return 2
	}
	webhookAllow, err := egress.ParseAllow(f.webhookAllow)
	if err != nil {
		fmt.Fprintf(stderr, "voicehook serve: --webhook-allow: %v\n", err)
		return 2
	}
	level := slog.LevelInfo
	if f.quiet {
		level = slog.LevelWarn
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	var scenario sim.Scenario
	if f.phones != "" {
		file, err := os.Open(f.phones)
		if err != nil {
			fmt.Fprintf(stderr, "voicehook serve: %v\n", err)
			return 1
		}
		loaded, err := sim.LoadScenario(file)
		file.Close()
		if err != nil {
			fmt.Fprintf(stderr, "voicehook serve: %s: %v\n", f.phones, err)
			return 1
		}
		scenario = *loaded
	}
	var accounts *config.Directory
	if f.config != "" {
		set := map[string]bool{}
		fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
		for _, name := range []string{"account-id", "username", "password", "initiate-url", "status-url", "webhook-secret"} {
			if set[name] {
				fmt.Fprintf(stderr, "voicehook serve: --%s belongs to the dev account; with --config, set it in the file\n", name)
				return 2
			}
		}
		file, err := os.Open(f.config)
		if err != nil {
			fmt.Fprintf(stderr, "voicehook serve: %v\n", err)
			return 1
		}
		accounts, err = config.Load(file)
		file.Close()
		if err != nil {
			fmt.Fprintf(stderr, "voicehook serve: %s: %v\n", f.config, err)
			return 1
		}
	}
	sipCfg, err := sipConfig(f, accounts)
	if err != nil {
		fmt.Fprintf(stderr, "voicehook serve: %v\n", err)
		return 2
	}
	srv, err := server.Start(ctx, server.Config{SIP: sipCfg, TTSCommand: strings.Fields(f.ttsCommand),
		STT: server.STT{URL: f.sttURL, Key: os.Getenv("VOICEHOOK_STT_KEY"), Model: f.sttModel}, MaxCalls: f.maxCalls, Limits: f.limits, Addr: f.addr, DB: f.db, RecordingsDir: f.recordings, AccountID: f.account, Accounts: accounts, Version: version,
		Username: f.username, Password: f.password, Phones: scenario.Phones, Calls: scenario.Calls, RetryWebhooks: f.retry,
		InitiateURL: f.initiateURL, StatusURL: f.statusURL, Logger: logger,
		WebhookGuard: f.webhookGuard, WebhookAllow: webhookAllow, AdminAddr: f.adminAddr, DisableSim: !f.sim,
		WebhookSecrets: secrets(f.webhookSecret),
		Node:           f.node, AdvertiseURL: f.advertiseURL, Lease: f.lease, ClusterSecret: os.Getenv("VOICEHOOK_CLUSTER_SECRET"),
		KeepCalls: f.keepCalls.config(), KeepRecordings: f.keepRecordings.config()})
	if le := (*server.ListenError)(nil); errors.As(err, &le) && errors.Is(err, syscall.EADDRINUSE) {
		env := "VOICEHOOK_" + strings.ToUpper(strings.ReplaceAll(le.Flag, "-", "_"))
		fmt.Fprintf(stderr, "voicehook serve: the address %s is in use: stop what listens there, or listen elsewhere with --%s or %s (e.g. --%s 127.0.0.1:0 picks a free port)\n",
			le.Addr, le.Flag, env, le.Flag)
		return 1
	}
	if err != nil {
		fmt.Fprintf(stderr, "voicehook serve: %v\n", err)
		return 1
	}
	printBanner(stdout, srv)
	if ready != nil {
		ready(srv)
	}
	select {
	case <-ctx.Done():
	case <-srv.Lost():
		fmt.Fprintf(stderr, "voicehook serve: node %s lost its lease (it was stopped or cut off from the database for longer than --node-lease %v): another node has ended its calls; exiting\n",
			srv.Node(), f.lease)
		shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Close(shutdown)
		return 1
	}
	if n := srv.Live(); n > 0 && f.drainTimeout > 0 {
		fmt.Fprintf(stderr, "voicehook serve: draining: %d calls live, taking no new ones; they have %v to end (a second signal ends them now)\n", n, f.drainTimeout)
	}
	again, stopAgain := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	drainCtx, cancelDrain := context.WithTimeout(again, f.drainTimeout)
	if ended := srv.Drain(drainCtx); ended > 0 {
		fmt.Fprintf(stderr, "voicehook serve: ended %d calls still live\n", ended)
	}
	cancelDrain()
	stopAgain()
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Close(shutdown); err != nil {
		fmt.Fprintf(stderr, "voicehook serve: shutdown: %v\n", err)
		return 1
	}
	return 0
}

// sipConfig is the config file's sip: section with the flags over it.
func sipConfig(f serveFlags, accounts *config.Directory) (config.SIP, error) {
	var s config.SIP
	if accounts != nil {
		s = accounts.SIP
	}
	if f.sipAddr != "" {
		s.Addr = f.sipAddr
	}
	if f.sipExternal != "" {
		s.ExternalHost = f.sipExternal
	}
	if f.rtpPorts != "" {
		ports, err := config.ParsePorts(f.rtpPorts)
		if err != nil {
			return s, fmt.Errorf("--rtp-ports: %w", err)
		}
		s.RTPPorts = ports
	}
	if f.sipGateway != "" {
		// The flag's gateways replace the file's; one the file also
		// lists keeps the file's credentials.
		fromFile := s.Gateways
		s.Gateways = nil
		for _, uri := range strings.Split(f.sipGateway, ",") {
			g, err := config.ParseGateway(uri)
			if err != nil {
				return s, fmt.Errorf("--sip-gateway: %w", err)
			}
			for _, fg := range fromFile {
				if strings.EqualFold(fg.URI, g.URI) {
					g.Username, g.Password = fg.Username, fg.Password
				}
			}
			s.Gateways = append(s.Gateways, g)
		}
	}
	if s.Addr == "" {
		var set []string
		if len(s.Gateways) > 0 {
			set = append(set, "gateways (--sip-gateway or the config file's sip: gateways)")
		}
		if s.RTPPorts != [2]int{} {
			set = append(set, "RTP ports (--rtp-ports or sip: rtpPorts)")
		}
		if s.ExternalHost != "" {
			set = append(set, "an external host (--sip-external-host or sip: externalHost)")
		}
		if len(set) > 0 {
			return s, fmt.Errorf("SIP is off, yet %s are set: turn SIP on with --sip-addr (or sip: addr in the config file)", strings.Join(set, ", "))
		}
	}
	return s, nil
}

// secrets splits a comma-separated list of webhook secrets.
func secrets(list string) []string {
	var out []string
	for _, s := range strings.Split(list, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func printBanner(w io.Writer, srv *server.Server) {
	cfg := srv.Config()
	fmt.Fprintf(w, "voicehook %s listening\n\n", version)
	fmt.Fprintf(w, "  console    %s/   (open it in a browser)\n", srv.URL())
	fmt.Fprintf(w, "  REST API   %s/api/v2   (Bandwidth SDK base path)\n", srv.URL())
	fmt.Fprintf(w, "  database   %s\n", redact.URL(cfg.DB)) // a PostgreSQL URL may hold a password
	fmt.Fprintf(w, "  recordings %s\n", cfg.RecordingsDir)
	fmt.Fprintf(w, "  retention  calls %s after they end, recordings %s (--keep-calls, --keep-recordings)\n",
		formatKeep(cfg.KeepCalls), formatKeep(cfg.KeepRecordings))
	if node := srv.Node(); node != "" {
		fmt.Fprintf(w, "  node       %s, reached by the other nodes at %s\n", node, cfg.AdvertiseURL)
	}
	if cfg.WebhookGuard == server.GuardOn {
		fmt.Fprintf(w, "  guard      on: no webhooks to loopback, private or link-local addresses; allowed: %s\n", egress.String(cfg.WebhookAllow))
	} else {
		fmt.Fprintf(w, "  guard      off: webhooks may go to any address\n")
	}
	if limits := cfg.Accounts.LimitsByAccount(); len(limits) > 0 {
		fmt.Fprintf(w, "  limits     %s\n", describeLimits(limits))
	}
	if u := srv.AdminURL(); u != "" {
		fmt.Fprintf(w, "  metrics    %s/metrics   profiles %s/debug/pprof/\n", u, u)
	}
	if addr := srv.SIPAddr(); addr != "" {
		ports := cfg.SIP.RTPPorts
		if ports == [2]int{} {
			ports = [2]int{20000, 20999}
		}
		fmt.Fprintf(w, "  SIP        %s (UDP and TCP), RTP ports %d-%d\n", addr, ports[0], ports[1])
		if len(cfg.SIP.Gateways) == 0 {
			fmt.Fprintf(w, "  gateway    none: calls to numbers are simulated; a `to` that is a SIP URI is dialled\n")
		}
		for i, g := range cfg.SIP.Gateways {
			what := "calls to numbers that are not simulated phones go here"
			if i > 0 {
				what = "tried next on a 503"
			}
			fmt.Fprintf(w, "  gateway    %s: %s\n", g.URI, what)
		}
		if _, app, ok := cfg.Accounts.Answering(config.DevNumbersFrom); ok && app.InitiateURL != "" {
			fmt.Fprintf(w, "  softphone  dial sip:%s@%s to call the dev application, e.g. baresip -e '/dial sip:%s@%s'\n",
				config.DevNumbersFrom, addr, config.DevNumbersFrom, addr)
		} else {
			fmt.Fprintf(w, "  softphone  dial sip:NUMBER@%s, NUMBER one an application answers (with --initiate-url, +15550001000)\n", addr)
		}
		for _, u := range cfg.SIP.Users {
			password := u.Password
			if !server.IsDefaultSIPPassword(password) {
				password = "****"
			}
			fmt.Fprintf(w, "  softphone  register as %s / %s at sip:%s (number %s)\n", u.Username, password, addr, u.Number)
		}
	}
	for _, a := range cfg.Accounts.Accounts {
		fmt.Fprintf(w, "  account    %s\n", a.ID)
		fmt.Fprintf(w, "  user       %s / %s\n", a.Username, maskedPassword(a.Password))
		for _, app := range a.Applications {
			var numbers []string
			for _, r := range app.Numbers {
				numbers = append(numbers, r.String())
			}
			signed := ""
			if n := len(app.SigningKeys); n > 0 {
				signed = fmt.Sprintf(", webhooks signed (%d secrets)", n)
			}
			fmt.Fprintf(w, "  app        %s (%s) answers %s: initiate → %s, disconnect → %s%s\n",
				app.ID, app.Name, strings.Join(numbers, ", "), orNone(redact.URL(app.InitiateURL)), orNone(redact.URL(app.StatusURL)), signed)
		}
	}
	if srv.Network() == nil {
		fmt.Fprintf(w, "\nThe simulator is off (--sim=false): no simulated phones, no /sim/v1; with no SIP gateway\n"+
			"configured, calls placed end at once with cause error.\n\n")
		return
	}
	if srv.SIPAddr() != "" && len(cfg.SIP.Gateways) > 0 {
		fmt.Fprintf(w, "\nSimulated phones (any other number goes to the SIP gateway):\n")
	} else {
		fmt.Fprintf(w, "\nSimulated phones (any other number rings 1 s, answers and stays):\n")
	}
	for _, n := range srv.Network().Numbers() {
		fmt.Fprintf(w, "  %-14s %s\n", n[0], n[1])
	}
	if len(cfg.Calls) > 0 {
		fmt.Fprintf(w, "\nScheduled inbound calls:\n")
		for _, c := range cfg.Calls {
			when := fmt.Sprintf("once, after %v", c.After)
			switch {
			case c.Every > 0 && c.Count == 0:
				when = fmt.Sprintf("after %v, then every %v", c.After, c.Every)
			case c.Every > 0:
				when = fmt.Sprintf("%d calls: after %v, then every %v", c.Count, c.After, c.Every)
			}
			fmt.Fprintf(w, "  %s → %s  %s\n", c.From, c.To, when)
		}
	}
	first := cfg.Accounts.Accounts[0]
	if account, app, ok := cfg.Accounts.Answering(config.DevNumbersFrom); ok && app.InitiateURL != "" {
		auth := "" // /sim/v1 is open on loopback
		if cfg.BeyondLoopback() {
			auth = fmt.Sprintf("-u %s:%s ", account.Username, maskedPassword(account.Password))
		}
		fmt.Fprintf(w, "\nRing the dev application from a simulated phone:\n"+
			"  curl %s-H 'Content-Type: application/json' %s/sim/v1/inbound -d '{\"from\":\"+15557770000\",\"to\":\"%s\"}'\n",
			auth, srv.URL(), config.DevNumbersFrom)
	}
	fmt.Fprintf(w, "\nPlace a call (the demo app at /demo/answer speaks and hangs up):\n"+
		"  curl -u %s:%s -H 'Content-Type: application/json' %s/api/v2/accounts/%s/calls \\\n"+
		"    -d '{\"from\":\"+15551234567\",\"to\":\"+15550000000\",\"applicationId\":\"%s\",\"answerUrl\":\"%s/demo/answer\",\"disconnectUrl\":\"%s/demo/disconnect\"}'\n\n",
		first.Username, maskedPassword(first.Password), srv.URL(), first.ID, applicationID(first), srv.URL(), srv.URL())
}

// applicationID is an applicationId createCall accepts for the account.
func applicationID(a *config.Account) string {
	if len(a.Applications) > 0 {
		return a.Applications[0].ID
	}
	return "04e88489-df02-4e34-a0ee-27a91849555f"
}

func maskedPassword(p string) string {
	if p == server.DefaultPassword {
		return p
	}
	return redact.Mask
}

// hideSecretDefaults masks, in the flags' help, the defaults that came from
// the environment and hold a secret: the password, and URLs' passwords.
func hideSecretDefaults(fs *flag.FlagSet) {
	fs.VisitAll(func(fl *flag.Flag) {
		switch {
		case fl.Name == "password" && fl.DefValue != server.DefaultPassword:
			fl.DefValue = redact.Mask
		case strings.HasSuffix(fl.Name, "-url"):
			fl.DefValue = redact.URL(fl.DefValue)
		}
	})
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
