package wasmruntimereceiver

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/otelcol-virt/otelcol-virt/internal/vmstats/guesttest"
)

// busyGuest waits after GUEST_READY (the test scrapes then), burns guest CPU 0 and pings the
// namespace's address, then idles.
const busyGuest = `mount -t devtmpfs dev /dev
ip link set eth0 up
ip addr add 192.0.2.2/24 dev eth0
echo GUEST_READY
sleep 2
taskset 1 sh -c 'while :; do :; done' &
ping -q -c 40 -i 0.05 -s 1000 192.0.2.1 >/dev/null
echo GUEST_DONE
while :; do sleep 1000; done
`

// requireKVM skips without a usable /dev/kvm.
func requireKVM(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a KVM guest; skipped with -short")
	}
	f, err := os.OpenFile("/dev/kvm", os.O_RDWR, 0)
	if err != nil {
		t.Skipf("/dev/kvm: %v (no usable KVM on this host)", err)
	}
	f.Close()
}

// mountDebugfs mounts debugfs for KVM's statistics when it is not.
func mountDebugfs(t *testing.T) {
	if _, err := os.Stat(defaultKVMDebugfsDir); err != nil {
		require.NoError(t, exec.Command("mount", "-t", "debugfs", "none", "/sys/kernel/debug").Run())
		t.Cleanup(func() { _ = exec.Command("umount", "/sys/kernel/debug").Run() })
	}
}

// taskRunSeconds is the run time of one thread (schedstat field 1), read independently of the
// receiver.
func taskRunSeconds(t *testing.T, pid, tid int) float64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/task/" + strconv.Itoa(tid) + "/schedstat")
	require.NoError(t, err)
	ns, err := strconv.ParseFloat(strings.Fields(string(b))[0], 64)
	require.NoError(t, err)
	return ns / 1e9
}

// vcpuThreads maps "CPU n/KVM" thread names of pid to their tids.
func vcpuThreads(t testing.TB, pid int) map[int]int {
	dir := "/proc/" + strconv.Itoa(pid) + "/task/"
	ents, err := os.ReadDir(dir)
	require.NoError(t, err)
	out := map[int]int{}
	for _, e := range ents {
		comm, err := os.ReadFile(dir + e.Name() + "/comm")
		if err != nil {
			continue
		}
		var n int
		if _, err := fmt.Sscanf(string(comm), "CPU %d/KVM", &n); err == nil {
			tid, _ := strconv.Atoi(e.Name())
			out[n] = tid
		}
	}
	return out
}

// TestKVMQEMUPerVCPUMetrics runs qemu-system-x86_64 under KVM (this host runs nested KVM) with
// two vCPUs and a tap in a network namespace, and scrapes it through the receiver: each vCPU's
// time lands on the VM instance's resource and lies between two independent reads of its
// thread's schedstat around the scrape, its guest time (opt-in, from stat) within it, the VMM's own CPU and guest time are there, the tap is
// found through its /dev/net/tun descriptor and its counters match the kernel's, and KVM's
// debugfs statistics are reported or, under lockdown, refused once and not tried again.
//
// No guest kernel runs: on this host's nested KVM a Linux guest stalls in its decompressor
// (TestGuestVMMetrics boots one under TCG for the figures that need a running guest), while the
// firmware's vCPUs exercise every per-vCPU path of KVM.
func TestKVMQEMUPerVCPUMetrics(t *testing.T) {
	requireKVM(t)
	ns := guesttest.NewNetNS(t, "wrtk-"+strconv.Itoa(os.Getpid()))
	mountDebugfs(t)
	dir := t.TempDir()
	qmpSock, disk := filepath.Join(dir, "wasmrt-kvm.qmp"), filepath.Join(dir, "disk.img")
	require.NoError(t, os.WriteFile(disk, make([]byte, 1<<20), 0o644)) // blank: the firmware reads its boot sector
	q := guesttest.StartQEMU(t, ns, "-accel", "kvm", "-smp", "2", "-m", "64",
		"-drive", "file="+disk+",format=raw,if=none,id=disk0", "-device", "virtio-blk-pci,drive=disk0,bootindex=1",
		"-netdev", "tap,id=n0,ifname="+ns.Tap+",script=no,downscript=no", "-device", "virtio-net-pci,netdev=n0",
		"-name", "guest=wasmrt-kvm,debug-threads=on", "-qmp", "unix:"+qmpSock+",server=on,wait=off")
	pid := q.Cmd.Process.Pid
	var threads map[int]int
	require.Eventually(t, func() bool { threads = vcpuThreads(t, pid); return len(threads) == 2 }, 30*time.Second, 100*time.Millisecond, "CPU 0/KVM and CPU 1/KVM")
	time.Sleep(time.Second)

	cfg := testConfig()
	cfg.VM.KVMDebugfs.Enabled = true
	cfg.Metrics.WasmRuntimeVMVcpuGuestTime.Enabled = true
	s := newTestScraper(t, cfg)
	var rm pmetric.ResourceMetrics
	before := map[int]float64{}
	for v, tid := range threads {
		before[v] = taskRunSeconds(t, pid, tid)
	}
	md, _ := scrapeFresh(s) // read errors of other processes of a shared host do not matter here
	rm, ok := findResource(md, "process.pid", strconv.Itoa(pid))
	require.True(t, ok, "the qemu instance")
	t.Log(dump(rm))
	assert.Equal(t, "qemu", resAttr(rm, "wasm_runtime.vmm"))
	assert.Equal(t, "wasmrt-kvm", resAttr(rm, "wasm_runtime.vm.name"))
	for v, tid := range threads {
		got := mustValue(t, rm, "wasm_runtime.vm.vcpu.time", "wasm_runtime.vm.vcpu.id", strconv.Itoa(v))
		after := taskRunSeconds(t, pid, tid)
		assert.GreaterOrEqual(t, got, before[v], "vCPU %d", v)
		assert.LessOrEqual(t, got, after, "vCPU %d", v)
		// Guest time is part of the vCPU's time; stat counts it in ticks (10 ms) sampled from it.
		assert.LessOrEqual(t, mustValue(t, rm, "wasm_runtime.vm.vcpu.guest.time", "wasm_runtime.vm.vcpu.id", strconv.Itoa(v)), got+0.02, "vCPU %d", v)
		mustValue(t, rm, "wasm_runtime.vm.vcpu.wait.time", "wasm_runtime.vm.vcpu.id", strconv.Itoa(v))
	}
	assert.Len(t, points(rm, "wasm_runtime.vm.vcpu.time"), 2)
	vcpuGuest := 0.0
	for _, p := range points(rm, "wasm_runtime.vm.vcpu.guest.time") {
		vcpuGuest += p.value
	}
	// The VMM's stat is the inventory walk's, read at the start of the scrape, its vCPUs' a
	// little later: the sum may be ahead of it by what ran in between.
	assert.GreaterOrEqual(t, mustValue(t, rm, "wasm_runtime.vm.guest.time")+0.05, vcpuGuest, "the process sums its vCPUs' guest time")
	user := mustValue(t, rm, "wasm_runtime.vm.vmm.cpu.time", "cpu.mode", "user")
	sys := mustValue(t, rm, "wasm_runtime.vm.vmm.cpu.time", "cpu.mode", "system")
	assert.Greater(t, user+sys, 0.0, "the VMM ran")
	checkTap(t, s, ns, pid, rm)

	if mode := guesttest.Lockdown(); mode != "none" {
		_, ok := value(rm, "wasm_runtime.vm.kvm.exits")
		assert.False(t, ok, "lockdown %s: refused statistics are not reported as zeros", mode)
		assert.True(t, s.vm.sources.kvmOff, "lockdown %s: debugfs not tried again", mode)
		t.Logf("kernel lockdown %q: KVM debugfs statistics refused, as documented", mode)
	}

	// The same counters through the VM's QMP monitor, found on its command line: no debugfs,
	// and readable under lockdown. They grow while the firmware runs, and the vCPUs' sum is
	// the figure (KVM's binary statistics, which debugfs sums the same way).
	cfg.VM.QEMUQMP = []QEMUQMPSource{{}}
	s = newTestScraper(t, cfg)
	md, _ = scrapeFresh(s)
	rm, ok = findResource(md, "process.pid", strconv.Itoa(pid))
	require.True(t, ok)
	exits := mustValue(t, rm, "wasm_runtime.vm.kvm.exits")
	assert.Greater(t, exits, 0.0)
	mustValue(t, rm, "wasm_runtime.vm.kvm.halt.wait.time")
	time.Sleep(time.Second)
	md, _ = scrapeFresh(s)
	rm, _ = findResource(md, "process.pid", strconv.Itoa(pid))
	later := mustValue(t, rm, "wasm_runtime.vm.kvm.exits")
	assert.Greater(t, later, exits, "KVM exits increase")
	t.Logf("KVM exits through QMP: %.0f -> %.0f", exits, later)
	// And its disk as QEMU counts it: the firmware's boot-sector reads, 512 bytes each.
	require.Eventually(t, func() bool {
		md, _ = scrapeFresh(s)
		rm, _ = findResource(md, "process.pid", strconv.Itoa(pid))
		ops, ok := value(rm, "wasm_runtime.vm.block.operations", "wasm_runtime.vm.device", "disk0", "disk.io.direction", "read", "wasm_runtime.vm.counter.source", "qemu")
		return ok && ops > 0
	}, 30*time.Second, 250*time.Millisecond, "the boot sector read")
	ops := mustValue(t, rm, "wasm_runtime.vm.block.operations", "wasm_runtime.vm.device", "disk0", "disk.io.direction", "read")
	assert.Equal(t, 512*ops, mustValue(t, rm, "wasm_runtime.vm.block.io", "wasm_runtime.vm.device", "disk0", "disk.io.direction", "read"))
}

// checkTap compares the tap's counters on rm, read at a scrape, with netlink's read after it
// and with the next scrape's: the kernel's figure lies between, within 5 % of the later one.
func checkTap(t *testing.T, s *scraperImpl, ns guesttest.NetNS, pid int, rm pmetric.ResourceMetrics) {
	t.Helper()
	out, err := exec.Command("ip", "netns", "exec", ns.Name, "ip", "-s", "-j", "link", "show", ns.Tap).Output()
	require.NoError(t, err)
	md, _ := scrapeFresh(s)
	next, ok := findResource(md, "process.pid", strconv.Itoa(pid))
	require.True(t, ok)
	var links []struct {
		Stats64 struct {
			Rx, Tx struct{ Bytes, Packets uint64 }
		} `json:"stats64"`
	}
	require.NoError(t, json.Unmarshal(out, &links))
	require.Len(t, links, 1)
	nl := links[0].Stats64
	tap := func(rm pmetric.ResourceMetrics, metric, dir string) float64 {
		return mustValue(t, rm, metric, "network.interface.name", ns.Tap, "network.io.direction", dir, "wasm_runtime.vm.counter.source", "tap")
	}
	// The guest's transmit is what the tap received on the host.
	for _, b := range []struct {
		name, metric, dir string
		kernel            uint64
	}{
		{"guest tx bytes", "wasm_runtime.vm.network.io", "transmit", nl.Rx.Bytes},
		{"guest tx packets", "wasm_runtime.vm.network.packet.count", "transmit", nl.Rx.Packets},
		{"guest rx bytes", "wasm_runtime.vm.network.io", "receive", nl.Tx.Bytes},
		{"guest rx packets", "wasm_runtime.vm.network.packet.count", "receive", nl.Tx.Packets},
	} {
		before, after := tap(rm, b.metric, b.dir), tap(next, b.metric, b.dir)
		assert.LessOrEqual(t, before, float64(b.kernel), b.name)
		assert.LessOrEqual(t, float64(b.kernel), after, b.name)
		if b.kernel > 0 {
			assert.InEpsilon(t, float64(b.kernel), after, 0.05, b.name)
		} else {
			assert.Zero(t, after, b.name)
		}
	}
}

// TestGuestVMMetrics boots Debian's kernel with a busybox initramfs under QEMU (multi-threaded
// TCG, one "CPU n/TCG" thread per vCPU: this host's nested KVM does not get a Linux guest past
// its decompressor) that burns guest CPU 0 and pings the tap's address, and scrapes it through
// the receiver: the busy vCPU is far ahead of the idle one on the VM instance's resource and
// the tap's bytes, the guest's pings, are within 5 % of the kernel's counters.
func TestGuestVMMetrics(t *testing.T) {
	if testing.Short() {
		t.Skip("boots a guest; skipped with -short")
	}
	k := guesttest.FindKernel(t)
	initrd := guesttest.BuildInitramfs(t, k, busyGuest)
	ns := guesttest.NewNetNS(t, "wrtg-"+strconv.Itoa(os.Getpid()))
	q := guesttest.StartQEMU(t, ns, "-accel", "tcg,thread=multi", "-smp", "2", "-m", "256",
		"-kernel", k.Image, "-initrd", initrd, "-append", "console=ttyS0 quiet panic=-1",
		"-netdev", "tap,id=n0,ifname="+ns.Tap+",script=no,downscript=no", "-device", "virtio-net-pci,netdev=n0",
		"-name", "guest=wasmrt-tcg,debug-threads=on")
	q.WaitSerial(t, "GUEST_READY", 3*time.Minute)
	pid := q.Cmd.Process.Pid

	cfg := testConfig()
	cfg.Metrics.WasmRuntimeVMDiskSyscallIO.Enabled = true
	s := newTestScraper(t, cfg)
	scrape := func() pmetric.ResourceMetrics {
		md, _ := scrapeFresh(s) // read errors of other processes of a shared host do not matter here
		rm, ok := findResource(md, "process.pid", strconv.Itoa(pid))
		require.True(t, ok, "the qemu instance")
		return rm
	}
	vcpu := func(rm pmetric.ResourceMetrics, metric string, id int) float64 {
		return mustValue(t, rm, metric, "wasm_runtime.vm.vcpu.id", strconv.Itoa(id))
	}
	first := scrape()
	busy0, idle0 := vcpu(first, "wasm_runtime.vm.vcpu.time", 0), vcpu(first, "wasm_runtime.vm.vcpu.time", 1)
	q.WaitSerial(t, "GUEST_DONE", 2*time.Minute)
	time.Sleep(3 * time.Second) // the busy vCPU runs on alone
	second := scrape()
	busy := vcpu(second, "wasm_runtime.vm.vcpu.time", 0) - busy0
	idle := vcpu(second, "wasm_runtime.vm.vcpu.time", 1) - idle0
	t.Logf("vCPU 0 %.2fs, vCPU 1 %.2fs", busy, idle)
	assert.Greater(t, busy, 1.0, "the burning vCPU ran")
	assert.Greater(t, busy, 5*idle+0.2, "busy vCPU >> idle vCPU")
	assert.GreaterOrEqual(t, vcpu(second, "wasm_runtime.vm.vcpu.wait.time", 0), vcpu(first, "wasm_runtime.vm.vcpu.wait.time", 0))
	// The VMM's I/O: its read calls' bytes lie between two independent reads of /proc/<pid>/io.
	ioBefore := procIOField(t, pid, "rchar")
	third := scrape()
	ioAfter := procIOField(t, pid, "rchar")
	rchar := mustValue(t, third, "wasm_runtime.vm.disk.syscall.io", "disk.io.direction", "read")
	assert.GreaterOrEqual(t, rchar, ioBefore)
	assert.LessOrEqual(t, rchar, ioAfter)
	mustValue(t, third, "wasm_runtime.vm.disk.io", "disk.io.direction", "write")
	checkTap(t, s, ns, pid, second)
	sent := mustValue(t, second, "wasm_runtime.vm.network.io", "network.interface.name", ns.Tap, "network.io.direction", "transmit")
	assert.Greater(t, sent, 40*1000.0, "the guest's 40 pings of 1 KB")
}

// procIOField is one field of /proc/<pid>/io, read independently of the receiver.
func procIOField(t *testing.T, pid int, name string) float64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/io")
	require.NoError(t, err)
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, name+": "); ok {
			f, err := strconv.ParseFloat(v, 64)
			require.NoError(t, err)
			return f
		}
	}
	t.Fatalf("no %s in /proc/%d/io", name, pid)
	return 0
}
