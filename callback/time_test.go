package callback_test

import (
	"strings"
	"testing"
	"time"

	"github.com/voicehook/voicehook/callback"
)

func TestTimeEncodesUTCWithMilliseconds(t *testing.T) {
	paris := time.FixedZone("CET", 3600)
	cases := []struct {
		in   time.Time
		want string
	}{
		{time.Date(2019, 6, 20, 15, 55, 55, 533_000_000, time.UTC), "2019-06-20T15:55:55.533Z"},
		{time.Date(2019, 6, 20, 16, 55, 55, 533_999_999, paris), "2019-06-20T15:55:55.533Z"}, // truncated, not rounded
		{time.Date(2019, 6, 20, 15, 55, 55, 0, time.UTC), "2019-06-20T15:55:55.000Z"},
		{time.Date(1, 1, 1, 0, 0, 0, 1_000_000, time.UTC), "0001-01-01T00:00:00.001Z"},
		{time.Date(9999, 12, 31, 23, 59, 59, 999_000_000, time.UTC), "9999-12-31T23:59:59.999Z"},
	}
	for _, c := range cases {
		ev := &callback.Disconnect{EndTime: callback.TimeOf(c.in)}
		body, err := callback.Encode(ev)
		if err != nil {
			t.Fatal(err)
		}
		if want := `"endTime":"` + c.want + `"`; !strings.Contains(string(body), want) {
			t.Errorf("Encode(%v) = %s, want it to contain %s", c.in, body, want)
		}
		if got := callback.TimeOf(c.in).String(); got != c.want {
			t.Errorf("String() = %q, want %q", got, c.want)
		}
	}
}

func TestTimeDecodesAnyRFC3339Form(t *testing.T) {
	want := time.Date(2019, 6, 20, 15, 55, 55, 533_000_000, time.UTC)
	for _, in := range []string{
		"2019-06-20T15:55:55.533Z",
		"2019-06-20T15:55:55.533000Z",
		"2019-06-20T17:55:55.533+02:00",
		"2019-06-20T10:55:55.533-05:00",
	} {
		ev, err := callback.Decode([]byte(`{"eventType":"disconnect","endTime":"` + in + `"}`))
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		if got := ev.(*callback.Disconnect).EndTime; !got.Equal(want) {
			t.Errorf("%s decoded to %v, want %v", in, got, want)
		}
	}
}

func TestTimeNullAndAbsentAreZero(t *testing.T) {
	for _, body := range []string{
		`{"eventType":"disconnect","answerTime":null}`,
		`{"eventType":"disconnect"}`,
	} {
		ev, err := callback.Decode([]byte(body))
		if err != nil {
			t.Fatal(err)
		}
		d := ev.(*callback.Disconnect)
		if !d.AnswerTime.IsZero() {
			t.Errorf("%s: AnswerTime = %v, want zero", body, d.AnswerTime)
		}
		out, _ := callback.Encode(d)
		if strings.Contains(string(out), "answerTime") {
			t.Errorf("%s: re-encoded with answerTime: %s", body, out)
		}
	}
}

func TestTimeRejectsBadValues(t *testing.T) {
	for in, wantMsg := range map[string]string{
		`"2019-09-13T16:49:40.500"`:  `invalid time "2019-09-13T16:49:40.500"`, // no zone (a docs example)
		`"2019-09-13-16:48:27.198Z"`: `invalid time`,                           // a docs example too
		`"yesterday"`:                `invalid time "yesterday"`,
		`1568393380`:                 `want a time string, got a number`,
		`{}`:                         `want a time string, got an object`,
	} {
		_, err := callback.Decode([]byte(`{"eventType":"disconnect","endTime":` + in + `}`))
		if err == nil || !strings.Contains(err.Error(), "endTime: "+wantMsg) {
			t.Errorf("endTime %s: error %v, want it to mention %q", in, err, "endTime: "+wantMsg)
		}
	}
}

func TestParseTime(t *testing.T) {
	got, err := callback.ParseTime("2019-06-20T15:55:55Z")
	if err != nil || got.String() != "2019-06-20T15:55:55.000Z" {
		t.Errorf("ParseTime = %v, %v", got, err)
	}
	if _, err := callback.ParseTime(""); err == nil {
		t.Error("ParseTime(\"\") succeeded")
	}
	if s := (callback.Time{}).String(); s != "" {
		t.Errorf("zero Time String() = %q, want empty", s)
	}
}
