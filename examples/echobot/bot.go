package main

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/coder/websocket"
	"github.com/go-json-experiment/json"
)

// Bot is the bot's WebSocket endpoint, the destination of a bidirectional
// media stream. Each connection is one call: the bot reads the caller's
// audio (media messages of the inbound track, μ-law at 8 kHz, 20 ms each),
// cuts it into turns at pauses, and plays each turn back (playAudio).
//
// The WebSocket library is github.com/coder/websocket, which voicehook
// itself uses to dial streams; JSON is github.com/go-json-experiment/json,
// the Go team's JSON v2, which decodes the 50 messages a second of a
// stream at a third of encoding/json's cost.
type Bot struct {
	Log *slog.Logger
	// Echoed, if set, is told of each turn played back, and how long it
	// lasts: for a test to see what the bot sent.
	Echoed func(callID string, seconds float64)
}

// Turn-taking, in 20 ms frames.
const (
	frame        = 160 // bytes of μ-law in 20 ms
	minSpeech    = 10  // a turn is at least 200 ms of speech…
	endPause     = 30  // …ended by 600 ms of quiet
	bargeIn      = 5   // 100 ms of speech while the bot plays interrupts it
	maxTurn      = 750 // 15 s: a longer turn is played back in parts
	loudAbsLevel = 500 // mean absolute sample level of speech (about −36 dBFS)
)

// message is a frame of the stream, either way.
type message struct {
	EventType string `json:"eventType"`
	Metadata  *struct {
		CallID   string `json:"callId"`
		StreamID string `json:"streamId"`
	} `json:"metadata,omitzero"`
	Track   string `json:"track,omitzero"`
	Payload []byte `json:"payload,omitzero"` // base64 in JSON
	Media   *media `json:"media,omitzero"`
}

type media struct {
	ContentType string `json:"contentType"`
	Payload     []byte `json:"payload"`
}

func (b *Bot) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c, err := websocket.Accept(w, r, nil)
	if err != nil {
		b.Log.Warn("not a WebSocket", "err", err) // Accept answered the request
		return
	}
	defer c.CloseNow()
	ctx := r.Context()
	var (
		callID       string
		turn         []byte // the caller's audio since its turn began
		speech       int    // frames of speech in it
		quiet        int    // frames of quiet since the last speech
		playingUntil time.Time
	)
	send := func(m message) error {
		data, err := json.Marshal(m)
		if err != nil {
			return err
		}
		return c.Write(ctx, websocket.MessageText, data)
	}
	// The message, its payload and the turn reuse their arrays: 50
	// messages come a second.
	var (
		data bytes.Buffer
		m    message
	)
	for {
		// Reads take no deadline: voicehook closes the socket when the
		// stream stops, and a context here would cost a timer a message.
		_, r, err := c.Reader(context.Background())
		if err == nil {
			data.Reset()
			_, err = data.ReadFrom(r)
		}
		if err != nil {
			if websocket.CloseStatus(err) == -1 && !errors.Is(err, context.Canceled) {
				b.Log.Warn("stream lost", "call", callID, "err", err)
			}
			return
		}
		m = message{Payload: m.Payload[:0]} // Unmarshal decodes into the array
		if err := json.Unmarshal(data.Bytes(), &m); err != nil {
			b.Log.Warn("not a stream message", "err", err)
			continue
		}
		switch m.EventType {
		case "start":
			if m.Metadata != nil {
				callID = m.Metadata.CallID
			}
			b.Log.Info("stream open", "call", callID)
		case "stop":
			b.Log.Info("stream stopped", "call", callID)
			c.Close(websocket.StatusNormalClosure, "")
			return
		case "media":
			if m.Track != "inbound" {
				continue
			}
			if loud(m.Payload) {
				speech++
				quiet = 0
				if speech == bargeIn && time.Now().Before(playingUntil) {
					b.Log.Info("caller interrupted: clear", "call", callID)
					playingUntil = time.Time{}
					if err := send(message{EventType: "clear"}); err != nil {
						return
					}
				}
			} else if speech > 0 {
				quiet++
			}
			if speech == 0 {
				continue // nothing said yet
			}
			turn = append(turn, m.Payload...) // a copy: m.Payload is reused
			if quiet < endPause && len(turn) < maxTurn*frame {
				continue
			}
			said := turn[:len(turn)-quiet*frame]
			if speech >= minSpeech {
				b.Log.Info("echo", "call", callID, "seconds", float64(len(said))/8000)
				if err := send(message{EventType: "playAudio", Media: &media{ContentType: "audio/pcmu", Payload: said}}); err != nil {
					return
				}
				playingUntil = time.Now().Add(time.Duration(len(said)) * time.Second / 8000)
				if b.Echoed != nil {
					b.Echoed(callID, float64(len(said))/8000)
				}
			}
			turn, speech, quiet = turn[:0], 0, 0 // the turn was sent: reuse its array
		}
	}
}

// loud reports whether 20 ms of μ-law is speech rather than quiet.
func loud(ulaw []byte) bool {
	if len(ulaw) == 0 {
		return false
	}
	sum := 0
	for _, b := range ulaw {
		sum += magnitude[b]
	}
	return sum/len(ulaw) >= loudAbsLevel
}

// magnitude is the absolute value of each μ-law byte's sample: looked up,
// as the bot hears 8000 of them a second.
var magnitude = func() (m [256]int) {
	for b := range m {
		s := int(linear(byte(b)))
		m[b] = max(s, -s)
	}
	return m
}()

// linear decodes a G.711 μ-law byte to a 16-bit sample.
func linear(u byte) int16 {
	u = ^u
	t := (int(u&0x0f)<<3 + 0x84) << (u & 0x70 >> 4)
	if u&0x80 != 0 {
		return int16(0x84 - t)
	}
	return int16(t - 0x84)
}
