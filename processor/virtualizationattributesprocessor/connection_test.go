package virtualizationattributesprocessor

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/client"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/processor/processortest"

	"github.com/otelcol-virt/otelcol-virt/internal/virtdetect"
)

// TestConnectionAssociation connects a real client process (bash's /dev/tcp) to a loopback
// listener and checks that a resource without any identifying attribute is associated with that
// process through its connection, in the cgroup it runs in.
func TestConnectionAssociation(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes; skipped with -short")
	}
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash is needed for its /dev/tcp client")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port

	cmd := exec.Command("bash", "-c", fmt.Sprintf("exec 3<>/dev/tcp/127.0.0.1/%d; exec sleep 300", port))
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	wantLevel, wantRuntime := "process", ""
	if os.Geteuid() == 0 {
		if base := firstCgroupV1(); base != "" {
			dir := filepath.Join(base, "docker", randomHex(t, 64))
			require.NoError(t, os.MkdirAll(dir, 0o755))
			t.Cleanup(func() { _ = os.Remove(dir); _ = os.Remove(filepath.Dir(dir)) })
			require.NoError(t, os.WriteFile(filepath.Join(dir, "cgroup.procs"), []byte(strconv.Itoa(cmd.Process.Pid)), 0o644))
			wantLevel, wantRuntime = "container", "docker"
			t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }) // before the rmdir above
		}
	}
	conn, err := ln.Accept()
	require.NoError(t, err)
	defer conn.Close()

	cfg := createDefaultConfig().(*Config)
	cfg.Association.Sources = []string{SourceContainerID, SourceConnection}
	p, err := newVirtProcessorWithCPUID(cfg, processortest.NewNopSettings(Type), virtdetect.HostCPUID{})
	require.NoError(t, err)
	require.NoError(t, p.start(context.Background(), componenttest.NewNopHost()))
	defer p.shutdown(context.Background())

	ctx := client.NewContext(context.Background(), client.Info{Addr: conn.RemoteAddr()})
	deadline := time.Now().Add(10 * time.Second)
	for {
		td, err := p.processTraces(ctx, tracesWith(map[string]any{"service.name": "sent-over-loopback"}))
		require.NoError(t, err)
		attrs := td.ResourceSpans().At(0).Resource().Attributes()
		if _, ok := attrs.Get(attrIsolationLevel); ok || time.Now().After(deadline) {
			assert.Equal(t, wantLevel, strAttr(t, attrs, attrIsolationLevel))
			assert.Equal(t, wantRuntime, strAttr(t, attrs, attrRuntimeName))
			break
		}
		time.Sleep(20 * time.Millisecond)
	}

	// A remote peer is never looked up: its socket is not in this network namespace.
	remote := client.NewContext(context.Background(), client.Info{Addr: &net.TCPAddr{IP: net.ParseIP("192.0.2.7"), Port: 4317}})
	td, _ := p.processTraces(remote, tracesWith(map[string]any{}))
	_, ok := td.ResourceSpans().At(0).Resource().Attributes().Get(attrIsolationLevel)
	assert.False(t, ok)
}

func firstCgroupV1() string {
	for _, base := range []string{"/sys/fs/cgroup/pids", "/sys/fs/cgroup/cpu,cpuacct"} {
		if _, err := os.Stat(filepath.Join(base, "cgroup.procs")); err == nil {
			return base
		}
	}
	return ""
}
