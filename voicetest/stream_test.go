package voicetest_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/coder/websocket"

	"github.com/voicehook/voicehook/bxml"
	"github.com/voicehook/voicehook/callback"
	"github.com/voicehook/voicehook/voicetest"
	"github.com/voicehook/voicehook/webhook"
)

// A bot given as Options.Bot is reached in process whatever the stream's
// destination says, wss:// as real apps write it included: it gets the
// caller's voice and what it plays is heard, and answered, by the phone.
func TestBotOverWSS(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		app := webhook.New()
		app.OnInitiate(func(context.Context, *callback.Initiate) (*bxml.Response, error) {
			return bxml.NewResponse(&bxml.StartStream{Name: "bot", Mode: "bidirectional",
				Destination: "wss://bot.example.com/stream"}, // only named: in process nothing is dialled
				&bxml.Pause{Duration: 60e9}), nil
		})
		var mu sync.Mutex
		var got []string
		bot := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, err := websocket.Accept(w, r, nil)
			if err != nil {
				t.Errorf("accept: %v", err)
				return
			}
			defer c.CloseNow()
			loud := 0
			for {
				_, data, err := c.Read(context.Background())
				if err != nil {
					return
				}
				var m struct {
					EventType string `json:"eventType"`
					Payload   []byte `json:"payload"`
				}
				if err := json.Unmarshal(data, &m); err != nil {
					t.Errorf("not JSON: %s", data)
					return
				}
				mu.Lock()
				if len(got) == 0 || got[len(got)-1] != m.EventType {
					got = append(got, m.EventType)
				}
				mu.Unlock()
				if m.EventType == "media" && !silent(m.Payload) {
					if loud++; loud == 25 { // half a second of the caller's voice: answer it
						tone := make([]byte, 8000) // a second of μ-law
						for i := range tone {
							tone[i] = byte(0x20 + i%16)
						}
						reply := fmt.Sprintf(`{"eventType":"playAudio","media":{"contentType":"audio/pcmu","payload":%q}}`,
							base64.StdEncoding.EncodeToString(tone))
						if err := c.Write(context.Background(), websocket.MessageText, []byte(reply)); err != nil {
							return
						}
					}
				}
			}
		})
		v := voicetest.New(t, app, voicetest.Options{Bot: bot, Phones: map[string]voicetest.Phone{
			"+15557770000": {Says: "Hello bot", OnHearing: []voicetest.Reaction{{Say: "Bye now", Hangup: true}}},
		}})
		call := v.Inbound("+15557770000", "+15550001000")
		v.Run()
		call.WantCause("hangup")
		mu.Lock()
		defer mu.Unlock()
		if fmt.Sprint(got) != "[start media stop]" {
			t.Errorf("the bot got %v, want start, media, stop", got)
		}
		if tl := call.Timeline(); !strings.Contains(tl, "hears stream bot's audio") || !strings.Contains(tl, `said "Bye now"`) {
			t.Errorf("the phone did not hear the bot and answer:\n%s", tl)
		}
	})
}

// silent reports whether μ-law is all zero level (0xFF and 0x7F).
func silent(ulaw []byte) bool {
	for _, b := range ulaw {
		if b != 0xFF && b != 0x7F {
			return false
		}
	}
	return true
}
