package runtimelogs

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension"
	"go.opentelemetry.io/collector/extension/extensiontest"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/open-telemetry/opentelemetry-collector-contrib/extension/storage/filestorage"

	"github.com/otelcol-virt/otelcol-virt/internal/e2e"
)

// buildTrapModule compiles testdata/trapmodule for WASI.
func buildTrapModule(t *testing.T) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "trap.wasm")
	cmd := exec.Command("go", "build", "-o", out, "./testdata/trapmodule")
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	b, err := cmd.CombinedOutput()
	require.NoError(t, err, "build the trap module: %s", b)
	return out
}

// TestWazeroTrapEndToEnd runs a real wazero instance whose module traps, its stderr going to a
// file named after its pid, and checks the record the pipeline makes of it, attached to the
// instance the resolver knows by that pid.
func TestWazeroTrapEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a Wasm module and runs wazero; skipped with -short")
	}
	wazero := e2e.Tool(t, "wazero")
	module := buildTrapModule(t)
	dir := t.TempDir()

	var mu sync.Mutex
	instances := map[int]map[string]any{}
	resolver := ResolverFunc(func(ref InstanceRef) (map[string]any, bool) {
		mu.Lock()
		defer mu.Unlock()
		attrs, ok := instances[ref.PID]
		return attrs, ok
	})
	cfg := &Config{Sources: []SourceConfig{{
		Runtime:              "wazero",
		Include:              []string{filepath.Join(dir, "*.log")},
		StartAt:              StartAtBeginning,
		PIDFromPath:          `/wazero-(?P<pid>\d+)\.log$`,
		PollInterval:         20 * time.Millisecond,
		MultilineFlushPeriod: 100 * time.Millisecond,
	}}}
	sink, _ := startReceiver(t, cfg, resolver, nil)

	pids := map[string]int{}
	for _, mode := range []string{"oob", "unreachable"} {
		// The stderr file is renamed after the pid once the process exists; the glob does not
		// match it before, so the first read already knows the pid.
		pending := filepath.Join(dir, mode+".pending")
		f, err := os.Create(pending)
		require.NoError(t, err)
		cmd := exec.Command(wazero, "run", module, mode)
		cmd.Stderr = f
		require.NoError(t, cmd.Start())
		pid := cmd.Process.Pid
		pids[mode] = pid
		mu.Lock()
		instances[pid] = map[string]any{"wasm_runtime.instance.id": fmt.Sprintf("pid:%d", pid), "wasm_runtime.instance.kind": "wasm"}
		mu.Unlock()
		require.NoError(t, os.Rename(pending, filepath.Join(dir, fmt.Sprintf("wazero-%d.log", pid))))
		err = cmd.Wait()
		require.NoError(t, f.Close())
		var exit *exec.ExitError
		require.ErrorAs(t, err, &exit, "a trapping module makes wazero fail")
	}

	var traps []record
	require.Eventually(t, func() bool {
		traps = traps[:0]
		for _, r := range flatten(sink.AllLogs()) {
			if r.Attributes[AttrTrapCode] != nil {
				traps = append(traps, r)
			}
		}
		return len(traps) == 2
	}, 15*time.Second, 50*time.Millisecond)

	byCode := map[string]record{}
	for _, r := range traps {
		byCode[r.Attributes[AttrTrapCode].(string)] = r
	}
	for code, mode := range map[string]string{"memory_out_of_bounds": "oob", "unreachable_code_reached": "unreachable"} {
		r, ok := byCode[code]
		require.True(t, ok, "no %s record", code)
		assert.Equal(t, plog.SeverityNumberError, r.Severity)
		assert.Equal(t, int64(pids[mode]), r.Attributes[AttrPID])
		assert.Equal(t, fmt.Sprintf("pid:%d", pids[mode]), r.Resource["wasm_runtime.instance.id"], "resource of the instance")
		assert.Equal(t, "wazero", r.Resource["wasm_runtime.runtime"])
		assert.Equal(t, "_start", r.Attributes[AttrWasmFunction])
		assert.Contains(t, r.Attributes[AttrExceptionStacktrace], ".main.main(i32) i32")
		assert.Equal(t, ScopeName, r.Scope)
	}
}

// storageHost is a component.Host with extensions.
type storageHost struct {
	ext map[component.ID]component.Component
}

func (h storageHost) GetExtensions() map[component.ID]component.Component { return h.ext }

func startFileStorage(t *testing.T, dir string) (component.ID, extension.Extension) {
	t.Helper()
	f := filestorage.NewFactory()
	cfg := f.CreateDefaultConfig().(*filestorage.Config)
	cfg.Directory = dir
	cfg.Compaction.Directory = dir
	ext, err := f.Create(context.Background(), extensiontest.NewNopSettings(f.Type()), cfg)
	require.NoError(t, err)
	require.NoError(t, ext.Start(context.Background(), storageHost{}))
	return component.NewID(f.Type()), ext
}

// TestRestartResumesFromCheckpoint stops the pipeline and its file_storage in the middle of a file
// that keeps growing, starts new ones on the same directory with start_at: end, and checks that
// every line arrives exactly once.
func TestRestartResumesFromCheckpoint(t *testing.T) {
	const total = 3000
	logDir, storageDir := t.TempDir(), t.TempDir()
	path := filepath.Join(logDir, "instance.log")
	f, err := os.Create(path)
	require.NoError(t, err)
	defer f.Close()

	written := make(chan int, 1)
	stopWriter := make(chan struct{})
	writeLines := func(from, to int) {
		for i := from; i < to; i++ {
			_, err := fmt.Fprintf(f, "2026-11-27T21:00:00Z ERROR line %d of the instance\n", i)
			require.NoError(t, err)
			if i%50 == 0 {
				time.Sleep(5 * time.Millisecond)
			}
		}
	}
	// The first lines are there before the first start, the rest arrive while it runs, while it
	// is stopped and after the restart.
	writeLines(0, 500)
	go func() {
		writeLines(500, total)
		written <- total
		close(stopWriter)
	}()

	newCfg := func(startAt string) *Config {
		id := component.MustNewID("file_storage")
		return &Config{Storage: &id, Sources: []SourceConfig{{
			Runtime: "generic-app", Name: "app", Include: []string{path}, StartAt: startAt,
			PollInterval: 10 * time.Millisecond,
		}}}
	}

	// First run.
	storageID, ext1 := startFileStorage(t, storageDir)
	sink1, rcv1 := startReceiver(t, newCfg(StartAtBeginning), nil, storageHost{ext: map[component.ID]component.Component{storageID: ext1}})
	require.Eventually(t, func() bool { return sink1.LogRecordCount() >= 800 }, 20*time.Second, 5*time.Millisecond)
	require.NoError(t, rcv1.Shutdown(context.Background()))
	require.NoError(t, ext1.Shutdown(context.Background()))
	first := sink1.LogRecordCount()

	// Lines keep coming while the collector is down.
	time.Sleep(100 * time.Millisecond)

	// Second run: start_at end would skip everything written meanwhile without a checkpoint.
	_, ext2 := startFileStorage(t, storageDir)
	sink2, _ := startReceiver(t, newCfg(StartAtEnd), nil, storageHost{ext: map[component.ID]component.Component{storageID: ext2}})
	<-written
	if !assert.Eventually(t, func() bool { return first+sink2.LogRecordCount() >= total }, 20*time.Second, 10*time.Millisecond,
		"got %d before and %d after the restart of %d", first, sink2.LogRecordCount(), total) {
		r2 := flatten(sink2.AllLogs())
		t.Logf("first after restart %q, last %q; last before %q", r2[0].Body, r2[len(r2)-1].Body, flatten(sink1.AllLogs())[first-1].Body)
	}
	time.Sleep(200 * time.Millisecond)

	seen := make([]int, total)
	for _, r := range append(flatten(sink1.AllLogs()), flatten(sink2.AllLogs())...) {
		fields := strings.Fields(r.Body)
		n, err := strconv.Atoi(fields[3])
		require.NoError(t, err, r.Body)
		seen[n]++
		assert.Equal(t, plog.SeverityNumberError, r.Severity)
	}
	for n, c := range seen {
		require.Equal(t, 1, c, "line %d seen %d times (%d records before the restart)", n, c, first)
	}
	require.Less(t, first, total, "the restart happened in the middle of the file")
}
