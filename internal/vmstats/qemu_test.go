package vmstats

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/otelcol-virt/otelcol-virt/internal/linuxfs"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-virt/otelcol-virt/internal/vmstats/guesttest"
)

// guestScript waits 3 s after GUEST_READY (the test takes its first reading then), burns
// guest CPU 0, writes 8 MiB to the virtio disk, sends 1 KB pings to the namespace's address,
// then prints its own eth0 counters.
const guestScript = `mount -t devtmpfs dev /dev
ip link set eth0 up
ip addr add 192.0.2.2/24 dev eth0
echo GUEST_READY
sleep 3
taskset 1 sh -c 'while :; do :; done' &
BURNER=$!
dd if=/dev/zero of=/dev/vda bs=1M count=8 conv=fsync; echo DD_RC $?
ping -q -c 40 -i 0.05 -s 1000 192.0.2.1 >/dev/null
sleep 1
echo BURNER $(cut -d' ' -f3,39 /proc/$BURNER/stat)
echo GUEST_TX $(cat /sys/class/net/eth0/statistics/tx_bytes) GUEST_RX $(cat /sys/class/net/eth0/statistics/rx_bytes)
echo GUEST_DONE
while :; do sleep 1000; done
`

func bootGuest(t *testing.T, accel, name string, extra ...string) (*guesttest.QEMU, guesttest.NetNS) {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: boots a guest")
	}
	k := guesttest.FindKernel(t)
	initrd := guesttest.BuildInitramfs(t, k, guestScript)
	ns := guesttest.NewNetNS(t, "vmstats-"+accel)
	disk := filepath.Join(t.TempDir(), "disk.img")
	require.NoError(t, os.WriteFile(disk, make([]byte, 16<<20), 0o644))
	args := []string{"-accel", accel, "-smp", "2", "-m", "256",
		"-kernel", k.Image, "-initrd", initrd, "-append", "console=ttyS0 quiet panic=-1",
		"-netdev", "tap,id=n0,ifname=" + ns.Tap + ",script=no,downscript=no", "-device", "virtio-net-pci,netdev=n0",
		"-drive", "file=" + disk + ",format=raw,if=virtio"}
	args = append(args, extra...)
	if name != "" {
		args = append(args, "-name", "guest="+name+",debug-threads=on")
	}
	return guesttest.StartQEMU(t, ns, args...), ns
}

func ticks(v uint64) float64 { return float64(v) / UserHZ }

// TestQEMUGuestPerVCPUAndTap boots Debian's kernel with a busybox initramfs under QEMU
// (multi-threaded TCG: one "CPU n/TCG" thread per vCPU) that burns guest CPU 0, writes to
// its disk and pings the tap's address, and checks what Collector reads against the
// kernel's own accounting and the guest's own counters.
func TestQEMUGuestPerVCPUAndTap(t *testing.T) {
	q, ns := bootGuest(t, "tcg,thread=multi", "vmstats-tcg")
	q.WaitSerial(t, "GUEST_READY", 3*time.Minute)
	pid := q.Cmd.Process.Pid

	c := NewCollector(linuxfs.New(256))
	vm, err := c.Discover(pid, 2)
	require.NoError(t, err)
	require.Len(t, vm.VCPUs, 2, "two vCPU threads")
	for i, v := range vm.VCPUs {
		assert.Equal(t, i, v.Index)
		assert.Equal(t, VMMQEMU, v.By)
	}
	assert.False(t, vm.Stale())
	require.Equal(t, []Tap{{Name: ns.Tap}}, vm.Taps, "tap found through the fdinfo of /dev/net/tun")

	var first, last VMStats
	c.BeginScrape()
	c.Collect(vm, &first)
	require.Empty(t, first.Errs)
	start := time.Now()
	console := q.WaitSerial(t, "GUEST_DONE", 2*time.Minute)
	time.Sleep(3 * time.Second) // let the busy vCPU run on alone
	c.BeginScrape()
	c.Collect(vm, &last)
	require.Empty(t, last.Errs)
	require.NoError(t, last.IOErr)
	elapsed := time.Since(start).Seconds()
	if os.Getenv("VMSTATS_DEBUG") != "" {
		t.Log(console)
		out, _ := exec.Command("sh", "-c", "cat /proc/"+strconv.Itoa(pid)+"/io; for t in /proc/"+strconv.Itoa(pid)+"/task/*; do echo $(cat $t/comm) $(cat $t/schedstat) $(grep -h bytes $t/io); done").CombinedOutput()
		t.Logf("%s", out)
	}

	busy := ticks(last.VCPUs[0].CPU.UTime+last.VCPUs[0].CPU.STime) - ticks(first.VCPUs[0].CPU.UTime+first.VCPUs[0].CPU.STime)
	idle := ticks(last.VCPUs[1].CPU.UTime+last.VCPUs[1].CPU.STime) - ticks(first.VCPUs[1].CPU.UTime+first.VCPUs[1].CPU.STime)
	t.Logf("over %.1fs: vCPU 0 %.2fs, vCPU 1 %.2fs", elapsed, busy, idle)
	assert.Greater(t, busy, 1.0, "the burning vCPU ran")
	assert.Greater(t, busy, 5*idle+0.2, "busy vCPU >> idle vCPU")
	// The scheduler's own clock (schedstat) agrees with the tick-sampled stat times.
	run := float64(last.VCPUs[0].Sched.RunNS-first.VCPUs[0].Sched.RunNS) / 1e9
	assert.InDelta(t, run, busy, 0.1*run+0.1, "schedstat run time vs stat utime+stime")
	assert.GreaterOrEqual(t, last.VCPUs[0].Sched.WaitNS, first.VCPUs[0].Sched.WaitNS)

	// Disk: the guest wrote 8 MiB with fsync through the VMM's write calls. (write_bytes, the
	// storage layer's count, stays 0 on kernels built without CONFIG_TASK_IO_ACCOUNTING, as
	// this one may be: it is only checked not to go backwards.)
	assert.GreaterOrEqual(t, last.IO.WChar-first.IO.WChar, uint64(8<<20), "VMM wchar")
	assert.Greater(t, last.IO.Syscw, first.IO.Syscw)
	assert.GreaterOrEqual(t, last.IO.WriteBytes, first.IO.WriteBytes)

	// Network: what the guest says it sent is what the tap received.
	f := strings.Fields(console[strings.Index(console, "GUEST_TX"):])
	guestTx, err := strconv.ParseUint(f[1], 10, 64)
	require.NoError(t, err)
	guestRx, err := strconv.ParseUint(f[3], 10, 64)
	require.NoError(t, err)
	require.Len(t, last.Taps, 1)
	gv := last.Taps[0].Host.GuestView()
	t.Logf("guest eth0 tx %d rx %d; tap (guest view) tx %d rx %d", guestTx, guestRx, gv.TxBytes, gv.RxBytes)
	assert.Greater(t, guestTx, uint64(40*1000))
	assert.InEpsilon(t, float64(guestTx), float64(gv.TxBytes), 0.05, "guest tx = tap rx")
	assert.InEpsilon(t, float64(guestRx), float64(gv.RxBytes), 0.05, "guest rx = tap tx")
	// And the figures equal the kernel's counters read over netlink.
	out, err := exec.Command("ip", "netns", "exec", ns.Name, "ip", "-s", "-j", "link", "show", ns.Tap).Output()
	require.NoError(t, err)
	var links []struct {
		Stats64 struct {
			Rx, Tx struct{ Bytes, Packets uint64 }
		} `json:"stats64"`
	}
	require.NoError(t, json.Unmarshal(out, &links))
	require.Len(t, links, 1)
	// Bracket the netlink reading between two collections: it must lie between them.
	var again VMStats
	c.BeginScrape()
	c.Collect(vm, &again)
	require.Len(t, again.Taps, 1)
	nl := links[0].Stats64
	t.Logf("netlink rx %d/%d tx %d/%d; collected rx %d..%d tx %d..%d", nl.Rx.Bytes, nl.Rx.Packets, nl.Tx.Bytes, nl.Tx.Packets,
		last.Taps[0].Host.RxBytes, again.Taps[0].Host.RxBytes, last.Taps[0].Host.TxBytes, again.Taps[0].Host.TxBytes)
	for _, b := range []struct {
		name                string
		before, kernel, now uint64
	}{
		{"rx bytes", last.Taps[0].Host.RxBytes, nl.Rx.Bytes, again.Taps[0].Host.RxBytes},
		{"rx packets", last.Taps[0].Host.RxPackets, nl.Rx.Packets, again.Taps[0].Host.RxPackets},
		{"tx bytes", last.Taps[0].Host.TxBytes, nl.Tx.Bytes, again.Taps[0].Host.TxBytes},
		{"tx packets", last.Taps[0].Host.TxPackets, nl.Tx.Packets, again.Taps[0].Host.TxPackets},
	} {
		assert.LessOrEqual(t, b.before, b.kernel, b.name)
		assert.LessOrEqual(t, b.kernel, b.now, b.name)
		assert.InEpsilon(t, float64(b.kernel), float64(b.now), 0.05, b.name)
	}

	if dir := os.Getenv("VMSTATS_CAPTURE"); dir != "" {
		captureProc(t, dir, vm)
	}
}

// captureProc copies the files Collector reads for vm into dir, laid out as under /proc, for
// the benchmark's synthetic tree (testdata/capture).
func captureProc(t *testing.T, dir string, vm *VM) {
	base := "/proc/" + strconv.Itoa(vm.PID)
	files := []string{"stat", "io", "net/dev"}
	for _, v := range vm.VCPUs {
		for _, n := range []string{"stat", "schedstat", "comm"} {
			files = append(files, "task/"+strconv.Itoa(v.TID)+"/"+n)
		}
	}
	for _, f := range files {
		data, err := os.ReadFile(base + "/" + f)
		require.NoError(t, err)
		dst := filepath.Join(dir, f)
		require.NoError(t, os.MkdirAll(filepath.Dir(dst), 0o755))
		require.NoError(t, os.WriteFile(dst, data, 0o644))
	}
	t.Logf("captured %d files of pid %d into %s", len(files), vm.PID, dir)
}
