package callback_test

import (
	stdjson "encoding/json"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/voicehook/voicehook/callback"
	"github.com/voicehook/voicehook/internal/spec"
)

// allEvents returns one zero value of every event type, with the name of
// its schema in the OpenAPI document ("" for the events documented only on
// the webhook pages).
func allEvents() []struct {
	ev     callback.Event
	schema string
} {
	return []struct {
		ev     callback.Event
		schema string
	}{
		{new(callback.Answer), "answerCallback"},
		{new(callback.BridgeComplete), "bridgeCompleteCallback"},
		{new(callback.BridgeTargetComplete), "bridgeTargetCompleteCallback"},
		{new(callback.ConferenceCreated), "conferenceCreatedCallback"},
		{new(callback.ConferenceRedirect), "conferenceRedirectCallback"},
		{new(callback.ConferenceMemberJoin), "conferenceMemberJoinCallback"},
		{new(callback.ConferenceMemberExit), "conferenceMemberExitCallback"},
		{new(callback.ConferenceCompleted), "conferenceCompletedCallback"},
		{new(callback.ConferenceRecordingAvailable), "conferenceRecordingAvailableCallback"},
		{new(callback.Disconnect), "disconnectCallback"},
		{new(callback.DTMF), "dtmfCallback"},
		{new(callback.Gather), "gatherCallback"},
		{new(callback.Initiate), "initiateCallback"},
		{new(callback.MachineDetectionComplete), "machineDetectionCompleteCallback"},
		{new(callback.RecordComplete), "recordingCompleteCallback"},
		{new(callback.RecordingAvailable), "recordingAvailableCallback"},
		{new(callback.Redirect), "redirectCallback"},
		{new(callback.TranscriptionAvailable), "transcriptionAvailableCallback"},
		{new(callback.TransferAnswer), "transferAnswerCallback"},
		{new(callback.TransferComplete), "transferCompleteCallback"},
		{new(callback.TransferDisconnect), "transferDisconnectCallback"},
		{new(callback.MediaStreamStarted), ""},
		{new(callback.MediaStreamRejected), ""},
		{new(callback.MediaStreamStopped), ""},
		{new(callback.RealTimeTranscriptionStarted), ""},
		{new(callback.RealTimeTranscriptionRejected), ""},
		{new(callback.RealTimeTranscriptionStopped), ""},
		{new(callback.RealTimeTranscriptionAvailable), ""},
	}
}

// docsExtra lists, per event, the members the webhook pages (or the newer
// spec of July 2026, spec/voice-reference.md §1.2) define that the schema
// of the OpenAPI document lacks. Nested members are written parent.child.
var docsExtra = map[callback.EventType][]string{
	callback.EventAnswer:                 {"sipCallId"},
	callback.EventDisconnect:             {"sipCallId", "sipResponseCode"},
	callback.EventInitiate:               {"sipCallId", "sipHeaders"},
	callback.EventBridgeComplete:         {"transferCallerId", "transferTo"},
	callback.EventTransferAnswer:         {"parentCallId"},
	callback.EventTranscriptionAvailable: {"transcription.id", "transcription.url", "transcription.status", "transcription.completedTime"},
}

// The base set of call members of the docs-only events' pages.
var docsCallBase = []string{"eventType", "eventTime", "accountId", "applicationId", "from", "to",
	"direction", "callId", "callUrl", "enqueuedTime", "startTime", "answerTime", "tag"}

var streamMembers = []string{"id", "name", "destination", "startTime", "tracks", "type", "duration"}
var rttMembers = []string{"id", "name", "startTime", "tracks", "destination", "stabilized", "status", "url", "completedTime", "duration"}

// docsOnly lists every member the webhook pages define for the events that
// have no schema.
var docsOnly = map[callback.EventType][]string{
	callback.EventMediaStreamStarted: concat(docsCallBase, prefixed("mediaStream", streamMembers)),
	callback.EventMediaStreamRejected: concat(docsCallBase, prefixed("mediaStream", streamMembers),
		prefixed("originalMediaStream", streamMembers), []string{"cause", "errorMessage", "reason"}),
	callback.EventMediaStreamStopped:           concat(docsCallBase, prefixed("mediaStream", streamMembers), []string{"cause", "errorMessage"}),
	callback.EventRealTimeTranscriptionStarted: concat(docsCallBase, prefixed("realTimeTranscription", rttMembers)),
	callback.EventRealTimeTranscriptionRejected: concat(docsCallBase, prefixed("realTimeTranscription", rttMembers),
		prefixed("originalTranscription", rttMembers), []string{"cause", "errorMessage"}),
	callback.EventRealTimeTranscriptionStopped: concat(docsCallBase, prefixed("realTimeTranscription", rttMembers),
		[]string{"cause", "errorMessage"}),
	callback.EventRealTimeTranscriptionAvailable: concat(docsCallBase, prefixed("realTimeTranscription", rttMembers)),
}

func concat(lists ...[]string) []string { return slices.Concat(lists...) }

func prefixed(parent string, names []string) []string {
	out := []string{parent}
	for _, n := range names {
		out = append(out, parent+"."+n)
	}
	return out
}

// TestConformance encodes every event type, with every field set and with
// none, and checks the JSON against the OpenAPI document: it validates
// against the event's schema (types, formats, enumerations), and holds no
// member that the schema or the docs do not define.
func TestConformance(t *testing.T) {
	doc := spec.ForTest(t)
	for _, c := range allEvents() {
		typ := c.ev.Type()
		for _, full := range []bool{true, false} {
			name := string(typ) + "/minimal"
			if full {
				name = string(typ) + "/full"
			}
			t.Run(name, func(t *testing.T) {
				ev := reflect.New(reflect.TypeOf(c.ev).Elem()).Interface().(callback.Event)
				if full {
					populate(reflect.ValueOf(ev).Elem(), "")
				}
				body, err := callback.Encode(ev)
				if err != nil {
					t.Fatalf("Encode: %v", err)
				}
				var v map[string]any
				if err := stdjson.Unmarshal(body, &v); err != nil {
					t.Fatalf("Encode produced invalid JSON: %v\n%s", err, body)
				}
				if v["eventType"] != string(typ) {
					t.Errorf("eventType = %v, want %q", v["eventType"], typ)
				}
				allowed := allowedMembers(t, doc, c.schema, typ)
				for _, m := range members(v, "") {
					if !allowed[m] {
						t.Errorf("member %q is defined by neither the schema %q nor the docs\n%s", m, c.schema, body)
					}
				}
				if c.schema != "" {
					if err := spec.Validate(spec.Schema(t, doc, c.schema), anyValue(v)); err != nil {
						t.Errorf("does not validate against %s: %v\n%s", c.schema, err, body)
					}
				}
				if full {
					// Every field of the type must have reached the wire:
					// a field that never encodes is a field the type lies about.
					want := goMembers(reflect.TypeOf(ev).Elem(), "")
					got := map[string]bool{}
					for _, m := range members(v, "") {
						got[m] = true
					}
					for _, m := range want {
						if !got[m] {
							t.Errorf("field %s was set but not encoded\n%s", m, body)
						}
					}
				}
			})
		}
	}
}

// allowedMembers is the set of member paths an event may carry.
func allowedMembers(t *testing.T, doc *openapi3.T, schemaName string, typ callback.EventType) map[string]bool {
	allowed := map[string]bool{}
	if schemaName == "" {
		list, ok := docsOnly[typ]
		if !ok {
			t.Fatalf("no docs field list for %s", typ)
		}
		for _, m := range list {
			allowed[m] = true
		}
		return allowed
	}
	var walk func(s *openapi3.Schema, prefix string)
	walk = func(s *openapi3.Schema, prefix string) {
		for name, p := range s.Properties {
			path := prefix + name
			allowed[path] = true
			if p.Value != nil && p.Value.Type.Is("object") && len(p.Value.Properties) > 0 {
				walk(p.Value, path+".")
			} else if p.Value != nil && p.Value.Type.Is("object") {
				allowed[path+".*"] = true // a free-form map
			}
		}
	}
	walk(spec.Schema(t, doc, schemaName), "")
	for _, m := range docsExtra[typ] {
		allowed[m] = true
	}
	// Maps with documented open keys: diversion ("must be tolerant of
	// unlisted keys") and the X- headers of sipHeaders.
	allowed["diversion.*"] = true
	allowed["sipHeaders.*"] = true
	return allowed
}

// members lists the member paths of v. Members of objects that are maps
// with open keys (diversion, sipHeaders) are reported as parent.*.
func members(v map[string]any, prefix string) []string {
	var out []string
	for k, x := range v {
		path := prefix + k
		out = append(out, path)
		if obj, ok := x.(map[string]any); ok {
			if k == "diversion" || k == "sipHeaders" {
				if len(obj) > 0 {
					out = append(out, path+".*")
				}
				continue
			}
			out = append(out, members(obj, path+".")...)
		}
	}
	sort.Strings(out)
	return out
}

// anyValue converts a decoded JSON object to the form kin-openapi expects.
func anyValue(v map[string]any) any { return v }

// goMembers lists the JSON member paths the fields of struct type t encode
// to, following the json tags of the package.
func goMembers(t reflect.Type, prefix string) []string {
	var out []string
	for f := range t.Fields() {
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		if strings.Contains(opts, "embed") || name == "-" {
			continue
		}
		ft := f.Type
		if f.Anonymous && name == "" {
			out = append(out, goMembers(ft, prefix)...)
			continue
		}
		if name == "" {
			name = f.Name
		}
		out = append(out, prefix+name)
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if ft.Kind() == reflect.Struct && ft != reflect.TypeFor[callback.Time]() {
			out = append(out, goMembers(ft, prefix+name+".")...)
		}
	}
	return out
}

var (
	sampleTime = time.Date(2026, 11, 21, 15, 4, 5, 123_000_000, time.UTC)
	// Valid values for the enumerations the schemas constrain.
	sampleValues = map[reflect.Type]any{
		reflect.TypeFor[callback.Time]():                  callback.TimeOf(sampleTime),
		reflect.TypeFor[callback.Duration]():              callback.Duration(13670 * time.Millisecond),
		reflect.TypeFor[callback.Direction]():             callback.Outbound,
		reflect.TypeFor[callback.Cause]():                 callback.CauseBusy,
		reflect.TypeFor[callback.MachineDetectionValue](): callback.AnsweringMachine,
		reflect.TypeFor[callback.FileFormat]():            callback.WAV,
		reflect.TypeFor[callback.RecordingStatus]():       callback.RecordingStatusComplete,
		reflect.TypeFor[callback.TranscriptionStatus]():   callback.TranscriptionStatusAvailable,
		reflect.TypeFor[callback.StreamCause]():           callback.StreamDuplicate,
		reflect.TypeFor[callback.Track]():                 callback.InboundTrack,
		reflect.TypeFor[callback.Diversion](): callback.Diversion{
			"origTo": "+15558884444", "reason": "unavailable", "privacy": "off", "screen": "no",
			"counter": "1", "limit": "3"},
	}
)

// populate sets every field of v (a struct) to a plausible non-zero value:
// ids look like ids, URLs are absolute, numbers like numbers.
func populate(v reflect.Value, name string) {
	if sample, ok := sampleValues[v.Type()]; ok {
		v.Set(reflect.ValueOf(sample))
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() || strings.Contains(f.Tag.Get("json"), "embed") {
				continue
			}
			if f.Type == reflect.TypeFor[callback.Header]() {
				continue // Encode fills in the eventType; eventTime below
			}
			jsonName, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			populate(v.Field(i), jsonName)
		}
		if h, ok := v.Addr().Interface().(interface{ EventHeader() *callback.Header }); ok {
			h.EventHeader().EventTime = callback.TimeOf(sampleTime)
		}
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		populate(v.Elem(), name)
	case reflect.String:
		v.SetString(sampleString(name))
	case reflect.Int:
		switch name {
		case "sipResponseCode":
			v.SetInt(486)
		default:
			v.SetInt(1)
		}
	case reflect.Float64:
		v.SetFloat(0.9)
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		m.SetMapIndex(reflect.ValueOf("x-customer-id"), reflect.ValueOf("42"))
		v.Set(m)
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 1, 1)
		populate(s.Index(0), name)
		v.Set(s)
	default:
		panic(fmt.Sprintf("populate: no sample for %s (%s)", v.Type(), name))
	}
}

func sampleString(name string) string {
	switch {
	case strings.HasSuffix(strings.ToLower(name), "url"):
		return "https://voice.example.com/api/v2/accounts/9900000/" + name
	case name == "callId" || name == "parentCallId":
		return callback.NewCallID()
	case name == "recordingId":
		return callback.NewRecordingID()
	case name == "conferenceId":
		return callback.NewConferenceID()
	case name == "from" || name == "to" || name == "transferCallerId" || name == "transferTo":
		return "+15553334444"
	case name == "digit", name == "digits":
		return "5"
	case name == "terminatingDigit":
		return "#"
	case name == "stabilized":
		return "true"
	}
	return "sample-" + name
}
