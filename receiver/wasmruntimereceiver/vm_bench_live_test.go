package wasmruntimereceiver

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/otelcol-virt/otelcol-virt/internal/vmstats/guesttest"
)

// BenchmarkVMCollectLive is BenchmarkVMCollect on real VMs: n qemu-system-x86_64 KVM guests
// (default 100, VMCOLLECT_LIVE_VMS to change) of 4 vCPUs, each with a tap in its own network
// namespace, created stopped (-S). The floor replays the collection's reads on the
// kernel's own files (/proc/<pid>/task/<tid>/schedstat, /proc/<pid>/io, the namespace's
// net/dev), which the kernel generates at each read; the captured tree of BenchmarkVMCollect
// holds the same bytes in regular files, which cost a fraction of that to read.
//
//	go test ./receiver/wasmruntimereceiver -run '^$' -bench VMCollectLive -benchmem -count 6
func BenchmarkVMCollectLive(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Skip("starts VMs in network namespaces with taps: needs root")
	}
	if _, err := exec.LookPath("qemu-system-x86_64"); err != nil {
		b.Skip("qemu-system-x86_64 not installed (make deps installs qemu-system-x86)")
	}
	if f, err := os.OpenFile("/dev/kvm", os.O_RDWR, 0); err != nil {
		b.Skipf("/dev/kvm: %v (no usable KVM on this host)", err)
	} else {
		f.Close()
	}
	n := 100
	if v := os.Getenv("VMCOLLECT_LIVE_VMS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n <= 0 {
			b.Fatalf("VMCOLLECT_LIVE_VMS=%q: a positive number of VMs", v)
		}
	}
	const vcpus = 4
	pids := map[int]bool{}
	for i := range n {
		ns := guesttest.NewNetNS(b, fmt.Sprintf("wrtb%d-%d", os.Getpid()%10000, i))
		// -S: the vCPU threads exist but wait for "cont", so that 100 guests do not load a small
		// host while it measures (a host running them busy measures its own contention).
		q := guesttest.StartQEMU(b, ns, "-S", "-accel", "kvm", "-smp", strconv.Itoa(vcpus), "-m", "48",
			"-netdev", "tap,id=n0,ifname="+ns.Tap+",script=no,downscript=no", "-device", "virtio-net-pci,netdev=n0",
			"-name", fmt.Sprintf("guest=bench%d,debug-threads=on", i))
		pids[q.Cmd.Process.Pid] = true
	}
	deadline := time.Now().Add(2 * time.Minute)
	for pid := range pids {
		for {
			threads := len(vcpuThreads(b, pid))
			if threads == vcpus {
				break
			}
			if time.Now().After(deadline) {
				b.Fatalf("qemu %d: %d of %d vCPU threads after 2 minutes", pid, threads, vcpus)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	s := benchScraper(b, "", nil)
	snap := s.inv.Current()
	var vms []int
	for i := range snap.Instances {
		if in := &snap.Instances[i]; isVM(in) && pids[vmmProcess(in).PID] {
			vms = append(vms, i)
		}
	}
	if len(vms) != n {
		b.Fatalf("%d of the %d VMs found as instances", len(vms), n)
	}
	measureVMCollect(b, s, snap, vms, vcpus)
}
