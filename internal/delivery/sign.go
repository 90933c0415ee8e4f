package delivery

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"hash"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/voicehook/voicehook/internal/engine"
)

// Signed webhooks follow Standard Webhooks (https://www.standardwebhooks.com),
// version v1, on top of Bandwidth's Basic auth:
//
//   - webhook-id is the event's own id (engine.Webhook.ID): the same on a
//     retry, on the fallback URL and on a redelivery after a restart. Every
//     webhook carries it, signed or not, so that an app can drop repeats.
//   - webhook-timestamp is the time of the attempt, in Unix seconds.
//   - webhook-signature is "v1," and the base64 HMAC-SHA256, keyed with the
//     application's secret, of "{id}.{timestamp}.{content}"; with several
//     secrets (a rotation), one such value per secret, separated by spaces.
//
// The content is the request body for a POST. A GET has no body: its
// content is the request's whole raw query string, as the app reads it
// (r.URL.RawQuery in Go), the event's fields and any query the configured
// URL had of its own.

// Header names of Standard Webhooks.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// Signer signs the webhooks of an application with its secrets. It is
// immutable and safe for concurrent use.
type Signer struct {
	macs []*sync.Pool // per key: *macState, keyed
}

// macState is a keyed HMAC-SHA256 and its scratch space, reused so that a
// signature costs no allocation but its string.
type macState struct {
	mac    hash.Hash
	prefix [128]byte
	sum    [sha256.Size]byte
}

// NewSigner returns a Signer that signs with each key: the decoded bytes of
// a whsec_ secret, in the order given. With no key it returns nil, which
// signs nothing.
func NewSigner(keys ...[]byte) *Signer {
	if len(keys) == 0 {
		return nil
	}
	s := &Signer{}
	for _, k := range keys {
		k := append([]byte(nil), k...)
		s.macs = append(s.macs, &sync.Pool{New: func() any { return &macState{mac: hmac.New(sha256.New, k)} }})
	}
	return s
}

// sigLen is the length of one signature: "v1," and the base64 of 32 bytes.
const sigLen = len("v1,") + 44

// Sign returns the webhook-signature value for the message id, sent at
// timestamp (Unix seconds), whose content is content. A nil Signer (what
// NewSigner returns for no key) signs nothing: it returns "".
func (s *Signer) Sign(id string, timestamp int64, content []byte) string {
	if s == nil {
		return ""
	}
	var buf [2 * (sigLen + 1)]byte // room for two secrets, a rotation
	out := buf[:0]
	for i, pool := range s.macs {
		m := pool.Get().(*macState)
		m.mac.Reset()
		// "{id}.{timestamp}." in one write.
		prefix := append(m.prefix[:0], id...)
		prefix = append(prefix, '.')
		prefix = strconv.AppendInt(prefix, timestamp, 10)
		prefix = append(prefix, '.')
		m.mac.Write(prefix)
		m.mac.Write(content)
		if i > 0 {
			out = append(out, ' ')
		}
		out = append(out, "v1,"...)
		out = base64.StdEncoding.AppendEncode(out, m.mac.Sum(m.sum[:0]))
		pool.Put(m)
	}
	return string(out)
}

// identity is what a webhook's requests say about it: its id and, when its
// application signs, the signer.
type identity struct {
	id     string
	signer *Signer
}

// identify returns the webhook's identity. A webhook without an ID gets a
// fresh one, kept for every attempt of this Send or Notify.
func (s *Sender) identify(w engine.Webhook) identity {
	id := identity{id: w.ID}
	if id.id == "" {
		id.id = engine.NewEventID()
	}
	if s.signers != nil {
		id.signer = s.signers(w.AccountID, w.ApplicationID)
	}
	return id
}

// Canonical forms of the header names, computed once.
var (
	canonicalID        = http.CanonicalHeaderKey(HeaderID)
	canonicalTimestamp = http.CanonicalHeaderKey(HeaderTimestamp)
	canonicalSignature = http.CanonicalHeaderKey(HeaderSignature)
)

// sign sets the Standard Webhooks headers of one attempt: content is its
// body, or its raw query string for a GET.
func (id identity) sign(h http.Header, content []byte, now time.Time) {
	if id.signer == nil {
		h[canonicalID] = []string{id.id}
		return
	}
	ts := now.Unix()
	values := []string{id.id, strconv.FormatInt(ts, 10), id.signer.Sign(id.id, ts, content)}
	h[canonicalID], h[canonicalTimestamp], h[canonicalSignature] = values[0:1:1], values[1:2:2], values[2:3:3]
}
