package mail

import (
	"runtime"
	"testing"
	"time"
)

func BenchmarkZZCorpusGC(b *testing.B) {
	msgs, total := loadCorpus(b)
	b.SetBytes(total)
	b.ReportAllocs()
	var stdlib time.Duration
	for b.Loop() {
		for _, raw := range msgs {
			Parse(raw, testReceived)
		}
		b.StopTimer()
		runtime.GC()
		start := time.Now()
		for _, raw := range msgs {
			stdlibParse(raw)
		}
		stdlib += time.Since(start)
		runtime.GC()
		b.StartTimer()
	}
	b.ReportMetric(float64(stdlib)/float64(b.Elapsed()), "x-stdlib")
}
