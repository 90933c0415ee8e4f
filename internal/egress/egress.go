// Package egress provides the one HTTP client voicehook makes its outbound
// requests with: webhooks, PlayAudio fetches, console replays and, later,
// media streams. With its guard on, the client refuses to connect to
// loopback, private, link-local (cloud metadata), unspecified and other
// special-purpose addresses, unless an allowed prefix covers them.
//
// # How the guard works
//
// The guard is the Control function of the client's net.Dialer: it sees
// the address actually dialled, after DNS resolution, for every
// connection, so a name that resolves to 169.254.169.254, a DNS answer that
// changes between two lookups, and every redirect hop are all checked the
// same way. An IPv4-mapped IPv6 address (::ffff:169.254.169.254) is checked
// as the IPv4 address it carries. Any port is allowed: apps listen on ports
// such as 3000. Only TCP is dialled. A kept-alive connection is checked
// once, when it is dialled, so the guard costs nothing per request.
//
// The list of refused ranges is the IANA special-purpose address registries
// for IPv4 and IPv6 (every IPv6 address outside 2000::/3, the global unicast
// range, included), as code.dny.dev/ssrf generates it.
//
// With HTTP_PROXY or HTTPS_PROXY set (http.ProxyFromEnvironment), the
// client dials the proxy, not the destination: the guard then sees only the
// proxy's address, and the proxy decides where requests go. A proxy on a
// private address must itself be allowed, and should refuse internal
// destinations on its own.
//
// # Redirects
//
// The client follows at most [MaxRedirects] redirects, to http and https
// URLs only; each hop is dialled, and so checked, like the first request.
// Webhook delivery copies the client and follows none.
//
// # Dependencies
//
// code.dny.dev/ssrf v0.3.0 (MIT): a maintained dial-time address check with
// a generated list of the IANA special-purpose registries, so the list of
// ranges is not ours to keep up to date.
//
// A Client, a Guard and a RefusedError are safe for concurrent use; the
// package starts no goroutines (the transport's connection goroutines are
// the client's, ended by CloseIdleConnections).
package egress

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"syscall"
	"time"

	"code.dny.dev/ssrf"
)

// MaxRedirects is how many redirects a request follows.
const MaxRedirects = 3

// AllowFlag is the serve flag that allows prefixes; refusals name it.
const AllowFlag = "--webhook-allow"

// Config configures the client. The zero value is an unguarded client.
type Config struct {
	// Guard turns the address check on. Default off.
	Guard bool
	// Allow lists prefixes the guard lets through although they are
	// special-purpose, such as the operator's own app subnet 10.1.0.0/16.
	// Ignored without Guard.
	Allow []netip.Prefix
}

// New returns a client for outbound requests: proxy from the environment,
// keep-alives, HTTP/2, a 10 s TLS handshake, 64 KB of response headers at
// most, no overall timeout (callers bound each request with its context),
// at most MaxRedirects redirects to http or https, and the guard when
// cfg.Guard is set. Its owner ends it with CloseIdleConnections.
func New(cfg Config) *http.Client {
	dialer := &net.Dialer{KeepAlive: 30 * time.Second}
	if cfg.Guard {
		dialer.Control = NewGuard(cfg.Allow).control
	}
	return &http.Client{
		Transport: &http.Transport{
			Proxy:                  http.ProxyFromEnvironment,
			DialContext:            dialer.DialContext,
			ForceAttemptHTTP2:      true,
			MaxIdleConns:           100,
			MaxIdleConnsPerHost:    16,
			IdleConnTimeout:        90 * time.Second,
			TLSHandshakeTimeout:    10 * time.Second,
			ExpectContinueTimeout:  time.Second,
			MaxResponseHeaderBytes: 64 << 10,
		},
		CheckRedirect: checkRedirect,
	}
}

// checkRedirect allows MaxRedirects hops to http or https URLs.
func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) > MaxRedirects {
		return fmt.Errorf("stopped after %d redirects", MaxRedirects)
	}
	if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
		return fmt.Errorf("redirect to %s: only http and https are followed", req.URL.Redacted())
	}
	return nil
}

// NoRedirects is a CheckRedirect that follows none: the client returns the
// 3xx response itself.
func NoRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// Guard decides which addresses may be dialled. Create it with NewGuard.
type Guard struct {
	allow    []netip.Prefix
	guardian *ssrf.Guardian
}

// NewGuard returns a guard that refuses special-purpose addresses except
// those in allow.
func NewGuard(allow []netip.Prefix) *Guard {
	var v4, v6 []netip.Prefix
	for _, p := range allow {
		p = unmapPrefix(p)
		if p.Addr().Is4() {
			v4 = append(v4, p)
		} else {
			v6 = append(v6, p)
		}
	}
	return &Guard{
		allow: append(v4, v6...),
		guardian: ssrf.New(ssrf.WithAnyPort(),
			ssrf.WithAllowedV4Prefixes(v4...), ssrf.WithAllowedV6Prefixes(v6...)),
	}
}

// Check reports whether addr may be dialled: nil, or a *RefusedError. It
// only looks at the address; it dials and resolves nothing.
func (g *Guard) Check(addr netip.AddrPort) error {
	ip := addr.Addr().Unmap().WithZone("") // prefixes never contain a zoned address
	if err := g.guardian.SafeAddr(ip); err != nil {
		return &RefusedError{Addr: addr, Kind: kind(ip)}
	}
	return nil
}

// control is the dialer's Control function: network is "tcp4" or "tcp6"
// and address the IP and port about to be dialled.
func (g *Guard) control(network, address string, _ syscall.RawConn) error {
	if network != "tcp4" && network != "tcp6" {
		return fmt.Errorf("refused to connect to %s: only TCP is dialled, not %s", address, network)
	}
	addr, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("refused to connect to %s: not an IP address and port", address)
	}
	return g.Check(addr)
}

// RefusedError is the guard's refusal of an address. Its message names the
// address, why it was refused and the flag that would allow it:
// "refused to connect to 127.0.0.1:3000: loopback addresses are not
// allowed for outbound requests (allow with --webhook-allow 127.0.0.1/32)".
type RefusedError struct {
	Addr netip.AddrPort
	// Kind names the range: "loopback", "private", "link-local",
	// "unspecified", "shared (carrier-grade NAT)", "multicast" or
	// "special-purpose".
	Kind string
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("refused to connect to %s: %s addresses are not allowed for outbound requests (allow with %s %s)",
		e.Addr, e.Kind, AllowFlag, e.Allow())
}

// Allow is the narrowest prefix that allows the address: "127.0.0.1/32".
func (e *RefusedError) Allow() string {
	ip := e.Addr.Addr().Unmap().WithZone("")
	return netip.PrefixFrom(ip, ip.BitLen()).String()
}

var sharedAddressSpace = netip.MustParsePrefix("100.64.0.0/10")

// kind names the special-purpose range ip is in, for people.
func kind(ip netip.Addr) string {
	switch {
	case ip.IsLoopback():
		return "loopback"
	case ip.IsUnspecified(), ip.Is4() && ip.As4()[0] == 0:
		return "unspecified"
	case ip.IsLinkLocalUnicast():
		return "link-local"
	case ip.IsPrivate():
		return "private"
	case ip.IsMulticast():
		return "multicast"
	case sharedAddressSpace.Contains(ip):
		return "shared (carrier-grade NAT)"
	}
	return "special-purpose"
}

// unmapPrefix turns ::ffff:10.0.0.0/104 into 10.0.0.0/8, since the guard
// checks IPv4-mapped addresses as IPv4.
func unmapPrefix(p netip.Prefix) netip.Prefix {
	if p.Addr().Is4In6() && p.Bits() >= 96 {
		return netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96).Masked()
	}
	return p.Masked()
}

// ParseAllow parses a comma-separated list of prefixes, IPv4 or IPv6, such
// as "10.1.0.0/16, fd00::/8". A bare address is a prefix of its one
// address; empty items are skipped. An error names the item that is wrong.
func ParseAllow(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for item := range strings.SplitSeq(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		if !strings.Contains(item, "/") {
			ip, err := netip.ParseAddr(item)
			if err != nil || ip.Zone() != "" {
				return nil, fmt.Errorf("%q is not a CIDR prefix such as 10.1.0.0/16 or fd00::/8", item)
			}
			out = append(out, netip.PrefixFrom(ip, ip.BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(item)
		if err != nil {
			return nil, fmt.Errorf("%q is not a CIDR prefix such as 10.1.0.0/16 or fd00::/8", item)
		}
		out = append(out, unmapPrefix(p))
	}
	return out, nil
}

// String describes the prefixes for a banner: "10.1.0.0/16, fd00::/8", or
// "none".
func String(allow []netip.Prefix) string {
	if len(allow) == 0 {
		return "none"
	}
	s := make([]string, len(allow))
	for i, p := range allow {
		s[i] = p.String()
	}
	return strings.Join(s, ", ")
}
