package runtimelogs

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/confmap"

	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/stanza/entry"
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/stanza/operator"
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/stanza/operator/helper"
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/stanza/pipeline"
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/stanza/testutil"
)

// Throughput of the parsing operators after file_input, per preset, on the preset's fixture
// lines, beside a plain stanza regex_parser on the Firecracker lines. Run with -cpu 1 for a
// figure per core:
//
//	go test -run '^$' -bench BenchmarkParse -benchmem -cpu 1 ./internal/runtimelogs/
func BenchmarkParse(b *testing.B) {
	for _, p := range []string{PresetWasmtime, PresetWasmEdge, PresetWazero, PresetFirecracker, PresetQEMU, PresetGeneric} {
		b.Run(p, func(b *testing.B) {
			cfg := &Config{Sources: []SourceConfig{{Runtime: p, Include: []string{"/x/*.log"}}}}
			ops, err := cfg.Operators(ResolverFunc(func(InstanceRef) (map[string]any, bool) {
				return map[string]any{"wasm_runtime.instance.id": "pid:1:1"}, true
			}))
			require.NoError(b, err)
			benchOperators(b, ops[1:], fixtureLines(b, p+".log"), p)
		})
	}
	b.Run("stanza_regex_parser", func(b *testing.B) {
		var oc operator.Config
		require.NoError(b, oc.Unmarshal(confmap.NewFromStringMap(map[string]any{
			"type":  "regex_parser",
			"regex": `^(?P<time>\S+) \[(?P<vm_id>[^:\]]*):(?P<thread>[^:\]]+):(?P<level>[A-Z]+):(?P<file>[^:\]]+):(?P<line>\d+)\] (?P<message>.*)`,
			// Records that do not match go on, as in the presets.
			"on_error": "send_quiet",
		})))
		benchOperators(b, []operator.Config{oc}, fixtureLines(b, "firecracker.log"), "")
	})
}

func fixtureLines(b *testing.B, file string) []string {
	f, err := os.Open(filepath.Join("testdata", "fixtures", file))
	require.NoError(b, err)
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return lines
}

func readFixtureFile(file string) (string, error) {
	b, err := os.ReadFile(filepath.Join("testdata", "fixtures", file))
	return string(b), err
}

func benchOperators(b *testing.B, ops []operator.Config, lines []string, source string) {
	var emitted atomic.Int64
	set := componenttest.NewNopTelemetrySettings()
	emitter := helper.NewSynchronousLogEmitter(set, func(_ context.Context, es []*entry.Entry) { emitted.Add(int64(len(es))) })
	pipe, err := pipeline.Config{Operators: ops, DefaultOutput: emitter}.Build(set)
	require.NoError(b, err)
	require.NoError(b, pipe.Start(testutil.NewUnscopedMockPersister()))
	first := pipe.Operators()[0]
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	var offset int64
	for i := 0; i < b.N; i++ {
		e := entry.New()
		e.Body = lines[i%len(lines)]
		e.Attributes = map[string]any{"log.file.path": "/x/a.log", recordOffsetAttr: offset}
		if source != "" {
			e.Attributes[sourceAttr] = source
		}
		offset += int64(len(lines[i%len(lines)]) + 1)
		if err := first.Process(ctx, e); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	require.NoError(b, pipe.Stop())
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lines/s")
	b.ReportMetric(float64(emitted.Load())/float64(b.N), "records/line")
}
