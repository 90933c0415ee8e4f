package siphdr

import (
	"strings"
	"testing"
)

// FuzzReadInbound reads random header sets: the input is lines of
// "name:value", split at the first colon. Nothing panics, X- keys are always
// lower-case X- names, and nothing reported holds a control character.
func FuzzReadInbound(f *testing.F) {
	f.Add("X-A:1\nx-a:2\nDiversion:<sip:1@127.0.0.1>;reason=away\nUser-to-User:31;encoding=hex")
	f.Add("f:<sip:1@127.0.0.1;verstat=TN-Validation-Passed>\ny:" + identity(shaken))
	f.Add("Diversion:\"\\\nDiversion:<\nP-Asserted-Identity:;verstat=\nIdentity:..")
	f.Add("Diversion:\"a,b\" <sip:%zz@127.0.0.1>;a=\"x;y\";b=\"\\\"\",<tel:2>")
	f.Fuzz(func(t *testing.T, s string) {
		var fields []Field
		for line := range strings.Lines(s) {
			name, value, _ := strings.Cut(strings.TrimSuffix(line, "\n"), ":")
			fields = append(fields, Field{name, value})
		}
		in := ReadInbound(fields)
		for k, v := range in.SIPHeaders {
			if k != strings.ToLower(k) || !strings.HasPrefix(k, "x-") {
				t.Fatalf("X- key %q is not a lower-case x- name", k)
			}
			if hasControl(v) {
				t.Fatalf("X- value %q has a control character", v)
			}
		}
		if in.Diversion != nil {
			if _, ok := in.Diversion["origTo"]; !ok {
				t.Fatalf("Diversion %v without origTo", in.Diversion)
			}
		}
		if ss := in.StirShaken; ss != nil {
			for _, v := range []string{ss.Verstat, ss.AttestationIndicator, ss.OriginatingID} {
				if hasControl(v) || len(v) > maxClaim {
					t.Fatalf("StirShaken value %q has a control character or is too long", v)
				}
			}
		}
		if len(in.UUI) > maxUUI {
			t.Fatalf("UUI of %d bytes", len(in.UUI))
		}
	})
}
