package main

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/voicehook/voicehook/internal/config"
	"github.com/voicehook/voicehook/internal/server"
)

// serve --sip-addr turns SIP on: the banner says where, which gateway
// takes calls, and how to call in with a softphone.
func TestServeSIPBanner(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr syncBuffer
	var sipAddr string
	code := serve(ctx, []string{"--addr", "127.0.0.1:0", "--db", ":memory:", "--sip-addr", "127.0.0.141:0", "--rtp-ports", "24000-24099",
		"--sip-gateway", "sip:127.0.0.142:5060", "--initiate-url", "http://127.0.0.1:3000/initiate"}, &stdout, &stderr,
		func(s *server.Server) { sipAddr = s.SIPAddr(); cancel() })
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	for _, want := range []string{
		"SIP        " + sipAddr + " (UDP and TCP), RTP ports 24000-24099",
		"gateway    sip:127.0.0.142:5060: calls to numbers that are not simulated phones go here",
		"softphone  dial sip:+15550001000@" + sipAddr,
		"softphone  register as dev / dev at sip:" + sipAddr + " (number +15557770000)",
		"softphone  register as agent / agent at sip:" + sipAddr + " (number +15557770001)",
		"Simulated phones (any other number goes to the SIP gateway):",
	} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("the banner lacks %q:\n%s", want, stdout.String())
		}
	}
	if !strings.HasPrefix(sipAddr, "127.0.0.141:") || strings.HasSuffix(sipAddr, ":0") {
		t.Errorf("SIP listens on %q", sipAddr)
	}
}

// Mistakes in SIP's settings stop serve with a message that names the
// setting, wherever it came from.
func TestServeSIPSettingsErrors(t *testing.T) {
	dir := t.TempDir()
	file := dir + "/voicehook.yaml"
	if err := os.WriteFile(file, []byte(`accounts:
  - id: "1000001"
    username: alice
    password: wonderland
sip:
  gateways:
    - uri: sip:127.0.0.143:5060
      username: trunk
      password: s3cret
`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--sip-gateway", "sip:127.0.0.143:5060"}, "SIP is off, yet gateways (--sip-gateway or the config file's sip: gateways) are set"},
		{[]string{"--config", file}, "SIP is off, yet gateways"},
		{[]string{"--rtp-ports", "24000-24099"}, "SIP is off, yet RTP ports"},
		{[]string{"--sip-addr", "127.0.0.144:0", "--rtp-ports", "9"}, "--rtp-ports: RTP ports \"9\": want a range FIRST-LAST"},
		{[]string{"--sip-addr", "127.0.0.144:0", "--sip-gateway", "trunk.example.com"}, "--sip-gateway: gateway \"trunk.example.com\": want sip:HOST[:PORT]"},
	} {
		var stdout, stderr syncBuffer
		code := serve(context.Background(), append([]string{"--addr", "127.0.0.1:0", "--db", ":memory:"}, c.args...), &stdout, &stderr, nil)
		if code != 2 || !strings.Contains(stderr.String(), c.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", c.args, code, stderr.String(), c.want)
		}
	}
}

// A gateway named by --sip-gateway that the config file also lists keeps
// the file's credentials.
func TestSIPConfigFlagsOverTheFile(t *testing.T) {
	file := []byte(`accounts:
  - id: "1000001"
    username: alice
    password: wonderland
sip:
  addr: 127.0.0.145:5060
  gateways:
    - uri: sip:127.0.0.146:5060
      username: trunk
      password: s3cret
`)
	path := t.TempDir() + "/v.yaml"
	if err := os.WriteFile(path, file, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	accounts, err := config.Load(f)
	if err != nil {
		t.Fatal(err)
	}
	s, err := sipConfig(serveFlags{sipGateway: "sip:127.0.0.147:5060,sip:127.0.0.146:5060", sipAddr: "127.0.0.148:5070"}, accounts)
	if err != nil {
		t.Fatal(err)
	}
	if s.Addr != "127.0.0.148:5070" || len(s.Gateways) != 2 || s.Gateways[0].Username != "" ||
		s.Gateways[1].Username != "trunk" || s.Gateways[1].Password != "s3cret" {
		t.Errorf("%+v", s)
	}
}

// The banner names each softphone user, its password masked unless it is
// a dev account user's (dev, agent).
func TestServeSIPBannerUsers(t *testing.T) {
	path := t.TempDir() + "/v.yaml"
	if err := os.WriteFile(path, []byte(`accounts:
  - {id: "1000001", username: alice, password: wonderland}
sip:
  users:
    - {username: bob, password: builder, number: "+15557770002"}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr syncBuffer
	var sipAddr string
	code := serve(ctx, []string{"--addr", "127.0.0.1:0", "--db", ":memory:", "--config", path, "--sip-addr", "127.0.0.175:0", "--rtp-ports", "24100-24199"},
		&stdout, &stderr, func(s *server.Server) { sipAddr = s.SIPAddr(); cancel() })
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if want := "softphone  register as bob / **** at sip:" + sipAddr + " (number +15557770002)"; !strings.Contains(stdout.String(), want) {
		t.Errorf("the banner lacks %q:\n%s", want, stdout.String())
	}
	if strings.Contains(stdout.String(), "builder") || strings.Contains(stdout.String(), "register as dev") || strings.Contains(stdout.String(), "register as agent") {
		t.Errorf("the banner shows the password or the dev account's users:\n%s", stdout.String())
	}
}
