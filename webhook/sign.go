package webhook

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Signed webhooks follow Standard Webhooks (https://www.standardwebhooks.com)
// v1. voicehook signs the webhooks of an application that has signing
// secrets: each request carries
//
//   - webhook-id: the event's id, the same on a retry, on the fallback URL
//     and on a redelivery after a restart (voicehook sends it on every
//     webhook, signed or not);
//   - webhook-timestamp: when the request was sent, in Unix seconds;
//   - webhook-signature: "v1," and the base64 HMAC-SHA256, keyed with the
//     secret, of "{id}.{timestamp}.{content}", one such value per secret
//     while secrets are rotated, separated by spaces.
//
// The content is the body of a POST, and the raw query string of a GET
// (r.URL.RawQuery: every parameter of the request, in the order sent).

// Header names of Standard Webhooks.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// SignatureTolerance is how far a webhook-timestamp may be from the
// Handler's clock, either way, as Standard Webhooks recommends: an older
// signed request may be a replay.
const SignatureTolerance = 5 * time.Minute

// WithSigningSecrets makes the Handler verify the signature of every
// request before it decodes it: a request without the webhook-id,
// webhook-timestamp and webhook-signature headers, whose timestamp is more
// than SignatureTolerance from now, or none of whose signatures matches one
// of secrets gets 401 and reaches no function. Signatures are compared in
// constant time.
//
// Each secret is "whsec_" followed by standard base64, as configured in
// voicehook (webhookSecrets of an application, or --webhook-secret). Give
// the old and the new secret while rotating: a request signed with either
// is accepted. WithSigningSecrets panics on a malformed secret, as
// regexp.MustCompile does; check secrets read at run time with CheckSecret
// first.
func WithSigningSecrets(secrets ...string) Option {
	keys := make([][]byte, 0, len(secrets))
	for i, s := range secrets {
		k, err := decodeSecret(s)
		if err != nil {
			panic(fmt.Sprintf("webhook.WithSigningSecrets: secret %d: %v", i+1, err))
		}
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		panic("webhook.WithSigningSecrets: no secret")
	}
	return func(h *Handler) { h.keys = keys }
}

// CheckSecret reports what is wrong with a signing secret, if anything;
// the error never shows the secret.
func CheckSecret(secret string) error {
	_, err := decodeSecret(secret)
	return err
}

func decodeSecret(s string) ([]byte, error) {
	enc, ok := strings.CutPrefix(strings.TrimSpace(s), "whsec_")
	if !ok {
		return nil, errors.New("does not start with whsec_ (want whsec_ followed by base64)")
	}
	k, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		return nil, fmt.Errorf("what follows whsec_ is not standard base64: %v", err)
	}
	if len(k) == 0 {
		return nil, errors.New("is empty after whsec_")
	}
	return k, nil
}

// Sign returns the webhook-signature value that secret gives a webhook
// with this id, sent at timestamp, whose content is content (a POST's body,
// a GET's raw query): what voicehook sends. It lets an app's tests send its
// Handler signed requests.
func Sign(secret, id string, timestamp time.Time, content []byte) (string, error) {
	k, err := decodeSecret(secret)
	if err != nil {
		return "", fmt.Errorf("webhook.Sign: secret %v", err)
	}
	return "v1," + base64.StdEncoding.EncodeToString(mac(k, id, timestamp.Unix(), content)), nil
}

// mac is the HMAC-SHA256 of "{id}.{timestamp}.{content}".
func mac(key []byte, id string, timestamp int64, content []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id + "." + strconv.FormatInt(timestamp, 10) + "."))
	m.Write(content)
	return m.Sum(nil)
}

// verify checks a request's signature headers against the Handler's keys.
func (h *Handler) verify(header http.Header, content []byte, now time.Time) error {
	id, stamp, sigs := header.Get(HeaderID), header.Get(HeaderTimestamp), header.Get(HeaderSignature)
	var missing []string
	for i, v := range []string{id, stamp, sigs} {
		if v == "" {
			missing = append(missing, []string{HeaderID, HeaderTimestamp, HeaderSignature}[i])
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("the request is not signed: no %s header", strings.Join(missing, ", "))
	}
	ts, err := strconv.ParseInt(stamp, 10, 64)
	if err != nil {
		return fmt.Errorf("%s %q is not a time in Unix seconds", HeaderTimestamp, cut(stamp, 24))
	}
	sent := time.Unix(ts, 0)
	if age := now.Sub(sent); age > SignatureTolerance || age < -SignatureTolerance {
		return fmt.Errorf("%s %d is %v from now: more than %v (a replay, or a clock off)",
			HeaderTimestamp, ts, age.Round(time.Second).Abs(), SignatureTolerance)
	}
	want := make([][]byte, len(h.keys))
	for i, k := range h.keys {
		want[i] = mac(k, id, ts, content)
	}
	ok := false
	for _, sig := range strings.Fields(sigs) {
		b64, isV1 := strings.CutPrefix(sig, "v1,")
		if !isV1 {
			continue
		}
		got, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			continue
		}
		for _, w := range want {
			// Compare with every key, in constant time, and never stop early.
			if hmac.Equal(got, w) {
				ok = true
			}
		}
	}
	if !ok {
		return fmt.Errorf("no v1 signature of %s matches a signing secret", HeaderSignature)
	}
	return nil
}

func cut(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

type eventIDKey struct{}

// EventID returns the webhook-id of the webhook being handled: the event's
// own id, the same on every delivery of the event, so that a function can
// drop a repeat (voicehook delivers at least once: a disconnect in flight
// when it stopped is sent again when it starts). It is "" when the request
// had none. Without WithSigningSecrets anyone can send any id: only a
// verified id is a safe key.
func EventID(ctx context.Context) string {
	id, _ := ctx.Value(eventIDKey{}).(string)
	return id
}
