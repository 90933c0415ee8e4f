package webhook_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/voicehook/voicehook/callback"
	"github.com/voicehook/voicehook/webhook"
)

// Secrets of the tests: whsec_ and the base64 of 32 bytes.
var (
	oldSecret   = "whsec_" + base64.StdEncoding.EncodeToString([]byte("voicehook's old test secret, 32B"))
	newSecret   = "whsec_" + base64.StdEncoding.EncodeToString([]byte("voicehook's new test secret, 32B"))
	otherSecret = "whsec_" + base64.StdEncoding.EncodeToString([]byte("a secret nobody configured, 32 B"))
)

const disconnect = `{"eventType":"disconnect","callId":"c-1","cause":"hangup"}`

// officialSign signs with the official Standard Webhooks library.
func officialSign(t *testing.T, secret, id string, at time.Time, content string) string {
	t.Helper()
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := wh.Sign(id, at, []byte(content))
	if err != nil {
		t.Fatal(err)
	}
	return sig
}

// signedHandler counts the disconnects that reach its function and keeps
// the last EventID.
type signedHandler struct {
	*webhook.Handler
	calls int
	id    string
}

func newSignedHandler(secrets ...string) *signedHandler {
	s := &signedHandler{Handler: webhook.New(webhook.WithSigningSecrets(secrets...))}
	s.OnDisconnect(func(ctx context.Context, _ *callback.Disconnect) error {
		s.calls++
		s.id = webhook.EventID(ctx)
		return nil
	})
	return s
}

// request is a POST of body with the given signature headers; an empty
// value leaves the header out.
func request(method, target, body, id, timestamp, signature string) *http.Request {
	r := httptest.NewRequest(method, target, strings.NewReader(body))
	for name, v := range map[string]string{"webhook-id": id, "webhook-timestamp": timestamp, "webhook-signature": signature} {
		if v != "" {
			r.Header.Set(name, v)
		}
	}
	return r
}

func TestSignedWebhookAccepted(t *testing.T) {
	h := newSignedHandler(newSecret)
	now := time.Now()
	id := "2b7c5e7a-0f4e-4a51-9a3b-6f1d2c3e4a5b"
	w := httptest.NewRecorder()
	h.ServeHTTP(w, request("POST", "/voice", disconnect, id, strconv.FormatInt(now.Unix(), 10), officialSign(t, newSecret, id, now, disconnect)))
	if w.Code != http.StatusNoContent || h.calls != 1 || h.id != id {
		t.Errorf("status %d, %d calls, EventID %q; want 204, one call, %q: %s", w.Code, h.calls, h.id, id, w.Body)
	}
}

func TestSignedWebhookRefused(t *testing.T) {
	now := time.Now()
	id := "9d8e7f60-1a2b-4c3d-8e4f-5a6b7c8d9e0f"
	stamp := func(at time.Time) string { return strconv.FormatInt(at.Unix(), 10) }
	good := officialSign(t, newSecret, id, now, disconnect)
	stale := now.Add(-webhook.SignatureTolerance - time.Minute)
	ahead := now.Add(webhook.SignatureTolerance + time.Minute)
	for _, c := range []struct {
		name                     string
		body, id, timestamp, sig string
		want                     string
	}{
		{"no headers", disconnect, "", "", "", "no webhook-id, webhook-timestamp, webhook-signature header"},
		{"no id", disconnect, "", stamp(now), good, "no webhook-id header"},
		{"no timestamp", disconnect, id, "", good, "no webhook-timestamp header"},
		{"no signature", disconnect, id, stamp(now), "", "no webhook-signature header"},
		{"another secret", disconnect, id, stamp(now), officialSign(t, otherSecret, id, now, disconnect), "no v1 signature"},
		{"a changed body", strings.Replace(disconnect, "hangup", "busy", 1), id, stamp(now), good, "no v1 signature"},
		{"another id", disconnect, "another-id", stamp(now), good, "no v1 signature"},
		{"another timestamp", disconnect, id, stamp(now.Add(-time.Second)), good, "no v1 signature"},
		{"not v1", disconnect, id, stamp(now), "v2," + strings.TrimPrefix(good, "v1,"), "no v1 signature"},
		{"not base64", disconnect, id, stamp(now), "v1,***", "no v1 signature"},
		{"stale", disconnect, id, stamp(stale), officialSign(t, newSecret, id, stale, disconnect), "from now: more than 5m0s (a replay, or a clock off)"},
		{"from the future", disconnect, id, stamp(ahead), officialSign(t, newSecret, id, ahead, disconnect), "from now: more than 5m0s"},
		{"a timestamp that is no number", disconnect, id, "yesterday", good, `webhook-timestamp "yesterday" is not a time in Unix seconds`},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newSignedHandler(newSecret)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, request("POST", "/voice", c.body, c.id, c.timestamp, c.sig))
			if w.Code != http.StatusUnauthorized || h.calls != 0 || !strings.Contains(w.Body.String(), c.want) {
				t.Errorf("status %d, %d calls, body %q; want 401 saying %q and no call", w.Code, h.calls, w.Body, c.want)
			}
		})
	}
}

// TestSigningSecretRotation: while a secret is rotated, a request signed
// with the old, the new or both is accepted by a Handler that knows both;
// a Handler that knows only the old one refuses a request signed only with
// the new one.
func TestSigningSecretRotation(t *testing.T) {
	now := time.Now()
	id := "rotation-1"
	ts := strconv.FormatInt(now.Unix(), 10)
	old, cur := officialSign(t, oldSecret, id, now, disconnect), officialSign(t, newSecret, id, now, disconnect)
	for _, c := range []struct {
		name    string
		secrets []string
		sig     string
		want    int
	}{
		{"handler knows both, signed with the new", []string{oldSecret, newSecret}, cur, 204},
		{"handler knows both, signed with the old", []string{oldSecret, newSecret}, old, 204},
		{"handler knows the new, signed with both", []string{newSecret}, old + " " + cur, 204},
		{"handler knows the old, signed with both", []string{oldSecret}, old + " " + cur, 204},
		{"handler knows the old, signed with the new", []string{oldSecret}, cur, 401},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newSignedHandler(c.secrets...)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, request("POST", "/voice", disconnect, id, ts, c.sig))
			if w.Code != c.want {
				t.Errorf("status %d, want %d: %s", w.Code, c.want, w.Body)
			}
		})
	}
}

// TestSignedGET: a GET webhook's signature covers its raw query string.
func TestSignedGET(t *testing.T) {
	now := time.Now()
	query := "app=1&eventType=disconnect&callId=c-1&cause=hangup"
	sig := officialSign(t, newSecret, "get-1", now, query)
	ts := strconv.FormatInt(now.Unix(), 10)
	h := newSignedHandler(newSecret)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, request("GET", "/voice?"+query, "", "get-1", ts, sig))
	if w.Code != http.StatusNoContent || h.calls != 1 {
		t.Errorf("signed GET: status %d, %d calls: %s", w.Code, h.calls, w.Body)
	}
	w = httptest.NewRecorder()
	h.ServeHTTP(w, request("GET", "/voice?"+strings.Replace(query, "hangup", "busy", 1), "", "get-1", ts, sig))
	if w.Code != http.StatusUnauthorized || h.calls != 1 {
		t.Errorf("changed GET: status %d, %d calls", w.Code, h.calls)
	}
}

// TestSignMatchesTheOfficialLibrary: webhook.Sign, which app tests use,
// signs as the official library does, and the official library verifies
// it.
func TestSignMatchesTheOfficialLibrary(t *testing.T) {
	now := time.Now()
	ours, err := webhook.Sign(newSecret, "msg-1", now, []byte(disconnect))
	if err != nil {
		t.Fatal(err)
	}
	if theirs := officialSign(t, newSecret, "msg-1", now, disconnect); ours != theirs {
		t.Errorf("Sign = %s, the official library %s", ours, theirs)
	}
	wh, _ := standardwebhooks.NewWebhook(newSecret)
	hdr := http.Header{}
	hdr.Set("webhook-id", "msg-1")
	hdr.Set("webhook-timestamp", strconv.FormatInt(now.Unix(), 10))
	hdr.Set("webhook-signature", ours)
	if err := wh.Verify([]byte(disconnect), hdr); err != nil {
		t.Errorf("the official library refuses Sign's signature: %v", err)
	}
	if _, err := webhook.Sign("whsec_%%%", "msg-1", now, nil); err == nil {
		t.Error("Sign with a malformed secret: no error")
	}
}

func TestMalformedSecrets(t *testing.T) {
	short := "whsec_" + base64.StdEncoding.EncodeToString([]byte("sixteen bytes!!!"))
	long := "whsec_" + base64.StdEncoding.EncodeToString([]byte(strings.Repeat("k", 65)))
	for _, c := range []struct{ secrets, want string }{
		{"", "no secret"},
		{" , ", "no secret"},
		{"hunter2hunter2", "secret 1 does not start with whsec_"},
		{"whsec_hunter2!!", "secret 1 is not standard base64"},
		{"whsec_", "secret 1 is 0 bytes long after whsec_; want 24 to 64"},
		{short, "secret 1 is 16 bytes long after whsec_; want 24 to 64"},
		{long, "secret 1 is 65 bytes long after whsec_; want 24 to 64"},
		{oldSecret + "," + short, "secret 2 is 16 bytes long"},
	} {
		err := webhook.CheckSecret(c.secrets)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("CheckSecret(%q) = %v; want an error saying %q", c.secrets, err, c.want)
		}
		for secret := range strings.SplitSeq(c.secrets, ",") {
			if value := strings.TrimPrefix(strings.TrimSpace(secret), "whsec_"); err != nil && value != "" && strings.Contains(err.Error(), value) {
				t.Errorf("CheckSecret(%q) = %v; it shows the secret", c.secrets, err)
			}
		}
		func() {
			defer func() {
				if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "webhook.WithSigningSecrets: "+c.want) {
					t.Errorf("WithSigningSecrets(%q) panicked with %v; want %q", c.secrets, r, c.want)
				}
			}()
			webhook.WithSigningSecrets(c.secrets)
		}()
	}
	for _, good := range []string{newSecret, oldSecret + "," + newSecret, " " + oldSecret + " , " + newSecret + ",",
		"whsec_" + base64.StdEncoding.EncodeToString([]byte(strings.Repeat("k", 24))),
		"whsec_" + base64.StdEncoding.EncodeToString([]byte(strings.Repeat("k", 64)))} {
		if err := webhook.CheckSecret(good); err != nil {
			t.Errorf("CheckSecret(%q): %v", good, err)
		}
	}
}

// TestCommaSeparatedSecrets: one argument in voicehook's own form,
// "old,new" as --webhook-secret takes it, accepts requests signed with
// either secret.
func TestCommaSeparatedSecrets(t *testing.T) {
	h := newSignedHandler(oldSecret + "," + newSecret)
	now := time.Now()
	for i, secret := range []string{oldSecret, newSecret, otherSecret} {
		id := fmt.Sprintf("msg-%d", i)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, request("POST", "/voice", disconnect, id, strconv.FormatInt(now.Unix(), 10), officialSign(t, secret, id, now, disconnect)))
		want := http.StatusNoContent
		if secret == otherSecret {
			want = http.StatusUnauthorized
		}
		if w.Code != want {
			t.Errorf("signed with secret %d: status %d, want %d: %s", i+1, w.Code, want, w.Body)
		}
	}
	if h.calls != 2 {
		t.Errorf("%d calls, want 2", h.calls)
	}
}

// TestEventIDWithoutSigning: a Handler that does not verify still passes
// the webhook-id on, and "" when there is none.
func TestEventIDWithoutSigning(t *testing.T) {
	h := webhook.New()
	var ids []string
	h.OnDisconnect(func(ctx context.Context, _ *callback.Disconnect) error {
		ids = append(ids, webhook.EventID(ctx))
		return nil
	})
	h.ServeHTTP(httptest.NewRecorder(), request("POST", "/voice", disconnect, "id-1", "", ""))
	h.ServeHTTP(httptest.NewRecorder(), request("POST", "/voice", disconnect, "", "", ""))
	if len(ids) != 2 || ids[0] != "id-1" || ids[1] != "" {
		t.Errorf("EventIDs %q, want id-1 then none", ids)
	}
}

// TestSignRequest: a request signed by SignRequest, POST or GET, passes a
// Handler with the secret and the official library, and its body is still
// there to decode.
func TestSignRequest(t *testing.T) {
	now := time.Now()
	h := newSignedHandler(newSecret)

	post := httptest.NewRequest("POST", "/voice", strings.NewReader(disconnect))
	if err := webhook.SignRequest(post, newSecret, "msg-post", now); err != nil {
		t.Fatal(err)
	}
	wh, _ := standardwebhooks.NewWebhook(newSecret)
	if err := wh.Verify([]byte(disconnect), post.Header); err != nil {
		t.Errorf("the official library refuses SignRequest's signature: %v", err)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, post)
	if w.Code != http.StatusNoContent || h.calls != 1 || h.id != "msg-post" {
		t.Errorf("signed POST: status %d, %d calls, EventID %q: %s", w.Code, h.calls, h.id, w.Body)
	}

	get := httptest.NewRequest("GET", "/voice?eventType=disconnect&callId=c-1&cause=hangup", nil)
	if err := webhook.SignRequest(get, newSecret, "msg-get", now); err != nil {
		t.Fatal(err)
	}
	w = httptest.NewRecorder()
	h.ServeHTTP(w, get)
	if w.Code != http.StatusNoContent || h.calls != 2 || h.id != "msg-get" {
		t.Errorf("signed GET: status %d, %d calls, EventID %q: %s", w.Code, h.calls, h.id, w.Body)
	}

	// Signed with another secret, or too long ago: refused.
	for _, c := range []struct {
		secret string
		at     time.Time
	}{{otherSecret, now}, {newSecret, now.Add(-webhook.SignatureTolerance - time.Minute)}} {
		r := httptest.NewRequest("POST", "/voice", strings.NewReader(disconnect))
		if err := webhook.SignRequest(r, c.secret, "msg-bad", c.at); err != nil {
			t.Fatal(err)
		}
		w = httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusUnauthorized {
			t.Errorf("signed at %v with another or old secret: status %d, want 401", c.at, w.Code)
		}
	}
	if h.calls != 2 {
		t.Errorf("%d calls, want 2", h.calls)
	}
}

// TestSignRequestOverHTTP: a client request signed by SignRequest, with
// two secrets as during a rotation, still sends its body, and a server on
// loopback that knows only the new secret takes it.
func TestSignRequestOverHTTP(t *testing.T) {
	h := newSignedHandler(newSecret)
	srv := httptest.NewServer(h)
	defer srv.Close()
	r, err := http.NewRequestWithContext(t.Context(), "POST", srv.URL+"/voice", strings.NewReader(disconnect))
	if err != nil {
		t.Fatal(err)
	}
	if err := webhook.SignRequest(r, oldSecret+","+newSecret, "msg-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	if n := len(strings.Fields(r.Header.Get("webhook-signature"))); n != 2 {
		t.Errorf("webhook-signature %q has %d signatures, want 2", r.Header.Get("webhook-signature"), n)
	}
	resp, err := srv.Client().Do(r)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent || h.calls != 1 {
		t.Errorf("status %d, %d calls; want 204 and the disconnect handled", resp.StatusCode, h.calls)
	}
}

func TestSignRequestErrors(t *testing.T) {
	r := httptest.NewRequest("POST", "/voice", strings.NewReader(disconnect))
	for _, c := range []struct{ secret, id, want string }{
		{"", "msg-1", "webhook.SignRequest: no secret"},
		{"whsec_%%%", "msg-1", "webhook.SignRequest: secret 1 is not standard base64"},
		{newSecret, "", "webhook.SignRequest: no id"},
	} {
		if err := webhook.SignRequest(r, c.secret, c.id, time.Now()); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("SignRequest(%q, %q) = %v, want %q", c.secret, c.id, err, c.want)
		}
	}
	if r.Header.Get("webhook-signature") != "" {
		t.Errorf("a failed SignRequest set webhook-signature %q", r.Header.Get("webhook-signature"))
	}
}
