package edgeprofileextension_test

import (
	"context"
	"encoding/json"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/otelcol-virt/otelcol-virt/bench/benchkit"
	"github.com/otelcol-virt/otelcol-virt/internal/e2e"
)

// The real binary with examples/cloud.yaml hands its start-up pages back once ready (the log
// line's figures come from /proc/self/status), and runs on: a full batch sent afterwards
// arrives, and so does one after a switch to edge (another exporter's code path).
func TestExampleReleasesStartupMemory(t *testing.T) {
	skipShort(t)
	sink := e2e.NewSink(t)
	r := startPreset(t, sink, []string{example("cloud")}, exampleSets(t)...)
	const line = "edge_profile released start-up memory"
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	require.NoError(t, r.col.WaitForOutput(ctx, line))
	m := regexp.MustCompile(regexp.QuoteMeta(line) + `\s+(\{.*\})`).FindStringSubmatch(r.col.Output())
	require.NotNil(t, m, "%s", r.col.Output())
	var fields map[string]any
	require.NoError(t, json.Unmarshal([]byte(m[1]), &fields), m[1])
	t.Logf("released: %s", m[1])
	assert.Positive(t, fields["executable_mappings_released"])
	assert.Less(t, fields["file_kib_after"], fields["file_kib_before"], "file-backed resident KiB")
	assert.Less(t, fields["rss_kib_after"], fields["rss_kib_before"], "resident KiB")

	s := newSender(t, r.otlpGRPC)
	s.send(512) // cloud's batch size: exported at once, no 30 s flush wait
	require.True(t, sink.WaitForCount("traces", 512, 20*time.Second), "cloud exported %d of 512", sink.SpanCount())
	setProfile(t, r.control, "edge")
	for range 20 {
		s.send(100)
	}
	require.True(t, sink.WaitFor(20*time.Second, func(s *e2e.Sink) bool { return s.SpanCount() > 512 }),
		"nothing arrived through edge after the release")
}

// examples/edge.yaml sends one scrape of 50 instances as one request: edge's batch size of 32
// makes a request leave, it does not cut a scrape into requests of 32 data points (25 gzip
// requests per scrape of ~800 points before); no request is above max_batch_size.
func TestEdgeExampleSendsAScrapeWhole(t *testing.T) {
	skipShort(t)
	const instances = 50
	instancesConfig, stop, err := benchkit.StartInstances(instances)
	require.NoError(t, err)
	t.Cleanup(stop)
	sink := e2e.NewSink(t)
	startPreset(t, sink, []string{example("edge"), instancesConfig},
		append(exampleSets(t), "receivers::wasm_runtime::collection_interval=2s")...)

	// Requests by scrape: every data point of one scrape carries the scrape's timestamp.
	type scrape struct {
		requests  map[int]bool
		instances map[string]bool // by process.pid: a split request carries a resource twice
		points    int
	}
	collect := func() (map[pcommon.Timestamp]*scrape, []e2e.Request) {
		scrapes := map[pcommon.Timestamp]*scrape{}
		var reqs []e2e.Request
		for i, r := range sink.Requests() {
			if r.Signal != "metrics" {
				continue
			}
			reqs = append(reqs, r)
			rms := r.Metrics.ResourceMetrics()
			for j := range rms.Len() {
				rm := rms.At(j)
				if v, _ := rm.Resource().Attributes().Get("wasm_runtime.runtime"); v.Str() != "bench" {
					continue
				}
				ts, n := resourceTimestamp(rm)
				s := scrapes[ts]
				if s == nil {
					s = &scrape{requests: map[int]bool{}, instances: map[string]bool{}}
					scrapes[ts] = s
				}
				s.requests[i] = true
				pid, _ := rm.Resource().Attributes().Get("process.pid")
				s.instances[pid.AsString()] = true
				s.points += n
			}
		}
		return scrapes, reqs
	}
	require.True(t, sink.WaitFor(40*time.Second, func(*e2e.Sink) bool {
		scrapes, _ := collect()
		complete := 0
		for _, s := range scrapes {
			if len(s.instances) == instances {
				complete++
			}
		}
		return complete >= 3
	}), "three scrapes of all %d instances", instances)
	scrapes, reqs := collect()
	for ts, s := range scrapes {
		if len(s.instances) < instances {
			continue // the first scrape may precede the inventory's sight of every instance
		}
		t.Logf("scrape at %v: %d instances, %d data points, in %d request(s)", ts.AsTime().Format(time.TimeOnly), len(s.instances), s.points, len(s.requests))
		assert.Greater(t, s.points, 32, "a scrape is more than one edge batch")
		assert.Equal(t, 1, len(s.requests), "one scrape, one request")
	}
	for _, r := range reqs {
		assert.LessOrEqual(t, r.Items(), 4096, "max_batch_size")
		assert.Equal(t, "gzip", r.Encoding)
	}
}

// resourceTimestamp returns the timestamp of a resource's first data point and its point count
// (the receiver emits gauges and sums only).
func resourceTimestamp(rm pmetric.ResourceMetrics) (pcommon.Timestamp, int) {
	var ts pcommon.Timestamp
	n := 0
	sms := rm.ScopeMetrics()
	for i := range sms.Len() {
		ms := sms.At(i).Metrics()
		for j := range ms.Len() {
			var dps pmetric.NumberDataPointSlice
			switch m := ms.At(j); m.Type() {
			case pmetric.MetricTypeGauge:
				dps = m.Gauge().DataPoints()
			case pmetric.MetricTypeSum:
				dps = m.Sum().DataPoints()
			default:
				continue
			}
			if dps.Len() > 0 && ts == 0 {
				ts = dps.At(0).Timestamp()
			}
			n += dps.Len()
		}
	}
	return ts, n
}
