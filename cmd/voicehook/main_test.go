package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runCmd(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func TestDecodeDocumentedExample(t *testing.T) {
	// The decode command with a documented example.
	code, out, errOut := runCmd(t, "", "decode", filepath.Join("..", "..", "callback", "testdata", "golden", "disconnect-busy.json"))
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	if !strings.HasPrefix(out, "disconnect (*callback.Disconnect)\n{\"eventType\":\"disconnect\"") || !strings.Contains(out, `"cause":"busy"`) {
		t.Errorf("output %q", out)
	}
}

func TestDecodeStdinError(t *testing.T) {
	code, out, errOut := runCmd(t, `{"eventType":"gather","digits":5}`, "decode")
	if code != 1 || out != "" {
		t.Errorf("exit %d, stdout %q", code, out)
	}
	if want := "voicehook decode: standard input: callback: gather: digits: want a string, got a number\n"; errOut != want {
		t.Errorf("stderr %q, want %q", errOut, want)
	}
}

func TestDecodeQuery(t *testing.T) {
	code, out, errOut := runCmd(t, "?eventType=disconnect&cause=timeout&sipResponseCode=408\n", "decode", "-query")
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	if want := "disconnect (*callback.Disconnect)\n{\"eventType\":\"disconnect\",\"cause\":\"timeout\",\"sipResponseCode\":408}\n"; out != want {
		t.Errorf("stdout %q, want %q", out, want)
	}
}

func TestDecodeUnknownEventWarns(t *testing.T) {
	code, out, errOut := runCmd(t, `{"eventType":"teleport","to":"mars"}`, "decode")
	if code != 1 || !strings.Contains(errOut, `warning: callback: teleport: eventType: unknown eventType "teleport"`) {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
	if !strings.Contains(out, `"to":"mars"`) {
		t.Errorf("the unknown event's fields were not printed: %q", out)
	}
}

func TestDecodeMissingFile(t *testing.T) {
	code, _, errOut := runCmd(t, "", "decode", filepath.Join(t.TempDir(), "nope.json"))
	if code != 1 || !strings.Contains(errOut, "no such file") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
}

func TestDecodeTooLarge(t *testing.T) {
	f := filepath.Join(t.TempDir(), "big.json")
	if err := os.WriteFile(f, bytes.Repeat([]byte(" "), 2<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := runCmd(t, "", "decode", f)
	if code != 1 || !strings.Contains(errOut, "body too large") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
}

func TestUsage(t *testing.T) {
	if code, _, errOut := runCmd(t, ""); code != 2 || !strings.Contains(errOut, "Commands:") {
		t.Errorf("no args: exit %d, stderr %q", code, errOut)
	}
	if code, _, errOut := runCmd(t, "", "frobnicate"); code != 2 || !strings.Contains(errOut, `unknown command "frobnicate"`) {
		t.Errorf("unknown command: exit %d, stderr %q", code, errOut)
	}
	if code, out, _ := runCmd(t, "", "version"); code != 0 || !strings.HasPrefix(out, "voicehook ") {
		t.Errorf("version: exit %d, stdout %q", code, out)
	}
	if code, _, _ := runCmd(t, "", "decode", "a", "b"); code != 2 {
		t.Errorf("two files: exit %d", code)
	}
}

func TestVersion(t *testing.T) {
	old := version
	version = "v1.2.3-test"
	defer func() { version = old }()
	for _, arg := range []string{"version", "--version", "-version"} {
		code, out, errOut := runCmd(t, "", arg)
		if code != 0 || out != "voicehook v1.2.3-test\n" || errOut != "" {
			t.Errorf("voicehook %s: exit %d, stdout %q, stderr %q", arg, code, out, errOut)
		}
	}
}
