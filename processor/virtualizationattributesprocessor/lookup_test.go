package virtualizationattributesprocessor

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/processor/processortest"

	"github.com/otelcol-virt/otelcol-virt/internal/virtdetect"
)

func hex64(seed string) string {
	b := make([]byte, 64)
	for i := range b {
		b[i] = "0123456789abcdef"[(int(seed[0])+i)%16]
	}
	return string(b)
}

// cgroupV1Pids returns a cgroup v1 hierarchy with the pids controller where root can create
// groups, or skips.
func cgroupV1Pids(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("creates cgroups and processes; skipped with -short")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root to create cgroups")
	}
	for _, base := range []string{"/sys/fs/cgroup/pids", "/sys/fs/cgroup/cpu,cpuacct", "/sys/fs/cgroup/memory"} {
		if _, err := os.Stat(filepath.Join(base, "cgroup.procs")); err == nil {
			return base
		}
	}
	t.Skip("no writable cgroup v1 hierarchy (pids, cpu,cpuacct or memory) on this machine")
	return ""
}

// startInCgroup creates dir below base, starts a real process in it and removes both at cleanup.
func startInCgroup(t *testing.T, base, rel string) int {
	t.Helper()
	dir := filepath.Join(base, rel)
	require.NoError(t, os.MkdirAll(dir, 0o755))
	cmd := exec.Command("sleep", "300")
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	require.NoError(t, cmd.Start())
	pid := cmd.Process.Pid
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		// Remove the created groups innermost first; parents shared by other tests may stay busy.
		for d := dir; d != base && d != filepath.Dir(base); d = filepath.Dir(d) {
			if err := os.Remove(d); err != nil {
				break
			}
		}
	})
	require.NoError(t, os.WriteFile(filepath.Join(dir, "cgroup.procs"), []byte(strconv.Itoa(pid)), 0o644))
	return pid
}

func randomHex(t *testing.T, n int) string {
	b := make([]byte, n/2)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return hex.EncodeToString(b)
}

func TestAssociationWithRealProcessesInRealCgroups(t *testing.T) {
	base := cgroupV1Pids(t)
	dockerID := randomHex(t, 64)
	podContainer := randomHex(t, 64)
	b := []byte(randomHex(t, 32))
	podUID := fmt.Sprintf("%s-%s-%s-%s-%s", b[0:8], b[8:12], b[12:16], b[16:20], b[20:32])

	dockerPID := startInCgroup(t, base, filepath.Join("docker", dockerID))
	podPID := startInCgroup(t, base, filepath.Join("kubepods", "burstable", "pod"+podUID, podContainer))
	plain := exec.Command("sleep", "300")
	require.NoError(t, plain.Start())
	t.Cleanup(func() { _ = plain.Process.Kill(); _ = plain.Wait() })

	cfg := createDefaultConfig().(*Config)
	cfg.Association.RescanInterval = 0
	tel := componenttest.NewTelemetry()
	defer tel.Shutdown(context.Background())
	set := processortest.NewNopSettings(Type)
	set.TelemetrySettings = tel.NewTelemetrySettings()
	p, err := newVirtProcessorWithCPUID(cfg, set, virtdetect.HostCPUID{})
	require.NoError(t, err)
	require.NoError(t, p.start(context.Background(), componenttest.NewNopHost()))
	defer p.shutdown(context.Background())

	resources := []map[string]any{
		{"container.id": dockerID},
		{"k8s.pod.uid": podUID},
		{"process.pid": int64(podPID)},
		{"process.pid": int64(dockerPID)},
		{"process.pid": int64(plain.Process.Pid)},
		{"service.instance.id": fmt.Sprintf("pid:%d", dockerPID)},
		{"container.id": randomHex(t, 64)}, // no such container: stays a miss
	}
	want := []struct{ level, runtime string }{
		{"container", "docker"}, {"container", ""}, {"container", ""}, {"container", "docker"}, {"process", ""},
		{"container", "docker"}, {"", ""},
	}
	// The first batch is never delayed by the lookup: it goes through without instance
	// attributes while the lookup runs, later batches carry them.
	first, err := p.processTraces(context.Background(), tracesWith(resources...))
	require.NoError(t, err)
	_, has := first.ResourceSpans().At(0).Resource().Attributes().Get(attrIsolationLevel)
	_ = has // may already be resolved on a fast machine; what matters is the eventual answer

	deadline := time.Now().Add(10 * time.Second)
	for {
		td, err := p.processTraces(context.Background(), tracesWith(resources...))
		require.NoError(t, err)
		done := true
		for i := range want[:6] {
			if _, ok := td.ResourceSpans().At(i).Resource().Attributes().Get(attrIsolationLevel); !ok {
				done = false
			}
		}
		if done || time.Now().After(deadline) {
			for i, w := range want {
				attrs := td.ResourceSpans().At(i).Resource().Attributes()
				assert.Equal(t, w.level, strAttr(t, attrs, attrIsolationLevel), "resource %d %v", i, resources[i])
				assert.Equal(t, w.runtime, strAttr(t, attrs, attrRuntimeName), "resource %d %v", i, resources[i])
			}
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	m, err := tel.GetMetric("otelcol_processor_virtualization_attributes_associations")
	require.NoError(t, err)
	assert.NotEmpty(t, m.Data, "the hit/miss self-metric is recorded")
}
