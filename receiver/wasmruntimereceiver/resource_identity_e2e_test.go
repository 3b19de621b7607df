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

	"github.com/otelcol-virt/otelcol-virt/internal/e2e"
)

// An instance's metrics and its runtime's log records carry one resource, built by one builder
// with the user's resource_attributes: a backend joins them on it. Through the real binary, with
// a resource attribute switched off and integer attributes that must stay integers.
func TestMetricsAndLogsCarryIdenticalResources(t *testing.T) {
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
    collection_interval: 300ms
    runtimes:
      - {name: wazero, kind: wasm, comm: ^wazero$}
    include:
      runtimes: [wazero]
    resource_attributes:
      wasm_runtime.cgroup.version: {enabled: false}
    threats: {enabled: false}
    logs:
      storage: file_storage
      sources:
        - runtime: wazero
          include: [%s/wazero-*.log]
          start_at: beginning
          poll_interval: 100ms
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
    metrics:
      receivers: [wasm_runtime]
      exporters: [otlp_grpc]
`, t.TempDir(), logDir, sink.GRPCEndpoint))
	col := e2e.StartCollector(t, e2e.Options{Configs: []string{cfg}})

	pending := filepath.Join(logDir, "starting.tmp")
	f, err := os.Create(pending)
	require.NoError(t, err)
	cmd := exec.Command(wazero, "run", module, "oob", "3s")
	cmd.Stderr = f
	require.NoError(t, cmd.Start())
	pid := cmd.Process.Pid
	require.NoError(t, os.Rename(pending, filepath.Join(logDir, "wazero-"+strconv.Itoa(pid)+".log")))
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait(); _ = f.Close() })

	var logRes, metricRes map[string]any
	ok := sink.WaitFor(30*time.Second, func(s *e2e.Sink) bool {
		for _, r := range logRecords(s) {
			if r.body == "trapmodule: about to trap: oob" {
				logRes = r.resource
			}
		}
		for _, r := range s.Requests() {
			if r.Signal == "metrics" {
				if rm, found := findResource(r.Metrics, "process.pid", strconv.Itoa(pid)); found {
					metricRes = rm.Resource().Attributes().AsRaw()
				}
			}
		}
		return logRes != nil && metricRes != nil
	})
	require.True(t, ok, "no log record and metrics of pid %d; collector output:\n%s", pid, col.Output())
	assert.Equal(t, metricRes, logRes, "one resource for an instance's metrics and logs")
	assert.Equal(t, int64(pid), logRes["process.pid"], "an integer stays an integer")
	_, has := logRes["wasm_runtime.cgroup.version"]
	assert.False(t, has, "resource_attributes apply to log records too")
	require.NoError(t, col.Stop())
}
