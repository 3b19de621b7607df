package vmstats

import (
	"testing"

	"github.com/otelcol-virt/otelcol-virt/internal/proc"
)

func BenchmarkParseTaskStat(b *testing.B) {
	data := captured(b, "task/*/stat")
	b.SetBytes(int64(len(data)))
	for i := 0; i < b.N; i++ {
		if _, _, err := ParseTaskStat(data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCalibrateSum(b *testing.B) {
	data := captured(b, "task/*/stat")
	s := 0
	for i := 0; i < b.N; i++ {
		for _, c := range data {
			s += int(c)
		}
	}
	_ = s
}

func BenchmarkParseSchedstat(b *testing.B) {
	data := captured(b, "task/*/schedstat")
	for b.Loop() {
		if _, err := ParseSchedstat(data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseProcIO(b *testing.B) {
	data := captured(b, "io")
	for b.Loop() {
		if _, err := ParseProcIO(data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkScanNetDev(b *testing.B) {
	data := captured(b, "net/dev")
	for b.Loop() {
		if err := proc.ScanNetDev(data, func([]byte, NetCounters) {}); err != nil {
			b.Fatal(err)
		}
	}
}
