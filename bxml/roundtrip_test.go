package bxml_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/voicehook/voicehook/bxml"
	"github.com/voicehook/voicehook/callback"
)

// everyVerb returns one of each top-level verb with every attribute and
// text set to a valid, non-default value, and its children filled in.
func everyVerb(t testing.TB) []bxml.Verb {
	verbs := []bxml.Verb{
		&bxml.Bridge{}, &bxml.Conference{}, &bxml.Connect{Endpoints: []*bxml.Endpoint{{}}},
		&bxml.Forward{}, &bxml.Gather{Prompts: []bxml.Verb{&bxml.SpeakSentence{}, &bxml.PlayAudio{}}},
		&bxml.Hangup{}, &bxml.Pause{}, &bxml.PauseRecording{}, &bxml.PlayAudio{}, &bxml.Record{},
		&bxml.Redirect{}, &bxml.ResumeRecording{}, &bxml.Ring{}, &bxml.SendDtmf{}, &bxml.SpeakSentence{},
		&bxml.StartGather{}, &bxml.StartRecording{},
		&bxml.StartStream{Params: []*bxml.StreamParam{{}, {}}},
		&bxml.StopGather{}, &bxml.StopRecording{}, &bxml.StopStream{},
		&bxml.StartTranscription{Params: []*bxml.CustomParam{{}, {}}},
		&bxml.StopTranscription{}, &bxml.Tag{},
		&bxml.Transfer{Targets: []bxml.Verb{&bxml.PhoneNumber{}, &bxml.SipUri{}}},
	}
	for _, v := range verbs {
		fill(t, v)
	}
	return verbs
}

// fill sets every bxml-tagged field of v, and of its children, from the
// field's kind.
func fill(t testing.TB, v bxml.Verb) {
	val := reflect.ValueOf(v).Elem()
	typ := val.Type()
	for i := range typ.NumField() {
		sf := typ.Field(i)
		fv := val.Field(i)
		if sf.Type.Kind() == reflect.Slice {
			for j := range fv.Len() {
				fill(t, fv.Index(j).Interface().(bxml.Verb))
			}
			continue
		}
		tag, ok := sf.Tag.Lookup("bxml")
		if !ok {
			continue
		}
		if fv.Kind() == reflect.Pointer {
			// A pointer field is one whose zero value means something:
			// point it at the zero value, the case that matters.
			fv.Set(reflect.New(sf.Type.Elem()))
			continue
		}
		fv.Set(reflect.ValueOf(sample(t, typ.Name(), sf.Name, tag)).Convert(fv.Type()))
	}
	switch v := v.(type) {
	case *bxml.SpeakSentence:
		v.Text = "Press 1 for sales & 2 for <support>."
	case *bxml.Conference:
		v.CallIDsToCoach = callback.NewCallID() + "," + callback.NewCallID()
	}
}

func sample(t testing.TB, verb, field, tag string) any {
	parts := strings.Split(tag, ",")
	opts := map[string]string{}
	for _, p := range parts[1:] {
		k, v, _ := strings.Cut(p, "=")
		opts[k] = v
	}
	num := func(def float64) float64 {
		if m, ok := opts["min"]; ok {
			var x float64
			fmt.Sscan(m, &x)
			return x + 1
		}
		return def
	}
	switch {
	case has(opts, "url"):
		return "https://app.example.com/" + strings.ToLower(field) + "?a=1&b=2"
	case has(opts, "wss"):
		return "wss://stream.example.com/" + strings.ToLower(field)
	case has(opts, "method"):
		return "GET"
	case has(opts, "digits"):
		return "#*"
	case has(opts, "dtmf"):
		return "12w3#"
	case has(opts, "enum"):
		values := strings.Split(opts["enum"], "|")
		return values[len(values)-1]
	case has(opts, "callerid"):
		return callback.Anonymous
	case has(opts, "phone"):
		return "sip:bob@voice.example.com;transport=tcp"
	case has(opts, "e164"):
		return "+15553334444"
	case has(opts, "sipuri"):
		return "sip:alice@example.com"
	case has(opts, "callid"):
		return callback.NewCallID()
	case has(opts, "confname"):
		return "sales-room_2.b"
	case has(opts, "id"):
		return "endpoint-7"
	case has(opts, "int"):
		return int(num(3))
	case has(opts, "seconds"):
		return time.Duration(num(2.5) * float64(time.Second))
	case has(opts, "millis"):
		return time.Duration(num(250) * float64(time.Millisecond))
	case has(opts, "bool"):
		return true
	case has(opts, "string"):
		return "v-" + field + ` "quoted" & <angled>`
	}
	t.Fatalf("no sample for %s.%s (%s)", verb, field, tag)
	return nil
}

func has(m map[string]string, k string) bool { _, ok := m[k]; return ok }

// TestRoundTripEveryVerb builds every verb with every attribute set,
// validates it, marshals it, and parses it back to the same thing.
func TestRoundTripEveryVerb(t *testing.T) {
	for _, v := range everyVerb(t) {
		t.Run(v.VerbName(), func(t *testing.T) {
			resp := bxml.NewResponse(v)
			if err := resp.Validate(bxml.CallContext); err != nil {
				t.Fatalf("Validate: %v\n%s", err, resp)
			}
			data, err := resp.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			back, err := bxml.Parse(data, bxml.CallContext)
			if err != nil {
				t.Fatalf("Parse: %v\n%s", err, data)
			}
			if len(back.Verbs) != 1 || !reflect.DeepEqual(back.Verbs[0], v) {
				t.Errorf("round trip changed the verb\n got: %#v\nwant: %#v\n%s", back.Verbs[0], v, data)
			}
			again, _ := back.Marshal()
			if string(again) != string(data) {
				t.Errorf("marshalling the parsed document differs:\n%s\n%s", again, data)
			}
			// Every attribute the type has reached the document.
			for _, attr := range attrNames(v) {
				if !strings.Contains(string(data), " "+attr+`="`) {
					t.Errorf("attribute %s missing from %s", attr, data)
				}
			}
		})
	}
}

func TestRoundTripSSML(t *testing.T) {
	ssml := `Hello <break time="1s"/> <prosody rate="slow" pitch="+5%">world</prosody> &amp; <say-as interpret-as="telephone">5551234</say-as>`
	v := &bxml.SpeakSentence{SSML: ssml, Voice: "julie"}
	data, err := bxml.NewResponse(v).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	want := `<?xml version="1.0" encoding="UTF-8"?><Response><SpeakSentence voice="julie">` + ssml + `</SpeakSentence></Response>`
	if string(data) != want {
		t.Errorf("SSML marshalled as\n%s\nwant\n%s", data, want)
	}
	back, err := bxml.Parse(data, bxml.CallContext)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back.Verbs[0], v) {
		t.Errorf("parsed %#v", back.Verbs[0])
	}
}

// attrNames lists the attribute names of a verb type and its children.
func attrNames(v bxml.Verb) []string {
	var out []string
	typ := reflect.TypeOf(v).Elem()
	for i := range typ.NumField() {
		name, _, _ := strings.Cut(typ.Field(i).Tag.Get("bxml"), ",")
		if name != "" {
			out = append(out, name)
		}
	}
	return out
}
