// Package media measures the audio files of PlayAudio: it fetches a file
// over HTTP, decides its format as Bandwidth does (the Content-Type, else
// the file name, else wav), and reads its length from the WAV header or the
// MP3 frames. It implements engine.Media.
//
// Lengths are cached as long as the response's Cache-Control max-age or
// Expires allows (RFC 7234); with neither, nothing is cached.
//
// A Fetcher is safe for concurrent use and owns no goroutines.
package media

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	neturl "net/url"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/voicehook/voicehook/internal/audio"
	"github.com/voicehook/voicehook/internal/egress"
)

// Config is the configuration of a Fetcher; zero fields take the defaults.
type Config struct {
	// Client fetches the files; default: a client of its own,
	// egress.New without the guard. It follows redirects as the client
	// says: egress's client follows at most 3, to http or https only, each
	// hop dialled through its guard, when it has one.
	Client *http.Client
	// Timeout bounds one fetch; default 10 s.
	Timeout time.Duration
	// MaxBytes is the most read of one file; default 250 MB, Bandwidth's
	// recommended limit.
	MaxBytes int64
	// Now is the clock of the cache; default time.Now.
	Now func() time.Time
}

// Fetcher measures audio files.
type Fetcher struct {
	cfg   Config
	mu    sync.Mutex
	cache map[string]cached
}

type cached struct {
	length  time.Duration
	expires time.Time
}

// maxCached bounds the cache; when full, expired entries are dropped, and
// if none are, nothing more is cached until some expire.
const maxCached = 1024

// New returns a Fetcher.
func New(cfg Config) *Fetcher {
	if cfg.Client == nil {
		cfg.Client = egress.New(egress.Config{})
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.MaxBytes == 0 {
		cfg.MaxBytes = 250 << 20
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Fetcher{cfg: cfg, cache: map[string]cached{}}
}

// ErrUnsupported is the cause of errors for files PlayAudio cannot play.
var ErrUnsupported = audio.ErrUnsupported

// AudioLength fetches the file and returns how long it plays.
func (f *Fetcher) AudioLength(ctx context.Context, url, username, password string) (time.Duration, error) {
	key := username + "\x00" + url
	f.mu.Lock()
	c, ok := f.cache[key]
	f.mu.Unlock()
	if ok && f.cfg.Now().Before(c.expires) {
		return c.length, nil
	}
	ctx, cancel := context.WithTimeout(ctx, f.cfg.Timeout)
	defer cancel()
	resp, err := f.get(ctx, url, username, password)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body := bufio.NewReaderSize(io.LimitReader(resp.Body, f.cfg.MaxBytes), 64<<10)
	var length time.Duration
	switch format(resp.Header.Get("Content-Type"), url) {
	case "wav":
		length, err = wavLength(body, resp.ContentLength)
	case "mp3":
		length, err = mp3Length(body, resp.ContentLength)
	default:
		err = fmt.Errorf("%w: %s", ErrUnsupported, resp.Header.Get("Content-Type"))
	}
	if err != nil {
		return 0, fmt.Errorf("audio %s: %w (PlayAudio plays wav and mp3)", url, err)
	}
	if exp, ok := expiry(resp.Header, f.cfg.Now()); ok {
		f.mu.Lock()
		f.store(key, cached{length, exp})
		f.mu.Unlock()
	}
	return length, nil
}

// Open fetches the file at url, with Basic credentials when username is
// set, for a call that plays it: the caller reads at most MaxBytes of it
// and closes it. The caller's ctx bounds the whole download. Its errors
// are AudioLength's.
func (f *Fetcher) Open(ctx context.Context, url, username, password string) (io.ReadCloser, error) {
	resp, err := f.get(ctx, url, username, password)
	if err != nil {
		return nil, err
	}
	return struct {
		io.Reader
		io.Closer
	}{io.LimitReader(resp.Body, f.cfg.MaxBytes), resp.Body}, nil
}

// get GETs url and returns a 2xx response, or an error naming the file.
func (f *Fetcher) get(ctx context.Context, url, username, password string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("audio %s: %w", url, err)
	}
	if username != "" {
		req.SetBasicAuth(username, password)
	}
	resp, err := f.cfg.Client.Do(req)
	if err != nil {
		return nil, fetchError(url, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		resp.Body.Close()
		return nil, fmt.Errorf("audio %s: GET returned %d %s", url, resp.StatusCode, http.StatusText(resp.StatusCode))
	}
	return resp, nil
}

// fetchError says why a GET failed. A refusal of the guard names the
// redirect it refused, if it was one, and not the error's layers.
func fetchError(u string, err error) error {
	var refused *egress.RefusedError
	if !errors.As(err, &refused) {
		return fmt.Errorf("audio %s: %w", u, err)
	}
	var ue *neturl.Error
	if errors.As(err, &ue) && withoutUser(ue.URL) != withoutUser(u) {
		return fmt.Errorf("audio %s: redirected to %s: %w", u, redacted(ue.URL), refused)
	}
	return fmt.Errorf("audio %s: %w", u, refused)
}

// withoutUser is u without its userinfo (net/http masks a password in the
// URL of its errors).
func withoutUser(u string) string {
	p, err := neturl.Parse(u)
	if err != nil {
		return u
	}
	p.User = nil
	return p.String()
}

// redacted is u with any password hidden.
func redacted(u string) string {
	p, err := neturl.Parse(u)
	if err != nil {
		return u
	}
	return p.Redacted()
}

// store caches an entry; f.mu is held.
func (f *Fetcher) store(key string, c cached) {
	if len(f.cache) >= maxCached {
		now := f.cfg.Now()
		for k, v := range f.cache {
			if !now.Before(v.expires) {
				delete(f.cache, k)
			}
		}
		if len(f.cache) >= maxCached {
			return
		}
	}
	f.cache[key] = c
}

// format decides how to read a file: by its Content-Type, else by its
// name; anything unknown is tried as wav. "" means it cannot be played.
func format(contentType, url string) string {
	mt, _, _ := mime.ParseMediaType(contentType)
	switch mt {
	case "audio/wav", "audio/x-wav", "audio/wave", "audio/vnd.wave":
		return "wav"
	case "audio/mpeg", "audio/mpeg3", "audio/mp3", "audio/x-mpeg", "audio/x-mp3":
		return "mp3"
	case "audio/ogg", "audio/opus", "audio/flac", "audio/x-flac", "audio/aac", "audio/mp4", "audio/webm", "audio/x-ms-wma":
		return ""
	}
	p := url
	if i := strings.IndexAny(p, "?#"); i >= 0 {
		p = p[:i]
	}
	switch strings.ToLower(path.Ext(p)) {
	case ".mp3":
		return "mp3"
	case ".ogg", ".oga", ".opus", ".flac", ".aac", ".m4a", ".wma", ".webm":
		return ""
	}
	return "wav"
}

// expiry is until when a response may be cached (RFC 7234: max-age wins
// over Expires; no-store and no-cache forbid it).
func expiry(h http.Header, now time.Time) (time.Time, bool) {
	for _, d := range strings.Split(h.Get("Cache-Control"), ",") {
		d = strings.TrimSpace(strings.ToLower(d))
		if d == "no-store" || d == "no-cache" {
			return time.Time{}, false
		}
		if v, ok := strings.CutPrefix(d, "max-age="); ok {
			secs, err := strconv.Atoi(v)
			if err != nil || secs <= 0 {
				return time.Time{}, false
			}
			return now.Add(time.Duration(secs) * time.Second), true
		}
	}
	if e := h.Get("Expires"); e != "" {
		t, err := http.ParseTime(e)
		if err == nil && t.After(now) {
			return t, true
		}
	}
	return time.Time{}, false
}

// wavLength reads a RIFF/WAVE header: the fmt chunk's byte rate and the
// data chunk's size. PCM, A-law and µ-law are playable.
func wavLength(r *bufio.Reader, contentLength int64) (time.Duration, error) {
	h, err := audio.ReadHeader(r)
	if err != nil {
		return 0, err
	}
	if h.DataSize == 0xFFFFFFFF && contentLength > h.DataOffset {
		h.DataSize = uint32(min(contentLength-h.DataOffset, 0xFFFFFFFE)) // a streamed file: its size is unknown
	}
	return h.Length(), nil
}
