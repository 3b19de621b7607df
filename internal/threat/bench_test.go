package threat

import (
	"context"
	"fmt"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pmetric"
)

// BenchmarkEvaluate is the cost of the rules per scrape for 1000 instances, a fifth of them
// crossing a bound each scrape (events are emitted), the rest steady.
func BenchmarkEvaluate(b *testing.B) {
	e, err := NewEngine(NewDefaultConfig(), nil)
	if err != nil {
		b.Fatal(err)
	}
	samples := make([]Sample, 1000)
	for i := range samples {
		s := NewSample(fmt.Sprintf("/kubepods/pod%d", i), map[string]any{"wasm_runtime.instance.id": fmt.Sprintf("/kubepods/pod%d", i), "wasm_runtime.runtime": "wasmtime"})
		s.Limits = &Limits{CPU: true, Memory: true, PIDs: true}
		s.OOMKills, s.FileDescriptors, s.TCPConnections, s.FileCreationRate = 0, 40, 3, 0
		samples[i] = s
	}
	now := time.Unix(0, 0)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for j := range samples {
			v := 0.3
			if j%5 == 0 && i%2 == 0 {
				v = 0.95
			}
			samples[j].CPUUtilization, samples[j].MemoryUtilization = v, v
		}
		now = now.Add(10 * time.Second)
		e.Evaluate(context.Background(), now, samples)
	}
	b.ReportMetric(float64(b.N*len(samples))/b.Elapsed().Seconds(), "samples/s")
}

// BenchmarkSamples is the cost of reading 1000 instances' samples out of a scrape's metrics.
func BenchmarkSamples(b *testing.B) {
	md := pmetric.NewMetrics()
	for i := 0; i < 1000; i++ {
		instanceMetrics{id: fmt.Sprintf("/kubepods/pod%d", i), cpuLimitUtil: f64(0.5), cpuUsage: f64(0.25), memUtil: f64(0.4),
			oomKills: i64(0), fds: i64(40), conns: map[string]int64{"established": 3, "listen": 1},
			limits: map[string]int64{"cpu": 1, "memory": 1, "pids": 1}}.add(md)
	}
	sp := NewSampler()
	now := time.Unix(0, 0)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		now = now.Add(10 * time.Second)
		sp.Samples(md, now)
	}
}
