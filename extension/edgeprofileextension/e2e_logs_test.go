package edgeprofileextension_test

import (
	"context"
	crand "crypto/rand"
	"fmt"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/otelcol-virt/otelcol-virt/internal/e2e"
)

type sentLog struct {
	body  string
	trace pcommon.TraceID // empty for records without a trace id
}

// sendLogs sends n log records in requests of 100 over OTLP/gRPC and returns the accepted ones;
// withTrace gives each record a random trace id.
func sendLogs(t *testing.T, endpoint, prefix string, n int, withTrace bool) []sentLog {
	t.Helper()
	conn, err := grpc.NewClient(endpoint, grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	defer conn.Close()
	client := plogotlp.NewGRPCClient(conn)
	var out []sentLog
	for start := 0; start < n; start += 100 {
		ld := plog.NewLogs()
		recs := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords()
		var batch []sentLog
		for i := start; i < min(n, start+100); i++ {
			rec := recs.AppendEmpty()
			sl := sentLog{body: fmt.Sprintf("%s-%d", prefix, i)}
			if withTrace {
				_, _ = crand.Read(sl.trace[:])
				rec.SetTraceID(sl.trace)
			}
			rec.Body().SetStr(sl.body)
			rec.SetTimestamp(pcommon.NewTimestampFromTime(time.Now()))
			batch = append(batch, sl)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, err := client.Export(ctx, plogotlp.NewExportRequestFromLogs(ld))
		cancel()
		require.NoError(t, err, "the collector refused log records")
		out = append(out, batch...)
	}
	return out
}

// logArrivals counts the records that reached the sink, by body.
func logArrivals(sink *e2e.Sink) map[string]int {
	out := map[string]int{}
	for _, req := range sink.Requests() {
		if req.Signal != "logs" {
			continue
		}
		rls := req.Logs.ResourceLogs()
		for i := range rls.Len() {
			sls := rls.At(i).ScopeLogs()
			for j := range sls.Len() {
				recs := sls.At(j).LogRecords()
				for k := range recs.Len() {
					out[recs.At(k).Body().Str()]++
				}
			}
		}
	}
	return out
}

var logsSampledMetric = regexp.MustCompile(`(?m)^otelcol_processor_probabilistic_sampler_count_logs_sampled(?:_total)?\{([^}]*)\} (\d+)`)

// logsSampled sums the sampler's own count of log records by its "sampled" attribute.
func logsSampled(t *testing.T, metrics string) (kept, dropped int) {
	t.Helper()
	for _, m := range logsSampledMetric.FindAllStringSubmatch(metrics, -1) {
		n, err := strconv.Atoi(m[2])
		require.NoError(t, err)
		switch {
		case regexp.MustCompile(`sampled="true"`).MatchString(m[1]):
			kept += n
		case regexp.MustCompile(`sampled="false"`).MatchString(m[1]):
			dropped += n
		}
	}
	return kept, dropped
}

// TestEdgeExampleKeepsLogsWithoutTraceID sends 1,000 log records without a trace id and 1,000
// with one through examples/edge.yaml: every record without a trace id arrives (the documented
// rate: 100 %), a record with one arrives exactly when the edge preset keeps its trace, and the
// sampler's own counter says how many it dropped.
func TestEdgeExampleKeepsLogsWithoutTraceID(t *testing.T) {
	skipShort(t)
	sink := e2e.NewSink(t)
	r := newPresetRun(t, sink, []string{example("edge")}, exampleSets(t)...)
	r.telemetry = e2e.FreeEndpoint(t)
	r.start(t)

	bare := sendLogs(t, r.otlpGRPC, "bare", 1000, false)
	traced := sendLogs(t, r.otlpGRPC, "traced", 1000, true)
	keptTraced := 0
	for _, l := range traced {
		if sampledByEdge(l.trace) {
			keptTraced++
		}
	}
	want := len(bare) + keptTraced
	require.True(t, sink.WaitForCount("logs", want, 30*time.Second), "logs at the sink: %d of %d", sink.Count("logs"), want)
	time.Sleep(6 * time.Second) // past the 5 s flush: nothing more may come

	got := logArrivals(sink)
	missing, wrong, dups := 0, 0, 0
	for _, l := range bare {
		missing += boolInt(got[l.body] == 0)
		dups += max(0, got[l.body]-1)
	}
	for _, l := range traced {
		if sampledByEdge(l.trace) != (got[l.body] > 0) {
			wrong++
		}
		dups += max(0, got[l.body]-1)
	}
	kept, dropped := logsSampled(t, scrape(t, r.telemetry))
	t.Logf("logs through edge: %d of %d without a trace id arrived, %d of %d with one (predicted %d); sampler counted %d kept, %d dropped",
		len(bare)-missing, len(bare), sink.Count("logs")-(len(bare)-missing), len(traced), keptTraced, kept, dropped)
	assert.Zero(t, missing, "records without a trace id are kept")
	assert.Zero(t, wrong, "records with a trace id follow their trace's decision")
	assert.Zero(t, dups)
	assert.Equal(t, want, kept, "otelcol_processor_probabilistic_sampler_count_logs_sampled{sampled=\"true\"}")
	assert.Equal(t, len(traced)-keptTraced, dropped, "every dropped record is counted: sampled=\"false\"")
	for _, req := range sink.Requests() {
		assert.Equal(t, e2e.ProtocolHTTP, req.Protocol)
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestLogsThroughEachPreset sends 10,000 log records through each example, half of them with
// a trace id: cloud and hybrid deliver all of them exactly once, edge every record without a
// trace id and exactly those with one whose trace it keeps.
func TestLogsThroughEachPreset(t *testing.T) {
	skipShort(t)
	for _, tt := range []struct {
		preset string
		flush  time.Duration
	}{{"edge", 5 * time.Second}, {"cloud", 30 * time.Second}, {"hybrid", 15 * time.Second}} {
		t.Run(tt.preset, func(t *testing.T) {
			t.Parallel()
			sink := e2e.NewSink(t)
			r := startPreset(t, sink, []string{example(tt.preset)}, exampleSets(t)...)
			bare := sendLogs(t, r.otlpGRPC, "bare", 5000, false)
			traced := sendLogs(t, r.otlpGRPC, "traced", 5000, true)
			want := map[string]bool{}
			for _, l := range bare {
				want[l.body] = true
			}
			for _, l := range traced {
				if tt.preset != "edge" || sampledByEdge(l.trace) {
					want[l.body] = true
				}
			}
			require.True(t, sink.WaitForCount("logs", len(want), tt.flush+30*time.Second), "%d of %d", sink.Count("logs"), len(want))
			time.Sleep(2 * time.Second)
			got := logArrivals(sink)
			lost, extra, dups := 0, 0, 0
			for body := range want {
				lost += boolInt(got[body] == 0)
			}
			for body, n := range got {
				extra += boolInt(!want[body])
				dups += n - 1
			}
			t.Logf("%s: 10,000 log records sent (5,000 with a trace id), %d expected, %d arrived, lost %d, unexpected %d, duplicates %d",
				tt.preset, len(want), sink.Count("logs"), lost, extra, dups)
			assert.Zero(t, lost)
			assert.Zero(t, extra)
			assert.Zero(t, dups)
		})
	}
}
