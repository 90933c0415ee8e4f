package siphdr

import (
	"encoding/base64"
	"encoding/json"
	"strings"

	"github.com/voicehook/voicehook/callback"
)

// Inbound is what the initiate webhook reports of an INVITE.
type Inbound struct {
	// SIPHeaders holds every X- header, names lower-cased; the last of
	// duplicates wins. nil if there is none.
	SIPHeaders map[string]string
	// Diversion holds the parameters of the most recent Diversion header
	// (RFC 5806: the topmost one): origTo, the user part of its URI, and
	// each of its parameters (reason, counter, limit, privacy, screen and
	// any other), names lower-cased. nil if there is none.
	Diversion callback.Diversion
	// UUI is the User-to-User header value (RFC 7433) as received, with its
	// ;encoding= parameter; several headers are joined with commas. "" if
	// none.
	UUI string
	// StirShaken holds the verstat parameter (of P-Asserted-Identity, else
	// of From) and the attest and origid claims of the PASSporT in
	// Identity. The PASSporT's signature is not checked. nil if none of
	// them is present.
	StirShaken *callback.StirShaken
	// Identity is the raw Identity header: the one the claims were read
	// from, else the first. "" if none.
	Identity string
}

// ReadInbound reads the fields of an INVITE. Header names are
// case-insensitive, and the compact forms f (From) and y (Identity) are
// understood. Hostile values (huge, bad base64, bad JSON, no <>) are ignored,
// never a panic: a value over 8 KiB is not read; an X- header over 1 KiB,
// a Diversion parameter over 256 bytes, a User-to-User value over 256 bytes
// and a claim over 256 bytes are dropped; at most 64 X- headers and 32
// Diversion parameters are kept; values with control characters are dropped.
func ReadInbound(fields []Field) Inbound {
	var in Inbound
	var (
		diversion string   // topmost Diversion element
		pai, from []string // P-Asserted-Identity and From values
		identity  []string
		uui       []string
		uuiLen    int
	)
	for _, f := range fields {
		name, ok := canonical(f.Name)
		if !ok || len(f.Value) > maxValue || hasControl(f.Value) {
			continue
		}
		value := strings.TrimSpace(f.Value)
		switch {
		case strings.HasPrefix(name, "x-") && len(name) > 2:
			if len(value) > maxXValue {
				continue
			}
			if _, dup := in.SIPHeaders[name]; !dup && len(in.SIPHeaders) >= maxXHeaders {
				continue
			}
			if in.SIPHeaders == nil {
				in.SIPHeaders = map[string]string{}
			}
			in.SIPHeaders[name] = value
		case name == "diversion":
			if diversion == "" {
				if list := splitList(value); len(list) > 0 {
					diversion = list[0]
				}
			}
		case name == "p-asserted-identity":
			pai = append(pai, value)
		case name == "from":
			from = append(from, value)
		case name == "identity":
			if value != "" {
				identity = append(identity, value)
			}
		case name == "user-to-user":
			for _, item := range splitList(value) {
				if len(item) <= maxUUIItem && uuiLen+len(item)+1 <= maxUUI {
					uui = append(uui, item)
					uuiLen += len(item) + 1
				}
			}
		}
	}
	in.Diversion = readDiversion(diversion)
	in.UUI = strings.Join(uui, ",")

	var ss callback.StirShaken
	ss.Verstat = verstat(pai)
	if ss.Verstat == "" {
		ss.Verstat = verstat(from)
	}
	for _, v := range identity {
		attest, origid := passport(v)
		if attest != "" || origid != "" {
			ss.AttestationIndicator, ss.OriginatingID = attest, origid
			in.Identity = v
			break
		}
	}
	if in.Identity == "" && len(identity) > 0 {
		in.Identity = identity[0]
	}
	if ss != (callback.StirShaken{}) {
		in.StirShaken = &ss
	}
	return in
}

// readDiversion reads one Diversion element; nil when it has no URI.
func readDiversion(e string) callback.Diversion {
	if e == "" {
		return nil
	}
	uri, params := nameAddr(e)
	if !strings.Contains(uri, ":") {
		return nil
	}
	d := callback.Diversion{"origTo": userPart(uri)}
	for _, p := range parseParams(params, maxParams) {
		if p.name == "" || p.name == "origto" || len(p.name) > maxParamName || len(p.value) > maxParamValue {
			continue
		}
		d[p.name] = p.value
	}
	return d
}

// verstat returns the first verstat parameter found in the values, wherever
// it sits: in the user part of a sip URI, on a tel URI, or after the URI;
// never in a display name.
func verstat(values []string) string {
	for _, e := range values {
		for _, e := range splitList(e) {
			uri, params := nameAddr(e)
			if v := findVerstat(uri + params); v != "" {
				return v
			}
		}
	}
	return ""
}

// findVerstat returns the value of the first ;verstat= parameter in v (the
// name in any case) that is a non-empty token.
func findVerstat(v string) string {
	const key = "verstat="
	for at := 1; at+len(key) <= len(v); at++ {
		if v[at-1] != ';' || !strings.EqualFold(v[at:at+len(key)], key) {
			continue
		}
		val := v[at+len(key):]
		if end := strings.IndexAny(val, ";,>@&? \t\""); end >= 0 {
			val = val[:end]
		}
		if val != "" && len(val) <= maxClaim && isTokenString(val) {
			return val
		}
	}
	return ""
}

func isTokenString(s string) bool {
	for i := range len(s) {
		if !isToken(s[i]) {
			return false
		}
	}
	return true
}

// passport returns the attest and origid claims of the PASSporT (RFC 8225)
// in an Identity value: a compact JWS, then ;info=, ;alg=, ;ppt= parameters
// (RFC 8224). The payload is base64url JSON; the signature is not checked.
func passport(v string) (attest, origid string) {
	jws, _, _ := strings.Cut(v, ";")
	jws = strings.Trim(strings.TrimSpace(jws), `"`)
	parts := strings.Split(jws, ".")
	if len(parts) != 3 {
		return "", ""
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return "", ""
	}
	var claims map[string]json.RawMessage
	if json.Unmarshal(payload, &claims) != nil {
		return "", ""
	}
	return claim(claims["attest"]), claim(claims["origid"])
}

// claim returns a JSON string claim, or "" if it is absent, not a string,
// too long or holds control characters.
func claim(raw json.RawMessage) string {
	var s string
	if raw == nil || json.Unmarshal(raw, &s) != nil || len(s) > maxClaim || hasControl(s) {
		return ""
	}
	return s
}
