package config_test

import (
	"strings"
	"testing"

	"github.com/voicehook/voicehook/internal/config"
)

// TestLoadClients: an account's clientId and clientSecret authenticate it
// as an OAuth2 client, and only together.
func TestLoadClients(t *testing.T) {
	d, err := config.Load(strings.NewReader(`
accounts:
  - id: "1"
    username: u
    password: p
    clientId: app-one
    clientSecret: one-secret
  - id: "2"
    username: v
    password: q
    clientId: app-two
    clientSecret: two-secret
  - id: "3"
    username: w
    password: r
`))
	if err != nil {
		t.Fatal(err)
	}
	if a, ok := d.AuthenticateClient("app-two", "two-secret"); !ok || a.ID != "2" {
		t.Errorf("AuthenticateClient(app-two) = %+v %v, want account 2", a, ok)
	}
	for _, c := range [][2]string{{"app-one", "two-secret"}, {"app-two", ""}, {"", ""}, {"u", "p"}} {
		if a, ok := d.AuthenticateClient(c[0], c[1]); ok {
			t.Errorf("AuthenticateClient(%q, %q) authenticated account %s", c[0], c[1], a.ID)
		}
	}
	if a, ok := d.Account("3"); !ok || a.ClientID != "" {
		t.Errorf("Account(3) = %+v %v", a, ok)
	}
	if _, ok := d.Account("4"); ok {
		t.Error("Account(4) found an account that is not declared")
	}
}

func TestLoadClientErrors(t *testing.T) {
	account := func(id, extra string) string {
		return "  - id: \"" + id + "\"\n    username: u" + id + "\n    password: p\n" + extra
	}
	cases := map[string]string{
		account("1", "    clientId: c\n"):     "account 1: give both clientId and clientSecret, or neither",
		account("1", "    clientSecret: s\n"): "account 1: give both clientId and clientSecret, or neither",
		account("1", "    clientId: c\n    clientSecret: s\n") +
			account("2", "    clientId: c\n    clientSecret: t\n"): `account 2: clientId "c" is account 1's`,
	}
	for in, want := range cases {
		_, err := config.Load(strings.NewReader("accounts:\n" + in))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Load(%q) = %v, want an error saying %q", in, err, want)
		}
	}
}

// TestDevClient: without a config file the dev account's Basic username
// and password are its client id and secret too.
func TestDevClient(t *testing.T) {
	d := config.Dev("9900000", "dev", "devpass", "", "")
	if a, ok := d.AuthenticateClient("dev", "devpass"); !ok || a.ID != "9900000" {
		t.Errorf("AuthenticateClient(dev, devpass) = %+v %v", a, ok)
	}
	if _, ok := d.AuthenticateClient("dev", "dev"); ok {
		t.Error("a wrong client secret authenticated the dev account")
	}
}
