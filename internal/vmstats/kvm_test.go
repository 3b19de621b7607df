package vmstats

import (
	"errors"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/otelcol-virt/otelcol-virt/internal/linuxfs"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-virt/otelcol-virt/internal/vmstats/guesttest"
)

func requireKVM(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: starts KVM guests")
	}
	f, err := os.OpenFile("/dev/kvm", os.O_RDWR, 0)
	if err != nil {
		t.Skipf("/dev/kvm: %v (no usable KVM on this host)", err)
	}
	f.Close()
}

// TestQEMUKVM runs the same guest under KVM: vCPU threads by name and, in a second VM
// without debug-threads, through their kvm-vcpu descriptors; guest time from stat field 43;
// KVM's per-VM statistics in debugfs (or the lockdown that refuses them).
func TestQEMUKVM(t *testing.T) {
	requireKVM(t)
	q, _ := bootGuest(t, "kvm", "vmstats-kvm")
	pid := q.Cmd.Process.Pid
	c := NewCollector(linuxfs.New(64))

	var vm *VM
	require.Eventually(t, func() bool {
		var err error
		vm, err = c.Discover(pid, 2)
		return err == nil && len(vm.VCPUs) == 2
	}, 30*time.Second, 200*time.Millisecond, "two CPU n/KVM threads")
	assert.Equal(t, VMMQEMU, vm.VCPUs[0].By)

	// Guest time: the kernel charges time in guest mode to stat field 43 of the vCPU thread
	// and of the whole process, and includes it in utime. Only with a guest that runs: under
	// PVM the stock kernel never leaves its decompressor (the TCG guest test checks guest time
	// of a running kernel, and the receiver's KVM test the vCPUs' run time).
	if guesttest.PVM() {
		t.Log("guest time not checked: this host's /dev/kvm is PVM (kvm_pvm), where Debian's kernel does not run")
	} else {
		var s VMStats
		require.Eventually(t, func() bool {
			c.BeginScrape()
			c.Collect(vm, &s)
			return len(s.Errs) == 0 && s.Process.GuestTime > 0
		}, 2*time.Minute, 500*time.Millisecond, "guest time > 0")
		var vcpuGuest uint64
		for _, v := range s.VCPUs {
			vcpuGuest += v.CPU.GuestTime
			assert.LessOrEqual(t, v.CPU.GuestTime, v.CPU.UTime, "guest time is part of user time")
		}
		assert.Greater(t, vcpuGuest, uint64(0))
		assert.LessOrEqual(t, vcpuGuest, s.Process.GuestTime, "the process sums its vCPUs (and exited threads)")
		t.Logf("guest %.2fs, VMM user %.2fs, system %.2fs", ticks(s.Process.GuestTime), ticks(s.Process.VMMUserTime()), ticks(s.Process.STime))
	}

	// KVM's debugfs directory for this VM, mapped to the pid.
	if _, err := os.Stat(KVMDebugfsDir); err != nil {
		require.NoError(t, exec.Command("mount", "-t", "debugfs", "none", "/sys/kernel/debug").Run())
		t.Cleanup(func() { exec.Command("umount", "/sys/kernel/debug").Run() })
	}
	vms, err := DiscoverKVMVMs(c.R, KVMDebugfsDir)
	require.NoError(t, err)
	var mine *KVMVM
	for i := range vms {
		if vms[i].PID == pid {
			mine = &vms[i]
		}
	}
	require.NotNil(t, mine, "kvm/<pid>-<fd> of the VMM")
	first, err := ReadKVMStats(c.R, mine)
	if mode := guesttest.Lockdown(); mode != "none" {
		// Integrity lockdown (this host) refuses debugfs files with write bits: the error
		// must say so rather than read as zeros.
		require.ErrorIs(t, err, ErrLockdown, "lockdown %s", mode)
		t.Logf("kernel lockdown %q: KVM debugfs statistics refused as expected: %v", mode, err)
	} else {
		require.NoError(t, err)
		time.Sleep(2 * time.Second)
		second, err := ReadKVMStats(c.R, mine)
		require.NoError(t, err)
		assert.Greater(t, second.Exits, first.Exits, "KVM exits increase")
		assert.GreaterOrEqual(t, second.HaltExits, first.HaltExits)
	}

	// Without debug-threads QEMU names no thread: the vCPUs are found as the threads blocked
	// in ioctl(KVM_RUN) on a kvm-vcpu:<n> descriptor. A vCPU running guest code at that
	// instant is missed, so discovery is retried, as the receiver does while Stale.
	plain := guesttest.StartQEMU(t, guesttest.NetNS{}, "-accel", "kvm", "-smp", "2", "-m", "64")
	var found []VCPUThread
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) && len(found) < 2 {
		found, err = DiscoverVCPUs(c.R, "/proc", plain.Cmd.Process.Pid, found)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			require.NoError(t, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	require.NotEmpty(t, found, "vCPU threads found through their kvm-vcpu descriptors")
	for _, v := range found {
		assert.Equal(t, VMMKVMFd, v.By)
		comm, err := os.ReadFile("/proc/" + itoa(plain.Cmd.Process.Pid) + "/task/" + itoa(v.TID) + "/comm")
		require.NoError(t, err)
		assert.Equal(t, "qemu-system-x86\n", string(comm), "an unnamed thread")
	}
	t.Logf("found %d of 2 vCPUs by descriptor: %+v", len(found), found)
}
func itoa(n int) string { return strconv.Itoa(n) }
