package console

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/voicehook/voicehook/internal/engine"
)

func TestHubSendsRowsAndDropsStreamsThatFallBehind(t *testing.T) {
	var reads atomic.Int64
	h := newHub(func(_ context.Context, id string) (Row, bool) {
		reads.Add(1)
		return Row{CallID: id, AccountID: "9900000", State: "answered"}, id != "c-gone"
	})
	h.changed("c-nobody") // no stream: nothing is read
	fast, slow, other := h.subscribe(""), h.subscribe("9900000"), h.subscribe("5550000")
	h.changed("c-1")
	select {
	case msg := <-fast:
		if !strings.HasPrefix(string(msg), "event: call\ndata: {") || !strings.Contains(string(msg), `"callId":"c-1"`) || !strings.HasSuffix(string(msg), "\n\n") {
			t.Errorf("message %q", msg)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no message")
	}
	if reads.Load() != 1 {
		t.Errorf("%d reads, want 1 (none without streams)", reads.Load())
	}
	// The slow stream never reads: once its buffer is full it is closed.
	for i := range 400 {
		h.changed("c-x" + string(rune('a'+i%26)) + string(rune('a'+i/26)))
		for len(fast) > 0 {
			<-fast
		}
		time.Sleep(100 * time.Microsecond)
	}
	deadline := time.After(5 * time.Second)
	for closed := false; !closed; {
		select {
		case _, ok := <-slow:
			closed = !ok
		case <-deadline:
			t.Fatal("the slow stream was not dropped")
		}
	}
	select {
	case msg := <-other:
		t.Errorf("a stream of another account got %q", msg)
	default:
	}
	h.close()
	h.close() // twice is fine
	if _, ok := <-fast; ok {
		for range fast {
		}
	}
	if h.subscribe("") != nil {
		t.Error("subscribed after close")
	}
}

func TestEntriesLocateBadReplies(t *testing.T) {
	hist := []engine.HistoryEntry{
		{Kind: "webhook", Summary: "answer → POST http://app/answer", Detail: []byte(`{"eventType":"answer"}`)},
		{Kind: "attempt", Summary: "POST http://app/answer: 200 in 1ms", Detail: []byte(`{"status":200,"reply":"<Response>\n<Gather maxDigits=\"99\"/>\n</Response>"}`)},
		{Kind: "webhook", Summary: "transferAnswer → GET http://app/leg"},
		{Kind: "attempt", Detail: []byte(`{"status":200,"reply":"<Response><Transfer/></Response>"}`)},
		{Kind: "attempt", Detail: []byte(`{"status":200,"reply":""}`)},
		{Kind: "state", Summary: "answered", Detail: []byte("not json")},
		{Kind: "attempt", Detail: []byte(`{"status":500,"reply":"panic: nil map"}`)},
	}
	es := entries("c-1", hist)
	if es[0].Webhook == nil || es[0].Webhook.EventType != "answer" || es[0].Webhook.Method != "POST" || es[0].Webhook.URL != "http://app/answer" || es[0].Seq != 1 {
		t.Errorf("webhook entry %+v", es[0])
	}
	if e := es[1].BXMLError; e == nil || e.Line != 2 || !strings.Contains(e.Message, "maxDigits") {
		t.Errorf("bad reply not located: %+v", e)
	}
	// A Transfer is not allowed in a transferAnswer reply.
	if e := es[3].BXMLError; e == nil || !strings.Contains(e.Message, "Transfer") {
		t.Errorf("transferAnswer reply checked in the wrong context: %+v", e)
	}
	if es[4].BXMLError != nil || string(es[5].Detail) != "null" || es[6].BXMLError != nil {
		t.Errorf("empty reply %+v, detail %s, failure's body %+v", es[4].BXMLError, es[5].Detail, es[6].BXMLError)
	}
	if _, ok := parseWebhookSummary("no arrow"); ok {
		t.Error("parsed a summary without an arrow")
	}
}
