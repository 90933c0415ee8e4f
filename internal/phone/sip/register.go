package sip

import (
	"context"
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"
)

// User is a softphone account: it registers with Username and Password
// (digest authentication, realm "voicehook") and is called at Number.
type User struct {
	Username, Password string
	// Number is the number (E.164 or digits) a Dial rings the softphone at
	// while it has live bindings.
	Number string
	// Gateway lets the softphone call numbers no application answers:
	// its INVITE, authenticated, becomes a call Config.Outgoing builds.
	Gateway bool
}

// Registration limits, in seconds (RFC 3261 section 10.3).
const (
	realm          = "voicehook"
	defaultExpires = 3600
	minExpires     = 60
	maxExpires     = 7200
	// maxBindings bounds the contacts one user may register.
	maxBindings = 10
	// nonceLife is how long a nonce of a 401 is good for.
	nonceLife = 5 * time.Minute
	// sweepEvery is how often expired bindings are dropped; a lookup
	// drops them too.
	sweepEvery = time.Minute
)

// binding is one registered contact of a user.
type binding struct {
	uri     sip.Uri
	expires time.Time
}

// registrar holds the users and their bindings. Its methods are safe for
// concurrent use.
type registrar struct {
	users   map[string]User   // by username
	numbers map[string]string // number → username
	secret  []byte            // signs nonces
	now     func() time.Time  // the clock; tests move it

	mu       sync.Mutex
	bindings map[string][]binding // by username
	// used are the digest answers INVITEs have spent (nonce, nc and
	// cnonce), until their nonce expires: each calls out once.
	used map[string]time.Time
}

func newRegistrar(users []User) (*registrar, error) {
	r := &registrar{users: map[string]User{}, numbers: map[string]string{}, bindings: map[string][]binding{}, now: time.Now, secret: make([]byte, 32)}
	_, _ = rand.Read(r.secret)
	for i, u := range users {
		switch {
		case u.Username == "" || strings.ContainsAny(u.Username, "\" \r\n:"):
			return nil, fmt.Errorf("sip: user %d: username %q: want a name without spaces, quotes or colons", i+1, u.Username)
		case u.Password == "":
			return nil, fmt.Errorf("sip: user %s: password is required", u.Username)
		case !isNumber(u.Number):
			return nil, fmt.Errorf("sip: user %s: number %q is not a phone number", u.Username, u.Number)
		}
		if _, dup := r.users[u.Username]; dup {
			return nil, fmt.Errorf("sip: user %s is given twice", u.Username)
		}
		if other, dup := r.numbers[u.Number]; dup {
			return nil, fmt.Errorf("sip: user %s: number %s is user %s's", u.Username, u.Number, other)
		}
		r.users[u.Username], r.numbers[u.Number] = u, u.Username
	}
	return r, nil
}

// live returns the unexpired bindings of the user at number, dropping
// the expired ones.
func (r *registrar) live(number string) []binding {
	name, ok := r.numbers[number]
	if !ok {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.prune(name)
}

// prune drops name's expired bindings and returns a copy of the rest;
// r.mu is held. A slice stored in r.bindings is never changed in place.
func (r *registrar) prune(name string) []binding {
	now := r.now()
	bs := r.bindings[name]
	kept := make([]binding, 0, len(bs))
	for _, b := range bs {
		if b.expires.After(now) {
			kept = append(kept, b)
		}
	}
	if len(kept) == 0 {
		delete(r.bindings, name)
		return nil
	}
	r.bindings[name] = kept
	return append([]binding(nil), kept...)
}

// sweep drops every expired binding, and the spent digest answers whose
// nonce has expired (an old nonce is refused anyway).
func (r *registrar) sweep() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for name := range r.bindings {
		r.prune(name)
	}
	now := r.now()
	for k, at := range r.used {
		if now.Sub(at) > nonceLife {
			delete(r.used, k)
		}
	}
}

// Registered reports whether the user whose number this is has a live
// registration, so that a Dial to it rings the softphone.
func (n *Network) Registered(number string) bool {
	return len(n.reg.live(number)) > 0
}

// contactTargets are the INVITE destinations of a registered number: one
// per live binding, rung at once. nil when the number is not registered.
func (n *Network) contactTargets(number string) []target {
	bs := n.reg.live(number)
	ts := make([]target, 0, len(bs))
	for _, b := range bs {
		ts = append(ts, target{uri: b.uri, toUser: number, contact: true})
	}
	return ts
}

// sweepBindings drops expired bindings every sweepEvery until ctx ends.
func (n *Network) sweepBindings(ctx context.Context) {
	t := time.NewTicker(sweepEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			n.reg.sweep()
		}
	}
}

// onRegister is the registrar: digest authentication, then the bindings
// the REGISTER adds, refreshes or removes; the 200 lists what is bound.
func (n *Network) onRegister(req *sip.Request, tx sip.ServerTransaction) {
	r := n.reg
	user, ok, stale := r.authenticate(req)
	if !ok {
		n.challenge(req, tx, stale)
		return
	}
	if to := req.To(); to == nil || (to.Address.User != user.Username && to.Address.User != user.Number) {
		respond(tx, req, 403, "Forbidden (To is not the authenticated user)")
		return
	}
	expires := defaultExpires
	if h := req.GetHeader("Expires"); h != nil {
		v, err := strconv.ParseUint(strings.TrimSpace(h.Value()), 10, 32)
		if err != nil {
			respond(tx, req, 400, "Bad Request (Expires)")
			return
		}
		expires = int(min(v, maxExpires+1))
	}
	type change struct {
		uri     sip.Uri
		expires int
	}
	var changes []change
	wildcard := false
	for _, h := range req.GetHeaders("Contact") {
		c, ok := h.(*sip.ContactHeader)
		if !ok {
			respond(tx, req, 400, "Bad Request (Contact)")
			return
		}
		if c.Address.Wildcard {
			wildcard = true
			continue
		}
		exp := expires
		if c.Params != nil {
			if v, ok := c.Params.Get("expires"); ok {
				e, err := strconv.ParseUint(strings.TrimSpace(v), 10, 32)
				if err != nil {
					respond(tx, req, 400, "Bad Request (Contact expires)")
					return
				}
				exp = int(min(e, maxExpires+1))
			}
		}
		if exp > 0 && exp < minExpires {
			res := sip.NewResponseFromRequest(req, 423, "Interval Too Brief", nil)
			res.AppendHeader(sip.NewHeader("Min-Expires", strconv.Itoa(minExpires)))
			n.reply(tx, res)
			return
		}
		if t := gatewayTransport(c.Address); t != "udp" && t != "tcp" {
			respond(tx, req, 400, "Bad Request (transport "+t+": want udp or tcp)")
			return
		}
		changes = append(changes, change{*c.Address.Clone(), min(exp, maxExpires)})
	}
	if wildcard && (len(changes) > 0 || req.GetHeader("Expires") == nil || expires != 0) {
		respond(tx, req, 400, "Bad Request (Contact: * wants Expires: 0 and no other contact)")
		return
	}

	r.mu.Lock()
	bs := r.prune(user.Username)
	if wildcard {
		bs = nil
	}
	now := r.now()
	for _, ch := range changes {
		key := ch.uri.String()
		for i, b := range bs {
			if b.uri.String() == key {
				bs = append(bs[:i], bs[i+1:]...)
				break
			}
		}
		if ch.expires > 0 {
			bs = append(bs, binding{uri: ch.uri, expires: now.Add(time.Duration(ch.expires) * time.Second)})
		}
	}
	if len(bs) > maxBindings {
		r.mu.Unlock()
		respond(tx, req, 403, fmt.Sprintf("Forbidden (more than %d contacts)", maxBindings))
		return
	}
	if len(bs) == 0 {
		delete(r.bindings, user.Username)
	} else {
		r.bindings[user.Username] = bs
	}
	r.mu.Unlock()

	res := sip.NewResponseFromRequest(req, 200, "OK", nil)
	for _, b := range bs {
		c := &sip.ContactHeader{Address: *b.uri.Clone(), Params: sip.NewParams()}
		c.Params.Add("expires", strconv.Itoa(int(b.expires.Sub(now).Round(time.Second)/time.Second)))
		res.AppendHeader(c)
	}
	n.log.Debug("sip: register", "user", user.Username, "bindings", len(bs))
	n.reply(tx, res)
}

func (n *Network) reply(tx sip.ServerTransaction, res *sip.Response) {
	if err := tx.Respond(res); err != nil {
		n.log.Debug("sip: respond to REGISTER", "err", err)
	}
}

// nonce is a nonce for a 401: the time it was made and a MAC of it, so
// that checking it needs no state.
func (r *registrar) nonce() string {
	ts := strconv.FormatInt(r.now().Unix(), 16)
	return ts + "." + r.mac(ts)
}

func (r *registrar) mac(ts string) string {
	m := hmac.New(sha256.New, r.secret)
	m.Write([]byte(ts))
	return hex.EncodeToString(m.Sum(nil)[:16])
}

// nonceFresh reports whether nonce is one of ours (ok) and not too old
// (fresh).
func (r *registrar) nonceFresh(nonce string) (ok, fresh bool) {
	ts, mac, found := strings.Cut(nonce, ".")
	if !found || !hmac.Equal([]byte(mac), []byte(r.mac(ts))) {
		return false, false
	}
	sec, err := strconv.ParseInt(ts, 16, 64)
	if err != nil {
		return false, false
	}
	age := r.now().Sub(time.Unix(sec, 0))
	return true, age >= -time.Minute && age <= nonceLife
}

// authenticate checks the REGISTER's digest credentials (RFC 2617 MD5,
// with qop=auth or without qop). stale is true when the credentials are
// right but the nonce is too old.
func (r *registrar) authenticate(req *sip.Request) (u User, ok, stale bool) {
	h := req.GetHeader("Authorization")
	if h == nil {
		return User{}, false, false
	}
	f, isDigest := parseDigest(h.Value())
	if !isDigest {
		return User{}, false, false
	}
	u, known := r.users[f["username"]]
	if !known || f["realm"] != realm || (f["algorithm"] != "" && !strings.EqualFold(f["algorithm"], "MD5")) {
		return User{}, false, false
	}
	ours, fresh := r.nonceFresh(f["nonce"])
	if !ours {
		return User{}, false, false
	}
	hash := func(s string) string { x := md5.Sum([]byte(s)); return hex.EncodeToString(x[:]) }
	ha1 := hash(u.Username + ":" + realm + ":" + u.Password)
	ha2 := hash(string(req.Method) + ":" + f["uri"])
	var want string
	switch f["qop"] {
	case "":
		want = hash(ha1 + ":" + f["nonce"] + ":" + ha2)
	case "auth":
		want = hash(ha1 + ":" + f["nonce"] + ":" + f["nc"] + ":" + f["cnonce"] + ":auth:" + ha2)
	default:
		return User{}, false, false
	}
	if subtle.ConstantTimeCompare([]byte(strings.ToLower(f["response"])), []byte(want)) != 1 {
		return User{}, false, false
	}
	if !fresh {
		return User{}, false, true
	}
	return u, true, false
}

// challenge answers a request without good credentials 401, with a fresh
// nonce (stale when the credentials were right but the nonce old).
func (n *Network) challenge(req *sip.Request, tx sip.ServerTransaction, stale bool) {
	res := sip.NewResponseFromRequest(req, 401, "Unauthorized", nil)
	chal := fmt.Sprintf(`Digest realm="%s", nonce="%s", algorithm=MD5, qop="auth"`, realm, n.reg.nonce())
	if stale {
		chal += ", stale=true"
	}
	res.AppendHeader(sip.NewHeader("WWW-Authenticate", chal))
	n.reply(tx, res)
}

// fresh reports whether req's digest answer, already checked by
// authenticate, was made for its own Request-URI and is used for the first
// time; it then counts as used. A call out must not be replayed, nor sent
// to another number with the same credentials.
func (r *registrar) fresh(req *sip.Request) bool {
	h := req.GetHeader("Authorization")
	if h == nil {
		return false
	}
	f, _ := parseDigest(h.Value())
	var u sip.Uri
	if sip.ParseUri(f["uri"], &u) != nil || u.User != req.Recipient.User || !strings.EqualFold(u.Host, req.Recipient.Host) ||
		u.Port != req.Recipient.Port {
		return false
	}
	key := f["nonce"] + "\x00" + f["nc"] + "\x00" + f["cnonce"]
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, spent := r.used[key]; spent {
		return false
	}
	if r.used == nil {
		r.used = map[string]time.Time{}
	}
	r.used[key] = r.now()
	return true
}

// parseDigest reads the fields of a Digest Authorization value; false
// when it is not Digest.
func parseDigest(v string) (map[string]string, bool) {
	v = strings.TrimSpace(v)
	if len(v) < 7 || !strings.EqualFold(v[:7], "Digest ") {
		return nil, false
	}
	f := map[string]string{}
	s := v[7:]
	for len(f) < 32 {
		s = strings.TrimLeft(s, " \t,")
		key, rest, found := strings.Cut(s, "=")
		if !found {
			break
		}
		key = strings.ToLower(strings.TrimSpace(key))
		rest = strings.TrimLeft(rest, " \t")
		var val string
		if strings.HasPrefix(rest, `"`) {
			var b strings.Builder
			i := 1
			for ; i < len(rest) && rest[i] != '"'; i++ {
				if rest[i] == '\\' && i+1 < len(rest) {
					i++
				}
				b.WriteByte(rest[i])
			}
			val, s = b.String(), rest[min(i+1, len(rest)):]
		} else {
			end := strings.IndexByte(rest, ',')
			if end < 0 {
				end = len(rest)
			}
			val, s = strings.TrimSpace(rest[:end]), rest[end:]
		}
		f[key] = val
	}
	return f, true
}
