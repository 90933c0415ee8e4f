package engine

import (
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/voicehook/voicehook/bxml"
	"github.com/voicehook/voicehook/callback"
)

// TestEncodeNotifySkipsInPairs: a webhook that cannot be encoded is left
// out of the store's rows and of the webhooks paired with their ids alike,
// so the webhooks after it keep their own rows.
func TestEncodeNotifySkipsInPairs(t *testing.T) {
	ws := []Webhook{
		{ID: "a", CallID: "c-1", Event: &callback.Answer{}},
		{ID: "bad", CallID: "c-1", Event: &callback.Unknown{}}, // no eventType: Encode refuses it
		{ID: "c", CallID: "c-1", Event: &callback.Disconnect{}},
	}
	enc, sent := encodeNotify(ws, slog.New(slog.DiscardHandler))
	if len(enc) != 2 || len(sent) != 2 {
		t.Fatalf("%d rows, %d webhooks; want 2 and 2", len(enc), len(sent))
	}
	for i, q := range enc {
		var stored struct{ Event struct{ EventType string } }
		if err := json.Unmarshal(q.Data, &stored); err != nil {
			t.Fatal(err)
		}
		if q.EventID != sent[i].ID || stored.Event.EventType != string(sent[i].Event.Type()) {
			t.Errorf("row %d holds %s %q, paired with webhook %s %q", i, stored.Event.EventType, q.EventID, sent[i].Event.Type(), sent[i].ID)
		}
	}
}

// TestVerbDetailMasksPasswords: a verb's history detail masks every
// password attribute, nested verbs' too, and the verb that runs keeps them.
func TestVerbDetailMasksPasswords(t *testing.T) {
	gather := &bxml.Gather{GatherURL: "https://app.test/g", Password: "g", FallbackPassword: "gf",
		Prompts: []bxml.Verb{&bxml.PlayAudio{URL: "https://app.test/a.wav", Password: "p"}, &bxml.SpeakSentence{Text: "hi"}}}
	stream := &bxml.StartStream{Destination: "wss://127.0.0.1/s", DestinationPassword: "d", Password: "s",
		Params: []*bxml.StreamParam{{Name: "password", Value: "not an attribute"}}}
	for _, tt := range []struct {
		v      bxml.Verb
		masked int
	}{{gather, 3}, {stream, 2}, {&bxml.Redirect{RedirectURL: "https://app.test/r"}, 0}} {
		before, err := bxml.MarshalVerb(tt.v)
		if err != nil {
			t.Fatal(err)
		}
		var d struct{ BXML string }
		if err := json.Unmarshal(verbDetail(tt.v), &d); err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(d.BXML, `assword="*****"`); n != tt.masked || strings.Count(d.BXML, `assword="`) != tt.masked {
			t.Errorf("detail %s: %d masked passwords, want %d, and no other", d.BXML, n, tt.masked)
		}
		if after, _ := bxml.MarshalVerb(tt.v); string(after) != string(before) {
			t.Errorf("the verb changed: %s, was %s", after, before)
		}
	}
	if p := gather.Prompts[0].(*bxml.PlayAudio); p.Password != "p" {
		t.Errorf("the prompt's password became %q", p.Password)
	}
}
