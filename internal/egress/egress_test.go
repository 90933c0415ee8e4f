package egress_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/voicehook/voicehook/internal/egress"
)

// The tests of Check look at addresses only: nothing is dialled and no
// name is resolved. The tests that make requests reach 127.0.0.0/8 only.

func TestCheckRefusesSpecialPurposeSpellings(t *testing.T) {
	g := egress.NewGuard(nil)
	// Addresses only: parsed and checked, never dialled.
	for _, tc := range []struct {
		addr, kind, allow string
	}{
		{"169.254.169.254:80", "link-local", "169.254.169.254/32"},
		{"[::ffff:169.254.169.254]:80", "link-local", "169.254.169.254/32"},
		{"[::ffff:a9fe:a9fe]:80", "link-local", "169.254.169.254/32"},
		{"[fe80::1]:80", "link-local", "fe80::1/128"},
		{"[fe80::a00:27ff:fe4e:66a1%eth0]:8080", "link-local", "fe80::a00:27ff:fe4e:66a1/128"},
		{"[fd00:ec2::254]:80", "private", "fd00:ec2::254/128"},
		{"10.0.0.1:3000", "private", "10.0.0.1/32"},
		{"172.16.5.4:80", "private", "172.16.5.4/32"},
		{"172.31.255.255:80", "private", "172.31.255.255/32"},
		{"192.168.1.10:443", "private", "192.168.1.10/32"},
		{"[::ffff:192.168.1.10]:443", "private", "192.168.1.10/32"},
		{"0.0.0.0:80", "unspecified", "0.0.0.0/32"},
		{"0.1.2.3:80", "unspecified", "0.1.2.3/32"},
		{"[::]:80", "unspecified", "::/128"},
		{"127.0.0.1:3000", "loopback", "127.0.0.1/32"},
		{"127.1.2.3:3000", "loopback", "127.1.2.3/32"},
		{"[::1]:3000", "loopback", "::1/128"},
		{"[::ffff:127.0.0.1]:3000", "loopback", "127.0.0.1/32"},
		{"100.64.0.1:80", "shared (carrier-grade NAT)", "100.64.0.1/32"},
		{"224.0.0.251:5353", "multicast", "224.0.0.251/32"},
		{"[ff02::1]:80", "multicast", "ff02::1/128"},
		{"192.0.2.1:80", "special-purpose", "192.0.2.1/32"},
		{"[2001:db8::1]:80", "special-purpose", "2001:db8::1/128"},
		{"[64:ff9b::a9fe:a9fe]:80", "special-purpose", "64:ff9b::a9fe:a9fe/128"},
		{"255.255.255.255:80", "special-purpose", "255.255.255.255/32"},
	} {
		err := g.Check(netip.MustParseAddrPort(tc.addr))
		var re *egress.RefusedError
		if !errors.As(err, &re) {
			t.Errorf("%s: %v, want a refusal", tc.addr, err)
			continue
		}
		if re.Kind != tc.kind || re.Allow() != tc.allow {
			t.Errorf("%s: kind %q allow %q, want %q and %q", tc.addr, re.Kind, re.Allow(), tc.kind, tc.allow)
		}
		if want := "(allow with --webhook-allow " + tc.allow + ")"; !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %q lacks %q", tc.addr, err, want)
		}
	}
}

func TestCheckMessage(t *testing.T) {
	err := egress.NewGuard(nil).Check(netip.MustParseAddrPort("127.0.0.1:3000"))
	want := "refused to connect to 127.0.0.1:3000: loopback addresses are not allowed for outbound requests (allow with --webhook-allow 127.0.0.1/32)"
	if err == nil || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
}

func TestCheckLetsPublicAddressesThrough(t *testing.T) {
	g := egress.NewGuard(nil)
	// Addresses only: parsed and checked, never dialled.
	for _, addr := range []string{"93.184.215.14:80", "1.1.1.1:443", "8.8.8.8:3000", "[2606:4700:4700::1111]:443", "[::ffff:93.184.215.14]:80"} {
		if err := g.Check(netip.MustParseAddrPort(addr)); err != nil {
			t.Errorf("%s: %v", addr, err)
		}
	}
}

func TestCheckAllowedPrefixes(t *testing.T) {
	// Addresses only: parsed and checked, never dialled.
	allow, err := egress.ParseAllow("10.0.0.0/8, 127.0.0.1, fe80::/10, ::ffff:192.168.0.0/112")
	if err != nil {
		t.Fatal(err)
	}
	g := egress.NewGuard(allow)
	for addr, ok := range map[string]bool{
		"10.2.3.4:3000":               true,
		"[::ffff:10.2.3.4]:3000":      true,
		"127.0.0.1:8080":              true,
		"127.0.0.2:8080":              false,
		"[::1]:8080":                  false,
		"[fe80::1%eth0]:80":           true,
		"192.168.7.7:80":              true,
		"192.169.0.1:80":              true, // public
		"169.254.169.254:80":          false,
		"[::ffff:169.254.169.254]:80": false,
		"172.16.0.1:80":               false,
	} {
		if err := g.Check(netip.MustParseAddrPort(addr)); (err == nil) != ok {
			t.Errorf("%s: %v, want allowed %v", addr, err, ok)
		}
	}
}

func TestParseAllow(t *testing.T) {
	// Prefixes only: parsed, never dialled; "example.com" is refused as
	// text, never resolved.
	got, err := egress.ParseAllow(" 10.1.2.3/8,,fd00::1/8 , 192.168.0.7, 2001:db8::5, ::ffff:10.0.0.0/104")
	if err != nil {
		t.Fatal(err)
	}
	if s := egress.String(got); s != "10.0.0.0/8, fd00::/8, 192.168.0.7/32, 2001:db8::5/128, 10.0.0.0/8" {
		t.Errorf("parsed %s", s)
	}
	if got, err := egress.ParseAllow(""); err != nil || len(got) != 0 || egress.String(got) != "none" {
		t.Errorf("empty: %v %v", got, err)
	}
	for _, bad := range []string{"10.0.0.0/33", "example.com", "10.0.0.0/8,300.1.1.1/32", "fe80::1%eth0", "10.0.0.0/-1", "::1/129"} {
		_, err := egress.ParseAllow(bad)
		if err == nil {
			t.Errorf("%q: no error", bad)
			continue
		}
		item := bad
		if i := strings.LastIndex(bad, ","); i >= 0 {
			item = bad[i+1:]
		}
		if !strings.Contains(err.Error(), `"`+item+`"`) || !strings.Contains(err.Error(), "CIDR") {
			t.Errorf("%q: error %q does not name the item", bad, err)
		}
	}
}

// server is an HTTP server on a loopback address that counts its
// requests.
type server struct {
	URL  string
	hits atomic.Int64
}

func serveOn(t *testing.T, ip string, h http.HandlerFunc) *server {
	t.Helper()
	ln, err := net.Listen("tcp", ip+":0")
	if err != nil {
		t.Fatalf("listen on %s: %v", ip, err)
	}
	s := &server{}
	ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		h(w, r)
	}))
	ts.Listener.Close()
	ts.Listener = ln
	ts.Start()
	t.Cleanup(ts.Close)
	s.URL = ts.URL
	return s
}

func get(t *testing.T, c *http.Client, url string) (*http.Response, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(req)
	if err == nil {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	return resp, err
}

func ok(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") }

func TestClientRefusesLoopbackUnlessAllowed(t *testing.T) {
	app := serveOn(t, "127.0.0.1", ok)
	guarded := egress.New(egress.Config{Guard: true})
	defer guarded.CloseIdleConnections()
	_, err := get(t, guarded, app.URL+"/answer")
	var re *egress.RefusedError
	if !errors.As(err, &re) || !strings.Contains(err.Error(), "loopback addresses are not allowed") {
		t.Fatalf("guarded request to %s: %v, want a refusal", app.URL, err)
	}
	if n := app.hits.Load(); n != 0 {
		t.Errorf("the app got %d requests", n)
	}

	allowed := egress.New(egress.Config{Guard: true, Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}})
	defer allowed.CloseIdleConnections()
	if resp, err := get(t, allowed, app.URL+"/answer"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("allowed request: %v", err)
	}
	// The zero Config does not guard.
	open := egress.New(egress.Config{})
	defer open.CloseIdleConnections()
	if resp, err := get(t, open, app.URL+"/answer"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("unguarded request: %v", err)
	}
	if n := app.hits.Load(); n != 2 {
		t.Errorf("the app got %d requests, want 2", n)
	}
}

func TestRedirectHopsAreChecked(t *testing.T) {
	inner := serveOn(t, "127.0.0.3", ok)
	outer := serveOn(t, "127.0.0.2", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, inner.URL+"/hold.wav", http.StatusFound)
	})
	c := egress.New(egress.Config{Guard: true, Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.2/32")}})
	defer c.CloseIdleConnections()
	_, err := get(t, c, outer.URL+"/hold.wav")
	var re *egress.RefusedError
	if !errors.As(err, &re) || re.Addr.Addr() != netip.MustParseAddr("127.0.0.3") {
		t.Fatalf("redirect to %s: %v, want a refusal of 127.0.0.3", inner.URL, err)
	}
	if outer.hits.Load() != 1 || inner.hits.Load() != 0 {
		t.Errorf("hits: outer %d, inner %d; want 1 and 0", outer.hits.Load(), inner.hits.Load())
	}
}

func TestRedirectsAreCapped(t *testing.T) {
	var loop *server
	loop = serveOn(t, "127.0.0.2", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, loop.URL+"/again", http.StatusFound)
	})
	c := egress.New(egress.Config{})
	defer c.CloseIdleConnections()
	_, err := get(t, c, loop.URL+"/start")
	if err == nil || !strings.Contains(err.Error(), "stopped after 3 redirects") {
		t.Errorf("redirect loop: %v", err)
	}
	if n := loop.hits.Load(); n != 1+egress.MaxRedirects {
		t.Errorf("%d requests, want %d", n, 1+egress.MaxRedirects)
	}

	other := serveOn(t, "127.0.0.2", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "file:///etc/passwd", http.StatusFound)
	})
	if _, err := get(t, c, other.URL+"/x"); err == nil || !strings.Contains(err.Error(), "only http and https are followed") {
		t.Errorf("redirect to file: %v", err)
	}
}

// BenchmarkCheck is what the guard adds to each new connection (a
// kept-alive one is not checked again).
func BenchmarkCheck(b *testing.B) {
	// Addresses only: parsed and checked, never dialled.
	g := egress.NewGuard([]netip.Prefix{netip.MustParsePrefix("10.1.0.0/16")})
	public := netip.MustParseAddrPort("93.184.215.14:443")
	for b.Loop() {
		if g.Check(public) != nil {
			b.Fatal("refused")
		}
	}
}
