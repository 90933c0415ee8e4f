package callback_test

import (
	"strings"
	"testing"

	"github.com/voicehook/voicehook/callback"
)

func TestValidateE164(t *testing.T) {
	for _, ok := range []string{"+15551112222", "+442071838750", "+12", "+123456789012345"} {
		if err := callback.ValidateE164(ok); err != nil {
			t.Errorf("ValidateE164(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", "+", "+1", "15551112222", "+05551112222", "+1234567890123456",
		"+1 555 111 2222", "+1-555-111-2222", "+1555111222a", "++15551112222", "Private", "sip:a@b"} {
		err := callback.ValidateE164(bad)
		if err == nil {
			t.Errorf("ValidateE164(%q) accepted", bad)
		} else if !strings.Contains(err.Error(), `"`+bad+`"`) {
			t.Errorf("ValidateE164(%q) error %q does not quote the value", bad, err)
		}
	}
}

func TestCallerID(t *testing.T) {
	for _, ok := range []string{"Private", "Restricted", "Anonymous", "Unavailable", "+15551112222"} {
		if err := callback.ValidateCallerID(ok); err != nil {
			t.Errorf("ValidateCallerID(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"private", "ANONYMOUS", "Unknown", "", "5551112222"} {
		if err := callback.ValidateCallerID(bad); err == nil {
			t.Errorf("ValidateCallerID(%q) accepted", bad)
		}
	}
	if callback.IsCallerIDKeyword("+15551112222") || !callback.IsCallerIDKeyword(callback.Restricted) {
		t.Error("IsCallerIDKeyword is wrong")
	}
}

func TestValidateSIPURI(t *testing.T) {
	for _, ok := range []string{
		"sip:user@example.com",
		"sips:alice@atlanta.example.com:5061",
		"SIP:bob@192.0.2.4",
		"sip:+15551112222@sip.example.com;user=phone",
		"sip:+15551112222;phone-context=example.com@gw.example.com",
		"sip:alice:secret@example.com;transport=tcp",
		"sip:alice@[2001:db8::10]:5070",
		"sip:example.com",
		"sip:carol@chicago.example.com?Subject=conference&X-Tenant=a",
		"sip:j%40s0n@example.com",
		"sip:a@host.example.com.",
		"sip:a@b;lr",
	} {
		if err := callback.ValidateSIPURI(ok); err != nil {
			t.Errorf("ValidateSIPURI(%q) = %v", ok, err)
		}
	}
	cases := map[string]string{
		"":                           "want a sip: or sips: scheme",
		"tel:+15551112222":           "want a sip: or sips: scheme",
		"http://example.com":         "want a sip: or sips: scheme",
		"sip:":                       "the host is missing",
		"sip:@example.com":           "the user part before @ is empty",
		"sip:user@":                  "the host is missing",
		"sip:us er@example.com":      "the user part has a character that must be escaped",
		"sip:a@exa mple.com":         "the host is not a domain name",
		"sip:a@-bad-.com":            "the host is not a domain name",
		"sip:a@b:99999":              "the port is not a number from 1 to 65535",
		"sip:a@b:0":                  "the port is not a number from 1 to 65535",
		"sip:a@b:-5":                 "the port is not a number from 1 to 65535",
		"sip:a@[::1":                 "lacks its closing ]",
		"sip:a@[192.0.2.1]":          "not an IPv6 address",
		"sip:a@1.2.3.999":            "the host is not a domain name",
		"sip:a@b;":                   "a ;parameter is empty",
		"sip:a@b?":                   "a ?header is not name=value",
		"sip:a@b?X-h":                "a ?header is not name=value",
		"sip:a@b%":                   "the host is not a domain name",
		"sip:a%zz@b":                 "must be escaped",
		"sip:\x00@b":                 "must be escaped",
		"sip:a@b\n":                  "the host is not a domain name",
		"sip:a@" + long(254):         "the host is not a domain name",
		"sip:a@" + long(64) + ".com": "the host is not a domain name",
	}
	for in, want := range cases {
		err := callback.ValidateSIPURI(in)
		if err == nil {
			t.Errorf("ValidateSIPURI(%q) accepted", in)
			continue
		}
		if !strings.Contains(err.Error(), want) {
			t.Errorf("ValidateSIPURI(%q) = %q, want it to say %q", in, err, want)
		}
	}
}

func long(n int) string { return strings.Repeat("a", n) }

func TestIDs(t *testing.T) {
	checks := []struct {
		new      func() string
		validate func(string) error
		prefix   string
		length   int
	}{
		{callback.NewCallID, callback.ValidateCallID, "c-", 47},
		{callback.NewRecordingID, callback.ValidateRecordingID, "r-", 47},
		{callback.NewConferenceID, callback.ValidateConferenceID, "conf-", 50},
	}
	for _, c := range checks {
		a, b := c.new(), c.new()
		if a == b {
			t.Errorf("two new ids are equal: %s", a)
		}
		if len(a) != c.length || !strings.HasPrefix(a, c.prefix) {
			t.Errorf("new id %q: want %d characters starting %q", a, c.length, c.prefix)
		}
		if err := c.validate(a); err != nil {
			t.Errorf("a new id does not validate: %v", err)
		}
	}
	// The documented examples.
	for _, ok := range []string{"c-15ac29a2-1331029c-2cb0-4a07-b215-b22865662d85", "c-95ac8d6e-1a31c52e-b38f-4198-93c1-51633ec68f8d"} {
		if err := callback.ValidateCallID(ok); err != nil {
			t.Errorf("ValidateCallID(%q) = %v", ok, err)
		}
	}
	if err := callback.ValidateRecordingID("r-fbe05094-9fd2afe9-bf5b-4c68-820a-41a01c1c5833"); err != nil {
		t.Error(err)
	}
	if err := callback.ValidateConferenceID("conf-fe23a767-a75a5b77-20c5-4cca-b581-cbbf0776eca9"); err != nil {
		t.Error(err)
	}
	for _, bad := range []string{
		"", "c-", "c-15ac29a2",
		"C-15ac29a2-1331029c-2cb0-4a07-b215-b22865662d85",  // upper-case prefix
		"c-15AC29A2-1331029c-2cb0-4a07-b215-b22865662d85",  // upper-case hex
		"c-15ac29a2-1331029c-2cb0-4a07-b215-b22865662d8",   // one short
		"c-15ac29a2-1331029c-2cb0-4a07-b215-b22865662d85x", // one long
		"c-15ac29a2_1331029c-2cb0-4a07-b215-b22865662d85",  // wrong separator
		"c-15ac29g2-1331029c-2cb0-4a07-b215-b22865662d85",  // not hex
		"r-15ac29a2-1331029c-2cb0-4a07-b215-b22865662d85",  // a recording id
	} {
		err := callback.ValidateCallID(bad)
		if err == nil {
			t.Errorf("ValidateCallID(%q) accepted", bad)
		} else if !strings.Contains(err.Error(), "want c-xxxxxxxx-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx") {
			t.Errorf("ValidateCallID(%q) = %q, want it to show the form", bad, err)
		}
	}
}
