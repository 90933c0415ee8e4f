// Package readme runs the worked examples of README.md as they are written,
// so that the README and the code cannot drift apart. A worked example is
// a section of the README holding:
//
//   - shell blocks (```sh) with the command that starts voicehook
//     (go run ./cmd/voicehook serve and its flags), the command that starts
//     the example app (go run ./examples/NAME), and curl requests;
//   - after the requests, a table whose header starts with "| webhook |":
//     the webhooks the app gets, in order, each with the path it goes to
//     (the "at" column) and, where the row says "cause: X", its cause;
//   - the BXML documents the app answers, in xml blocks or as inline code
//     (`<Response>…</Response>`).
//
// Example.Run starts voicehook in process on a free loopback port and the
// app on another, sends the requests with the README's addresses replaced
// by those (127.0.0.1:8080 is voicehook, 127.0.0.1:3000 the app), waits
// for the webhooks of each table and checks them, and checks that every
// BXML document the app answered is one the README shows.
package readme

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// Example is one worked example of README.md.
type Example struct {
	// Heading is the section's heading, without the leading hashes.
	Heading string
	// Serve holds the flags of the command that starts voicehook.
	Serve []string
	// App is the package the README runs the app from ("./examples/ivr").
	App string
	// Scenarios are the example's requests, each with the webhooks they
	// lead to.
	Scenarios []Scenario
	// Documents are the BXML documents the section shows.
	Documents []string
}

// Scenario is a block of requests and the table of webhooks after it.
type Scenario struct {
	Requests []Request
	Want     []Webhook
}

// Request is one curl command of the README.
type Request struct {
	Line    int // in README.md
	Method  string
	URL     string
	Header  map[string]string
	User    string // user:password of -u, "" without
	Body    string
	HasBody bool
	Text    string // the command, for messages
}

// Webhook is a row of a webhook table: an event type, the path it goes to
// and, when the row names one, the cause it carries.
type Webhook struct {
	Event string
	At    string
	Cause string
}

func (w Webhook) String() string {
	s := w.Event + " at " + w.At
	if w.Cause != "" {
		s += " (" + w.Cause + ")"
	}
	return s
}

// Path returns README.md at the root of the module holding the working
// directory.
func Path() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "README.md"), nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above the working directory")
		}
		dir = parent
	}
}

var (
	inlineDoc = regexp.MustCompile("`(<Response(?:/>|>.*?</Response>))`")
	causeCell = regexp.MustCompile(`cause: ([a-z-]+)`)
	codeCell  = regexp.MustCompile("`([^`]+)`")
)

// Parse reads the section of the README text whose heading is heading.
func Parse(readme, heading string) (*Example, error) {
	lines := strings.Split(readme, "\n")
	start := -1
	for i, l := range lines {
		if t := strings.TrimLeft(l, "#"); t != l && strings.TrimSpace(t) == heading {
			start = i
			break
		}
	}
	if start < 0 {
		return nil, fmt.Errorf("README.md has no heading %q", heading)
	}
	ex := &Example{Heading: heading}
	var fence string // the fence's language while inside one
	var block []string
	blockStart := 0
	for i := start + 1; i < len(lines); i++ {
		l := lines[i]
		if fence == "" && strings.HasPrefix(l, "#") {
			break // the next section
		}
		if strings.HasPrefix(l, "```") {
			if fence == "" {
				fence = strings.TrimPrefix(l, "```")
				if fence == "" {
					fence = "text"
				}
				block, blockStart = nil, i+2
				continue
			}
			var err error
			switch fence {
			case "sh":
				err = ex.addShell(strings.Join(block, "\n"), blockStart)
			case "xml":
				ex.Documents = append(ex.Documents, strings.Join(block, "\n"))
			}
			if err != nil {
				return nil, err
			}
			fence = ""
			continue
		}
		if fence != "" {
			block = append(block, l)
			continue
		}
		for _, m := range inlineDoc.FindAllStringSubmatch(l, -1) {
			ex.Documents = append(ex.Documents, m[1])
		}
		if strings.HasPrefix(l, "| webhook |") {
			rows, n, err := table(lines[i:], i+1)
			if err != nil {
				return nil, err
			}
			if len(ex.Scenarios) == 0 || ex.Scenarios[len(ex.Scenarios)-1].Want != nil {
				return nil, fmt.Errorf("README.md line %d: a webhook table with no requests before it", i+1)
			}
			ex.Scenarios[len(ex.Scenarios)-1].Want = rows
			for _, row := range lines[i+1 : i+n] {
				for _, m := range inlineDoc.FindAllStringSubmatch(row, -1) {
					ex.Documents = append(ex.Documents, m[1])
				}
			}
			i += n - 1
		}
	}
	if ex.Serve == nil {
		return nil, fmt.Errorf("%q: no command starts voicehook", heading)
	}
	if ex.App == "" {
		return nil, fmt.Errorf("%q: no command starts an app of examples/", heading)
	}
	if len(ex.Scenarios) == 0 {
		return nil, fmt.Errorf("%q: no requests", heading)
	}
	for _, s := range ex.Scenarios {
		if s.Want == nil {
			return nil, fmt.Errorf("%q: the requests of line %d have no webhook table after them", heading, s.Requests[0].Line)
		}
	}
	return ex, nil
}

// table reads a webhook table from its header line; n is how many lines it
// took.
func table(lines []string, lineNo int) (rows []Webhook, n int, err error) {
	header := cells(lines[0])
	at := -1
	for i, h := range header {
		if h == "at" {
			at = i
		}
	}
	if at < 0 {
		return nil, 0, fmt.Errorf("README.md line %d: a webhook table needs an \"at\" column", lineNo)
	}
	n = 2 // the header and the separator
	for _, l := range lines[2:] {
		if !strings.HasPrefix(l, "|") {
			break
		}
		c := cells(l)
		if len(c) != len(header) {
			return nil, 0, fmt.Errorf("README.md line %d: %d cells, the header has %d", lineNo+n, len(c), len(header))
		}
		ev, path := codeCell.FindStringSubmatch(c[0]), codeCell.FindStringSubmatch(c[at])
		if ev == nil || path == nil {
			return nil, 0, fmt.Errorf("README.md line %d: want the event and the path as `code`", lineNo+n)
		}
		w := Webhook{Event: ev[1], At: path[1]}
		for _, cell := range c {
			if m := causeCell.FindStringSubmatch(cell); m != nil {
				w.Cause = m[1]
			}
		}
		rows = append(rows, w)
		n++
	}
	if len(rows) == 0 {
		return nil, 0, fmt.Errorf("README.md line %d: an empty webhook table", lineNo)
	}
	return rows, n, nil
}

func cells(line string) []string {
	parts := strings.Split(strings.Trim(strings.TrimSpace(line), "|"), "|")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	return parts
}

// addShell reads the commands of a shell block that starts at line first.
func (ex *Example) addShell(script string, first int) error {
	cmds, err := Commands(script)
	if err != nil {
		return fmt.Errorf("README.md, the shell block of line %d: %w", first, err)
	}
	var reqs []Request
	for _, c := range cmds {
		words, line := c.Words, first+c.Line-1
		switch {
		case len(words) >= 4 && words[0] == "go" && words[1] == "run" && words[2] == "./cmd/voicehook" && words[3] == "serve":
			ex.Serve = append([]string{}, words[4:]...)
		case len(words) == 3 && words[0] == "go" && words[1] == "run" && strings.HasPrefix(words[2], "./examples/"):
			ex.App = words[2]
		case words[0] == "curl":
			r, err := Curl(words[1:])
			if err != nil {
				return fmt.Errorf("README.md line %d: %w", line, err)
			}
			r.Line, r.Text = line, strings.Join(words, " ")
			reqs = append(reqs, r)
		default:
			return fmt.Errorf("README.md line %d: a command this test does not run: %s", line, strings.Join(words, " "))
		}
	}
	if len(reqs) > 0 {
		ex.Scenarios = append(ex.Scenarios, Scenario{Requests: reqs})
	}
	return nil
}

// Curl reads the arguments of a curl command (the words after curl); it
// refuses options it does not know.
func Curl(args []string) (Request, error) {
	r := Request{Header: map[string]string{}}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "-") {
			if r.URL != "" {
				return r, fmt.Errorf("curl with two URLs: %s and %s", r.URL, a)
			}
			r.URL = a
			continue
		}
		if i+1 >= len(args) {
			return r, fmt.Errorf("curl %s needs a value", a)
		}
		v := args[i+1]
		i++
		switch a {
		case "-u", "--user":
			r.User = v
		case "-H", "--header":
			name, value, ok := strings.Cut(v, ":")
			if !ok {
				return r, fmt.Errorf("curl -H %q: want Name: value", v)
			}
			r.Header[strings.TrimSpace(name)] = strings.TrimSpace(value)
		case "-d", "--data":
			r.Body, r.HasBody = v, true
		case "-X", "--request":
			r.Method = v
		default:
			return r, fmt.Errorf("curl option %s is not one this test knows", a)
		}
	}
	if r.URL == "" {
		return r, fmt.Errorf("curl without a URL")
	}
	if r.Method == "" {
		r.Method = "GET"
		if r.HasBody {
			r.Method = "POST"
		}
	}
	return r, nil
}

// Command is one command of a shell script: its words, quotes removed,
// and the line it starts on (from 1).
type Command struct {
	Words []string
	Line  int
}

// Commands splits a shell script into commands. It knows what the README
// uses: words, '…' and "…" quotes, backslash-newline continuations and #
// comments; anything else (variables, pipes, ;, &) is an error, so that a
// README command this package would run wrongly is refused instead.
func Commands(script string) ([]Command, error) {
	var (
		cmds    []Command
		words   []string
		word    strings.Builder
		inWord  bool
		line    = 1
		started = 0
	)
	endWord := func() {
		if inWord {
			words = append(words, word.String())
			word.Reset()
			inWord = false
		}
	}
	endCommand := func() {
		endWord()
		if len(words) > 0 {
			cmds = append(cmds, Command{Words: words, Line: started})
		}
		words = nil
	}
	r := bufio.NewReader(strings.NewReader(script))
	next := func() (rune, bool) {
		c, _, err := r.ReadRune()
		if c == '\n' {
			line++
		}
		return c, err == nil
	}
	for {
		c, ok := next()
		if !ok {
			break
		}
		if !inWord && len(words) == 0 && c != ' ' && c != '\t' && c != '\n' {
			started = line
		}
		switch c {
		case '\n':
			endCommand()
		case ' ', '\t':
			endWord()
		case '\\':
			d, ok := next()
			if !ok {
				return nil, fmt.Errorf("line %d: a backslash at the end", line)
			}
			if d != '\n' {
				word.WriteRune(d)
				inWord = true
			}
		case '#':
			if inWord {
				word.WriteRune(c)
				continue
			}
			for {
				d, ok := next()
				if !ok || d == '\n' {
					break
				}
			}
			endCommand()
		case '\'':
			inWord = true
			for {
				d, ok := next()
				if !ok {
					return nil, fmt.Errorf("line %d: an unclosed '", started)
				}
				if d == '\'' {
					break
				}
				word.WriteRune(d)
			}
		case '"':
			inWord = true
			for {
				d, ok := next()
				if !ok {
					return nil, fmt.Errorf("line %d: an unclosed \"", started)
				}
				if d == '"' {
					break
				}
				if d == '$' || d == '`' || d == '\\' {
					return nil, fmt.Errorf("line %d: %q inside \"…\" is not supported here", line, d)
				}
				word.WriteRune(d)
			}
		case '$', '`', '|', '&', ';', '<', '>', '(', ')', '*', '?':
			return nil, fmt.Errorf("line %d: %q is not supported here", line, c)
		default:
			word.WriteRune(c)
			inWord = true
		}
	}
	endCommand()
	return cmds, nil
}
