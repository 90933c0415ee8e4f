package server

import (
	"context"
	"fmt"
	"net"
	"net/netip"

	"github.com/voicehook/voicehook/internal/config"
	"github.com/voicehook/voicehook/internal/egress"
	"github.com/voicehook/voicehook/internal/engine"
	"github.com/voicehook/voicehook/internal/media"
	"github.com/voicehook/voicehook/internal/pcm"
	sipnet "github.com/voicehook/voicehook/internal/phone/sip"
	"github.com/voicehook/voicehook/internal/tts"
)

// Real calls: with Config.SIP.Addr set, the server carries calls over SIP
// (package internal/phone/sip). Inbound INVITEs to a number an
// application answers become inbound calls; outbound calls go where the
// router (route.go) sends them. Speech comes from espeak-ng, or from the
// program of Config.TTSCommand; PlayAudio files are fetched with the
// server's guarded client; a `to` that is a SIP URI passes the same guard
// as webhooks.

// The softphone users of the dev account: without a config file, and
// with SIP on loopback, a softphone registers as dev / dev and is called
// at +15557770000, and a second one, to take the calls the first is
// transferred to, as agent / agent at +15557770001. A config file's sip:
// users replace them.
const (
	DefaultSIPUsername = "dev"
	DefaultSIPPassword = "dev"
	DefaultSIPNumber   = "+15557770000"

	DefaultSIPAgentUsername = "agent"
	DefaultSIPAgentPassword = "agent"
	DefaultSIPAgentNumber   = "+15557770001"
)

// IsDefaultSIPPassword reports whether password is one of the dev
// account's softphone users': known to all, so the banner shows it, and
// SIP beyond loopback refuses it.
func IsDefaultSIPPassword(password string) bool {
	return password == DefaultSIPPassword || password == DefaultSIPAgentPassword
}

// sipUsers are the softphone users: the config's, or, with SIP on
// loopback, the dev and agent users when the directory is the dev
// account's. A user with a default password (dev, agent) is refused when
// SIP listens beyond loopback.
func sipUsers(cfg Config) ([]config.User, error) {
	host, _, err := net.SplitHostPort(cfg.SIP.Addr)
	if err != nil {
		return nil, fmt.Errorf("address %q: %w", cfg.SIP.Addr, err)
	}
	users := cfg.SIP.Users
	if len(users) == 0 && isLoopback(host) && cfg.Accounts != nil && len(cfg.Accounts.Accounts) == 1 && cfg.Accounts.Accounts[0].AnyApplication {
		users = []config.User{
			{Username: DefaultSIPUsername, Password: DefaultSIPPassword, Number: DefaultSIPNumber},
			{Username: DefaultSIPAgentUsername, Password: DefaultSIPAgentPassword, Number: DefaultSIPAgentNumber},
		}
	}
	if !isLoopback(host) {
		for _, u := range users {
			if IsDefaultSIPPassword(u.Password) {
				return nil, fmt.Errorf("refusing to listen for SIP on %s with the softphone user %s's password %s: give sip: users their own passwords in a config file, or listen on 127.0.0.1", cfg.SIP.Addr, u.Username, u.Password)
			}
		}
	}
	return users, nil
}

// ttsCacheSamples bounds the speech kept for reuse: ten minutes at the
// calls' 8 kHz, some 10 MB.
const ttsCacheSamples = 8000 * 600

// at8k resamples speech to the calls' rate before the cache keeps it, so
// that a prompt said on many calls is resampled once.
type at8k struct{ next tts.Synthesizer }

func (s at8k) Synthesize(ctx context.Context, r tts.Request) (pcm.Clip, error) {
	clip, err := s.next.Synthesize(ctx, r)
	if err != nil || clip.Rate == 8000 {
		return clip, err
	}
	return pcm.Resample(clip, 8000), nil
}

// speech is the text-to-speech of real calls, at their rate and cached:
// --tts-command, or espeak-ng. installed tells whether its program is
// there.
func (s *Server) speech() (synth tts.Synthesizer, installed bool) {
	cmd := tts.Espeak("")
	if len(s.cfg.TTSCommand) > 0 {
		cmd = &tts.Command{Path: s.cfg.TTSCommand[0], Args: s.cfg.TTSCommand[1:]}
	}
	return tts.NewCache(at8k{cmd}, ttsCacheSamples), cmd.Installed()
}

// newSIP builds the SIP network; Start makes it listen.
func (s *Server) newSIP(fetcher *media.Fetcher, speech tts.Synthesizer) (*sipnet.Network, error) {
	cfg := s.cfg
	var gateways []sipnet.Gateway
	for _, g := range cfg.SIP.Gateways {
		gateways = append(gateways, sipnet.Gateway{URI: g.URI, Username: g.Username, Password: g.Password})
	}
	users, err := sipUsers(cfg)
	if err != nil {
		return nil, err
	}
	s.cfg.SIP.Users = users // the banner shows them
	var phones []sipnet.User
	for _, u := range users {
		phones = append(phones, sipnet.User{Username: u.Username, Password: u.Password, Number: u.Number, Gateway: u.Gateway})
	}
	var guard *egress.Guard
	if cfg.WebhookGuard == GuardOn {
		guard = egress.NewGuard(cfg.WebhookAllow)
	}
	return sipnet.New(sipnet.Config{
		Addr: cfg.SIP.Addr, ExternalHost: cfg.SIP.ExternalHost, RTPPorts: cfg.SIP.RTPPorts, Gateways: gateways, Users: phones,
		Answers: func(number string) (engine.Inbound, bool) {
			in, err := s.answerer(number)
			return in, err == nil
		},
		Outgoing:  s.outgoing,
		Calls:     engineCalls{s},
		TTS:       speech,
		Fetch:     fetcher.Open,
		CheckHost: func(ctx context.Context, host string) error { return checkHost(ctx, guard, host) },
		Log:       cfg.Logger.With("net", "sip"),
	})
}

// engineCalls starts inbound SIP calls on the server's engine, which is
// built after the SIP network.
type engineCalls struct{ s *Server }

func (c engineCalls) InboundCall(ctx context.Context, in engine.Inbound) (*engine.Call, error) {
	return c.s.engine.InboundCall(ctx, in)
}

// checkHost applies the address guard to the host of a SIP URI dialled:
// every address it resolves to must pass.
func checkHost(ctx context.Context, guard *egress.Guard, host string) error {
	if guard == nil {
		return nil
	}
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return fmt.Errorf("SIP host %s: %v", host, err)
	}
	for _, a := range addrs {
		if err := guard.Check(netip.AddrPortFrom(a.Unmap(), 5060)); err != nil {
			return err
		}
	}
	return nil
}

// SIPAddr is where SIP listens, "" with SIP off.
func (s *Server) SIPAddr() string {
	if s.sip == nil {
		return ""
	}
	return s.sip.Addr()
}

// sipOn reports whether the configuration turns SIP on.
func sipOn(c config.SIP) bool { return c.Addr != "" }
