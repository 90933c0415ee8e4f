package media_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/voicehook/voicehook/internal/media"
)

// wav builds a WAVE file: encoding code, byteRate, seconds of silence, and
// a LIST chunk before the data to be skipped.
func wav(code uint16, byteRate uint32, seconds float64) []byte {
	data := make([]byte, int(float64(byteRate)*seconds))
	var b bytes.Buffer
	b.WriteString("RIFF")
	binary.Write(&b, binary.LittleEndian, uint32(4+8+16+8+4+8+len(data)))
	b.WriteString("WAVE")
	b.WriteString("fmt ")
	binary.Write(&b, binary.LittleEndian, uint32(16))
	binary.Write(&b, binary.LittleEndian, code)
	binary.Write(&b, binary.LittleEndian, uint16(1))  // channels
	binary.Write(&b, binary.LittleEndian, byteRate/2) // sample rate (16-bit)
	binary.Write(&b, binary.LittleEndian, byteRate)   // byte rate
	binary.Write(&b, binary.LittleEndian, uint16(2))  // block align
	binary.Write(&b, binary.LittleEndian, uint16(16)) // bits
	b.WriteString("LIST")
	binary.Write(&b, binary.LittleEndian, uint32(4))
	b.WriteString("INFO")
	b.WriteString("data")
	binary.Write(&b, binary.LittleEndian, uint32(len(data)))
	b.Write(data)
	return b.Bytes()
}

// mp3 builds frames of MPEG-1 layer III, 128 kbit/s, 44.1 kHz, after an ID3
// tag; with xing, the first frame carries a Xing header with the count.
func mp3(frames int, xing bool) []byte {
	var b bytes.Buffer
	b.WriteString("ID3\x03\x00\x00\x00\x00\x00\x0a")
	b.Write(make([]byte, 10))
	for i := range frames {
		frame := make([]byte, 417)
		copy(frame, []byte{0xFF, 0xFB, 0x90, 0x00})
		if xing && i == 0 {
			copy(frame[36:], "Xing")
			binary.BigEndian.PutUint32(frame[40:], 1)
			binary.BigEndian.PutUint32(frame[44:], uint32(frames))
		}
		b.Write(frame)
	}
	return b.Bytes()
}

func serve(t *testing.T, files map[string]struct {
	ctype string
	body  []byte
	cache string
}, hits *atomic.Int64) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.URL.Path == "/private.wav" {
			if u, p, ok := r.BasicAuth(); !ok || u != "me" || p != "pw" {
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
		}
		f, ok := files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		if f.ctype != "" {
			w.Header().Set("Content-Type", f.ctype)
		}
		if f.cache != "" {
			w.Header().Set("Cache-Control", f.cache)
		}
		w.Write(f.body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestAudioLength(t *testing.T) {
	var hits atomic.Int64
	files := map[string]struct {
		ctype string
		body  []byte
		cache string
	}{
		"/pcm.wav":     {"audio/wav", wav(1, 16000, 2.5), ""},
		"/ulaw":        {"audio/x-wav", wav(7, 8000, 4), ""},
		"/noext":       {"", wav(1, 16000, 1), ""},
		"/float.wav":   {"audio/wav", wav(3, 32000, 1), ""},
		"/cbr.mp3":     {"", mp3(1000, false), ""},
		"/xing":        {"audio/mpeg", mp3(1000, true), ""},
		"/song.ogg":    {"audio/ogg", []byte("OggS"), ""},
		"/text.wav":    {"audio/wav", []byte("hello"), ""},
		"/private.wav": {"audio/wav", wav(1, 16000, 3), ""},
	}
	srv := serve(t, files, &hits)
	f := media.New(media.Config{})
	ctx := context.Background()
	exact := func(name string, want time.Duration, user, pass string) {
		got, err := f.AudioLength(ctx, srv.URL+name, user, pass)
		if err != nil || got != want {
			t.Errorf("%s: %v, %v; want %v", name, got, err, want)
		}
	}
	exact("/pcm.wav", 2500*time.Millisecond, "", "")
	exact("/ulaw", 4*time.Second, "", "")
	exact("/noext", time.Second, "", "")
	exact("/private.wav", 3*time.Second, "me", "pw")
	frames := 1000 * 1152.0 / 44100 // seconds
	exact("/xing", time.Duration(frames*float64(time.Second)), "", "")
	cbr, err := f.AudioLength(ctx, srv.URL+"/cbr.mp3", "", "")
	if err != nil || math.Abs(cbr.Seconds()-frames) > 0.05*frames {
		t.Errorf("CBR mp3: %v, %v; want about %gs", cbr, err, frames)
	}
	for name, want := range map[string]string{
		"/float.wav":   "unsupported audio format: WAVE encoding 0x3",
		"/song.ogg":    "unsupported audio format: audio/ogg",
		"/text.wav":    "not a RIFF/WAVE file",
		"/missing.wav": "GET returned 404 Not Found",
		"/private.wav": "GET returned 401",
	} {
		_, err := f.AudioLength(ctx, srv.URL+name, "", "")
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), srv.URL+name) {
			t.Errorf("%s: %v; want an error naming the URL and saying %q", name, err, want)
		}
		if strings.Contains(want, "unsupported") && !errors.Is(err, media.ErrUnsupported) {
			t.Errorf("%s: %v is not ErrUnsupported", name, err)
		}
	}
}

func TestCache(t *testing.T) {
	var hits atomic.Int64
	srv := serve(t, map[string]struct {
		ctype string
		body  []byte
		cache string
	}{
		"/cached.wav":  {"audio/wav", wav(1, 16000, 1), "public, max-age=60"},
		"/nocache.wav": {"audio/wav", wav(1, 16000, 1), "no-cache"},
		"/plain.wav":   {"audio/wav", wav(1, 16000, 1), ""},
	}, &hits)
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	f := media.New(media.Config{Now: func() time.Time { return now }})
	ctx := context.Background()
	count := func(name string, n int) int64 {
		before := hits.Load()
		for range n {
			if _, err := f.AudioLength(ctx, srv.URL+name, "", ""); err != nil {
				t.Fatal(err)
			}
		}
		return hits.Load() - before
	}
	if got := count("/cached.wav", 3); got != 1 {
		t.Errorf("max-age=60: %d fetches for 3 plays, want 1", got)
	}
	now = now.Add(61 * time.Second)
	if got := count("/cached.wav", 1); got != 1 {
		t.Errorf("after max-age: %d fetches, want 1", got)
	}
	if got := count("/nocache.wav", 3); got != 3 {
		t.Errorf("no-cache: %d fetches, want 3", got)
	}
	if got := count("/plain.wav", 2); got != 2 {
		t.Errorf("no cache headers: %d fetches, want 2", got)
	}
}

// Open hands a real call the file's bytes, no more than MaxBytes of them,
// and fails as AudioLength does, naming the file.
func TestOpen(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, _ := r.BasicAuth(); r.URL.Path == "/private.wav" && (u != "app" || p != "pw") {
			http.Error(w, "who are you", http.StatusUnauthorized)
			return
		}
		io.WriteString(w, "0123456789")
	}))
	defer srv.Close()
	f := media.New(media.Config{Client: srv.Client(), MaxBytes: 4})
	rc, err := f.Open(context.Background(), srv.URL+"/private.wav", "app", "pw")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(rc)
	rc.Close()
	if string(got) != "0123" {
		t.Errorf("read %q, want the first 4 bytes", got)
	}
	if _, err := f.Open(context.Background(), srv.URL+"/private.wav", "", ""); err == nil ||
		!strings.Contains(err.Error(), "/private.wav: GET returned 401") {
		t.Errorf("without credentials: %v", err)
	}
}
