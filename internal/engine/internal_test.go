package engine

import (
	"encoding/json"
	"log/slog"
	"testing"

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
