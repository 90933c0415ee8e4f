package sip_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/voicehook/voicehook/internal/config"
	"github.com/voicehook/voicehook/internal/server"
)

// BenchmarkSIPpCallSetup drives voicehook's whole stack with SIPp at
// rising call rates: each call is an INVITE to a number of the dev
// application (initiate webhook, BXML answers it), its 200 OK, half a
// second of call and a BYE. It reports the rate achieved, how long INVITE
// to 200 OK took (median and 99th percentile, SIPp's response time), and
// the calls that failed. Each rate runs for 5 seconds:
//
//	go test -run '^$' -bench SIPpCallSetup -benchtime 1x ./test/sip
func BenchmarkSIPpCallSetup(b *testing.B) {
	bin, err := exec.LookPath("sipp")
	if err != nil {
		b.Skip("skipping: sipp is not installed (Debian package sip-tester)")
	}
	// A Pause answers the call, and lasts longer than SIPp stays.
	a := newApp(b, map[string]string{"/initiate": `<Response><Pause duration="5"/></Response>`})
	cfg := server.Config{Addr: "127.0.0.1:0", DB: ":memory:",
		SIP:         config.SIP{Addr: "127.0.0.131:5060", RTPPorts: [2]int{30000, 31999}},
		InitiateURL: a.srv.URL + "/initiate", StatusURL: a.srv.URL + "/status"}
	srv, err := server.Start(context.Background(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close(context.Background())
	scenario, _ := filepath.Abs(filepath.Join("scenarios", "uac-setup.xml"))
	for _, rate := range []int{50, 100, 200, 400, 800} {
		b.Run(fmt.Sprintf("rate=%d", rate), func(b *testing.B) {
			for b.Loop() {
				dir := b.TempDir()
				calls := rate * 5
				start := time.Now()
				cmd := exec.Command(bin, "-sf", scenario, "-s", "+15550001000", "-i", "127.0.0.132", "-p", "5060", "-mp", "6500",
					"-r", strconv.Itoa(rate), "-m", strconv.Itoa(calls), "-l", "1000", "-nostdin", "-timeout", "60s",
					"-trace_rtt", "-rtt_freq", "1", "-trace_stat", "-fd", "1", srv.SIPAddr())
				cmd.Dir = dir
				out, _ := cmd.CombinedOutput()
				elapsed := time.Since(start)
				rtts := readRTT(b, dir)
				failed := calls - len(rtts)
				if cmd.ProcessState.ExitCode() != 0 && len(rtts) == 0 {
					b.Fatalf("sipp exit %d:\n%s", cmd.ProcessState.ExitCode(), lastLines(string(out), 30))
				}
				slices.Sort(rtts)
				b.ReportMetric(float64(len(rtts))/elapsed.Seconds(), "calls/s")
				if len(rtts) > 0 {
					b.ReportMetric(rtts[len(rtts)/2], "setup-p50-ms")
					b.ReportMetric(rtts[len(rtts)*99/100], "setup-p99-ms")
				}
				b.ReportMetric(float64(failed), "failed")
			}
		})
	}
}

// readRTT reads SIPp's response times (-trace_rtt), in milliseconds.
func readRTT(b *testing.B, dir string) []float64 {
	files, _ := filepath.Glob(filepath.Join(dir, "*_rtt.csv"))
	var out []float64
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		for _, line := range strings.Split(string(data), "\n")[1:] {
			fields := strings.Split(line, ";")
			if len(fields) < 3 {
				continue
			}
			if v, err := strconv.ParseFloat(fields[1], 64); err == nil {
				out = append(out, v)
			}
		}
	}
	return out
}

func lastLines(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
