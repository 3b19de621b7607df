package runtimelogs

import (
	"context"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/receiver/receivertest"
)

var testType = component.MustNewType("wasm_runtime")

// record is a flattened plog record.
type record struct {
	Body         string
	Severity     plog.SeverityNumber
	SeverityText string
	Timestamp    time.Time
	Attributes   map[string]any
	Resource     map[string]any
	Scope        string
}

func flatten(all []plog.Logs) []record {
	var out []record
	for _, ld := range all {
		for i := 0; i < ld.ResourceLogs().Len(); i++ {
			rl := ld.ResourceLogs().At(i)
			for j := 0; j < rl.ScopeLogs().Len(); j++ {
				sl := rl.ScopeLogs().At(j)
				for k := 0; k < sl.LogRecords().Len(); k++ {
					lr := sl.LogRecords().At(k)
					out = append(out, record{
						Body:         lr.Body().AsString(),
						Severity:     lr.SeverityNumber(),
						SeverityText: lr.SeverityText(),
						Timestamp:    lr.Timestamp().AsTime(),
						Attributes:   lr.Attributes().AsRaw(),
						Resource:     rl.Resource().Attributes().AsRaw(),
						Scope:        sl.Scope().Name(),
					})
				}
			}
		}
	}
	// Records of one file arrive in order; several files may interleave.
	sort.SliceStable(out, func(a, b int) bool {
		return out[a].Attributes["log.file.path"].(string) < out[b].Attributes["log.file.path"].(string)
	})
	return out
}

// testSettings has a fixed id: the storage extension keys checkpoints by it (receivertest gives
// every call a new random name).
func testSettings() receiver.Settings {
	set := receivertest.NewNopSettings(testType)
	set.ID = component.NewID(testType)
	return set
}

// startReceiver starts a logs receiver on cfg and stops it at cleanup.
func startReceiver(t *testing.T, cfg *Config, resolver Resolver, host component.Host) (*consumertest.LogsSink, receiver.Logs) {
	t.Helper()
	sink := new(consumertest.LogsSink)
	rcv, err := NewLogsReceiver(context.Background(), testSettings(), cfg, resolver, sink)
	require.NoError(t, err)
	if host == nil {
		host = componenttest.NewNopHost()
	}
	require.NoError(t, rcv.Start(context.Background(), host))
	t.Cleanup(func() { _ = rcv.Shutdown(context.Background()) })
	return sink, rcv
}

// readFixture runs the preset over a fixture file from its beginning and returns its records.
func readFixture(t *testing.T, preset, file string, want int) []record {
	t.Helper()
	path, err := filepath.Abs(filepath.Join("testdata", "fixtures", file))
	require.NoError(t, err)
	cfg := &Config{Sources: []SourceConfig{{
		Runtime:              preset,
		Include:              []string{path},
		StartAt:              StartAtBeginning,
		PollInterval:         20 * time.Millisecond,
		MultilineFlushPeriod: 100 * time.Millisecond,
	}}}
	sink, _ := startReceiver(t, cfg, nil, nil)
	require.Eventually(t, func() bool { return sink.LogRecordCount() >= want }, 10*time.Second, 20*time.Millisecond,
		"want %d records from %s", want, file)
	// Nothing more may come: a second flush period without new records.
	time.Sleep(300 * time.Millisecond)
	recs := flatten(sink.AllLogs())
	require.Len(t, recs, want, "records: %s", bodies(recs))
	return recs
}

func bodies(recs []record) string {
	var b strings.Builder
	for i, r := range recs {
		b.WriteString("\n#")
		b.WriteString(strings.TrimSpace(strings.Repeat(" ", 0)))
		b.WriteString(string(rune('0' + i%10)))
		b.WriteString(": ")
		b.WriteString(r.Body)
	}
	return b.String()
}
