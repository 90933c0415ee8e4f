package siphdr

import (
	"encoding/base64"
	"maps"
	"strings"
	"testing"

	"github.com/voicehook/voicehook/callback"
)

// jwt builds a compact JWS whose payload is the given JSON, with a fake
// signature: ReadInbound does not check it.
func jwt(payload string) string {
	enc := base64.RawURLEncoding.EncodeToString
	header := `{"alg":"ES256","ppt":"shaken","typ":"passport","x5u":"https://cert.example.org/passport.pem"}` // only parsed
	return enc([]byte(header)) + "." + enc([]byte(payload)) + "." + enc([]byte("not a signature"))
}

func identity(payload string) string {
	return jwt(payload) + ";info=<https://cert.example.org/passport.pem>;alg=ES256;ppt=shaken" // only parsed
}

const shaken = `{"attest":"A","dest":{"tn":["15551230002"]},"iat":1764250000,"orig":{"tn":"15551230001"},"origid":"de305d54-75b4-431b-adb2-eb6b9e546014"}`

func TestReadInbound(t *testing.T) {
	carrierInvite := []Field{
		{"Via", "SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK776asdhds"},
		{"From", `"Alice" <sip:+15551230001@127.0.0.1;user=phone>;tag=1928301774`},
		{"To", "<sip:+15551230002@127.0.0.1>"},
		{"Call-ID", "a84b4c76e66710@127.0.0.1"},
		{"P-Asserted-Identity", `<sip:+15551230001;verstat=TN-Validation-Passed@127.0.0.1;user=phone>`},
		{"Identity", identity(shaken)},
		{"Diversion", `"Bob" <sip:+15551230003@127.0.0.1;user=phone>;reason=no-answer;counter=1;privacy=off;screen=no`},
		{"Diversion", `<sip:+15551230004@127.0.0.1>;reason=unconditional;counter=1`},
		{"User-to-User", "56a390f3d2b7310023a2;encoding=hex"},
		{"X-Account", "acme"},
		{"x-trace-id", "first"},
		{"X-Trace-ID", "last"},
		{"Content-Type", "application/sdp"},
	}
	in := ReadInbound(carrierInvite)
	wantX := map[string]string{"x-account": "acme", "x-trace-id": "last"}
	if !maps.Equal(in.SIPHeaders, wantX) {
		t.Errorf("SIPHeaders = %v, want %v", in.SIPHeaders, wantX)
	}
	wantDiv := callback.Diversion{"origTo": "+15551230003", "reason": "no-answer", "counter": "1", "privacy": "off", "screen": "no"}
	if !maps.Equal(in.Diversion, wantDiv) {
		t.Errorf("Diversion = %v, want the topmost header's %v", in.Diversion, wantDiv)
	}
	if in.UUI != "56a390f3d2b7310023a2;encoding=hex" {
		t.Errorf("UUI = %q", in.UUI)
	}
	wantSS := callback.StirShaken{Verstat: "TN-Validation-Passed", AttestationIndicator: "A", OriginatingID: "de305d54-75b4-431b-adb2-eb6b9e546014"}
	if in.StirShaken == nil || *in.StirShaken != wantSS {
		t.Errorf("StirShaken = %+v, want %+v", in.StirShaken, wantSS)
	}
	if in.Identity != identity(shaken) {
		t.Errorf("Identity = %q, want the header as received", in.Identity)
	}
}

func TestReadInboundCases(t *testing.T) {
	tests := []struct {
		name   string
		fields []Field
		want   Inbound
	}{
		{"nothing of interest",
			[]Field{{"From", "<sip:+15551230001@127.0.0.1>;tag=1"}, {"To", "<sip:+15551230002@127.0.0.1>"}},
			Inbound{}},
		{"several Diversion values in one header: the first is the most recent",
			[]Field{{"DIVERSION", `<tel:+15551230005;npdi>;reason=user-busy;counter=2;limit=5, <sip:+15551230006@127.0.0.1>;reason=deflection`}},
			Inbound{Diversion: callback.Diversion{"origTo": "+15551230005", "reason": "user-busy", "counter": "2", "limit": "5"}}},
		{"Diversion with unknown and quoted params, no <>",
			[]Field{{"diversion", `sip:%2B15551230007@127.0.0.1;Reason="time-of-day";x-carrier=acme;flag`}},
			Inbound{Diversion: callback.Diversion{"origTo": "+15551230007", "reason": "time-of-day", "x-carrier": "acme", "flag": ""}}},
		{"Diversion display name holding < and ;",
			[]Field{{"Diversion", `"a<b;c" <sip:2001@127.0.0.1>;reason=away`}},
			Inbound{Diversion: callback.Diversion{"origTo": "2001", "reason": "away"}}},
		{"Diversion without a URI is ignored",
			[]Field{{"Diversion", "garbage"}},
			Inbound{}},
		{"compact From carries verstat; Identity by its compact name",
			[]Field{{"f", `<sip:+15551230001@127.0.0.1;verstat=TN-Validation-Failed>;tag=9`}, {"y", identity(`{"attest":"C","origid":"x1"}`)}},
			Inbound{Identity: identity(`{"attest":"C","origid":"x1"}`), StirShaken: &callback.StirShaken{Verstat: "TN-Validation-Failed", AttestationIndicator: "C", OriginatingID: "x1"}}},
		{"P-Asserted-Identity verstat wins over From's; tel URI in a list",
			[]Field{
				{"From", `<sip:+15551230001@127.0.0.1;verstat=TN-Validation-Failed>`},
				{"P-Asserted-Identity", `<sip:+15551230001@127.0.0.1;user=phone>, <tel:+15551230001;verstat=No-TN-Validation>`},
			},
			Inbound{StirShaken: &callback.StirShaken{Verstat: "No-TN-Validation"}}},
		{"verstat only in a display name is not read",
			[]Field{{"From", `"x;verstat=Fake" <sip:1@127.0.0.1>`}},
			Inbound{}},
		{"Identity with bad base64 is kept raw, no claims",
			[]Field{{"Identity", "abc.!!!.def;ppt=shaken"}},
			Inbound{Identity: "abc.!!!.def;ppt=shaken"}},
		{"Identity with bad JSON or wrong types: no claims",
			[]Field{{"Identity", identity(`{"attest":`)}, {"Identity", identity(`{"attest":1,"origid":["a"]}`)}},
			Inbound{Identity: identity(`{"attest":`)}},
		{"the SHAKEN Identity among several is the one read",
			[]Field{{"Identity", identity(`{"div":{"tn":"1"}}`)}, {"Identity", identity(`{"attest":"B"}`)}},
			Inbound{Identity: identity(`{"attest":"B"}`), StirShaken: &callback.StirShaken{AttestationIndicator: "B"}}},
		{"several User-to-User headers joined",
			[]Field{{"User-To-User", "3132;encoding=hex"}, {"user-to-user", "aGVsbG8=;encoding=base64"}},
			Inbound{UUI: "3132;encoding=hex,aGVsbG8=;encoding=base64"}},
		{"huge and control-character values ignored",
			[]Field{
				{"X-Big", strings.Repeat("a", 2000)},
				{"X-Crlf", "a\r\nVia: evil"},
				{"User-to-User", strings.Repeat("b", 300) + ";encoding=hex"},
				{"Diversion", "<sip:1@127.0.0.1>;reason=" + strings.Repeat("c", 300) + ";counter=1"},
				{"Identity", strings.Repeat("d", 9000)},
			},
			Inbound{Diversion: callback.Diversion{"origTo": "1", "counter": "1"}}},
		{"names that are not tokens ignored; spaces trimmed",
			[]Field{{"X-Bad Name", "1"}, {" X-Good ", " v "}, {"X-", "empty"}},
			Inbound{SIPHeaders: map[string]string{"x-good": "v"}}},
		{"Diversion param named origTo cannot replace the URI's user",
			[]Field{{"Diversion", "<sip:2002@127.0.0.1>;origto=9999"}},
			Inbound{Diversion: callback.Diversion{"origTo": "2002"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ReadInbound(tt.fields)
			if !maps.Equal(got.SIPHeaders, tt.want.SIPHeaders) || (got.SIPHeaders == nil) != (tt.want.SIPHeaders == nil) {
				t.Errorf("SIPHeaders = %#v, want %#v", got.SIPHeaders, tt.want.SIPHeaders)
			}
			if !maps.Equal(got.Diversion, tt.want.Diversion) || (got.Diversion == nil) != (tt.want.Diversion == nil) {
				t.Errorf("Diversion = %#v, want %#v", got.Diversion, tt.want.Diversion)
			}
			if got.UUI != tt.want.UUI {
				t.Errorf("UUI = %q, want %q", got.UUI, tt.want.UUI)
			}
			if got.Identity != tt.want.Identity {
				t.Errorf("Identity = %q, want %q", got.Identity, tt.want.Identity)
			}
			if (got.StirShaken == nil) != (tt.want.StirShaken == nil) ||
				got.StirShaken != nil && *got.StirShaken != *tt.want.StirShaken {
				t.Errorf("StirShaken = %+v, want %+v", got.StirShaken, tt.want.StirShaken)
			}
		})
	}
}

func TestReadInboundXHeaderCap(t *testing.T) {
	var fields []Field
	for i := range 100 {
		fields = append(fields, Field{"X-H" + strings.Repeat("i", i), "v"})
	}
	fields = append(fields, Field{"X-H", "updated"}) // a kept one still updates
	in := ReadInbound(fields)
	if len(in.SIPHeaders) != maxXHeaders || in.SIPHeaders["x-h"] != "updated" {
		t.Errorf("%d X- headers kept, x-h = %q; want %d and \"updated\"", len(in.SIPHeaders), in.SIPHeaders["x-h"], maxXHeaders)
	}
}

func TestOutboundFields(t *testing.T) {
	tests := []struct {
		name  string
		o     Outbound
		from  string
		extra []Field
	}{
		{"number only",
			Outbound{From: "+15551230001", Host: "127.0.0.1"},
			"<sip:+15551230001@127.0.0.1>", nil},
		{"display name",
			Outbound{From: "+15551230001", DisplayName: `Acme "Support"`, Host: "127.0.0.1"},
			`"Acme \"Support\"" <sip:+15551230001@127.0.0.1>`, nil},
		{"privacy",
			Outbound{From: "+15551230001", Privacy: true, Host: "127.0.0.1"},
			`"Anonymous" <sip:anonymous@anonymous.invalid>`, // only parsed: the RFC 3323 anonymous URI
			[]Field{{"Privacy", "id"}, {"P-Asserted-Identity", "<sip:+15551230001@127.0.0.1>"}}},
		{"privacy with display name",
			Outbound{From: "+15551230001", DisplayName: "Restricted", Privacy: true, Host: "127.0.0.1"},
			`"Anonymous" <sip:anonymous@anonymous.invalid>`, // only parsed: the RFC 3323 anonymous URI
			[]Field{{"Privacy", "id"}, {"P-Asserted-Identity", `"Restricted" <sip:+15551230001@127.0.0.1>`}}},
		{"several uui items",
			Outbound{From: "+15551230001", UUI: "3132;encoding=hex, aGVsbG8=;encoding=base64,,eyJh.eyJi.c2ln;encoding=jwt", Host: "127.0.0.1"},
			"<sip:+15551230001@127.0.0.1>",
			[]Field{{"User-to-User", "3132;encoding=hex"}, {"User-to-User", "aGVsbG8=;encoding=base64"}, {"User-to-User", "eyJh.eyJi.c2ln;encoding=jwt"}}},
		{"no host",
			Outbound{From: "+15551230001"},
			"<sip:+15551230001@localhost>", nil},
		{"a URI as from",
			Outbound{From: "sip:alice@127.0.0.1", Host: "127.0.0.2"},
			"<sip:alice@127.0.0.1>", nil},
		{"hostile values cannot add header lines",
			Outbound{From: "+1555 1230001\r\nVia: x", DisplayName: "A\r\nB", UUI: "31;encoding=hex\r\nX-Evil: 1", Host: "127.0.0.1"},
			`"AB" <sip:+1555%201230001Via%3A%20x@127.0.0.1>`,
			[]Field{{"User-to-User", "31;encoding=hexX-Evil: 1"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			from, extra := OutboundFields(tt.o)
			if from != tt.from {
				t.Errorf("from = %s, want %s", from, tt.from)
			}
			if len(extra) != len(tt.extra) {
				t.Fatalf("extra = %q, want %q", extra, tt.extra)
			}
			for i := range extra {
				if extra[i] != tt.extra[i] {
					t.Errorf("extra[%d] = %q, want %q", i, extra[i], tt.extra[i])
				}
			}
		})
	}
}

func TestFinal(t *testing.T) {
	tests := []struct {
		code   int
		want   Outcome
		reason string
	}{
		{200, Answered, "SIP 200 OK"},
		{202, Answered, "SIP 202 Accepted"},
		{486, Busy, "SIP 486 Busy Here"},
		{600, Busy, "SIP 600 Busy Everywhere"},
		{403, Rejected, "SIP 403 Forbidden"},
		{603, Rejected, "SIP 603 Decline"},
		{607, Rejected, "SIP 607 Unwanted"},
		{608, Rejected, "SIP 608 Rejected"},
		{408, NoAnswer, "SIP 408 Request Timeout"},
		{480, NoAnswer, "SIP 480 Temporarily Unavailable"},
		{503, TryNext, "SIP 503 Service Unavailable"},
		{404, Failed, "SIP 404 Not Found"},
		{484, Failed, "SIP 484 Address Incomplete"},
		{604, Failed, "SIP 604 Does Not Exist Anywhere"},
		{487, Failed, "SIP 487 Request Terminated"},
		{488, Failed, "SIP 488 Not Acceptable Here"},
		{606, Failed, "SIP 606 Not Acceptable"},
		{407, Failed, "SIP 407 Proxy Authentication Required"},
		{500, Failed, "SIP 500 Server Internal Error"},
		{302, Failed, "SIP 302 Moved Temporarily"},
		{499, Unexplained, "SIP 499"},
		{699, Unexplained, "SIP 699"},
		{299, Answered, "SIP 299"},
		{180, Failed, "SIP 180 Ringing (not a final response)"},
		{0, Failed, "SIP 0 (not a final response)"},
		{700, Unexplained, "SIP 700 (no SIP class)"},
	}
	for _, tt := range tests {
		o, reason := Final(tt.code)
		if o != tt.want || reason != tt.reason {
			t.Errorf("Final(%d) = %v, %q; want %v, %q", tt.code, o, reason, tt.want, tt.reason)
		}
	}
	if s := Outcome(0).String(); s != "Outcome(0)" {
		t.Errorf("Outcome(0).String() = %q", s)
	}
}

// BenchmarkReadInbound measures reading a carrier INVITE's headers.
func BenchmarkReadInbound(b *testing.B) {
	fields := []Field{
		{"From", `"Alice" <sip:+15551230001@127.0.0.1;user=phone>;tag=1928301774`},
		{"P-Asserted-Identity", `<sip:+15551230001;verstat=TN-Validation-Passed@127.0.0.1;user=phone>`},
		{"Identity", identity(shaken)},
		{"Diversion", `<sip:+15551230003@127.0.0.1>;reason=no-answer;counter=1`},
		{"X-Account", "acme"},
	}
	for b.Loop() {
		ReadInbound(fields)
	}
}
