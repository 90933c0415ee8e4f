package api_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/voicehook/voicehook/internal/api"
	"github.com/voicehook/voicehook/internal/config"
)

// Two accounts with client credentials, B's id and secrets apart from A's.
const (
	accountA, clientA, secretA = "9900000", "a-client", "a-secret"
	accountB, clientB, secretB = "9900001", "b-client", "b-secret"
)

func clients(secretOfA string) *config.Directory {
	return &config.Directory{Accounts: []*config.Account{
		{ID: accountA, Username: "alice", Password: "alice-pw", ClientID: clientA, ClientSecret: secretOfA, AnyApplication: true},
		{ID: accountB, Username: "bob", Password: "bob-pw", ClientID: clientB, ClientSecret: secretB, AnyApplication: true},
	}}
}

// clock is a clock a test moves by hand.
type clock struct{ t time.Time }

func (c *clock) Now() time.Time { return c.t }

// oauthHandler is the API of e's engine over dir, on clk.
func oauthHandler(e *env, dir *config.Directory, clk *clock) http.Handler {
	return api.New(api.Config{Engine: e.eng, Accounts: dir, BaseURL: base, Now: clk.Now})
}

// tokenRequest asks h for a token with the given form body; user, when
// set, authenticates by HTTP Basic.
func tokenRequest(h http.Handler, user, pass, contentType, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest("POST", api.TokenPath, strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

const form = "application/x-www-form-urlencoded"

// token gets a token of h for a client, or fails t.
func token(t *testing.T, h http.Handler, id, secret string) string {
	t.Helper()
	rec := tokenRequest(h, id, secret, form, "grant_type=client_credentials")
	if rec.Code != http.StatusOK {
		t.Fatalf("token for %s: %d %s", id, rec.Code, rec.Body)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &tok); err != nil || tok.AccessToken == "" {
		t.Fatalf("token for %s: %v %s", id, err, rec.Body)
	}
	return tok.AccessToken
}

// withBearer sends a GET with a bearer token.
func withBearer(h http.Handler, path, tok string) *httptest.ResponseRecorder {
	req := httptest.NewRequest("GET", path, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// errorBody returns the string members of a JSON error body.
func errorBody(t *testing.T, rec *httptest.ResponseRecorder) map[string]string {
	t.Helper()
	var fields map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &fields); err != nil {
		t.Fatalf("error body %q: %v", rec.Body, err)
	}
	m := map[string]string{}
	for k, v := range fields {
		if s, ok := v.(string); ok {
			m[k] = s
		}
	}
	return m
}

// TestTokenEndpoint: a client authenticated by Basic or by the form gets a
// bearer token that lasts an hour and is not cached; everything else is
// the RFC 6749 error that names the problem.
func TestTokenEndpoint(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, nil)
		h := oauthHandler(e, clients(secretA), &clock{time.Now()})

		for name, rec := range map[string]*httptest.ResponseRecorder{
			"basic": tokenRequest(h, clientA, secretA, form, "grant_type=client_credentials"),
			"form":  tokenRequest(h, "", "", form, "grant_type=client_credentials&client_id=a-client&client_secret=a-secret"),
			// RFC 6749 §2.3.1 form-encodes the id and secret inside Basic.
			"basic, form-encoded": tokenRequest(h, "a%2Dclient", "a%2Dsecret", form+"; charset=UTF-8", "grant_type=client_credentials&scope="),
		} {
			var got map[string]any
			if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &got) != nil {
				t.Errorf("%s: %d %s", name, rec.Code, rec.Body)
				continue
			}
			if tok, _ := got["access_token"].(string); tok == "" || got["token_type"] != "Bearer" || got["expires_in"] != 3600.0 || len(got) != 3 {
				t.Errorf("%s: body %s, want access_token, token_type Bearer and expires_in 3600", name, rec.Body)
			}
			if cc := rec.Header().Get("Cache-Control"); cc != "no-store" {
				t.Errorf("%s: Cache-Control %q, want no-store", name, cc)
			}
		}

		for _, c := range []struct {
			name, user, pass, contentType, body string
			status                              int
			code, says                          string
		}{
			{"wrong secret", clientA, secretB, form, "grant_type=client_credentials", 401, "invalid_client", "not those of an account"},
			{"another's id", clientB, secretA, form, "grant_type=client_credentials", 401, "invalid_client", "not those of an account"},
			{"Basic credentials of the REST API", "alice", "alice-pw", form, "grant_type=client_credentials", 401, "invalid_client", "not those of an account"},
			{"wrong form secret", "", "", form, "grant_type=client_credentials&client_id=a-client&client_secret=x", 401, "invalid_client", "not those of an account"},
			{"no client", "", "", form, "grant_type=client_credentials", 401, "invalid_client", "no client credentials"},
			{"two ways", clientA, secretA, form, "grant_type=client_credentials&client_id=a-client&client_secret=a-secret", 400, "invalid_request", "not both"},
			{"password grant", clientA, secretA, form, "grant_type=password&username=a&password=b", 400, "unsupported_grant_type", `grant_type "password" is not supported`},
			{"no grant", clientA, secretA, form, "scope=voice", 400, "invalid_request", "grant_type is missing"},
			{"twice", clientA, secretA, form, "grant_type=client_credentials&grant_type=client_credentials", 400, "invalid_request", "grant_type is given 2 times"},
			{"JSON", clientA, secretA, "application/json", `{"grant_type":"client_credentials"}`, 400, "invalid_request", "not application/json"},
		} {
			rec := tokenRequest(h, c.user, c.pass, c.contentType, c.body)
			body := errorBody(t, rec)
			if rec.Code != c.status || body["error"] != c.code || !strings.Contains(body["error_description"], c.says) {
				t.Errorf("%s: %d %s, want %d %s saying %q", c.name, rec.Code, rec.Body, c.status, c.code, c.says)
			}
			if c.status == 401 && !strings.HasPrefix(rec.Header().Get("WWW-Authenticate"), "Basic") {
				t.Errorf("%s: WWW-Authenticate %q, want a Basic challenge", c.name, rec.Header().Get("WWW-Authenticate"))
			}
			if strings.Contains(rec.Body.String(), secretA) {
				t.Errorf("%s: the error shows the client secret: %s", c.name, rec.Body)
			}
		}

		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", api.TokenPath, nil))
		if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != "POST" {
			t.Errorf("GET %s: %d %v, want 405 allowing POST", api.TokenPath, rec.Code, rec.Header())
		}
	})
}

// TestBearerToken: a token works on its account's routes for an hour, on
// any node that has the same accounts, until the client secret changes;
// on another account's path it is 403, and a bad or expired one is a 401
// saying what is wrong with it.
func TestBearerToken(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, nil)
		clk := &clock{time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
		h := oauthHandler(e, clients(secretA), clk)
		tok := token(t, h, clientA, secretA)
		callsOf := func(account string) string { return "/api/v2/accounts/" + account + "/calls" }

		if rec := withBearer(h, callsOf(accountA), tok); rec.Code != http.StatusOK {
			t.Fatalf("listCalls with A's token: %d %s", rec.Code, rec.Body)
		}
		// Another node, or this one restarted, with the same accounts.
		if rec := withBearer(oauthHandler(e, clients(secretA), clk), callsOf(accountA), tok); rec.Code != http.StatusOK {
			t.Errorf("A's token on another handler of the same accounts: %d %s", rec.Code, rec.Body)
		}
		rec := withBearer(h, callsOf(accountB), tok)
		if body := errorBody(t, rec); rec.Code != http.StatusForbidden || body["type"] != "authorization-error" {
			t.Errorf("A's token on B's calls: %d %s, want 403", rec.Code, rec.Body)
		}
		if rec := withBearer(h, callsOf(accountB), token(t, h, clientB, secretB)); rec.Code != http.StatusOK {
			t.Errorf("B's token on B's calls: %d %s", rec.Code, rec.Body)
		}

		invalid := func(name string, h http.Handler, tok, says string) {
			t.Helper()
			rec := withBearer(h, callsOf(accountA), tok)
			body := errorBody(t, rec)
			if rec.Code != http.StatusUnauthorized || body["type"] != "authentication-error" ||
				!strings.HasPrefix(body["description"], "The access token is invalid or expired: ") || !strings.Contains(body["description"], says) {
				t.Errorf("%s: %d %s, want 401 saying %q", name, rec.Code, rec.Body, says)
			}
			if got := rec.Header().Get("WWW-Authenticate"); got != `Bearer error="invalid_token"` {
				t.Errorf("%s: WWW-Authenticate %q", name, got)
			}
		}
		altered := []byte(tok)
		altered[len(altered)/2] ^= 1
		invalid("altered", h, string(altered), "signature does not match")
		invalid("not a token", h, "dev:dev", "not a token voicehook issued")
		invalid("empty", h, "", "no token after Bearer")
		invalid("secret rotated", oauthHandler(e, clients("a-new-secret"), clk), tok, "signature does not match")

		clk.t = clk.t.Add(59 * time.Minute)
		if rec := withBearer(h, callsOf(accountA), tok); rec.Code != http.StatusOK {
			t.Errorf("the token after 59 minutes: %d %s", rec.Code, rec.Body)
		}
		clk.t = clk.t.Add(time.Minute)
		invalid("expired", h, tok, "it expired at 2026-03-01T13:00:00Z")
	})
}

// TestCredentialsBeforeRouting: under an account, a path that is no
// operation asks for the account's credentials before it is a 404.
func TestCredentialsBeforeRouting(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, nil)
		h := oauthHandler(e, clients(secretA), &clock{time.Now()})
		tok := token(t, h, clientA, secretA)
		for _, c := range []struct {
			name, path, user, token string
			status                  int
			kind                    string
		}{
			{"no credentials", "/api/v2/accounts/9900000/nothing/here", "", "", 401, "authentication-error"},
			{"wrong password", "/api/v2/accounts/9900000/nothing", "alice:wrong", "", 401, "authentication-error"},
			{"bad token", "/api/v2/accounts/9900000/calls/c-1/nothing", "", "nonsense", 401, "authentication-error"},
			{"another account", "/api/v2/accounts/9900000/nothing", "bob:bob-pw", "", 403, "authorization-error"},
			{"another account's token", "/api/v2/accounts/9900001/nothing", "", tok, 403, "authorization-error"},
			{"wrong method, no credentials", "/api/v2/accounts/9900000/calls/c-1/bxml", "", "", 401, "authentication-error"},
		} {
			req := httptest.NewRequest("PATCH", c.path, nil)
			if user, pass, ok := strings.Cut(c.user, ":"); ok {
				req.SetBasicAuth(user, pass)
			}
			if c.token != "" {
				req.Header.Set("Authorization", "Bearer "+c.token)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if body := errorBody(t, rec); rec.Code != c.status || body["type"] != c.kind {
				t.Errorf("%s: PATCH %s: %d %s, want %d %s", c.name, c.path, rec.Code, rec.Body, c.status, c.kind)
			}
		}
		// With good credentials, what it is: no operation, or a wrong method.
		if rec := withBearer(h, "/api/v2/accounts/9900000/nothing", tok); rec.Code != http.StatusNotFound || errorBody(t, rec)["path"] == "" {
			t.Errorf("GET an unknown path with good credentials: %d %s, want 404 naming the path", rec.Code, rec.Body)
		}
		req := httptest.NewRequest("PATCH", "/api/v2/accounts/9900000/calls/c-1/bxml", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusMethodNotAllowed {
			t.Errorf("PATCH …/bxml with good credentials: %d %s, want 405", rec.Code, rec.Body)
		}
	})
}
