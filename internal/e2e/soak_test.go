package e2e

import (
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Soak settings. The short mode runs in `make test`; OTELCOL_VIRT_SOAK_DURATION (e.g. 10m, as
// `make soak` sets) runs the long mode.
const (
	soakSpansPerSecond = 5000
	soakShortDuration  = 60 * time.Second
	soakMemoryLimitMiB = 256 // memory_limiter::limit_mib, the bound RSS must stay under
	// Growth allowed between the idle states before and after the load: a few goroutines come
	// and go with connection and timer churn; a leak grows with the load.
	soakGoroutineSlack = 10
	soakFDSlack        = 4
)

func soakDuration(t *testing.T) time.Duration {
	if v := os.Getenv("OTELCOL_VIRT_SOAK_DURATION"); v != "" {
		d, err := time.ParseDuration(v)
		require.NoError(t, err, "OTELCOL_VIRT_SOAK_DURATION")
		return d
	}
	return soakShortDuration
}

// soakConfig is the stock cloud-like pipeline with our processor in it, the pprof extension
// for goroutine counts, and an exporter that never gives up.
func soakConfig(otlpGRPC, pprof, sink string) string {
	return fmt.Sprintf(`
extensions:
  pprof:
    endpoint: %s
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: %s
processors:
  memory_limiter:
    check_interval: 1s
    limit_mib: %d
    spike_limit_mib: 64
  virtualization_attributes:
  batch:
    send_batch_size: 512
    timeout: 1s
exporters:
  otlp_grpc:
    endpoint: %s
    compression: none
    tls: {insecure: true}
    retry_on_failure:
      max_elapsed_time: 0
service:
  extensions: [pprof]
  pipelines:
    traces:
      receivers: [otlp]
      processors: [memory_limiter, virtualization_attributes, batch]
      exporters: [otlp_grpc]
`, pprof, otlpGRPC, soakMemoryLimitMiB, sink)
}

type soakSample struct {
	at         time.Duration
	rss        int64
	fds        int
	goroutines int
}

// 5,000 spans/s through the real binary: RSS stays under the memory_limiter bound, every span
// the receiver accepted reaches the backend exactly once, and goroutines and file descriptors
// return to their idle level afterwards.
func TestSoak(t *testing.T) {
	skipShort(t)
	duration := soakDuration(t)
	sink, err := StartCountingSink(CountingSinkOptions{TrackIDs: true})
	require.NoError(t, err)
	t.Cleanup(sink.Close)

	otlp, pprof, telemetry := FreeEndpoint(t), FreeEndpoint(t), FreeEndpoint(t)
	c := StartCollector(t, Options{
		Configs:           []string{WriteConfig(t, soakConfig(otlp, pprof, sink.GRPCEndpoint))},
		TelemetryEndpoint: telemetry,
	})
	sample := func(start time.Time) soakSample {
		t.Helper()
		st, err := ReadProcStats(c.Pid())
		require.NoError(t, err)
		g, err := GoroutineCount(pprof)
		require.NoError(t, err)
		return soakSample{at: time.Since(start).Round(time.Second), rss: st.RSSBytes, fds: st.FDs, goroutines: g}
	}

	// Warm up: the first export opens the exporter's connection and its goroutines.
	Telemetrygen(t, time.Minute, "traces", "--otlp-endpoint", otlp, "--otlp-insecure",
		"--traces", "500", "--child-spans", "1", "--rate", "0")
	require.True(t, sink.WaitForSpans(1000, 30*time.Second), "warm-up spans arrive")
	time.Sleep(3 * time.Second)
	start := time.Now()
	before := sample(start)

	// telemetrygen v0.161.0 paces spans (parent and child alike) per worker.
	const workers = 5
	rate := strconv.Itoa(soakSpansPerSecond / workers)
	type result struct {
		out string
		err error
	}
	done := make(chan result, 1)
	go func() {
		bin, err := ToolPath("telemetrygen")
		if err != nil {
			done <- result{err: err}
			return
		}
		out, err := runTool(duration+time.Minute, bin, "traces", "--otlp-endpoint", otlp, "--otlp-insecure",
			"--duration", duration.String(), "--rate", rate, "--workers", strconv.Itoa(workers), "--child-spans", "1")
		done <- result{out, err}
	}()

	var samples []soakSample
	var peak int64
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var res result
loop:
	for {
		select {
		case res = <-done:
			break loop
		case <-c.Done():
			t.Fatalf("collector exited under load:\n%s", c.Output())
		case <-tick.C:
			s := sample(start)
			peak = max(peak, s.rss)
			if len(samples) == 0 || s.at-samples[len(samples)-1].at >= duration/10 {
				samples = append(samples, s)
			}
		}
	}
	require.NoError(t, res.err, "telemetrygen:\n%s", res.out)
	loadTime := time.Since(start)

	// Drain: everything the receiver accepted must reach the sink.
	var accepted, refused float64
	require.Eventually(t, func() bool {
		m, err := ScrapeMetrics(telemetry)
		if err != nil {
			return false
		}
		accepted, _ = m.Get("otelcol_receiver_accepted_spans_total", "otelcol_receiver_accepted_spans")
		refused, _ = m.Get("otelcol_receiver_refused_spans_total", "otelcol_receiver_refused_spans")
		unique, _ := sink.UniqueSpans()
		return accepted > 0 && float64(unique) >= accepted
	}, 60*time.Second, 500*time.Millisecond, "the sink receives every accepted span")
	time.Sleep(3 * time.Second) // idle again: batch timers fired, client connections closed
	after := sample(start)
	final, err := ScrapeMetrics(telemetry)
	require.NoError(t, err)

	unique, dups := sink.UniqueSpans()
	sentFailed, _ := final.Get("otelcol_exporter_send_failed_spans_total", "otelcol_exporter_send_failed_spans")
	enqueueFailed, _ := final.Get("otelcol_exporter_enqueue_failed_spans_total", "otelcol_exporter_enqueue_failed_spans")
	rateSeen := (accepted - 1000) / loadTime.Seconds()
	t.Logf("soak %s at %.0f spans/s: accepted %.0f (refused %.0f), at the sink %d unique, %d duplicates; peak RSS %.1f MiB (bound %d MiB)",
		loadTime.Round(time.Second), rateSeen, accepted, refused, unique, dups, float64(peak)/(1<<20), soakMemoryLimitMiB)
	for _, s := range samples {
		t.Logf("  t=%-5s rss %.1f MiB  fds %d  goroutines %d", s.at, float64(s.rss)/(1<<20), s.fds, s.goroutines)
	}
	t.Logf("  idle before: fds %d goroutines %d; idle after: fds %d goroutines %d", before.fds, before.goroutines, after.fds, after.goroutines)

	assert.Greater(t, rateSeen, 0.8*soakSpansPerSecond, "the load reached the target rate")
	assert.Less(t, peak, int64(soakMemoryLimitMiB)<<20, "RSS stays under the memory_limiter bound")
	assert.Equal(t, int64(accepted), unique, "every accepted span arrived")
	assert.Zero(t, dups, "no span arrived twice")
	assert.Zero(t, sentFailed+enqueueFailed, "the exporter dropped nothing")
	assert.LessOrEqual(t, after.goroutines, before.goroutines+soakGoroutineSlack, "goroutines return to their idle level")
	assert.LessOrEqual(t, after.fds, before.fds+soakFDSlack, "file descriptors return to their idle level")
	assert.NotContains(t, c.Output(), "panic")
}
