package callback_test

import (
	stdjson "encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/voicehook/voicehook/callback"
)

func TestDurationString(t *testing.T) {
	cases := []struct {
		d    time.Duration
		want string
	}{
		{0, "PT0S"},
		{13670 * time.Millisecond, "PT13.67S"},
		{4989128700 * time.Nanosecond, "PT4.9891287S"},
		{112217257456 * time.Nanosecond, "PT1M52.217257456S"},
		{90 * time.Second, "PT1M30S"},
		{time.Hour, "PT1H"},
		{26*time.Hour + 3*time.Second, "PT26H3S"},
		{time.Nanosecond, "PT0.000000001S"},
		{-1500 * time.Millisecond, "PT-1.5S"},
		{-(61 * time.Second), "PT-1M-1S"},
	}
	for _, c := range cases {
		if got := callback.Duration(c.d).String(); got != c.want {
			t.Errorf("Duration(%v) = %q, want %q", c.d, got, c.want)
		}
		back, err := callback.ParseDuration(c.want)
		if err != nil || time.Duration(back) != c.d {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", c.want, time.Duration(back), err, c.d)
		}
	}
}

func TestParseDurationForms(t *testing.T) {
	cases := map[string]time.Duration{
		"PT13.67S":                   13670 * time.Millisecond,
		"PT5.023724322S":             5023724322 * time.Nanosecond,
		"PT0.5S":                     500 * time.Millisecond,
		"PT0,5S":                     500 * time.Millisecond,
		"PT1.5M":                     90 * time.Second,
		"P1D":                        24 * time.Hour,
		"P1DT2H":                     26 * time.Hour,
		"P1W":                        7 * 24 * time.Hour,
		"-PT5S":                      -5 * time.Second,
		"+PT5S":                      5 * time.Second,
		"P0D":                        0,
		"PT2562047H47M16.854775807S": time.Duration(1<<63 - 1),
		"PT1H0M0.000000001S":         time.Hour + time.Nanosecond,
		"PT0.0000000004S":            0, // rounds to the nearest nanosecond
		"PT0.0000000006S":            time.Nanosecond,
		"PT100000S":                  100000 * time.Second,
		"PT1.999999999999S":          2 * time.Second,
		"PT10H30M":                   10*time.Hour + 30*time.Minute,
		"PT00001S":                   time.Second,
		"PT-0.5S":                    -500 * time.Millisecond,
		"PT1M-30S":                   30 * time.Second,
		"PT9223372036.854775807S":    time.Duration(1<<63 - 1),
		"-PT9223372036.854775807S":   -time.Duration(1<<63 - 1),
		"PT0S":                       0,
		"PT4.9891287S":               4989128700 * time.Nanosecond,
		"PT52.217257456S":            52217257456 * time.Nanosecond,
		"PT1M52.217257456S":          112217257456 * time.Nanosecond,
		"PT20.056S":                  20056 * time.Millisecond,
		"P0W":                        0,
		"PT3H":                       3 * time.Hour,
		"PT15M":                      15 * time.Minute,
		"PT0.001S":                   time.Millisecond,
		"PT1.000000000S":             time.Second,
		"PT59.999S":                  59999 * time.Millisecond,
		"P2DT0.5S":                   48*time.Hour + 500*time.Millisecond,
	}
	for in, want := range cases {
		got, err := callback.ParseDuration(in)
		if err != nil || time.Duration(got) != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", in, time.Duration(got), err, want)
		}
	}
}

func TestParseDurationRejects(t *testing.T) {
	for in, wantMsg := range map[string]string{
		"":                          "want an ISO 8601 duration",
		"13.67":                     "want an ISO 8601 duration",
		"P":                         "no components",
		"PT":                        "no time component after T",
		"P1Y":                       "years and months have no fixed length",
		"P1M":                       "years and months have no fixed length",
		"PT1.5M30S":                 "only the last component may have a fraction",
		"PT30S1M":                   "out of order",
		"PT1S1S":                    "out of order",
		"PT1D":                      "unexpected unit",
		"P1H":                       "unexpected unit",
		"PT.5S":                     "digits before its unit",
		"PT5.S":                     "needs digits after it",
		"PT5":                       "has no unit",
		"PTT5S":                     "T appears twice",
		"PT9223372037S":             "out of range",
		"PT99999999999999999999S":   "out of range",
		"PT9223372036.854775807S1S": "",
	} {
		_, err := callback.ParseDuration(in)
		if err == nil {
			t.Errorf("ParseDuration(%q) succeeded", in)
			continue
		}
		if !strings.Contains(err.Error(), wantMsg) || !strings.Contains(err.Error(), `"`+in+`"`) {
			t.Errorf("ParseDuration(%q) error %q, want it to quote the input and mention %q", in, err, wantMsg)
		}
	}
}

func TestDurationInEvents(t *testing.T) {
	ev, err := callback.Decode([]byte(`{"eventType":"recordComplete","duration":"PT1M30.5S"}`))
	if err != nil {
		t.Fatal(err)
	}
	rc := ev.(*callback.RecordComplete)
	if time.Duration(rc.Duration) != 90500*time.Millisecond {
		t.Errorf("Duration = %v", time.Duration(rc.Duration))
	}
	_, err = callback.Decode([]byte(`{"eventType":"recordComplete","duration":13.67}`))
	if err == nil || !strings.Contains(err.Error(), "recordComplete: duration: want an ISO 8601 duration string, got a number") {
		t.Errorf("numeric duration: %v", err)
	}
	_, err = callback.Decode([]byte(`{"eventType":"answer","machineDetectionResult":{"duration":"5 seconds"}}`))
	if err == nil || !strings.Contains(err.Error(), `machineDetectionResult.duration: invalid duration "5 seconds"`) {
		t.Errorf("bad nested duration: %v", err)
	}
}

func TestDurationStdlibJSON(t *testing.T) {
	var v struct{ D callback.Duration }
	if err := stdjson.Unmarshal([]byte(`{"D":"PT2S"}`), &v); err != nil || time.Duration(v.D) != 2*time.Second {
		t.Fatalf("encoding/json decode: %v %v", v.D, err)
	}
	b, err := stdjson.Marshal(v)
	if err != nil || string(b) != `{"D":"PT2S"}` {
		t.Errorf("encoding/json encode: %s %v", b, err)
	}
}
