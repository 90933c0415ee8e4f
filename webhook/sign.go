package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
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
// Each secret is "whsec_" followed by the standard base64 of 24 to 64
// bytes ([MinSecretBytes], [MaxSecretBytes]), as voicehook requires of the
// webhookSecrets of an application and of --webhook-secret. An argument
// may hold several secrets separated by commas, the form
// --webhook-secret and VOICEHOOK_WEBHOOK_SECRET take: spaces around each
// are ignored, and so are empty ones. Give the old and the new secret
// while rotating: a request signed with either is accepted.
//
// WithSigningSecrets panics when there is no secret at all or one is
// malformed, as regexp.MustCompile does: check secrets read at run time
// (an environment variable may be unset) with [CheckSecret] first.
func WithSigningSecrets(secrets ...string) Option {
	keys, err := decodeSecrets(secrets)
	if err != nil {
		panic("webhook.WithSigningSecrets: " + err.Error())
	}
	return func(h *Handler) { h.keys = keys }
}

// Limits of the key a secret holds, in bytes: what Standard Webhooks
// recommends, and what voicehook accepts.
const (
	MinSecretBytes = 24
	MaxSecretBytes = 64
)

// CheckSecret reports what is wrong with secrets as [WithSigningSecrets]
// reads them: one secret, or several separated by commas; none at all
// (an empty string) is an error. The error names a secret by its position
// and never shows it. With a nil error, WithSigningSecrets(secrets) does
// not panic.
func CheckSecret(secrets string) error {
	_, err := decodeSecrets([]string{secrets})
	return err
}

// decodeSecrets decodes every secret of secrets, each argument split on
// commas.
func decodeSecrets(secrets []string) ([][]byte, error) {
	var keys [][]byte
	for _, arg := range secrets {
		for s := range strings.SplitSeq(arg, ",") {
			if s = strings.TrimSpace(s); s == "" {
				continue
			}
			k, err := decodeSecret(s)
			if err != nil {
				return nil, fmt.Errorf("secret %d %v", len(keys)+1, err)
			}
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return nil, errors.New("no secret (want whsec_ followed by base64)")
	}
	return keys, nil
}

func decodeSecret(s string) ([]byte, error) {
	enc, ok := strings.CutPrefix(strings.TrimSpace(s), "whsec_")
	if !ok {
		return nil, errors.New("does not start with whsec_ (want whsec_ followed by base64)")
	}
	k, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		return nil, fmt.Errorf("is not standard base64 after whsec_: %v", err)
	}
	if len(k) < MinSecretBytes || len(k) > MaxSecretBytes {
		return nil, fmt.Errorf("is %d bytes long after whsec_; want %d to %d random bytes", len(k), MinSecretBytes, MaxSecretBytes)
	}
	return k, nil
}

// Sign returns the webhook-signature value that secret gives a webhook
// with this id, sent at timestamp, whose content is content (a POST's body,
// a GET's raw query): what voicehook sends. secret is one secret;
// [SignRequest] signs a whole request, which is usually simpler.
func Sign(secret, id string, timestamp time.Time, content []byte) (string, error) {
	k, err := decodeSecret(secret)
	if err != nil {
		return "", fmt.Errorf("webhook.Sign: secret %v", err)
	}
	return "v1," + base64.StdEncoding.EncodeToString(mac(k, id, timestamp.Unix(), content)), nil
}

// SignRequest signs r as voicehook signs a webhook with this id, sent at
// at: it sets the webhook-id, webhook-timestamp and webhook-signature
// headers, over r's raw query for a GET and over its body otherwise. The
// body is read and put back (with GetBody and ContentLength), so r can
// still be served or sent. secret takes the forms of [WithSigningSecrets]:
// several secrets, comma-separated, give one signature each, as voicehook
// sends during a rotation. It lets an app's tests send its Handler, or its
// server, signed requests built with httptest.NewRequest or
// http.NewRequest.
func SignRequest(r *http.Request, secret, id string, at time.Time) error {
	keys, err := decodeSecrets([]string{secret})
	if err != nil {
		return fmt.Errorf("webhook.SignRequest: %v", err)
	}
	if id == "" {
		return errors.New("webhook.SignRequest: no id (the webhook-id header is required)")
	}
	var content []byte
	if r.Method == "" || r.Method == http.MethodGet {
		content = []byte(r.URL.RawQuery)
	} else if r.Body != nil && r.Body != http.NoBody {
		content, err = io.ReadAll(r.Body)
		r.Body.Close()
		if err != nil {
			return fmt.Errorf("webhook.SignRequest: read the body: %w", err)
		}
		r.Body = io.NopCloser(bytes.NewReader(content))
		r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(content)), nil }
		r.ContentLength = int64(len(content))
	}
	sigs := make([]string, len(keys))
	for i, k := range keys {
		sigs[i] = "v1," + base64.StdEncoding.EncodeToString(mac(k, id, at.Unix(), content))
	}
	if r.Header == nil {
		r.Header = http.Header{}
	}
	r.Header.Set(HeaderID, id)
	r.Header.Set(HeaderTimestamp, strconv.FormatInt(at.Unix(), 10))
	r.Header.Set(HeaderSignature, strings.Join(sigs, " "))
	return nil
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
