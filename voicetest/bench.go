package voicetest

import (
	"flag"
	"testing"
	"testing/synctest"
)

// Benchmark runs scenario b.N times, each in a synctest bubble of its own
// (voicetest.New needs one), timing only the runs, and fails b if one
// fails. synctest.Test needs a *testing.T, which a benchmark does not
// have: Benchmark makes one with testing.RunTests, running the scenario
// b.N times whatever -count says (RunTests would otherwise repeat it
// -count times within each benchmark run).
//
//	func BenchmarkConversation(b *testing.B) {
//		voicetest.Benchmark(b, func(t *testing.T) {
//			v := voicetest.New(t, app, voicetest.Options{})
//			…
//		})
//	}
func Benchmark(b *testing.B, scenario func(t *testing.T)) {
	b.Helper()
	if count := flag.Lookup("test.count"); count != nil {
		was := count.Value.String()
		if err := count.Value.Set("1"); err == nil {
			defer count.Value.Set(was)
		}
	}
	b.ResetTimer()
	ok := testing.RunTests(func(string, string) (bool, error) { return true, nil }, []testing.InternalTest{{
		Name: b.Name(),
		F: func(t *testing.T) {
			for range b.N {
				synctest.Test(t, scenario)
			}
		},
	}})
	b.StopTimer()
	if !ok {
		b.Fatal("the scenario failed")
	}
}
