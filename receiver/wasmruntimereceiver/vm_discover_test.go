package wasmruntimereceiver

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// chProc is a Cloud Hypervisor VMM of the fixture host with the given arguments after argv[0]
// (as docs/api.md of cloud-hypervisor starts one), in a service cgroup of its own.
func chProc(pid int, args ...string) fixtureProc {
	unit := "/system.slice/ch-" + strconv.Itoa(pid) + ".service"
	return fixtureProc{pid: pid, ppid: 1, comm: "cloud-hyperviso", exe: "/usr/bin/cloud-hypervisor",
		args:   append([]string{"cloud-hypervisor"}, append(args, "--kernel", "vmlinux", "--cpus", "boot=1")...),
		cgroup: "0::" + unit + "\n", startTicks: uint64(30000 + pid), threads: 2, rssPages: 25000,
		tasks: []fixtureTask{{tid: pid + 1, comm: "vcpu0"}}}
}

// TestVMMSourcesDiscovered enables the Firecracker and Cloud Hypervisor sources without a
// path: the jailed Firecracker's --metrics-path and a Cloud Hypervisor's --api-socket are
// found on their command lines and opened inside each VMM's own root (<proc>/<pid>/root, here
// directories of the fixture), and their counters land on their instances. Command lines
// that name a path outside the VMM's root (an absolute symlink to a socket the collector can
// reach, a ".." path), a relative path, or a descriptor yield nothing from that VMM, and the
// refused ones are counted.
func TestVMMSourcesDiscovered(t *testing.T) {
	root := t.TempDir()
	fx := firecrackerScenario()
	fx.procs[0].args = append(fx.procs[0].args, "--metrics-path", "/metrics.fifo")
	fx.procs = append(fx.procs,
		chProc(5100, "--api-socket", "path=/run/ch.sock"),
		chProc(5200, "--api-socket=/run/evil.sock"),                     // a link to the host's socket
		chProc(5300, "--api-socket", "path=/run/../../../../host.sock"), // ".." out of the root
		chProc(5400, "--api-socket", "ch.sock"),                         // relative: not followed
		chProc(5500, "--api-socket", "fd=3"),                            // a descriptor: nothing to find
	)
	for _, p := range fx.procs[1:] {
		fx.cgroups = merge(fx.cgroups, v2Files(p.cgroup[3:len(p.cgroup)-1], "max 100000", "max", "max"))
	}
	fx.write(t, root)
	vmmRoot := func(pid int) string {
		d := filepath.Join(root, "proc", strconv.Itoa(pid), "root")
		require.NoError(t, os.MkdirAll(d+"/run", 0o755))
		return d
	}
	data, err := os.ReadFile(fcFixture + "metrics.jsonl")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(vmmRoot(4100)+"/metrics.fifo", data, 0o644))
	var body atomic.Pointer[string]
	name := "vm.counters.json"
	body.Store(&name)
	serveCounters(t, vmmRoot(5100)+"/run/ch.sock", &body)
	hostSock := filepath.Join(t.TempDir(), "host.sock") // reachable by the collector, outside every VMM root
	serveCounters(t, hostSock, &body)
	require.NoError(t, os.Symlink(hostSock, vmmRoot(5200)+"/run/evil.sock"))
	for _, pid := range []int{5300, 5400, 5500} {
		vmmRoot(pid)
	}

	cfg := testConfig()
	cfg.RootPath = root
	cfg.VM.Firecracker = []FirecrackerSource{{}}
	cfg.VM.CloudHypervisor = []CloudHypervisorSource{{MaxBodyBytes: 64 << 10}}
	s := newTestScraper(t, cfg)
	md, err := scrapeFresh(s)
	require.Error(t, err, "the refused command lines are counted")
	assert.ErrorContains(t, err, "vm.cloud_hypervisor discovery, instance")
	assert.ErrorContains(t, err, `"ch.sock" is relative`)
	assert.ErrorContains(t, err, "inside VMM root", "the paths out of their roots: not found inside")

	fc, ok := findResource(md, "wasm_runtime.vm.id", jailerID)
	require.True(t, ok)
	var want struct {
		Counters map[string]float64 `json:"counters"`
	}
	raw, err := os.ReadFile(fcFixture + "expected.json")
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(raw, &want))
	assert.Equal(t, want.Counters["net_eth0.rx_bytes_count"], mustValue(t, fc, "wasm_runtime.vm.network.io", "network.interface.name", "eth0", "network.io.direction", "receive", "wasm_runtime.vm.counter.source", "firecracker"),
		"the jailed VMM's metrics, read at its chroot's /metrics.fifo")

	ch := mustResource(t, md, "5100")
	assert.Equal(t, 4194304.0, mustValue(t, ch, "wasm_runtime.vm.block.io", "wasm_runtime.vm.device", "_disk0", "disk.io.direction", "write", "wasm_runtime.vm.counter.source", "cloud_hypervisor"))
	for _, pid := range []string{"5200", "5300", "5400", "5500"} {
		rm := mustResource(t, md, pid)
		_, got := value(rm, "wasm_runtime.vm.block.io")
		assert.False(t, got, "pid %s: no counters from outside its root", pid)
		mustValue(t, rm, "wasm_runtime.vm.guest.time") // its other metrics stay
	}

	// The command lines are parsed once per process: a second scrape reads the sources only.
	md, err = scrapeFresh(s)
	assert.NotContains(t, err.Error(), "is relative", "not parsed again")
	ch = mustResource(t, md, "5100")
	mustValue(t, ch, "wasm_runtime.vm.block.io", "wasm_runtime.vm.device", "_disk0", "disk.io.direction", "write")
	assert.Len(t, s.vm.sources.discovery.found, 6)

	// A VMM gone: its discovered source is closed and dropped.
	require.NoError(t, os.RemoveAll(filepath.Join(root, "proc", "5100")))
	_, _ = scrapeFresh(s)
	assert.Len(t, s.vm.sources.discovery.found, 5)
	assert.NotContains(t, s.vm.sources.discovery.found, "/system.slice/ch-5100.service")
}
