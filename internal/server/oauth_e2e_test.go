package server_test

import (
	stdjson "encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/voicehook/voicehook/internal/config"
	"github.com/voicehook/voicehook/internal/server"
)

// oauthAccounts is twoAccounts with OAuth2 client credentials beside
// each account's Basic ones.
func oauthAccounts(t *testing.T) *config.Directory {
	t.Helper()
	dir := twoAccounts(t)
	dir.Accounts[0].ClientID, dir.Accounts[0].ClientSecret = "alice-app", "alice-client-secret"
	dir.Accounts[1].ClientID, dir.Accounts[1].ClientSecret = "bob-app", "bob-client-secret"
	return dir
}

// oauthToken posts a token request as a client and returns the status and
// the decoded body.
func oauthToken(t *testing.T, base, clientID, secret, form string) (int, http.Header, map[string]any) {
	t.Helper()
	req, err := http.NewRequest("POST", base+"/api/v1/oauth2/token", strings.NewReader(form))
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(clientID, secret)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	if err := stdjson.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("token response: %v", err)
	}
	return resp.StatusCode, resp.Header, body
}

// bearerRequest sends a request with a bearer token.
func bearerRequest(t *testing.T, method, url, token, body string) (int, http.Header, []byte) {
	t.Helper()
	status, hdr, b := send(t, &creds{token: token}, method, url, body)
	return status, hdr, []byte(b)
}

// TestOAuth2OverHTTP: a configured client trades its id and secret for a
// bearer token and places and reads calls with it, on its own account only,
// until the token expires; a wrong client or grant is refused as RFC 6749
// says.
func TestOAuth2OverHTTP(t *testing.T) {
	const lifetime = 2 * time.Second // short, to see a token expire
	srv := startServerWith(t, server.Config{Accounts: oauthAccounts(t), TokenLifetime: lifetime})
	base := srv.URL()

	status, hdr, body := oauthToken(t, base, "alice-app", "alice-client-secret", "grant_type=client_credentials")
	token, _ := body["access_token"].(string)
	if status != 200 || token == "" || body["token_type"] != "Bearer" || body["expires_in"] != 2.0 || hdr.Get("Cache-Control") != "no-store" {
		t.Fatalf("token: %d %v %v", status, hdr, body)
	}
	if status, hdr, body := oauthToken(t, base, "alice-app", "bob-client-secret", "grant_type=client_credentials"); status != 401 ||
		body["error"] != "invalid_client" || hdr.Get("WWW-Authenticate") == "" {
		t.Errorf("a wrong client secret: %d %v %v, want 401 invalid_client with a challenge", status, hdr, body)
	}
	if status, _, body := oauthToken(t, base, "alice-app", "alice-client-secret", "grant_type=authorization_code&code=x"); status != 400 ||
		body["error"] != "unsupported_grant_type" {
		t.Errorf("another grant: %d %v, want 400 unsupported_grant_type", status, body)
	}

	calls := base + "/api/v2/accounts/1000001/calls"
	status, _, created := bearerRequest(t, "POST", calls, token,
		`{"from":"+15551230000","to":"+15550000486","applicationId":"11111111-2222-4333-8444-555555555555","answerUrl":"http://127.0.0.1:9/answer"}`)
	if status != 201 {
		t.Fatalf("createCall with the token: %d %s", status, created)
	}
	var call struct{ CallID string }
	if err := stdjson.Unmarshal(created, &call); err != nil {
		t.Fatal(err)
	}
	if status, _, got := bearerRequest(t, "GET", calls+"/"+call.CallID, token, ""); status != 200 || !strings.Contains(string(got), call.CallID) {
		t.Errorf("getCallState with the token: %d %s", status, got)
	}
	if status, _, got := bearerRequest(t, "GET", base+"/api/v2/accounts/1000002/calls", token, ""); status != 403 || errorType(t, string(got)) != "authorization-error" {
		t.Errorf("alice's token on bob's calls: %d %s, want 403", status, got)
	}

	// The token expires: poll until it does.
	deadline := time.Now().Add(lifetime + 5*time.Second)
	for {
		status, hdr, got := bearerRequest(t, "GET", calls, token, "")
		if status == 401 {
			if !strings.Contains(string(got), "The access token is invalid or expired: it expired at") ||
				hdr.Get("WWW-Authenticate") != `Bearer error="invalid_token"` || errorType(t, string(got)) != "authentication-error" {
				t.Errorf("an expired token: %d %v %s", status, hdr, got)
			}
			break
		}
		if status != 200 || time.Now().After(deadline) {
			t.Fatalf("the token %v after it was issued: %d %s, want 401 once it expires", lifetime, status, got)
		}
		time.Sleep(20 * time.Millisecond)
	}
	_, _, body = oauthToken(t, base, "alice-app", "alice-client-secret", "grant_type=client_credentials")
	fresh, _ := body["access_token"].(string)
	if status, _, got := bearerRequest(t, "GET", calls, fresh, ""); status != 200 {
		t.Errorf("a new token: %d %s", status, got)
	}
}

// TestOAuth2OnSimBeyondLoopback: where /sim/v1 asks for an account's
// credentials, a bearer token is one.
func TestOAuth2OnSimBeyondLoopback(t *testing.T) {
	_, base := startBeyondLoopback(t, server.Config{Accounts: oauthAccounts(t)})
	_, _, body := oauthToken(t, base, "alice-app", "alice-client-secret", "grant_type=client_credentials")
	token, _ := body["access_token"].(string)
	url := base + "/sim/v1/phones/+15551230005"
	if status, _, got := bearerRequest(t, "PUT", url, token, `{"outcome":"busy"}`); status != 204 {
		t.Errorf("PUT a phone of alice's with her token: %d %s", status, got)
	}
	if status, hdr, got := bearerRequest(t, "PUT", url, token+"x", `{"outcome":"busy"}`); status != 401 || hdr.Get("WWW-Authenticate") != `Bearer error="invalid_token"` {
		t.Errorf("with a bad token: %d %v %s", status, hdr, got)
	}
}
