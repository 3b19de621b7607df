package wasmruntimereceiver

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-virt/otelcol-virt/internal/e2e"
)

type logRecord struct {
	body     string
	attrs    map[string]any
	resource map[string]any
	severity plog.SeverityNumber
}

func logRecords(s *e2e.Sink) []logRecord {
	var out []logRecord
	for _, r := range s.Requests() {
		if r.Signal != "logs" {
			continue
		}
		for i := 0; i < r.Logs.ResourceLogs().Len(); i++ {
			rl := r.Logs.ResourceLogs().At(i)
			for j := 0; j < rl.ScopeLogs().Len(); j++ {
				lrs := rl.ScopeLogs().At(j).LogRecords()
				for k := 0; k < lrs.Len(); k++ {
					lr := lrs.At(k)
					out = append(out, logRecord{body: lr.Body().AsString(), attrs: lr.Attributes().AsRaw(),
						resource: rl.Resource().Attributes().AsRaw(), severity: lr.SeverityNumber()})
				}
			}
		}
	}
	return out
}

// TestRuntimeLogsEndToEnd runs the real binary with a wasm_runtime log source on the stderr files
// of wazero instances (named after their pid), runs a module that traps under wazero, and checks
// the records at the OTLP sink: the announcement joined to the instance discovery found, and the
// trap parsed with its code and backtrace.
func TestRuntimeLogsEndToEnd(t *testing.T) {
	wazero := needIntegration(t)
	module := filepath.Join(t.TempDir(), "trap.wasm")
	build := exec.Command("go", "build", "-o", module, "./internal/runtimelogs/testdata/trapmodule")
	build.Dir = e2e.RepoRoot()
	build.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "%s", out)

	logDir := t.TempDir()
	sink := e2e.NewSink(t)
	cfg := e2e.WriteConfig(t, fmt.Sprintf(`
extensions:
  file_storage:
    directory: %s
receivers:
  wasm_runtime:
    collection_interval: 500ms
    runtimes:
      - {name: wazero, kind: wasm, comm: ^wazero$}
    include:
      runtimes: [wazero]
    threats: {enabled: false}
    logs:
      storage: file_storage
      sources:
        - runtime: wazero
          include: [%s/wazero-*.log]
          start_at: beginning
          poll_interval: 100ms
          multiline_flush_period: 200ms
          pid_from_path: '/wazero-(?P<pid>\d+)\.log$'
exporters:
  otlp_grpc:
    endpoint: %s
    tls:
      insecure: true
service:
  extensions: [file_storage]
  pipelines:
    logs:
      receivers: [wasm_runtime]
      exporters: [otlp_grpc]
`, t.TempDir(), logDir, sink.GRPCEndpoint))
	col := e2e.StartCollector(t, e2e.Options{Binary: e2e.CollectorBinary(t), Configs: []string{cfg}})

	// The guest waits 2 s (discovery sees it), announces the trap, waits 2 s more and traps.
	pending := filepath.Join(logDir, "starting.tmp")
	f, err := os.Create(pending)
	require.NoError(t, err)
	cmd := exec.Command(wazero, "run", module, "oob", "2s")
	cmd.Stderr = f
	require.NoError(t, cmd.Start())
	pid := cmd.Process.Pid
	require.NoError(t, os.Rename(pending, filepath.Join(logDir, "wazero-"+strconv.Itoa(pid)+".log")))
	require.Error(t, cmd.Wait(), "the module traps")
	require.NoError(t, f.Close())

	var announce, trap logRecord
	ok := sink.WaitFor(30*time.Second, func(s *e2e.Sink) bool {
		announce, trap = logRecord{}, logRecord{}
		for _, r := range logRecords(s) {
			switch {
			case r.attrs["wasm_runtime.trap.code"] != nil:
				trap = r
			case r.body == "trapmodule: about to trap: oob":
				announce = r
			}
		}
		return announce.body != "" && trap.body != ""
	})
	require.True(t, ok, "records: %+v\ncollector output:\n%s", logRecords(sink), col.Output())

	assert.Equal(t, int64(pid), announce.attrs["process.pid"])
	assert.Equal(t, int64(pid), announce.resource["process.pid"], "joined to the discovered instance")
	assert.Equal(t, "wasm", announce.resource["wasm_runtime.instance.kind"])
	assert.NotEmpty(t, announce.resource["wasm_runtime.instance.id"])
	assert.Equal(t, "wazero", announce.resource["wasm_runtime.runtime"])

	assert.Equal(t, "memory_out_of_bounds", trap.attrs["wasm_runtime.trap.code"])
	assert.Equal(t, "out of bounds memory access", trap.attrs["exception.message"])
	assert.Equal(t, "_start", trap.attrs["wasm_runtime.wasm.function"])
	assert.Contains(t, trap.attrs["exception.stacktrace"], ".main.load(i32) i32")
	assert.Equal(t, plog.SeverityNumberError, trap.severity)
	assert.Equal(t, "wazero", trap.resource["wasm_runtime.runtime"])
	require.NoError(t, col.Stop())
}
