package sip

import (
	"log/slog"
	"testing"
	"time"

	"github.com/emiago/diago"
	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/voicehook/voicehook/internal/engine"
	"github.com/voicehook/voicehook/internal/pcm"
)

// TestDiagoPhoneCallsIn: a phone built on diago, an implementation of SDP,
// RTP and RFC 4733 independent of this package's, calls in, hears a file,
// presses a key and hangs up.
func TestDiagoPhoneCallsIn(t *testing.T) {
	srv := wavServer(t, 1000)
	ua, err := sipgo.NewUA(sipgo.WithUserAgentHostname("127.0.0.36"))
	if err != nil {
		t.Fatal(err)
	}
	defer ua.Close()
	dg := diago.NewDiago(ua, diago.WithTransport(diago.Transport{Transport: "udp", BindHost: "127.0.0.36", BindPort: 0}),
		diago.WithLogger(slog.New(slog.DiscardHandler)))
	if err := dg.ServeBackground(t.Context(), func(*diago.DialogServerSession) {}); err != nil {
		t.Fatal(err)
	}
	fe := newFakeEngine("+15550001000")
	n := startNetwork(t, Config{Addr: "127.0.0.36:0", Answers: fe.Answers, Calls: fe, Fetch: httpFetch})
	var u sip.Uri
	if err := sip.ParseUri("sip:+15550001000@"+n.Addr(), &u); err != nil {
		t.Fatal(err)
	}
	type result struct {
		d   *diago.DialogClientSession
		med *diago.DialogMedia
		err error
	}
	done := make(chan result, 1)
	go func() {
		d, med, err := dg.Invite(t.Context(), u, diago.InviteOptions{})
		done <- result{d, med, err}
	}()
	tl := fe.next(t)
	tl.Answered()
	r := <-done
	if r.err != nil {
		t.Fatalf("diago's call: %v", r.err)
	}

	// It hears the file.
	audio, err := r.med.AudioReader()
	if err != nil {
		t.Fatal(err)
	}
	tl.Play(engine.Playback{ID: 1, Prompts: []engine.Prompt{{URL: srv.URL + "/tone.wav"}}})
	var heard []int16
	buf := make([]byte, 1500)
	deadline := time.Now().Add(1500 * time.Millisecond)
	for time.Now().Before(deadline) {
		k, err := audio.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		heard = pcm.DecodeULaw(heard, buf[:k])
	}
	tl.wait(t, engine.PhonePlayed)
	tone := loud(heard)
	if d := time.Duration(len(tone)) * time.Second / rate; d < 900*time.Millisecond {
		t.Errorf("diago heard %v of the tone, want 1s", d)
	}
	if f := pcm.Frequency(tone, rate); !within(f, 1000, 0.03) {
		t.Errorf("diago heard %.0f Hz, want 1000", f)
	}

	// It presses a key.
	w, err := r.med.AudioWriterDTMF()
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WriteDTMF('7'); err != nil {
		t.Fatal(err)
	}
	if d := tl.wait(t, engine.PhoneDigit); d.Digit != '7' {
		t.Errorf("digit %c, want 7", d.Digit)
	}

	// It hangs up.
	if err := r.d.Hangup(t.Context()); err != nil {
		t.Fatal(err)
	}
	tl.wait(t, engine.PhoneHungUp)
}

// TestDiagoPhoneAnswers: a diago phone behind the gateway answers, hears
// the digits sent to it, and hangs up.
func TestDiagoPhoneAnswers(t *testing.T) {
	ua, err := sipgo.NewUA(sipgo.WithUserAgentHostname("127.0.0.37"))
	if err != nil {
		t.Fatal(err)
	}
	defer ua.Close()
	dg := diago.NewDiago(ua, diago.WithTransport(diago.Transport{Transport: "udp", BindHost: "127.0.0.37", BindPort: 15099}),
		diago.WithLogger(slog.New(slog.DiscardHandler)))
	keys := make(chan rune, 8)
	hangup := make(chan struct{})
	byeErr := make(chan error, 1)
	err = dg.ServeBackground(t.Context(), func(d *diago.DialogServerSession) {
		_ = d.Trying()
		_ = d.Ringing()
		med, err := d.Answer(diago.AnswerOptions{})
		if err != nil {
			return
		}
		dr, err := med.AudioReaderDTMF()
		if err != nil {
			return
		}
		go func() {
			_ = dr.Listen(func(r rune) error {
				keys <- r
				return nil
			}, 5*time.Second)
		}()
		<-hangup
		byeErr <- d.Hangup(t.Context())
	})
	if err != nil {
		t.Fatal(err)
	}
	n := startNetwork(t, Config{Addr: "127.0.0.37:0", Gateways: []Gateway{{URI: "sip:127.0.0.37:15099"}}})
	tl := newTestLine()
	line, err := n.Dial(dial, tl.notify)
	if err != nil {
		t.Fatal(err)
	}
	tl.wait(t, engine.PhoneAnswered)
	line.SendDigits(engine.Digits{Keys: "34"})
	tl.wait(t, engine.PhoneHeard)
	var got string
	for range 2 {
		select {
		case k := <-keys:
			got += string(k)
		case <-time.After(waitFor):
			t.Fatalf("diago heard %q, want 34", got)
		}
	}
	if got != "34" {
		t.Errorf("diago heard %q, want 34", got)
	}
	close(hangup)
	tl.wait(t, engine.PhoneHungUp)
	if err := <-byeErr; err != nil {
		t.Errorf("diago's BYE: %v", err)
	}
}
