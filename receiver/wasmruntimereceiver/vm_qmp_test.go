package wasmruntimereceiver

import (
	"bufio"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// qmpFixture is the capture of a real KVM guest's monitor (its ORIGIN says how).
const qmpFixture = "../../internal/vmstats/qmp/testdata/"

// serveQMP replays the captured monitor on sock, the query-stats answer replaced by *stats
// when set.
func serveQMP(t *testing.T, sock string, stats *atomic.Pointer[string]) {
	t.Helper()
	read := func(name string) string {
		data, err := os.ReadFile(qmpFixture + name)
		require.NoError(t, err)
		return strings.TrimSpace(string(data))
	}
	answers := map[string]string{"qmp_capabilities": read("qmp_capabilities.json"), "query-cpus-fast": read("query-cpus-fast.json"),
		"query-stats": read("query-stats.json"), "query-blockstats": read("query-blockstats.json"),
		"query-status": read("query-status.json"), "query-memory-size-summary": read("query-memory-size-summary.json"),
		"query-balloon": read("query-balloon.json")}
	greeting := read("greeting.json")
	l, err := net.Listen("unix", sock)
	require.NoError(t, err)
	t.Cleanup(func() { _ = l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_, _ = c.Write([]byte(greeting + "\r\n"))
				sc := bufio.NewScanner(c)
				for sc.Scan() {
					var req struct{ Execute string }
					if json.Unmarshal(sc.Bytes(), &req) != nil {
						return
					}
					a := answers[req.Execute]
					if p := stats.Load(); p != nil && req.Execute == "query-stats" {
						a = *p
					}
					_, _ = c.Write([]byte(a + "\r\n"))
				}
			}()
		}
	}()
}

// TestQMPThroughReceiver: a Proxmox VM's monitor (qemu-server gives each VM a listening QMP
// chardev at /var/run/qemu-server/<vmid>.qmp) found on its command line inside its root,
// answering as the captured KVM guest did: KVM's counters summed over the vCPUs land on the
// VM's instance; a refused answer is counted and reports nothing.
func TestQMPThroughReceiver(t *testing.T) {
	root := t.TempDir()
	fx := proxmoxScenario()
	fx.procs[0].args = append(fx.procs[0].args,
		"-chardev", "socket,id=qmp,path=/var/run/qemu-server/104.qmp,server=on,wait=off", "-mon", "chardev=qmp,mode=control",
		"-chardev", "socket,id=qmp-event,path=/var/run/qmeventd.sock,reconnect=5", "-mon", "chardev=qmp-event,mode=control")
	fx.write(t, root)
	dir := filepath.Join(root, "proc", "9100", "root", "var", "run", "qemu-server")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	var stats atomic.Pointer[string]
	serveQMP(t, dir+"/104.qmp", &stats)

	cfg := testConfig()
	cfg.RootPath = root
	cfg.VM.QEMUQMP = []QEMUQMPSource{{}}
	s := newTestScraper(t, cfg)
	md, err := scrapeFresh(s)
	require.NoError(t, err)
	rm := mustResource(t, md, "9100")
	assert.Equal(t, 6926.0, mustValue(t, rm, "wasm_runtime.vm.kvm.exits"), "6925 + 1: the vCPUs' sum")
	assert.Equal(t, 64.0, mustValue(t, rm, "wasm_runtime.vm.kvm.halt.exits"))
	assert.InDelta(t, 3.772234368+0.013167598, mustValue(t, rm, "wasm_runtime.vm.kvm.halt.wait.time"), 1e-9)
	assert.Equal(t, float64(64<<20), mustValue(t, rm, "wasm_runtime.vm.memory.balloon", "wasm_runtime.vm.balloon.state", "current"))
	// State and size as the monitor reports them now. The capture is of a 2-vCPU, 64 MiB VM:
	// its answer, not the command line's -smp 4 -m 8192 (still the resource's boot values), is
	// the size now, as after a hot-unplug.
	assert.Equal(t, 1.0, mustValue(t, rm, "wasm_runtime.vm.state", "wasm_runtime.vm.state", "running"))
	assert.Len(t, points(rm, "wasm_runtime.vm.state"), 8, "virDomainState's words")
	assert.Equal(t, 2.0, mustValue(t, rm, "wasm_runtime.vm.vcpu.count"))
	assert.Equal(t, float64(64<<20), mustValue(t, rm, "wasm_runtime.vm.memory.size"))
	assert.Equal(t, "4", resAttr(rm, "wasm_runtime.vm.vcpus"))
	assert.Equal(t, 512.0, mustValue(t, rm, "wasm_runtime.vm.block.io", "wasm_runtime.vm.device", "disk0", "disk.io.direction", "read", "wasm_runtime.vm.counter.source", "qemu"))
	assert.Equal(t, 1.0, mustValue(t, rm, "wasm_runtime.vm.block.operations", "wasm_runtime.vm.device", "disk0", "disk.io.direction", "read"))

	bad := `{"return": [{"provider": "kvm", "stats": [{"name": "exits", "value": -3}], "qom-path": "/machine/unattached/device[0]"}], "id": 5}`
	stats.Store(&bad)
	md, err = scrapeFresh(s)
	require.Error(t, err)
	assert.ErrorContains(t, err, "vm.qemu_qmp")
	rm = mustResource(t, md, "9100")
	_, ok := value(rm, "wasm_runtime.vm.kvm.exits")
	assert.False(t, ok, "nothing from a refused answer")
	_, ok = value(rm, "wasm_runtime.vm.state")
	assert.False(t, ok, "no state from a refused exchange")
	assert.Equal(t, 4.0, mustValue(t, rm, "wasm_runtime.vm.vcpu.count"), "the boot size again")

	// Under TCG QEMU keeps no KVM statistics: none reported, nothing counted; the disks stay.
	tcg := `{"return": [], "id": 5}`
	stats.Store(&tcg)
	md, err = scrapeFresh(s)
	require.NoError(t, err)
	rm = mustResource(t, md, "9100")
	_, ok = value(rm, "wasm_runtime.vm.kvm.exits")
	assert.False(t, ok)
	mustValue(t, rm, "wasm_runtime.vm.block.io", "wasm_runtime.vm.device", "disk0", "disk.io.direction", "read")
}

// A libvirt domain's qemu is left alone even with a listening QMP socket on its command line
// (here one passed through qemu:commandline): libvirtd owns the domain's monitors, and its
// figures come through vm.libvirt. Nothing connects to the socket.
func TestQMPDiscoveryLeavesLibvirtDomains(t *testing.T) {
	root := t.TempDir()
	fx := libvirtSystemdScenario()
	fx.procs[0].args = append(fx.procs[0].args, "-qmp", "unix:/run/extra.qmp,server=on,wait=off")
	fx.write(t, root)
	dir := filepath.Join(root, "proc", "3100", "root", "run")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	l, err := net.Listen("unix", dir+"/extra.qmp")
	require.NoError(t, err)
	t.Cleanup(func() { _ = l.Close() })
	var accepted atomic.Int32
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			_ = c.Close()
		}
	}()
	cfg := testConfig()
	cfg.RootPath = root
	cfg.VM.QEMUQMP = []QEMUQMPSource{{}}
	md, err := scrapeFresh(newTestScraper(t, cfg)) // the scenario lacks some v1 files: other errors
	if err != nil {
		assert.NotContains(t, err.Error(), "qemu_qmp")
	}
	mustResource(t, md, "3100")
	assert.Zero(t, accepted.Load(), "libvirt's qemu not connected to")
}
