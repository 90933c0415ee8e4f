package sip

import (
	"context"
	"errors"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/voicehook/voicehook/internal/engine"
	"github.com/voicehook/voicehook/internal/pcm"
	"github.com/voicehook/voicehook/internal/tts"
)

// inboundCall starts a network on host answering +15550001000, has a phone
// call it, and returns them with the engine's line once answered.
func inboundCall(t *testing.T, host string, cfg Config, event int) (*Network, *phone, *testLine, *sipgo.DialogClientSession) {
	t.Helper()
	return inboundCallOn(t, host, newPhone(t, host), cfg, event)
}

// inboundCallOn is inboundCall from phone p.
func inboundCallOn(t *testing.T, host string, p *phone, cfg Config, event int) (*Network, *phone, *testLine, *sipgo.DialogClientSession) {
	t.Helper()
	fe := newFakeEngine("+15550001000")
	cfg.Addr = host + ":0"
	cfg.Answers, cfg.Calls = fe.Answers, fe
	n := startNetwork(t, cfg)
	type result struct {
		dc    *sipgo.DialogClientSession
		codes []int
		err   error
	}
	done := make(chan result, 1)
	go func() {
		dc, codes, err := p.call(t.Context(), "sip:+15550001000@"+n.Addr(), p.offer(event), sip.NewHeader("X-Account-Tag", "blue"))
		done <- result{dc, codes, err}
	}()
	tl := fe.next(t)
	tl.Answered()
	var r result
	select {
	case r = <-done:
	case <-time.After(waitFor):
		t.Fatal("the call was not answered")
	}
	if r.err != nil {
		t.Fatalf("call: %v", r.err)
	}
	// The sipgo phone may miss provisional responses that come just
	// before the 200; the signals show the 180 was sent.
	if len(r.codes) == 0 || r.codes[len(r.codes)-1] != 200 {
		t.Errorf("responses %v, want a 200 last", r.codes)
	}
	return n, p, tl, r.dc
}

func TestInboundPlaysAFile(t *testing.T) {
	srv := wavServer(t, 1000)
	n, p, tl, dc := inboundCall(t, "127.0.0.21", Config{Fetch: httpFetch}, 101)
	_ = n
	if tl.in.From != "+15551234567" || tl.in.To != "+15550001000" || tl.in.AccountID != "acct" {
		t.Errorf("inbound from %q to %q account %q", tl.in.From, tl.in.To, tl.in.AccountID)
	}
	if tl.in.SIPCallID != dc.InviteRequest.CallID().Value() {
		t.Errorf("SIPCallID %q, want %q", tl.in.SIPCallID, dc.InviteRequest.CallID().Value())
	}
	if got := tl.in.SIPHeaders["x-account-tag"]; got != "blue" {
		t.Errorf("sipHeaders %v, want x-account-tag blue", tl.in.SIPHeaders)
	}
	if !tl.Play(engine.Playback{ID: 7, Prompts: []engine.Prompt{{URL: srv.URL + "/tone.wav"}}}) {
		t.Fatal("Play returned false on a line that carries audio")
	}
	played := tl.wait(t, engine.PhonePlayed)
	if played.PlayID != 7 || played.Reason != "" {
		t.Fatalf("played %+v", played)
	}
	time.Sleep(100 * time.Millisecond) // the last packets in flight
	heard := loud(p.heard())
	if d := time.Duration(len(heard)) * time.Second / rate; d < 950*time.Millisecond || d > 1050*time.Millisecond {
		t.Errorf("the phone heard %v of tone, want 1s", d)
	}
	if rms := pcm.RMS(heard); rms < 0.2 {
		t.Errorf("the tone is too quiet: RMS %.2f of full scale", rms)
	}
	if f := pcm.Frequency(heard, rate); !within(f, 1000, 0.03) {
		t.Errorf("the phone heard %.0f Hz, want 1000 Hz", f)
	}
	first := tl.all()[0]
	if first.SIPCallID != tl.in.SIPCallID {
		t.Errorf("first event's SIPCallID %q, want %q", first.SIPCallID, tl.in.SIPCallID)
	}
	want := []string{"← INVITE", "→ 100 Trying", "→ 180 Ringing", "→ 200 OK"}
	if got := tl.signals(); len(got) < 4 || !slices.Equal(got[:4], want) {
		t.Errorf("signals %q, want them to start %q", got, want)
	}

	tl.Hangup()
	if !p.gotBye() {
		t.Fatal("the phone got no BYE")
	}
	if tl.count(engine.PhoneHungUp) != 0 {
		t.Error("PhoneHungUp after our own Hangup")
	}
}

func TestInboundPlayFailureNamesTheURL(t *testing.T) {
	srv := wavServer(t, 1000)
	_, _, tl, _ := inboundCall(t, "127.0.0.22", Config{Fetch: httpFetch}, 101)
	tl.Play(engine.Playback{ID: 3, Prompts: []engine.Prompt{{URL: srv.URL + "/missing.wav"}}})
	played := tl.wait(t, engine.PhonePlayed)
	if played.PlayID != 3 || !strings.Contains(played.Reason, "/missing.wav") {
		t.Errorf("played %+v, want PlayID 3 and a reason naming the URL", played)
	}
}

func TestInboundSpeechAndStop(t *testing.T) {
	_, p, tl, _ := inboundCall(t, "127.0.0.23", Config{TTS: toneTTS{}}, 101)
	tl.Play(engine.Playback{ID: 1, Prompts: []engine.Prompt{{Text: "hello"}}, Repeat: 2, Gap: 200 * time.Millisecond})
	played := tl.wait(t, engine.PhonePlayed)
	if played.PlayID != 1 || played.Reason != "" {
		t.Fatalf("played %+v", played)
	}
	time.Sleep(100 * time.Millisecond)
	heard := loud(p.heard())
	if d := time.Duration(len(heard)) * time.Second / rate; d < 2150*time.Millisecond || d > 2250*time.Millisecond {
		t.Errorf("two repetitions with a 200 ms gap lasted %v, want 2.2s", d)
	}
	if f := pcm.Frequency(heard[:rate], rate); !within(f, 440, 0.03) {
		t.Errorf("heard %.0f Hz, want 440", f)
	}

	// StopPlaying: the tone stops within a packet and no PhonePlayed follows.
	tl.Play(engine.Playback{ID: 2, Prompts: []engine.Prompt{{Text: "again"}}})
	time.Sleep(300 * time.Millisecond)
	tl.StopPlaying()
	time.Sleep(1200 * time.Millisecond)
	for _, e := range tl.all() {
		if e.Kind == engine.PhonePlayed && e.PlayID == 2 {
			t.Error("PhonePlayed after StopPlaying")
		}
	}
	all := p.heard()
	tail := all[len(all)-800*rate/1000:] // the last 800 ms
	if loud(tail) != nil {
		t.Error("audio still played after StopPlaying")
	}
}

func TestInboundDigitsRFC4733(t *testing.T) {
	_, p, tl, dc := inboundCall(t, "127.0.0.24", Config{}, 96)
	answer, err := parseSDP(dc.InviteResponse.Body())
	if err != nil || answer.event != 96 {
		t.Fatalf("answer telephone-event %d (%v), want the offer's 96", answer.event, err)
	}
	p.press(96, '1')
	p.press(96, '#')
	p.press(96, '1')
	deadline := time.Now().Add(waitFor)
	for tl.count(engine.PhoneDigit) < 3 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond)
	var got string
	for _, e := range tl.all() {
		if e.Kind == engine.PhoneDigit {
			got += string(e.Digit)
		}
	}
	if got != "1#1" {
		t.Errorf("digits %q, want %q", got, "1#1")
	}
}

func TestInboundInfoDTMF(t *testing.T) {
	_, _, tl, dc := inboundCall(t, "127.0.0.25", Config{}, 101)
	req := sip.NewRequest(sip.INFO, dc.InviteResponse.Contact().Address)
	req.AppendHeader(sip.NewHeader("Content-Type", "application/dtmf-relay"))
	req.SetBody([]byte("Signal=5\r\nDuration=160\r\n"))
	res, err := dc.Do(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 200 {
		t.Fatalf("INFO answered %d", res.StatusCode)
	}
	if d := tl.wait(t, engine.PhoneDigit); d.Digit != '5' {
		t.Errorf("digit %c, want 5", d.Digit)
	}
}

func TestSendDigitsHeardByPhone(t *testing.T) {
	_, p, tl, _ := inboundCall(t, "127.0.0.26", Config{}, 101)
	tl.SendDigits(engine.Digits{Keys: "4,2"})
	heard := tl.wait(t, engine.PhoneHeard)
	if heard.Digits != "42" {
		t.Errorf("PhoneHeard %q, want 42", heard.Digits)
	}
	time.Sleep(100 * time.Millisecond)
	keys, ends := p.events(101)
	if keys != "42" {
		t.Errorf("the phone decoded %q, want 42", keys)
	}
	if !slices.Equal(ends, []int{3, 3}) {
		t.Errorf("end packets per digit %v, want 3 each", ends)
	}
}

func TestCaptureHearsThePhone(t *testing.T) {
	srv := wavServer(t, 1000)
	_, p, tl, _ := inboundCall(t, "127.0.0.27", Config{Fetch: httpFetch}, 101)
	c := tl.Capture(2)
	tl.Play(engine.Playback{ID: 1, Prompts: []engine.Prompt{{URL: srv.URL + "/tone.wav"}}})
	p.say(pcm.Tone(600, rate, time.Second, 0.5))
	tl.wait(t, engine.PhonePlayed)
	time.Sleep(100 * time.Millisecond)
	a := c.Stop()
	if a.Rate != rate || len(a.Channels) != 2 || len(a.Channels[0]) != len(a.Channels[1]) {
		t.Fatalf("audio rate %d with %d channels", a.Rate, len(a.Channels))
	}
	if a.Length() < time.Second {
		t.Errorf("captured %v, want at least 1s", a.Length())
	}
	heard := loud(a.Channels[0])
	if f := pcm.Frequency(heard, rate); !within(f, 600, 0.03) {
		t.Errorf("channel 1 has %.0f Hz, want the phone's 600", f)
	}
	if d := time.Duration(len(heard)) * time.Second / rate; d < 900*time.Millisecond {
		t.Errorf("channel 1 has %v of the phone's tone, want 1s", d)
	}
	if f := pcm.Frequency(loud(a.Channels[1]), rate); !within(f, 1000, 0.03) {
		t.Errorf("channel 2 has %.0f Hz, want the played 1000", f)
	}
	// One second of speech: a report on its start and every 500 ms after.
	if n := tl.count(engine.PhoneSpeech); n < 2 || n > 3 {
		t.Errorf("%d PhoneSpeech while the phone spoke for 1s, want 2 or 3", n)
	}
}

func TestPhoneHangsUp(t *testing.T) {
	_, _, tl, dc := inboundCall(t, "127.0.0.28", Config{}, 101)
	if err := dc.Bye(t.Context()); err != nil {
		t.Fatal(err)
	}
	tl.wait(t, engine.PhoneHungUp)
	time.Sleep(50 * time.Millisecond)
	if n := tl.count(engine.PhoneHungUp); n != 1 {
		t.Errorf("%d PhoneHungUp, want 1", n)
	}
	if s := tl.signals(); !slices.Contains(s, "← BYE") {
		t.Errorf("signals %q lack ← BYE", s)
	}
}

func TestCallerCancels(t *testing.T) {
	fe := newFakeEngine("+15550001000")
	p := newPhone(t, "127.0.0.29")
	n := startNetwork(t, Config{Addr: "127.0.0.29:0", Answers: fe.Answers, Calls: fe})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		_, _, err := p.call(ctx, "sip:+15550001000@"+n.Addr(), p.offer(101))
		done <- err
	}()
	tl := fe.next(t)
	tl.wait(t, engine.PhoneSignal)
	time.Sleep(50 * time.Millisecond) // the 180 reaches the phone
	cancel()
	tl.wait(t, engine.PhoneHungUp)
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("the phone's call ended with %v", err)
	}
	if s := tl.signals(); !slices.Contains(s, "← CANCEL") {
		t.Errorf("signals %q lack ← CANCEL", s)
	}
}

func TestHangupBeforeAnswerDeclines(t *testing.T) {
	fe := newFakeEngine("+15550001000")
	p := newPhone(t, "127.0.0.30")
	n := startNetwork(t, Config{Addr: "127.0.0.30:0", Answers: fe.Answers, Calls: fe})
	done := make(chan error, 1)
	go func() {
		_, _, err := p.call(t.Context(), "sip:+15550001000@"+n.Addr(), p.offer(101))
		done <- err
	}()
	tl := fe.next(t)
	tl.Hangup()
	var err error
	select {
	case err = <-done:
	case <-time.After(waitFor):
		t.Fatal("the call did not end")
	}
	var de *sipgo.ErrDialogResponse
	if !errors.As(err, &de) || de.Res.StatusCode != 603 {
		t.Errorf("the phone's call ended with %v, want 603", err)
	}
}

func TestUnknownNumberIs404(t *testing.T) {
	fe := newFakeEngine("+15550001000")
	p := newPhone(t, "127.0.0.31")
	n := startNetwork(t, Config{Addr: "127.0.0.31:0", Answers: fe.Answers, Calls: fe})
	_, _, err := p.call(t.Context(), "sip:+15559999999@"+n.Addr(), p.offer(101))
	var de *sipgo.ErrDialogResponse
	if !errors.As(err, &de) || de.Res.StatusCode != 404 {
		t.Errorf("call to an unknown number ended with %v, want 404", err)
	}
}

func TestInboundAnswersTheOfferedCodecOrder(t *testing.T) {
	fe := newFakeEngine("+15550001000")
	p := newPhone(t, "127.0.0.32")
	n := startNetwork(t, Config{Addr: "127.0.0.32:0", Answers: fe.Answers, Calls: fe, TTS: toneTTS{}})
	offer := strings.Replace(string(p.offer(101)), "RTP/AVP 0 8 101", "RTP/AVP 8 0 101", 1)
	done := make(chan error, 1)
	var dc *sipgo.DialogClientSession
	go func() {
		c, _, err := p.call(t.Context(), "sip:+15550001000@"+n.Addr(), []byte(offer))
		dc = c
		done <- err
	}()
	tl := fe.next(t)
	tl.Answered()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	answer, err := parseSDP(dc.InviteResponse.Body())
	if err != nil || !slices.Equal(answer.codecs, []uint8{ptPCMA}) {
		t.Fatalf("answer codecs %v (%v), want PCMA alone", answer.codecs, err)
	}
	tl.Play(engine.Playback{ID: 1, Prompts: []engine.Prompt{{Text: "hi"}}})
	tl.wait(t, engine.PhonePlayed)
	time.Sleep(100 * time.Millisecond)
	for _, pk := range p.packets() {
		if pk.PayloadType != ptPCMA {
			t.Fatalf("a packet of payload type %d, want 8", pk.PayloadType)
		}
	}
	if f := pcm.Frequency(loud(p.heard()), rate); !within(f, 440, 0.03) {
		t.Errorf("heard %.0f Hz, want 440", f)
	}
}

// TestInboundSpeaksWithEspeak: a sentence spoken by espeak-ng is heard by
// the phone.
func TestInboundSpeaksWithEspeak(t *testing.T) {
	if _, err := exec.LookPath("espeak-ng"); err != nil {
		t.Skip("espeak-ng is not installed (Debian package espeak-ng)")
	}
	_, p, tl, _ := inboundCall(t, "127.0.0.33", Config{TTS: tts.Espeak("")}, 101)
	tl.Play(engine.Playback{ID: 1, Prompts: []engine.Prompt{{Text: "Welcome to voicehook.", Voice: "julie"}}})
	if e := tl.wait(t, engine.PhonePlayed); e.Reason != "" {
		t.Fatalf("played %+v", e)
	}
	time.Sleep(100 * time.Millisecond)
	heard := loud(p.heard())
	if d := time.Duration(len(heard)) * time.Second / rate; d < 500*time.Millisecond || d > 4*time.Second {
		t.Errorf("the phone heard %v of speech", d)
	}
	if rms := pcm.RMS(heard); rms < 0.02 {
		t.Errorf("speech RMS %.3f: too quiet", rms)
	}
}

// freqTTS speaks a text that is a number as one second of that many Hz.
type freqTTS struct{}

func (freqTTS) Synthesize(ctx context.Context, r tts.Request) (pcm.Clip, error) {
	f, err := strconv.Atoi(r.Text)
	if err != nil {
		return pcm.Clip{}, err
	}
	return pcm.Clip{Rate: rate, Samples: pcm.Tone(float64(f), rate, time.Second, 0.5)}, nil
}

// TestConcurrentCallsKeepTheirAudio: four calls at once each hear their
// own prompt.
func TestConcurrentCallsKeepTheirAudio(t *testing.T) {
	fe := newFakeEngine("+15550001000")
	freqs := []int{400, 700, 1100, 1700}
	phones := make([]*phone, len(freqs))
	for i := range freqs {
		phones[i] = newPhone(t, "127.0.0.34")
	}
	n := startNetwork(t, Config{Addr: "127.0.0.34:0", Answers: fe.Answers, Calls: fe, TTS: freqTTS{}})
	errs := make(chan error, len(freqs))
	for i := range freqs {
		go func() {
			_, _, err := phones[i].call(t.Context(), "sip:+15550001000@"+n.Addr(), phones[i].offer(101),
				sip.NewHeader("X-Tone", strconv.Itoa(freqs[i])))
			errs <- err
		}()
	}
	var lines []*testLine
	for range freqs {
		tl := fe.next(t)
		tl.Answered()
		lines = append(lines, tl)
	}
	for range freqs {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	for _, tl := range lines {
		tl.Play(engine.Playback{ID: 1, Prompts: []engine.Prompt{{Text: tl.in.SIPHeaders["x-tone"]}}})
	}
	for _, tl := range lines {
		if e := tl.wait(t, engine.PhonePlayed); e.Reason != "" {
			t.Fatalf("played %+v", e)
		}
	}
	time.Sleep(100 * time.Millisecond)
	for i, p := range phones {
		heard := loud(p.heard())
		if f := pcm.Frequency(heard, rate); !within(f, float64(freqs[i]), 0.03) {
			t.Errorf("phone %d heard %.0f Hz, want %d", i, f, freqs[i])
		}
		if d := time.Duration(len(heard)) * time.Second / rate; d < 950*time.Millisecond || d > 1050*time.Millisecond {
			t.Errorf("phone %d heard %v, want 1s", i, d)
		}
	}
}

func TestAnswerWithoutACKHangsUp(t *testing.T) {
	p := newPhone(t, "127.0.0.79")
	fe := newFakeEngine("+15550001000")
	n, err := New(Config{Addr: "127.0.0.79:0", Answers: fe.Answers, Calls: fe})
	if err != nil {
		t.Fatal(err)
	}
	n.ackWait = 300 * time.Millisecond
	if err := n.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })

	// The phone takes the 200 but never sends the ACK.
	dc := p.writeInvite(t, "sip:+15550001000@"+n.Addr())
	answered := make(chan error, 1)
	go func() { answered <- dc.WaitAnswer(t.Context(), sipgo.AnswerOptions{}) }()
	tl := fe.next(t)
	tl.Answered()
	if err := <-answered; err != nil {
		t.Fatal(err)
	}
	p.mu.Lock()
	p.clients[dc.ID] = dc
	p.mu.Unlock()

	tl.wait(t, engine.PhoneHungUp)
	if !p.gotBye() {
		t.Error("the phone got no BYE")
	}
	time.Sleep(100 * time.Millisecond)
	if c := tl.count(engine.PhoneHungUp); c != 1 {
		t.Errorf("PhoneHungUp %d times, want once", c)
	}
	if slices.Contains(tl.signals(), "← ACK") {
		t.Errorf("signals %q report an ACK that never came", tl.signals())
	}
}

// writeInvite sends an INVITE to uri with the phone's offer, and returns
// its dialog without waiting for an answer.
func (p *phone) writeInvite(t *testing.T, uri string) *sipgo.DialogClientSession {
	t.Helper()
	var u sip.Uri
	if err := sip.ParseUri(uri, &u); err != nil {
		t.Fatal(err)
	}
	req := sip.NewRequest(sip.INVITE, u)
	from := &sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: "15551234567", Host: p.host}, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(8))
	req.AppendHeader(from)
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	req.SetBody(p.offer(101))
	dc, err := p.dua.WriteInvite(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	return dc
}

func TestByeBeforeAnswerIs487(t *testing.T) {
	p := newPhone(t, "127.0.0.80")
	fe := newFakeEngine("+15550001000")
	n := startNetwork(t, Config{Addr: "127.0.0.80:0", Answers: fe.Answers, Calls: fe})
	dc := p.writeInvite(t, "sip:+15550001000@"+n.Addr())
	ringing := make(chan *sip.Response, 1)
	ended := make(chan error, 1)
	go func() {
		ended <- dc.WaitAnswer(t.Context(), sipgo.AnswerOptions{OnResponse: func(r *sip.Response) error {
			if r.StatusCode == 180 {
				select {
				case ringing <- r:
				default:
				}
			}
			return nil
		}})
	}()
	tl := fe.next(t)
	var r180 *sip.Response
	select {
	case r180 = <-ringing:
	case <-time.After(waitFor):
		t.Fatal("no 180")
	}
	// A BYE in the early dialog, before any 200.
	bye := sip.NewRequest(sip.BYE, dc.InviteRequest.Recipient)
	bye.AppendHeader(sip.HeaderClone(dc.InviteRequest.From()))
	bye.AppendHeader(sip.HeaderClone(r180.To()))
	bye.AppendHeader(sip.HeaderClone(dc.InviteRequest.CallID()))
	bye.AppendHeader(&sip.CSeqHeader{SeqNo: dc.InviteRequest.CSeq().SeqNo + 1, MethodName: sip.BYE})
	res, err := p.dua.Client.Do(t.Context(), bye)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 200 {
		t.Errorf("BYE answered %d", res.StatusCode)
	}
	select {
	case err := <-ended:
		var de *sipgo.ErrDialogResponse
		if !errors.As(err, &de) || de.Res.StatusCode != 487 {
			t.Errorf("the INVITE ended with %v, want 487", err)
		}
	case <-time.After(waitFor):
		t.Error("the INVITE got no final response")
	}
	tl.wait(t, engine.PhoneHungUp)
}
