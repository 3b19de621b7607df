package wasmruntimereceiver

import (
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

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
// directories of the fixture), and their counters land on their instances. A relative path is
// the VMM's working directory's (<proc>/<pid>/cwd); a descriptor (--api-socket fd=3) is
// followed to the path its socket is bound to, through the VMM's fd link and net/unix.
// Command lines that name a path outside the VMM's root (an absolute symlink to a socket the
// collector can reach, a ".." path) yield nothing from that VMM, and are counted.
func TestVMMSourcesDiscovered(t *testing.T) {
	root := t.TempDir()
	fx := firecrackerScenario()
	fx.procs[0].args = append(fx.procs[0].args, "--metrics-path", "/metrics.fifo")
	fx.procs = append(fx.procs,
		chProc(5100, "--api-socket", "path=/run/ch.sock"),
		chProc(5200, "--api-socket=/run/evil.sock"),                     // a link to the host's socket
		chProc(5300, "--api-socket", "path=/run/../../../../host.sock"), // ".." out of the root
		chProc(5400, "--api-socket", "ch.sock"),                         // relative: its working directory's
		chProc(5500, "--api-socket", "fd=3"),                            // a descriptor, bound to /run/fd.sock
	)
	fx.procs[len(fx.procs)-1].fds = []string{"/dev/null", "/dev/null", "/dev/null", "socket:[48213]"}
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
	var body, info atomic.Pointer[string]
	name, infoName := "vm.counters.json", "vm.info.json"
	body.Store(&name)
	info.Store(&infoName)
	serveCounters(t, vmmRoot(5100)+"/run/ch.sock", &body, &info)
	hostSock := filepath.Join(t.TempDir(), "host.sock") // reachable by the collector, outside every VMM root
	serveCounters(t, hostSock, &body, &info)
	require.NoError(t, os.Symlink(hostSock, vmmRoot(5200)+"/run/evil.sock"))
	vmmRoot(5300)
	vmmRoot(5400)
	cwd := filepath.Join(root, "proc", "5400", "cwd")
	require.NoError(t, os.MkdirAll(cwd, 0o755))
	serveCounters(t, cwd+"/ch.sock", &body, &info)
	serveCounters(t, vmmRoot(5500)+"/run/fd.sock", &body, &info)
	// unix_seq_show's format (net/unix/af_unix.c, see vmmargs.UnixSocketPath): the listening
	// socket of fd 3 and a connection of the same VMM.
	require.NoError(t, os.MkdirAll(filepath.Join(root, "proc", "5500", "net"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(root, "proc", "5500", "net", "unix"), []byte(
		"Num       RefCount Protocol Flags    Type St Inode Path\n"+
			"0000000000000000: 00000002 00000000 00000000 0001 03 48214 /run/fd.sock\n"+
			"0000000000000000: 00000002 00000000 00010000 0001 01 48213 /run/fd.sock\n"), 0o644))

	cfg := testConfig()
	cfg.RootPath = root
	cfg.VM.Firecracker = []FirecrackerSource{{}}
	cfg.VM.CloudHypervisor = []CloudHypervisorSource{{MaxBodyBytes: 64 << 10}}
	s := newTestScraper(t, cfg)
	md, err := scrapeFresh(s)
	require.Error(t, err, "the paths out of their roots are counted")
	assert.ErrorContains(t, err, "inside VMM root", "the paths out of their roots: not found inside")

	fc, ok := findResource(md, "wasm_runtime.vm.id", jailerID)
	require.True(t, ok)
	assert.Equal(t, fcExpectedCounter(t, "net_eth0.rx_bytes_count"), mustValue(t, fc, "wasm_runtime.vm.network.io", "network.interface.name", "eth0", "network.io.direction", "receive", "wasm_runtime.vm.counter.source", "firecracker"),
		"the jailed VMM's metrics, read at its chroot's /metrics.fifo")

	ch := mustResource(t, md, "5100")
	assert.Equal(t, 4194304.0, mustValue(t, ch, "wasm_runtime.vm.block.io", "wasm_runtime.vm.device", "_disk0", "disk.io.direction", "write", "wasm_runtime.vm.counter.source", "cloud_hypervisor"))
	for _, pid := range []string{"5400", "5500"} {
		mustValue(t, mustResource(t, md, pid), "wasm_runtime.vm.block.io", "wasm_runtime.vm.device", "_disk0", "disk.io.direction", "write")
	}
	for _, pid := range []string{"5200", "5300"} {
		rm := mustResource(t, md, pid)
		_, got := value(rm, "wasm_runtime.vm.block.io")
		assert.False(t, got, "pid %s: no counters from outside its root", pid)
		mustValue(t, rm, "wasm_runtime.vm.guest.time") // its other metrics stay
	}

	// The command lines are parsed once per process: a second scrape reads the sources only.
	md, err = scrapeFresh(s)
	require.Error(t, err, "the sockets outside their roots are asked again")
	assert.NotContains(t, err.Error(), "discovery, instance", "command lines not parsed again")
	ch = mustResource(t, md, "5100")
	mustValue(t, ch, "wasm_runtime.vm.block.io", "wasm_runtime.vm.device", "_disk0", "disk.io.direction", "write")
	assert.Len(t, s.vm.sources.discovery.found, 6)

	// A VMM gone: its discovered source is closed and dropped.
	require.NoError(t, os.RemoveAll(filepath.Join(root, "proc", "5100")))
	_, _ = scrapeFresh(s)
	assert.Len(t, s.vm.sources.discovery.found, 5)
	assert.NotContains(t, s.vm.sources.discovery.found, "/system.slice/ch-5100.service")
}

// TestFirecrackerConfigFile: a jailed Firecracker configured from --config-file, as
// docs/jailer.md pairs them (a path relative to the jailed VMM, whose working directory is its
// chroot), the file being Firecracker's own test configuration with the metrics block of
// docs/metrics.md (vmmargs testdata). The VM's size reaches its resource from the file, and
// the metrics file it names (relative too) is found and read.
func TestFirecrackerConfigFile(t *testing.T) {
	root := t.TempDir()
	fx := firecrackerScenario()
	args := fx.procs[0].args
	fx.procs[0].args = append(args[:len(args)-2:len(args)-2], "--config-file", "vm_config.json")
	fx.write(t, root)
	jail := filepath.Join(root, "proc", "4100", "root")
	require.NoError(t, os.MkdirAll(jail, 0o755))
	require.NoError(t, os.Symlink("root", filepath.Join(root, "proc", "4100", "cwd"))) // the jailer's chdir("/")

	var doc map[string]any
	for _, name := range []string{"firecracker-vm_config.json", "firecracker-metrics-block.json"} {
		data, err := os.ReadFile("../../internal/vmstats/vmmargs/testdata/" + name)
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(data, &doc)) // the second adds its "metrics" block
	}
	data, err := json.Marshal(doc)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(jail+"/vm_config.json", data, 0o644))
	metrics, err := os.ReadFile(fcFixture + "metrics.jsonl")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(jail+"/metrics.fifo", metrics, 0o644))

	cfg := testConfig()
	cfg.RootPath = root
	cfg.VM.Firecracker = []FirecrackerSource{{NoAPI: true}} // the API: TestFirecrackerAPI
	s := newTestScraper(t, cfg)
	md, err := scrapeFresh(s)
	require.NoError(t, err)
	fc, ok := findResource(md, "wasm_runtime.vm.id", jailerID)
	require.True(t, ok)
	assert.Equal(t, "2", resAttr(fc, "wasm_runtime.vm.vcpus"), "machine-config.vcpu_count")
	assert.Equal(t, strconv.Itoa(1024<<20), resAttr(fc, "wasm_runtime.vm.memory_size"), "machine-config.mem_size_mib")
	assert.Equal(t, fcExpectedCounter(t, "net_eth0.rx_bytes_count"), mustValue(t, fc, "wasm_runtime.vm.network.io", "network.interface.name", "eth0", "network.io.direction", "receive", "wasm_runtime.vm.counter.source", "firecracker"),
		"the metrics file the config file names")

	// A config file Firecracker would refuse: no size, no metrics, and the refusal counted.
	require.NoError(t, os.WriteFile(jail+"/vm_config.json", []byte(`{"machine-config": {"vcpu_count": 64, "mem_size_mib": 128}}`), 0o644))
	s = newTestScraper(t, cfg)
	md, err = scrapeFresh(s)
	require.Error(t, err)
	assert.ErrorContains(t, err, "vcpu_count 64")
	fc, ok = findResource(md, "wasm_runtime.vm.id", jailerID)
	require.True(t, ok)
	assert.Empty(t, resAttr(fc, "wasm_runtime.vm.vcpus"))
	_, got := value(fc, "wasm_runtime.vm.network.io")
	assert.False(t, got, "no metrics path from a refused file")
}

// TestCloudHypervisorSocketsAskedTogether: four VMMs whose API answers only once all four
// requests have arrived. Asked one after another, each would wait for the others until its
// timeout and fail; asked together, all four answer.
func TestCloudHypervisorSocketsAskedTogether(t *testing.T) {
	root := t.TempDir()
	fx := firecrackerScenario()
	const n = 4
	var arrived sync.WaitGroup
	arrived.Add(n)
	all := make(chan struct{})
	go func() { arrived.Wait(); close(all) }()
	data, err := os.ReadFile(chFixture + "vm.counters.json")
	require.NoError(t, err)
	info, err := os.ReadFile(chFixture + "vm.info.json")
	require.NoError(t, err)
	for i := range n {
		pid := 6100 + 100*i
		fx.procs = append(fx.procs, chProc(pid, "--api-socket", "path=/run/ch.sock"))
		p := fx.procs[len(fx.procs)-1]
		fx.cgroups = merge(fx.cgroups, v2Files(p.cgroup[3:len(p.cgroup)-1], "max 100000", "max", "max"))
	}
	fx.write(t, root)
	for i := range n {
		dir := filepath.Join(root, "proc", strconv.Itoa(6100+100*i), "root", "run")
		require.NoError(t, os.MkdirAll(dir, 0o755))
		l, err := net.Listen("unix", dir+"/ch.sock")
		require.NoError(t, err)
		var once sync.Once
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			once.Do(arrived.Done)
			select {
			case <-all:
			case <-r.Context().Done():
				return
			}
			w.Header().Set("Content-Type", "application/json")
			if r.URL.Path == "/api/v1/vm.info" {
				_, _ = w.Write(info)
				return
			}
			_, _ = w.Write(data)
		})}
		go func() { _ = srv.Serve(l) }()
		t.Cleanup(func() { _ = srv.Close() })
	}
	cfg := testConfig()
	cfg.RootPath = root
	cfg.VM.CloudHypervisor = []CloudHypervisorSource{{Timeout: 2 * time.Second}}
	s := newTestScraper(t, cfg)
	md, err := scrapeFresh(s)
	require.NoError(t, err)
	for i := range n {
		mustValue(t, mustResource(t, md, strconv.Itoa(6100+100*i)), "wasm_runtime.vm.block.io", "wasm_runtime.vm.device", "_disk0", "disk.io.direction", "write")
	}
}

// fcExpectedCounter is a sum of the Firecracker metrics fixture's expected.json.
func fcExpectedCounter(t *testing.T, name string) float64 {
	t.Helper()
	var want struct {
		Counters map[string]float64 `json:"counters"`
	}
	raw, err := os.ReadFile(fcFixture + "expected.json")
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(raw, &want))
	v, ok := want.Counters[name]
	require.True(t, ok, name)
	return v
}
