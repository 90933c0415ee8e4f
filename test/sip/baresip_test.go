package sip_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/voicehook/voicehook/callback"
	"github.com/voicehook/voicehook/internal/pcm"
)

// baresip is a softphone run as a process: it says what its source WAV
// holds, auto-answers, takes keys over UDP (its cons module) and keeps
// what it heard (its sndfile module writes dump-…-dec.wav).
type baresip struct {
	dir, ip string
	keys    int // the cons port
	cmd     *exec.Cmd
	out     lockedBuffer
}

// lockedBuffer keeps a process's output, safe to read while it writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// output is what baresip printed so far.
func (b *baresip) output() string { return b.out.String() }

// startBaresip runs baresip on ip as the phone of number (its SIP user),
// saying a tone of freq Hz, with the commands given (e.g. "/dial sip:…"),
// for at most d.
func startBaresip(t *testing.T, ip, number string, freq float64, d time.Duration, commands ...string) *baresip {
	return startBaresipSaying(t, ip, number, pcm.Tone(freq, 8000, d+10*time.Second, 0.4), d, commands...)
}

// startBaresipSaying runs baresip saying say (8 kHz samples), then
// silence, for at most d.
func startBaresipSaying(t *testing.T, ip, number string, say []int16, d time.Duration, commands ...string) *baresip {
	t.Helper()
	acct, err := os.ReadFile(filepath.Join("softphone", "accounts"))
	if err != nil {
		t.Fatal(err)
	}
	account := strings.NewReplacer("+15557770000", number, "127.0.0.1", ip).Replace(string(acct))
	return startBaresipAccount(t, ip, account, say, d, commands...)
}

// startBaresipAccount runs the softphone of test/sip/softphone with the
// account line given.
func startBaresipAccount(t *testing.T, ip, account string, say []int16, d time.Duration, commands ...string) *baresip {
	t.Helper()
	return startBaresipFrom(t, "softphone", ip, account, say, d, commands...)
}

// startBaresipFrom runs baresip with the config of dir (one of
// test/sip/softphone's) on ip, and the account line given.
func startBaresipFrom(t *testing.T, dir, ip, account string, say []int16, d time.Duration, commands ...string) *baresip {
	t.Helper()
	bin := require(t, "baresip", "baresip-core")
	b := &baresip{dir: t.TempDir(), ip: ip, keys: 5555}
	source := filepath.Join(b.dir, "say.wav")
	f, err := os.Create(source)
	if err != nil {
		t.Fatal(err)
	}
	// Longer than the call: baresip hangs up when its source ends.
	if n := 8000 * int((d + 10*time.Second).Seconds()); len(say) < n {
		say = append(say, make([]int16, n-len(say))...)
	}
	if err := pcm.WriteWAV(f, 8000, say); err != nil {
		t.Fatal(err)
	}
	f.Close()
	// The README's softphone (test/sip/softphone…), on its own address,
	// with files for a sound card: its source, sndfile's dumps of what it
	// heard, and keys over UDP (cons). net_interface keeps its SDP, and so
	// all RTP, on loopback.
	tmpl, err := os.ReadFile(filepath.Join(dir, "config"))
	if err != nil {
		t.Fatal(err)
	}
	var conf strings.Builder
	for _, line := range strings.Split(string(tmpl), "\n") {
		if strings.HasPrefix(line, "audio_") || line == "module alsa.so" || line == "module stdio.so" {
			continue
		}
		conf.WriteString(strings.ReplaceAll(line, "127.0.0.1", ip) + "\n")
	}
	fmt.Fprintf(&conf, "module aufile.so\nmodule sndfile.so\nmodule cons.so\naudio_source aufile,%s\naudio_player aufile,%s\n"+
		"audio_alert aufile,/dev/null\ncons_listen %s:%d\nsnd_path %s\n", source, filepath.Join(b.dir, "player.wav"), ip, b.keys, b.dir)
	if err := os.WriteFile(filepath.Join(b.dir, "config"), []byte(conf.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(b.dir, "accounts"), []byte(account), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"-f", b.dir, "-t", fmt.Sprint(int(d.Seconds()))}
	for _, c := range commands {
		args = append(args, "-e", c)
	}
	ctx, cancel := context.WithTimeout(context.Background(), d+5*time.Second)
	b.cmd = exec.CommandContext(ctx, bin, args...)
	b.cmd.Stdout, b.cmd.Stderr = &b.out, &b.out
	b.cmd.WaitDelay = time.Second
	if err := b.cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		b.cmd.Wait()
		if t.Failed() {
			t.Logf("baresip's output:\n%s", b.out.String())
		}
	})
	return b
}

// dial has baresip call uri, as typing /dial in its console does.
func (b *baresip) dial(t *testing.T, uri string) {
	t.Helper()
	conn, err := net.Dial("udp", net.JoinHostPort(b.ip, strconv.Itoa(b.keys)))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte("/dial " + uri + "\n")); err != nil {
		t.Fatal(err)
	}
}

// press sends keys to baresip's console: each becomes an RFC 4733 digit.
func (b *baresip) press(t *testing.T, keys string) {
	t.Helper()
	conn, err := net.Dial("udp", net.JoinHostPort(b.ip, strconv.Itoa(b.keys)))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, k := range keys {
		if _, err := conn.Write([]byte(string(k))); err != nil {
			t.Fatal(err)
		}
		time.Sleep(400 * time.Millisecond)
	}
}

// heard returns what baresip received: its sndfile dump.
func (b *baresip) heard(t *testing.T) pcm.Clip {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(b.dir, "dump-*-dec.wav"))
	if len(files) == 0 {
		t.Fatalf("baresip kept no audio (no dump-*-dec.wav in %s)", b.dir)
	}
	f, err := os.Open(files[0])
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	clip, err := pcm.DecodeWAV(f, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	return clip
}

// The README's walk-through: a softphone dials the dev application,
// hears its SpeakSentence (real speech from espeak-ng), presses 1 2 that
// arrive in the gather webhook, and is hung up by <Hangup/>.
func TestBaresipCallsInHearsSpeechAndPressesKeys(t *testing.T) {
	require(t, "espeak-ng", "espeak-ng")
	a := newApp(t, map[string]string{
		"/initiate": `<Response><SpeakSentence>Welcome to voicehook. Please enter two digits.</SpeakSentence>` +
			`<Gather gatherUrl="/gather" maxDigits="2" firstDigitTimeout="10"/></Response>`,
		"/gather": `<Response><SpeakSentence>Thank you.</SpeakSentence><Hangup/></Response>`,
	})
	srv := startVoicehook(t, "127.0.0.101:5060", a)
	phone := startBaresip(t, "127.0.0.102", "+15557770000", 300, 25*time.Second, "/dial sip:+15550001000@"+srv.SIPAddr())
	a.wait(t, callback.EventInitiate, 10*time.Second)
	waitGathers(t, srv, onlyCall(t, srv), 1) // the welcome has played
	phone.press(t, "12")
	g := a.wait(t, callback.EventGather, 10*time.Second).(*callback.Gather)
	if g.Digits != "12" {
		t.Errorf("gather digits %q, want 12", g.Digits)
	}
	d := a.wait(t, callback.EventDisconnect, 10*time.Second).(*callback.Disconnect)
	if d.Cause != callback.CauseHangup {
		t.Errorf("disconnect cause %s, want hangup", d.Cause)
	}
	phone.cmd.Process.Signal(os.Interrupt)
	phone.cmd.Wait()
	heard := phone.heard(t)
	// The phone heard speech for seconds, not silence: the welcome's
	// loudness over its first 3 s.
	if heard.Duration() < 4*time.Second {
		t.Fatalf("the phone heard %v of audio", heard.Duration())
	}
	if rms := pcm.RMS(heard.Samples[:3*heard.Rate]); rms < 0.01 {
		t.Errorf("the phone heard silence where the welcome plays (RMS %.4f)", rms)
	}
}

// An app's createCall rings a softphone behind the gateway; it answers,
// and <Record> keeps what it says: a 1 kHz tone, found in the recording.
func TestBaresipAnswersAndIsRecorded(t *testing.T) {
	a := newApp(t, map[string]string{
		"/answer":   `<Response><Record maxDuration="3" recordCompleteUrl="/recorded"/></Response>`,
		"/recorded": `<Response><Hangup/></Response>`,
	})
	srv := startVoicehook(t, "127.0.0.103:5060", a, "sip:127.0.0.104:5060")
	startBaresip(t, "127.0.0.104", "+15553330000", 1000, 20*time.Second)
	time.Sleep(500 * time.Millisecond) // baresip listens
	id := placeCall(t, srv, a, "+15553330000", nil)
	rc := a.wait(t, callback.EventRecordComplete, 15*time.Second).(*callback.RecordComplete)
	media := get(t, srv, "/api/v2/accounts/9900000/calls/"+id+"/recordings/"+rc.RecordingID+"/media")
	clip, err := pcm.DecodeWAV(strings.NewReader(media), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if clip.Duration() < 2500*time.Millisecond {
		t.Fatalf("recording of %v", clip.Duration())
	}
	mid := clip.Samples[clip.Rate : 2*clip.Rate]
	if f := pcm.Frequency(mid, clip.Rate); f < 970 || f > 1030 {
		t.Errorf("the recording's tone is %.0f Hz, want 1000 Hz", f)
	}
	a.wait(t, callback.EventDisconnect, 10*time.Second)
}
