package readme

import (
	"reflect"
	"strings"
	"testing"
)

func TestCommands(t *testing.T) {
	script := `go run ./cmd/voicehook serve --initiate-url http://127.0.0.1:3000/initiate   # a comment
curl -u dev:dev -H 'Content-Type: application/json' http://x/calls \
  -d '{"a":"b",
       "c":"d"}'

curl "http://x/y" -d "it's"`
	got, err := Commands(script)
	if err != nil {
		t.Fatal(err)
	}
	want := []Command{
		{Words: []string{"go", "run", "./cmd/voicehook", "serve", "--initiate-url", "http://127.0.0.1:3000/initiate"}, Line: 1},
		{Words: []string{"curl", "-u", "dev:dev", "-H", "Content-Type: application/json", "http://x/calls", "-d", "{\"a\":\"b\",\n       \"c\":\"d\"}"}, Line: 2},
		{Words: []string{"curl", "http://x/y", "-d", "it's"}, Line: 6},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Commands =\n%+v\nwant\n%+v", got, want)
	}
	for _, bad := range []string{"curl $URL", "curl x | jq .", "curl x &", "curl 'x", `curl "x`, "a; b", `curl "$x"`} {
		if _, err := Commands(bad); err == nil {
			t.Errorf("Commands(%q) ran; want an error", bad)
		}
	}
}

const section = "# top\n\n### Worked example: one\n\nText `<Response><Hangup/></Response>`.\n\n" +
	"```sh\ngo run ./cmd/voicehook serve --status-url http://127.0.0.1:3000/status\ngo run ./examples/one\n" +
	"curl -X PUT http://127.0.0.1:8080/sim/v1/phones/+1 -d '{}'\n```\n\n" +
	"```xml\n<Response>\n  <Pause duration=\"1\"/>\n</Response>\n```\n\n" +
	"| webhook | call | at | reply |\n|---|---|---|---|\n" +
	"| `initiate` | A | `/initiate` | `<Response><Redirect redirectUrl=\"/r\"/></Response>` |\n" +
	"| `disconnect` | A, `cause: hangup` | `/status` | 204 |\n\n" +
	"### Next\n\n```sh\ncurl http://elsewhere\n```\n"

func TestParse(t *testing.T) {
	ex, err := Parse(section, "Worked example: one")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(ex.Serve, []string{"--status-url", "http://127.0.0.1:3000/status"}) || ex.App != "./examples/one" {
		t.Errorf("serve %q, app %q", ex.Serve, ex.App)
	}
	if len(ex.Scenarios) != 1 || len(ex.Scenarios[0].Requests) != 1 {
		t.Fatalf("scenarios %+v, want one with one request", ex.Scenarios)
	}
	r := ex.Scenarios[0].Requests[0]
	if r.Method != "PUT" || r.URL != "http://127.0.0.1:8080/sim/v1/phones/+1" || r.Body != "{}" || r.Line != 10 {
		t.Errorf("request %+v", r)
	}
	want := []Webhook{{"initiate", "/initiate", ""}, {"disconnect", "/status", "hangup"}}
	if !reflect.DeepEqual(ex.Scenarios[0].Want, want) {
		t.Errorf("table %v, want %v", ex.Scenarios[0].Want, want)
	}
	if len(ex.Documents) != 3 {
		t.Errorf("documents %q, want the inline one, the xml block and the table's", ex.Documents)
	}
}

func TestParseErrors(t *testing.T) {
	for name, c := range map[string]struct{ text, heading, want string }{
		"no heading":    {section, "Worked example: two", "no heading"},
		"no table":      {strings.Replace(section, "| webhook |", "| hook |", 1), "Worked example: one", "no webhook table"},
		"unknown curl":  {strings.Replace(section, "curl -X PUT", "curl -k -X PUT", 1), "Worked example: one", "-k"},
		"other command": {strings.Replace(section, "go run ./examples/one", "make run", 1), "Worked example: one", "make run"},
		"no app":        {strings.Replace(section, "go run ./examples/one\n", "", 1), "Worked example: one", "no command starts an app"},
	} {
		if _, err := Parse(c.text, c.heading); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error saying %q", name, err, c.want)
		}
	}
}

func TestUnordered(t *testing.T) {
	a := []Webhook{{"x", "/", ""}, {"b", "/", ""}, {"a", "/", ""}, {"y", "/", ""}}
	b := []Webhook{{"x", "/", ""}, {"a", "/", ""}, {"b", "/", ""}, {"y", "/", ""}}
	sets := [][]string{{"a", "b"}}
	if !reflect.DeepEqual(unordered(a, sets), unordered(b, sets)) {
		t.Errorf("a and b in either order differ")
	}
	if reflect.DeepEqual(unordered(a, nil), unordered(b, nil)) {
		t.Errorf("without the set, the order counts")
	}
}
