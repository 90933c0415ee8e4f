// Package config is voicehook's directory of accounts, their credentials,
// their applications and the numbers each application answers: what
// `voicehook serve --config FILE` reads, or the dev account it builds
// without one.
//
// A config file, YAML (every key optional but where marked required):
//
//	accounts:
//	  - id: "9900000"                  # required: the account id in REST paths
//	    username: dev                  # required: Basic auth of the REST API
//	    password: dev                  # required
//	    clientId: my-client            # OAuth2 client credentials (both or neither): POST /api/v1/oauth2/token
//	    clientSecret: s3cret           # trades them for a bearer token; clientId unique across accounts
//	    applications:
//	      - id: 7d0f6c9e-3b2a-4c1d-9e8f-5a6b7c8d9e0f   # required: a UUID
//	        name: IVR                                 # for people
//	        callInitiatedCallbackUrl: https://app.example.com/initiate  # initiate goes here
//	        callInitiatedMethod: POST                 # POST (default) or GET
//	        callInitiatedFallbackUrl: https://backup.example.com/initiate
//	        callInitiatedFallbackMethod: POST
//	        callbackCreds: {userId: u, password: p}   # Basic auth of the webhooks
//	        callInitiatedFallbackCreds: {userId: u, password: p}
//	        callStatusCallbackUrl: https://app.example.com/status  # disconnects go here
//	        callStatusMethod: POST
//	        callbackTimeout: 15                       # seconds, 1 to 25 (default 15)
//	        webhookSecrets: [whsec_…, whsec_…]        # sign its webhooks (Standard Webhooks); two while rotating
//	        numbers: ["+15551230000", "+15551230100-+15551230199"]  # numbers or ranges
//	    limits:                        # absent: no limits (serve --limits bandwidth gives 5 and 100)
//	      callsPerSecond: 5            # calls that start in any one second, 1 to 1000; 0 = no rate limit
//	      concurrentCalls: 100         # live calls at once; 0 = no limit
//	sip:                               # real calls (see also serve --sip-addr, --sip-gateway, --rtp-ports)
//	  addr: 0.0.0.0:5060               # where SIP listens, UDP and TCP
//	  externalHost: 203.0.113.7        # the address put in Contact and SDP, behind NAT
//	  rtpPorts: 20000-20999            # RTP ports, a range
//	  gateways:                        # outbound calls go to the first; a 503 moves to the next
//	    - uri: sip:trunk.example.com:5060
//	      username: u                  # digest authentication, if the trunk asks
//	      password: p
//	  users:                           # softphones that REGISTER (digest authentication)
//	    - username: alice              # required, unique
//	      password: s3cret             # required
//	      number: "+15557770001"       # required, E.164, unique: calls to it ring the softphone
//	      gateway: true                # may call numbers no application answers, through the gateways
//
// A Directory is safe for concurrent use; it does not change once built.
package config

import (
	"bytes"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"
	"go.yaml.in/yaml/v3"

	"github.com/voicehook/voicehook/callback"
	"github.com/voicehook/voicehook/internal/redact"
)

// Directory holds the accounts, and the sip: section of a config file.
type Directory struct {
	Accounts []*Account
	SIP      SIP
}

// SIP is how voicehook carries real calls: the sip: section of a config
// file, which serve's flags override.
type SIP struct {
	// Addr is where SIP listens (host:port, UDP and TCP); "" is off.
	Addr string
	// ExternalHost is the address put in Contact and SDP when voicehook is
	// reached through NAT; "" uses Addr's.
	ExternalHost string
	// RTPPorts is the range of RTP ports, first and last; zero is the
	// default range.
	RTPPorts [2]int
	// Gateways take outbound calls: the first, then the next on a 503.
	Gateways []Gateway
	// Users are the softphones that may REGISTER; a call to a user's
	// Number rings the softphone while it is registered.
	Users []User
}

// User is a softphone account: it registers with Username and Password
// (digest authentication) and is called at Number (E.164).
type User struct {
	Username, Password, Number string
	// Gateway lets the softphone call numbers no application answers,
	// through the gateways (authenticating its INVITE).
	Gateway bool
}

// Gateway is a SIP trunk that takes outbound calls.
type Gateway struct {
	// URI is sip:HOST[:PORT][;transport=tcp].
	URI                string
	Username, Password string
}

// ParseGateway checks a gateway's URI.
func ParseGateway(uri string) (Gateway, error) {
	u := strings.TrimSpace(uri)
	rest, ok := strings.CutPrefix(strings.ToLower(u), "sip:")
	if !ok || rest == "" || strings.ContainsAny(rest, " <>\"") {
		return Gateway{}, fmt.Errorf("gateway %q: want sip:HOST[:PORT], such as sip:trunk.example.com:5060", uri)
	}
	if at := strings.IndexByte(rest, '@'); at >= 0 {
		return Gateway{}, fmt.Errorf("gateway %q: give the trunk's host, without a user part (credentials go in username and password)", uri)
	}
	return Gateway{URI: u}, nil
}

// ParsePorts reads an RTP port range "FIRST-LAST".
func ParsePorts(s string) ([2]int, error) {
	a, b, ok := strings.Cut(strings.TrimSpace(s), "-")
	var lo, hi int
	if ok {
		_, err1 := fmt.Sscanf(a, "%d", &lo)
		_, err2 := fmt.Sscanf(b, "%d", &hi)
		ok = err1 == nil && err2 == nil
	}
	switch {
	case !ok:
		return [2]int{}, fmt.Errorf("RTP ports %q: want a range FIRST-LAST, such as 20000-20999", s)
	case lo < 1024 || hi > 65535 || lo > hi:
		return [2]int{}, fmt.Errorf("RTP ports %q: want 1024 <= FIRST <= LAST <= 65535", s)
	case hi-lo < 1:
		return [2]int{}, fmt.Errorf("RTP ports %q: want at least two ports (RTP and RTCP)", s)
	}
	return [2]int{lo, hi}, nil
}

// Account is an account with its Basic credentials and applications.
type Account struct {
	ID       string
	Username string
	Password string
	// ClientID and ClientSecret are the account's OAuth2 client
	// credentials, which POST /api/v1/oauth2/token trades for a bearer
	// token; both empty when the account has none.
	ClientID, ClientSecret string
	// AnyApplication accepts any UUID as an applicationId in createCall,
	// as the dev account does; otherwise it must be one of Applications.
	AnyApplication bool
	Applications   []*Application
	// Limits are the account's call limits; nil when the config gives
	// none (then DefaultLimits may give some).
	Limits *Limits
}

// Application is a voice application.
type Application struct {
	ID, Name string
	// InitiateURL gets the initiate webhook of inbound calls; the rest of
	// these fields are its method, fallback and credentials.
	InitiateURL, InitiateMethod                 string
	InitiateFallbackURL, InitiateFallbackMethod string
	Username, Password                          string
	FallbackUsername, FallbackPassword          string
	// StatusURL gets the disconnect of inbound calls.
	StatusURL, StatusMethod string
	CallbackTimeout         time.Duration
	// SigningKeys, when set, sign every webhook of the application the
	// Standard Webhooks way, with each key: the decoded whsec_ secrets of
	// webhookSecrets, in order.
	SigningKeys [][]byte
	// Numbers are the numbers it answers, as ranges (one number is a range
	// of one).
	Numbers []Range
}

// Range is a range of E.164 numbers of the same length, inclusive.
type Range struct{ From, To string }

// Contains reports whether number is in the range.
func (r Range) Contains(number string) bool {
	return len(number) == len(r.From) && number >= r.From && number <= r.To
}

func (r Range) String() string {
	if r.From == r.To {
		return r.From
	}
	return r.From + "-" + r.To
}

// Dev is the directory without a config file: one account with the given
// credentials (its Basic username and password are its OAuth2 client id
// and secret too), accepting any applicationId, and a dev application that
// answers +15550001000 to +15550001999 with the given URLs.
func Dev(accountID, username, password, initiateURL, statusURL string) *Directory {
	return &Directory{Accounts: []*Account{{
		ID: accountID, Username: username, Password: password, AnyApplication: true,
		ClientID: username, ClientSecret: password,
		Applications: []*Application{{
			ID: DevApplicationID, Name: "dev", InitiateURL: initiateURL, InitiateMethod: "POST",
			StatusURL: statusURL, StatusMethod: "POST", CallbackTimeout: 15 * time.Second,
			Numbers: []Range{{DevNumbersFrom, DevNumbersTo}},
		}},
	}}}
}

// The dev application of Dev.
const (
	DevApplicationID = "7d0f6c9e-3b2a-4c1d-9e8f-5a6b7c8d9e0f"
	DevNumbersFrom   = "+15550001000"
	DevNumbersTo     = "+15550001999"
)

// Authenticate returns the account whose credentials these are.
func (d *Directory) Authenticate(username, password string) (*Account, bool) {
	return d.match(username, password, func(a *Account) (string, string, bool) { return a.Username, a.Password, true })
}

// match returns the account whose credentials, as creds gives them, are
// user and secret (an account for which creds says false has none). It
// compares every account's, in constant time, to leak nothing.
func (d *Directory) match(user, secret string, creds func(*Account) (u, s string, ok bool)) (*Account, bool) {
	var found *Account
	for _, a := range d.Accounts {
		u, s, ok := creds(a)
		if !ok {
			continue
		}
		eqU := subtle.ConstantTimeCompare([]byte(user), []byte(u))
		eqS := subtle.ConstantTimeCompare([]byte(secret), []byte(s))
		if eqU&eqS == 1 && found == nil {
			found = a
		}
	}
	return found, found != nil
}

// Application returns an account's application by id.
func (a *Account) Application(id string) (*Application, bool) {
	for _, app := range a.Applications {
		if app.ID == id {
			return app, true
		}
	}
	return nil, false
}

// Answering returns the account and application that answer a number.
func (d *Directory) Answering(number string) (*Account, *Application, bool) {
	for _, a := range d.Accounts {
		for _, app := range a.Applications {
			for _, r := range app.Numbers {
				if r.Contains(number) {
					return a, app, true
				}
			}
		}
	}
	return nil, nil, false
}

// file is the YAML form.
type file struct {
	Accounts []struct {
		ID           string    `yaml:"id"`
		Username     string    `yaml:"username"`
		Password     string    `yaml:"password"`
		ClientID     string    `yaml:"clientId"`
		ClientSecret string    `yaml:"clientSecret"`
		Applications []appYAML `yaml:"applications"`
		Limits       yaml.Node `yaml:"limits"`
	} `yaml:"accounts"`
	SIP *struct {
		Addr         string `yaml:"addr"`
		ExternalHost string `yaml:"externalHost"`
		RTPPorts     string `yaml:"rtpPorts"`
		Gateways     []struct {
			URI      string `yaml:"uri"`
			Username string `yaml:"username"`
			Password string `yaml:"password"`
		} `yaml:"gateways"`
		Users []struct {
			Username string `yaml:"username"`
			Password string `yaml:"password"`
			Number   string `yaml:"number"`
			Gateway  bool   `yaml:"gateway"`
		} `yaml:"users"`
	} `yaml:"sip"`
}

type creds struct {
	UserID   string `yaml:"userId"`
	Password string `yaml:"password"`
}

type appYAML struct {
	ID                          string   `yaml:"id"`
	Name                        string   `yaml:"name"`
	CallInitiatedCallbackURL    string   `yaml:"callInitiatedCallbackUrl"`
	CallInitiatedMethod         string   `yaml:"callInitiatedMethod"`
	CallInitiatedFallbackURL    string   `yaml:"callInitiatedFallbackUrl"`
	CallInitiatedFallbackMethod string   `yaml:"callInitiatedFallbackMethod"`
	CallbackCreds               creds    `yaml:"callbackCreds"`
	CallInitiatedFallbackCreds  creds    `yaml:"callInitiatedFallbackCreds"`
	CallStatusCallbackURL       string   `yaml:"callStatusCallbackUrl"`
	CallStatusMethod            string   `yaml:"callStatusMethod"`
	CallbackTimeout             *float64 `yaml:"callbackTimeout"`
	WebhookSecrets              []string `yaml:"webhookSecrets"`
	Numbers                     []string `yaml:"numbers"`
}

// Load reads a config file. Every problem is an error naming the account,
// application or number and the key.
func Load(r io.Reader) (*Directory, error) {
	data, err := io.ReadAll(io.LimitReader(r, 4<<20))
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var f file
	if err := dec.Decode(&f); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("config: the file is empty; want an accounts: list")
		}
		return nil, fmt.Errorf("config: %w", err)
	}
	if len(f.Accounts) == 0 {
		return nil, errors.New("config: no accounts")
	}
	d := &Directory{}
	seenAccount, seenUser := map[string]bool{}, map[string]bool{}
	for i, fa := range f.Accounts {
		where := fmt.Sprintf("account %d", i+1)
		switch {
		case fa.ID == "":
			return nil, fmt.Errorf("config: %s: id is required", where)
		case fa.Username == "" || fa.Password == "":
			return nil, fmt.Errorf("config: account %s: username and password are required", fa.ID)
		case seenAccount[fa.ID]:
			return nil, fmt.Errorf("config: account %s is declared twice", fa.ID)
		case seenUser[fa.Username]:
			return nil, fmt.Errorf("config: account %s: username %q is another account's", fa.ID, fa.Username)
		}
		seenAccount[fa.ID], seenUser[fa.Username] = true, true
		a := &Account{ID: fa.ID, Username: fa.Username, Password: fa.Password, ClientID: fa.ClientID, ClientSecret: fa.ClientSecret}
		if fa.Limits.Kind != 0 {
			if a.Limits, err = parseLimits(fa.ID, &fa.Limits); err != nil {
				return nil, err
			}
		}
		for _, fapp := range fa.Applications {
			app, err := loadApp(fa.ID, fapp)
			if err != nil {
				return nil, err
			}
			if _, dup := a.Application(app.ID); dup {
				return nil, fmt.Errorf("config: account %s: application %s is declared twice", fa.ID, app.ID)
			}
			a.Applications = append(a.Applications, app)
		}
		d.Accounts = append(d.Accounts, a)
	}
	if err := d.checkNumbers(); err != nil {
		return nil, err
	}
	if err := d.checkClients(); err != nil {
		return nil, err
	}
	if s := f.SIP; s != nil {
		d.SIP.Addr, d.SIP.ExternalHost = strings.TrimSpace(s.Addr), strings.TrimSpace(s.ExternalHost)
		if s.RTPPorts != "" {
			if d.SIP.RTPPorts, err = ParsePorts(s.RTPPorts); err != nil {
				return nil, fmt.Errorf("config: sip: rtpPorts: %w", err)
			}
		}
		for i, g := range s.Gateways {
			gw, err := ParseGateway(g.URI)
			if err != nil {
				return nil, fmt.Errorf("config: sip: gateway %d: %w", i+1, err)
			}
			gw.Username, gw.Password = g.Username, g.Password
			if (gw.Username == "") != (gw.Password == "") {
				return nil, fmt.Errorf("config: sip: gateway %s: give both username and password, or neither", redact.Text(gw.URI))
			}
			d.SIP.Gateways = append(d.SIP.Gateways, gw)
		}
		seenName, seenNumber := map[string]bool{}, map[string]bool{}
		for i, fu := range s.Users {
			u := User{Username: strings.TrimSpace(fu.Username), Password: fu.Password, Number: strings.TrimSpace(fu.Number), Gateway: fu.Gateway}
			switch {
			case u.Username == "":
				return nil, fmt.Errorf("config: sip: user %d: username is required", i+1)
			case u.Password == "":
				return nil, fmt.Errorf("config: sip: user %s: password is required", u.Username)
			case u.Number == "":
				return nil, fmt.Errorf("config: sip: user %s: number is required", u.Username)
			case seenName[u.Username]:
				return nil, fmt.Errorf("config: sip: user %s is declared twice", u.Username)
			case seenNumber[u.Number]:
				return nil, fmt.Errorf("config: sip: user %s: number %s is another user's", u.Username, u.Number)
			}
			if err := callback.ValidateE164(u.Number); err != nil {
				return nil, fmt.Errorf("config: sip: user %s: number: %w", u.Username, err)
			}
			seenName[u.Username], seenNumber[u.Number] = true, true
			d.SIP.Users = append(d.SIP.Users, u)
		}
	}
	return d, nil
}

func loadApp(account string, f appYAML) (*Application, error) {
	where := fmt.Sprintf("config: account %s: application %s", account, f.ID)
	if _, err := uuid.Parse(f.ID); err != nil || len(f.ID) != 36 {
		return nil, fmt.Errorf("%s: id must be a UUID", where)
	}
	app := &Application{
		ID: f.ID, Name: f.Name,
		InitiateURL: f.CallInitiatedCallbackURL, InitiateMethod: orPOST(f.CallInitiatedMethod),
		InitiateFallbackURL: f.CallInitiatedFallbackURL, InitiateFallbackMethod: orPOST(f.CallInitiatedFallbackMethod),
		Username: f.CallbackCreds.UserID, Password: f.CallbackCreds.Password,
		FallbackUsername: f.CallInitiatedFallbackCreds.UserID, FallbackPassword: f.CallInitiatedFallbackCreds.Password,
		StatusURL: f.CallStatusCallbackURL, StatusMethod: orPOST(f.CallStatusMethod),
		CallbackTimeout: 15 * time.Second,
	}
	for key, u := range map[string]string{"callInitiatedCallbackUrl": app.InitiateURL,
		"callInitiatedFallbackUrl": app.InitiateFallbackURL, "callStatusCallbackUrl": app.StatusURL} {
		if u == "" {
			continue
		}
		if p, err := url.Parse(u); err != nil || p.Host == "" || (p.Scheme != "http" && p.Scheme != "https") {
			return nil, fmt.Errorf("%s: %s %q: want an http or https URL", where, key, redact.URL(u))
		}
	}
	for key, m := range map[string]string{"callInitiatedMethod": app.InitiateMethod,
		"callInitiatedFallbackMethod": app.InitiateFallbackMethod, "callStatusMethod": app.StatusMethod} {
		if m != "POST" && m != "GET" {
			return nil, fmt.Errorf("%s: %s %q: want POST or GET", where, key, m)
		}
	}
	if f.CallbackTimeout != nil {
		if *f.CallbackTimeout < 1 || *f.CallbackTimeout > 25 {
			return nil, fmt.Errorf("%s: callbackTimeout %g: want 1 to 25 seconds", where, *f.CallbackTimeout)
		}
		app.CallbackTimeout = time.Duration(*f.CallbackTimeout * float64(time.Second))
	}
	keys, err := ParseSecrets(f.WebhookSecrets)
	if err != nil {
		return nil, fmt.Errorf("%s: webhookSecrets: %w", where, err)
	}
	app.SigningKeys = keys
	for _, n := range f.Numbers {
		r, err := parseRange(n)
		if err != nil {
			return nil, fmt.Errorf("%s: numbers: %w", where, err)
		}
		app.Numbers = append(app.Numbers, r)
	}
	return app, nil
}

// Limits of a webhook signing key, in bytes, as Standard Webhooks
// recommends.
const (
	MinSecretBytes = 24
	MaxSecretBytes = 64
)

// ParseSecrets decodes webhook signing secrets: each is "whsec_" followed
// by the standard base64 of 24 to 64 random bytes, such as
// `echo "whsec_$(head -c 32 /dev/urandom | base64)"` makes. An error names
// the secret by its position and never shows it.
func ParseSecrets(secrets []string) ([][]byte, error) {
	var keys [][]byte
	for i, s := range secrets {
		s = strings.TrimSpace(s)
		enc, ok := strings.CutPrefix(s, "whsec_")
		if !ok {
			return nil, fmt.Errorf("secret %d does not start with whsec_ (want whsec_ followed by base64)", i+1)
		}
		key, err := base64.StdEncoding.DecodeString(enc)
		if err != nil {
			return nil, fmt.Errorf("secret %d: what follows whsec_ is not standard base64: %v", i+1, err)
		}
		if len(key) < MinSecretBytes || len(key) > MaxSecretBytes {
			return nil, fmt.Errorf("secret %d is %d bytes long; want %d to %d random bytes", i+1, len(key), MinSecretBytes, MaxSecretBytes)
		}
		keys = append(keys, key)
	}
	return keys, nil
}

func orPOST(m string) string {
	if m == "" {
		return "POST"
	}
	return strings.ToUpper(m)
}

// parseRange reads "+15551230000" or "+15551230100-+15551230199".
func parseRange(s string) (Range, error) {
	from, to, isRange := strings.Cut(s, "-")
	if !isRange {
		to = from
	}
	for _, n := range []string{from, to} {
		if err := callback.ValidateE164(n); err != nil {
			return Range{}, fmt.Errorf("%q: %v", s, err)
		}
	}
	if len(from) != len(to) || from > to {
		return Range{}, fmt.Errorf("%q: a range goes from a number to a larger one of the same length", s)
	}
	return Range{from, to}, nil
}

// checkNumbers refuses a number that two applications would answer.
func (d *Directory) checkNumbers() error {
	type owned struct {
		r   Range
		app string
	}
	var all []owned
	for _, a := range d.Accounts {
		for _, app := range a.Applications {
			for _, r := range app.Numbers {
				for _, o := range all {
					if len(o.r.From) == len(r.From) && r.From <= o.r.To && o.r.From <= r.To {
						return fmt.Errorf("config: numbers %s of application %s overlap %s of application %s", r, app.ID, o.r, o.app)
					}
				}
				all = append(all, owned{r, app.ID})
			}
		}
	}
	return nil
}
