package api

// OAuth2 client credentials (RFC 6749 §4.4), as Bandwidth's newer SDKs
// authenticate: they trade an account's client id and secret at
// POST /api/v1/oauth2/token for a bearer token, and send
// "Authorization: Bearer <token>" on every request.
//
// A token is stateless, so that every node of a cluster accepts it and it
// outlives a restart: it carries its account's id and its expiry, signed
// with HMAC-SHA256 under a key derived (HKDF) from the account's client id
// and secret. Changing the secret revokes every token issued under it.
// Clients must treat it as opaque.

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/voicehook/voicehook/internal/config"
)

// TokenPath is where clients get a token: the path of Bandwidth's
// https://api.bandwidth.com/api/v1/oauth2/token, on voicehook's host.
const TokenPath = "/api/v1/oauth2/token"

// DefaultTokenLifetime is how long a token lasts, as Bandwidth's do.
const DefaultTokenLifetime = time.Hour

const (
	tokenVersion = 1
	tokenMACSize = sha256.Size
	// maxTokenLen bounds what is decoded: a token of an account id of
	// 1 KB is under 1,500 characters.
	maxTokenLen  = 2048
	maxTokenBody = 64 << 10
)

// tokenResponse is the body of a token (RFC 6749 §5.1), the fields the
// SDKs read.
type tokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
}

// oauthError is the body of a token endpoint's error (RFC 6749 §5.2).
type oauthError struct {
	status      int
	Code        string `json:"error"`
	Description string `json:"error_description,omitempty"`
}

// issueToken serves POST /api/v1/oauth2/token.
func (h *Handler) issueToken(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	r.Body = http.MaxBytesReader(w, r.Body, maxTokenBody)
	a, oerr := h.tokenClient(w, r)
	if oerr != nil {
		writeJSON(w, oerr.status, oerr)
		return
	}
	lifetime := h.tokenLifetime()
	expiry := h.now().Add(lifetime)
	writeJSON(w, http.StatusOK, tokenResponse{
		AccessToken: signToken(a, expiry), TokenType: "Bearer",
		ExpiresIn: int64((lifetime + time.Second - 1) / time.Second),
	})
}

// tokenClient checks a token request and returns the account of the
// client that made it, or the error to answer.
func (h *Handler) tokenClient(w http.ResponseWriter, r *http.Request) (*config.Account, *oauthError) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		return nil, &oauthError{http.StatusMethodNotAllowed, "invalid_request", fmt.Sprintf("the token endpoint takes POST, not %s", r.Method)}
	}
	if err := requireType(r, "application/x-www-form-urlencoded"); err != nil {
		return nil, &oauthError{http.StatusBadRequest, "invalid_request",
			fmt.Sprintf("the body must be application/x-www-form-urlencoded, not %s", orNone(r.Header.Get("Content-Type")))}
	}
	body, err := readBody(r)
	if err != nil {
		return nil, &oauthError{http.StatusBadRequest, "invalid_request", err.Error()}
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, &oauthError{http.StatusBadRequest, "invalid_request", "the body is not valid form encoding: " + err.Error()}
	}
	for name, values := range form {
		if len(values) > 1 {
			return nil, &oauthError{http.StatusBadRequest, "invalid_request", fmt.Sprintf("parameter %s is given %d times; give it once", name, len(values))}
		}
	}
	a, oerr := h.tokenCredentials(w, r, form)
	if oerr != nil {
		return nil, oerr
	}
	switch grant := form.Get("grant_type"); grant {
	case "client_credentials":
		return a, nil
	case "":
		return nil, &oauthError{http.StatusBadRequest, "invalid_request", "grant_type is missing: want grant_type=client_credentials"}
	default:
		return nil, &oauthError{http.StatusBadRequest, "unsupported_grant_type",
			fmt.Sprintf("grant_type %q is not supported: voicehook issues tokens for client_credentials only", grant)}
	}
}

// tokenCredentials authenticates the client of a token request: by HTTP
// Basic clientId:clientSecret, or by the client_id and client_secret
// parameters of the body, not both (RFC 6749 §2.3.1).
func (h *Handler) tokenCredentials(w http.ResponseWriter, r *http.Request, form url.Values) (*config.Account, *oauthError) {
	invalid := func(msg string) *oauthError {
		w.Header().Set("WWW-Authenticate", `Basic realm="voicehook"`)
		return &oauthError{http.StatusUnauthorized, "invalid_client", msg}
	}
	id, secret := form.Get("client_id"), form.Get("client_secret")
	if auth := r.Header.Get("Authorization"); auth != "" {
		user, pass, ok := r.BasicAuth()
		switch {
		case !ok:
			return nil, invalid("the Authorization header is not HTTP Basic: send Basic base64(clientId:clientSecret)")
		case form.Has("client_secret") || (form.Has("client_id") && id != user):
			return nil, &oauthError{http.StatusBadRequest, "invalid_request",
				"the client authenticates one way: HTTP Basic or client_id and client_secret in the body, not both"}
		}
		if a, ok := h.cfg.Accounts.AuthenticateClient(user, pass); ok {
			return a, nil
		}
		// RFC 6749 §2.3.1 form-encodes both before Basic; most clients
		// do not, so both readings are tried.
		du, err1 := url.QueryUnescape(user)
		dp, err2 := url.QueryUnescape(pass)
		if err1 == nil && err2 == nil && (du != user || dp != pass) {
			if a, ok := h.cfg.Accounts.AuthenticateClient(du, dp); ok {
				return a, nil
			}
		}
		return nil, invalid("the client id and secret are not those of an account")
	}
	if id == "" && secret == "" {
		return nil, invalid("no client credentials: send HTTP Basic base64(clientId:clientSecret), or client_id and client_secret in the body")
	}
	if a, ok := h.cfg.Accounts.AuthenticateClient(id, secret); ok {
		return a, nil
	}
	return nil, invalid("the client id and secret are not those of an account")
}

// bearer returns the account a bearer token was issued to, or a 401 saying
// what is wrong with it.
func (h *Handler) bearer(token string) (*config.Account, error) {
	bad := func(why string) error {
		return &apiError{http.StatusUnauthorized, "authentication-error", "The access token is invalid or expired: " + why}
	}
	if token == "" {
		return nil, bad("the Authorization header has no token after Bearer")
	}
	if len(token) > maxTokenLen {
		return nil, bad("it is not a token voicehook issued (too long)")
	}
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(raw) < 1+8+1+tokenMACSize || raw[0] != tokenVersion {
		return nil, bad("it is not a token voicehook issued")
	}
	payload, mac := raw[:len(raw)-tokenMACSize], raw[len(raw)-tokenMACSize:]
	accountID := string(payload[9:])
	a, ok := h.cfg.Accounts.Account(accountID)
	if !ok || a.ClientID == "" {
		// The same words as a bad signature: a token says nothing of
		// accounts to one who did not get it from voicehook.
		return nil, bad("its signature does not match (the client secret changed, or the token was altered)")
	}
	if !hmac.Equal(mac, tokenMAC(a, payload)) {
		return nil, bad("its signature does not match (the client secret changed, or the token was altered)")
	}
	expiry := time.UnixMilli(int64(binary.BigEndian.Uint64(payload[1:9])))
	if !h.now().Before(expiry) {
		return nil, bad("it expired at " + expiry.UTC().Format(time.RFC3339) + "; get a new one from " + TokenPath)
	}
	return a, nil
}

// signToken makes a token of account a that expires at expiry.
func signToken(a *config.Account, expiry time.Time) string {
	payload := make([]byte, 9, 9+len(a.ID)+tokenMACSize)
	payload[0] = tokenVersion
	binary.BigEndian.PutUint64(payload[1:9], uint64(expiry.UnixMilli()))
	payload = append(payload, a.ID...)
	return base64.RawURLEncoding.EncodeToString(append(payload, tokenMAC(a, payload)...))
}

// tokenMAC signs a token's payload with the key of account a's client
// credentials.
func tokenMAC(a *config.Account, payload []byte) []byte {
	key, err := hkdf.Key(sha256.New, []byte(a.ClientSecret), nil, "voicehook oauth2 access token v1 "+a.ClientID, sha256.Size)
	if err != nil {
		panic(err) // only for a key longer than HKDF-SHA256 gives
	}
	m := hmac.New(sha256.New, key)
	m.Write(payload)
	return m.Sum(nil)
}

func (h *Handler) now() time.Time {
	if h.cfg.Now != nil {
		return h.cfg.Now()
	}
	return time.Now()
}

func (h *Handler) tokenLifetime() time.Duration {
	if h.cfg.TokenLifetime > 0 {
		return h.cfg.TokenLifetime
	}
	return DefaultTokenLifetime
}

// authenticate returns the account a request's credentials are, HTTP
// Basic or an OAuth2 bearer token, or a 401 with its challenge.
func (h *Handler) authenticate(w http.ResponseWriter, r *http.Request) (*config.Account, error) {
	auth := r.Header.Get("Authorization")
	if scheme, token, _ := strings.Cut(auth, " "); strings.EqualFold(scheme, "Bearer") {
		a, err := h.bearer(strings.TrimSpace(token))
		if err != nil {
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		}
		return a, err
	}
	a, err := h.basic(r)
	if err != nil {
		w.Header().Set("WWW-Authenticate", `Basic realm="voicehook"`)
		if auth == "" {
			w.Header().Add("WWW-Authenticate", `Bearer realm="voicehook"`)
		}
	}
	return a, err
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
