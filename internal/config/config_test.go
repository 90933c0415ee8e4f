package config_test

import (
	"strings"
	"testing"
	"time"

	"github.com/voicehook/voicehook/internal/config"
)

const good = `
accounts:
  - id: "9900000"
    username: alice
    password: wonderland
    applications:
      - id: 11111111-2222-4333-8444-555555555555
        name: IVR
        callInitiatedCallbackUrl: https://app.example.com/initiate
        callInitiatedFallbackUrl: https://backup.example.com/initiate
        callbackCreds: {userId: hook, password: secret}
        callStatusCallbackUrl: https://app.example.com/status
        callStatusMethod: get
        callbackTimeout: 7.5
        webhookSecrets: [whsec_dm9pY2Vob29rJ3Mgb2xkIHRlc3Qgc2VjcmV0LCAzMkI=, whsec_dm9pY2Vob29rJ3MgbmV3IHRlc3Qgc2VjcmV0LCAzMkI=]
        numbers: ["+15551230000", "+15551230100-+15551230199"]
  - id: "9900001"
    username: bob
    password: builder
`

func TestLoad(t *testing.T) {
	d, err := config.Load(strings.NewReader(good))
	if err != nil {
		t.Fatal(err)
	}
	a, ok := d.Authenticate("alice", "wonderland")
	if !ok || a.ID != "9900000" || a.AnyApplication {
		t.Fatalf("Authenticate: %+v %v", a, ok)
	}
	if _, ok := d.Authenticate("alice", "builder"); ok {
		t.Error("another account's password authenticated")
	}
	app, ok := a.Application("11111111-2222-4333-8444-555555555555")
	if !ok || app.InitiateMethod != "POST" || app.StatusMethod != "GET" || app.CallbackTimeout != 7500*time.Millisecond ||
		app.Username != "hook" || app.Password != "secret" || app.InitiateFallbackURL != "https://backup.example.com/initiate" {
		t.Errorf("application %+v", app)
	}
	if len(app.SigningKeys) != 2 || string(app.SigningKeys[0]) != "voicehook's old test secret, 32B" ||
		string(app.SigningKeys[1]) != "voicehook's new test secret, 32B" {
		t.Errorf("signing keys %q, want the two secrets decoded, in order", app.SigningKeys)
	}
	for number, want := range map[string]bool{"+15551230000": true, "+15551230150": true, "+15551230199": true,
		"+15551230200": false, "+15551230001": false, "+155512301500": false} {
		_, got, ok := d.Answering(number)
		if ok != want || ok && got.Name != "IVR" {
			t.Errorf("Answering(%s) = %v, want %v", number, ok, want)
		}
	}
}

func TestLoadErrors(t *testing.T) {
	app := func(extra string) string {
		return "accounts:\n  - id: \"1\"\n    username: u\n    password: p\n    applications:\n      - id: 11111111-2222-4333-8444-555555555555\n" + extra
	}
	cases := map[string]string{
		"":                           "the file is empty",
		"accounts: []":               "no accounts",
		"accounts:\n  - username: u": "account 1: id is required",
		"accounts:\n  - id: \"1\"":   "account 1: username and password are required",
		"accounts:\n  - id: \"1\"\n    username: u\n    password: p\n  - id: \"1\"\n    username: v\n    password: p": "account 1 is declared twice",
		"accounts:\n  - id: \"1\"\n    username: u\n    password: p\n  - id: \"2\"\n    username: u\n    password: q": `username "u" is another account's`,
		"accounts:\n  - id: \"1\"\n    username: u\n    password: p\n    colour: red":                                 "field colour not found",
		app("        callStatusCallbackUrl: ftp://x/y\n"):                                                             "callStatusCallbackUrl \"ftp://x/y\": want an http or https URL",
		app("        callInitiatedMethod: PUT\n"):                                                                     `callInitiatedMethod "PUT": want POST or GET`,
		app("        callbackTimeout: 30\n"):                                                                          "callbackTimeout 30: want 1 to 25 seconds",
		app("        webhookSecrets: [dm9pY2Vob29rJ3Mgb2xkIHRlc3Qgc2VjcmV0LCAzMkI=]\n"):                               "application 11111111-2222-4333-8444-555555555555: webhookSecrets: secret 1 does not start with whsec_",
		app("        webhookSecrets: [whsec_dm9pY2Vob29rJ3Mgb2xkIHRlc3Qgc2VjcmV0LCAzMkI=, whsec_not*base64]\n"):       "webhookSecrets: secret 2: what follows whsec_ is not standard base64",
		app("        webhookSecrets: [whsec_c2hvcnQ=]\n"):                                                             "secret 1 is 5 bytes long; want 24 to 64 random bytes",
		app("        numbers: [\"555\"]\n"):                                                                           `numbers: "555"`,
		app("        numbers: [\"+15551230199-+15551230100\"]\n"):                                                     "a range goes from a number to a larger one",
		"accounts:\n  - id: \"1\"\n    username: u\n    password: p\n    applications:\n      - id: app-1":            "id must be a UUID",
		"accounts:\n  - id: \"1\"\n    username: u\n    password: p\n    applications:\n" +
			"      - id: 11111111-2222-4333-8444-555555555555\n        numbers: [\"+15551230000-+15551230099\"]\n" +
			"      - id: 11111111-2222-4333-8444-555555555556\n        numbers: [\"+15551230050\"]": "overlap",
	}
	for in, want := range cases {
		_, err := config.Load(strings.NewReader(in))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Load(%q) = %v, want an error saying %q", in, err, want)
		}
	}
}

func TestDev(t *testing.T) {
	d := config.Dev("9900000", "dev", "dev", "http://127.0.0.1:3000/initiate", "")
	a, ok := d.Authenticate("dev", "dev")
	if !ok || !a.AnyApplication {
		t.Fatalf("dev account: %+v", a)
	}
	if _, app, ok := d.Answering("+15550001500"); !ok || app.ID != config.DevApplicationID || app.InitiateURL != "http://127.0.0.1:3000/initiate" {
		t.Errorf("dev numbers: %+v %v", app, ok)
	}
}

// TestParseSecretsNeverShowsASecret: an error names the secret by its
// position, never by its value.
func TestParseSecretsNeverShowsASecret(t *testing.T) {
	for _, bad := range []string{"topsecret-value", "whsec_topsecret*value", "whsec_dG9wc2VjcmV0dmFsdWU="} {
		_, err := config.ParseSecrets([]string{bad})
		if err == nil || strings.Contains(err.Error(), "topsecret") || strings.Contains(err.Error(), bad[min(6, len(bad)):]) {
			t.Errorf("ParseSecrets(%q) = %v; want an error that does not show it", bad, err)
		}
	}
}

// The sip: section says where SIP listens and which trunks take outbound
// calls; every mistake in it names the key.
func TestLoadSIP(t *testing.T) {
	// The addresses below are only parsed: nothing is dialled.
	d, err := config.Load(strings.NewReader(good + `
sip:
  addr: 0.0.0.0:5060  # a listen address, only parsed
  externalHost: 203.0.113.7
  rtpPorts: 30000-30099
  gateways:
    - uri: sip:trunk-a.example.com:5060
      username: acct
      password: pw
    - uri: sip:trunk-b.example.com;transport=tcp
`))
	if err != nil {
		t.Fatal(err)
	}
	s := d.SIP
	if s.Addr != "0.0.0.0:5060" || s.ExternalHost != "203.0.113.7" || s.RTPPorts != [2]int{30000, 30099} || len(s.Gateways) != 2 || // only parsed or refused by the guard: never dialled
		s.Gateways[0] != (config.Gateway{URI: "sip:trunk-a.example.com:5060", Username: "acct", Password: "pw"}) ||
		s.Gateways[1].URI != "sip:trunk-b.example.com;transport=tcp" {
		t.Errorf("sip: %+v", s)
	}
	for _, c := range []struct{ sip, want string }{
		{"  rtpPorts: 5000\n", "rtpPorts"},
		{"  rtpPorts: 30000-20000\n", "FIRST <= LAST"},
		{"  gateways:\n    - uri: trunk.example.com\n", "want sip:HOST"},
		{"  gateways:\n    - uri: sip:alice@trunk.example.com\n", "without a user part"},
		{"  gateways:\n    - uri: sip:trunk.example.com\n      username: u\n", "both username and password"},
		{"  gatways: []\n", "gatways"},
	} {
		_, err := config.Load(strings.NewReader(good + "sip:\n" + c.sip))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("sip:\n%s: err %v, want it to say %q", c.sip, err, c.want)
		}
	}
}

// The sip: users are the softphones that register: each needs a username,
// a password and an E.164 number, and no two share a username or number.
func TestLoadSIPUsers(t *testing.T) {
	d, err := config.Load(strings.NewReader(good + `
sip:
  users:
    - username: alice
      password: s3cret
      number: "+15557770001"
    - username: bob
      password: hunter2
      number: "+15557770002"
      gateway: true
`))
	if err != nil {
		t.Fatal(err)
	}
	want := []config.User{{"alice", "s3cret", "+15557770001", false}, {"bob", "hunter2", "+15557770002", true}}
	if len(d.SIP.Users) != 2 || d.SIP.Users[0] != want[0] || d.SIP.Users[1] != want[1] {
		t.Errorf("users: %+v, want %+v", d.SIP.Users, want)
	}
	user := func(name, pass, number string) string {
		return "    - {username: " + name + ", password: " + pass + ", number: \"" + number + "\"}\n"
	}
	for _, c := range []struct{ users, want string }{
		{user("", "p", "+15557770001"), "user 1: username is required"},
		{user("alice", "", "+15557770001"), "user alice: password is required"},
		{"    - {username: alice, password: p}\n", "user alice: number is required"},
		{user("alice", "p", "5557770001"), "user alice: number"},
		{user("alice", "p", "+15557770001") + user("alice", "q", "+15557770002"), "user alice is declared twice"},
		{user("alice", "p", "+15557770001") + user("bob", "q", "+15557770001"), "user bob: number +15557770001 is another user's"},
		{"    - {username: alice, password: p, number: \"+15557770001\", extension: 12}\n", "extension"},
	} {
		_, err := config.Load(strings.NewReader(good + "sip:\n  users:\n" + c.users))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("users:\n%s: err %v, want it to say %q", c.users, err, c.want)
		}
	}
}
