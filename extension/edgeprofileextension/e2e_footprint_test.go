package edgeprofileextension_test

import (
	"context"
	"encoding/json"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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
