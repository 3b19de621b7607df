package wasmruntimereceiver

import (
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/otelcol-virt/otelcol-virt/internal/catalog"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-virt/otelcol-virt/internal/cgroup/cgrouptest"
)

// TestHostProcessTree discovers a real process of this host through a user-defined runtime
// and checks what the receiver reports against what the kernel says about it.
func TestHostProcessTree(t *testing.T) {
	cmd := exec.Command("sleep", "300")
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	pid := strconv.Itoa(cmd.Process.Pid)

	cfg := testConfig()
	cfg.Runtimes = []catalog.Matcher{{Name: "sleeper", Kind: catalog.KindWasm, Comm: "^sleep$", Cmdline: "^sleep 300$",
		Attributes: map[string]string{"wasm_runtime.wasm.module": `^sleep (\d+)`, "custom.seconds": `(\d+)$`}}}
	s := newTestScraper(t, cfg)
	scrapeOnce(t, s)
	time.Sleep(50 * time.Millisecond)
	md := scrapeOnce(t, s)

	rm, ok := findResource(md, "process.pid", pid)
	require.True(t, ok, "sleep %s not discovered", pid)
	assert.Equal(t, "sleeper", resAttr(rm, "wasm_runtime.runtime"))
	assert.Equal(t, "wasm", resAttr(rm, "wasm_runtime.instance.kind"))
	assert.Equal(t, "process", resAttr(rm, "wasm_runtime.instance.grouping"))
	assert.Equal(t, "300", resAttr(rm, "wasm_runtime.wasm.module"))
	assert.Equal(t, "300", resAttr(rm, "custom.seconds"))
	assert.Equal(t, "sleep", resAttr(rm, "process.executable.name"))
	threads, ok := value(rm, "wasm_runtime.thread.count")
	assert.True(t, ok)
	assert.Equal(t, 1.0, threads)
	fds, ok := value(rm, "wasm_runtime.file_descriptor.count")
	assert.True(t, ok)
	assert.GreaterOrEqual(t, fds, 3.0)
	rss, ok := value(rm, "wasm_runtime.memory.rss")
	assert.True(t, ok)
	assert.Greater(t, rss, 0.0)
	_, ok = value(rm, "wasm_runtime.cpu.usage")
	assert.True(t, ok, "usage after the second scrape")
	_, ok = value(rm, "process.uptime")
	assert.True(t, ok)
	_, ok = value(rm, "container.cpu.time")
	assert.False(t, ok, "no container.* for a process tree")

	in, ok := s.inv.Current().ByPID(cmd.Process.Pid)
	require.True(t, ok, "instance not in the inventory other components read")
	assert.Equal(t, "sleeper", in.Identity.Runtime)
}

// TestOwnNetworkNamespace runs a process in a network namespace of its own (unshare -n, as a
// container runtime would) and checks container.network.io is read from that namespace, while
// a process in the host's namespace gets none.
func TestOwnNetworkNamespace(t *testing.T) {
	if testing.Short() {
		t.Skip("needs root and unshare; skipped with -short")
	}
	unshare, err := exec.LookPath("unshare")
	if err != nil || os.Geteuid() != 0 {
		t.Skip("needs root and util-linux unshare")
	}
	g := cgrouptest.New(t, cgrouptest.Limits{})
	// A namespace of its own with one interface besides loopback (what a CNI would add).
	isolated := g.Command(unshare, "--net", "--", "sh", "-c", "ip link add d0 type veth peer name d1 && exec sleep 301")
	require.NoError(t, isolated.Start())
	t.Cleanup(func() { _ = isolated.Process.Kill(); _ = isolated.Wait() })
	host := exec.Command("sleep", "302")
	require.NoError(t, host.Start())
	t.Cleanup(func() { _ = host.Process.Kill(); _ = host.Wait() })

	cfg := testConfig()
	cfg.Runtimes = []catalog.Matcher{{Name: "sleeper", Kind: catalog.KindContainer, Comm: "^sleep$", Cmdline: "^sleep 30[12]$"}}
	cfg.Metrics.SetEnabled("container.network.io", true)
	s := newTestScraper(t, cfg)
	deadline := time.Now().Add(10 * time.Second)
	for {
		md := scrapeOnce(t, s)
		rmIso, ok1 := findResource(md, "process.pid", strconv.Itoa(isolated.Process.Pid))
		rmHost, ok2 := findResource(md, "process.pid", strconv.Itoa(host.Process.Pid))
		// Until the shell has added its interface and exec'd sleep, the instance is not there.
		hasD0 := false
		if ok1 {
			_, hasD0 = value(rmIso, "container.network.io", "network.io.direction", "receive", "network.interface.name", "d0")
		}
		if ok1 && ok2 && hasD0 {
			for _, p := range points(rmIso, "container.network.io") {
				assert.Contains(t, []string{"d0", "d1"}, p.attrs["network.interface.name"], "loopback is excluded")
			}
			_, ok := value(rmHost, "container.network.io")
			assert.False(t, ok)
			return
		}
		require.True(t, time.Now().Before(deadline), "processes not discovered, or no d0 in the isolated one")
		time.Sleep(100 * time.Millisecond)
	}
}

// TestOpenFileCache checks the descriptors kept between scrapes: usage files stay open while
// read, are closed once their process is gone, and all are closed at shutdown.
func TestOpenFileCache(t *testing.T) {
	cmd := exec.Command("sleep", "303")
	require.NoError(t, cmd.Start())
	pid := strconv.Itoa(cmd.Process.Pid)
	cfg := testConfig()
	cfg.Runtimes = []catalog.Matcher{{Name: "sleeper", Kind: catalog.KindWasm, Comm: "^sleep$", Cmdline: "^sleep 303$"}}
	s := newTestScraper(t, cfg)
	scrapeOnce(t, s)
	md := scrapeOnce(t, s)
	_, ok := findResource(md, "process.pid", pid)
	require.True(t, ok)
	statPath := s.inv.ProcRoot() + "/" + pid + "/stat"
	open, cached := s.inv.CachedFiles(statPath)
	assert.True(t, cached, "the stat file of a live process stays open")
	assert.LessOrEqual(t, open, cfg.MaxOpenFiles)

	require.NoError(t, cmd.Process.Kill())
	_ = cmd.Wait()
	md = scrapeOnce(t, s)
	_, ok = findResource(md, "process.pid", pid)
	assert.False(t, ok, "instance gone with its process")
	_, cached = s.inv.CachedFiles(statPath)
	assert.False(t, cached, "closed once the process is gone")

	require.NoError(t, s.shutdown(t.Context()))
	open, _ = s.inv.CachedFiles(statPath)
	assert.Zero(t, open)
	assert.Zero(t, s.r.OpenFiles())

	// Without the cache every read opens and closes its file.
	cfg.MaxOpenFiles = 0
	s = newTestScraper(t, cfg)
	scrapeOnce(t, s)
	open, _ = s.inv.CachedFiles(statPath)
	assert.Zero(t, open)
	assert.Zero(t, s.r.OpenFiles())
}
