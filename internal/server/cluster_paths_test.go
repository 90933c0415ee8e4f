package server

import "testing"

// TestOwnedByPath: the paths forwarded to the node that owns what they
// name, and the ones every node answers itself.
func TestOwnedByPath(t *testing.T) {
	for _, c := range []struct{ path, kind, id string }{
		{"/api/v2/accounts/9900000/calls/c-1", "call", "c-1"},
		{"/api/v2/accounts/9900000/calls/c-1/recordings/r-1/media", "call", "c-1"},
		{"/api/v2/accounts/9900000/conferences/conf-1/members/c-2", "conference", "conf-1"},
		{"/sim/v1/calls/c-1/dtmf", "call", "c-1"},
		{"/api/v2/accounts/9900000/calls", "", ""},       // createCall and listings: any node
		{"/api/v2/accounts/9900000/conferences", "", ""}, // listings
		{"/api/v2/accounts/9900000/recordings", "", ""},
		{"/sim/v1/phones/+15550000000", "", ""},
		{"/sim/v1/inbound", "", ""},
		{"/console/api/calls", "", ""},
	} {
		if kind, id := ownedByPath(c.path); kind != c.kind || id != c.id {
			t.Errorf("%s: %q %q; want %q %q", c.path, kind, id, c.kind, c.id)
		}
	}
}
