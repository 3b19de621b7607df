package libvirtstats

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-virt/otelcol-virt/internal/vmstats/guesttest"
)

// TestLibvirtDomainStats runs a real libvirt domain (QEMU TCG: a Linux guest stalls under
// this host's nested KVM) booting Debian's kernel with a busybox initramfs that writes and reads
// its disk once and then burns one vCPU (guesttest.DiskThenBurn: the disk's counters stand
// still, a vCPU's grow), and checks the figures read over the libvirt socket
// against `virsh domstats`, taken between two of our readings.
func TestLibvirtDomainStats(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: starts a libvirt domain")
	}
	dom := guesttest.StartDiskThenBurnDomain(t, fmt.Sprintf("vmstats-test-%d", os.Getpid()))
	name, disk := dom.Name, dom.Disk
	time.Sleep(5 * time.Second) // some vCPU time

	c := Client{}
	find := func() Domain {
		doms, err := c.Collect(context.Background())
		require.NoError(t, err)
		for _, d := range doms {
			if d.Name == name {
				return d
			}
		}
		t.Fatalf("domain %s not in the stats of %d domains", name, len(doms))
		return Domain{}
	}
	before := find()
	virsh := dom.Domstats(t)
	after := find()

	require.Len(t, after.VCPUs, 2)
	assert.Equal(t, 1, after.State, "running")
	assert.Len(t, after.UUID, 36)
	type pair struct {
		key           string
		before, after uint64
	}
	pairs := []pair{{"cpu.time", before.CPUTime, after.CPUTime}}
	for i := range after.VCPUs {
		p := "vcpu." + strconv.Itoa(i) + "."
		pairs = append(pairs, pair{p + "time", before.VCPUs[i].TimeNS, after.VCPUs[i].TimeNS})
		if after.VCPUs[i].HasWait {
			pairs = append(pairs, pair{p + "wait", before.VCPUs[i].WaitNS, after.VCPUs[i].WaitNS})
		}
		if after.VCPUs[i].HasDelay {
			pairs = append(pairs, pair{p + "delay", before.VCPUs[i].DelayNS, after.VCPUs[i].DelayNS})
		}
	}
	require.Len(t, after.Blocks, 1)
	assert.Equal(t, "vda", after.Blocks[0].Name)
	assert.Equal(t, disk, after.Blocks[0].Path)
	for _, f := range []struct {
		key  string
		b, a uint64
	}{
		{"rd.bytes", before.Blocks[0].RdBytes, after.Blocks[0].RdBytes},
		{"rd.reqs", before.Blocks[0].RdReqs, after.Blocks[0].RdReqs},
		{"wr.bytes", before.Blocks[0].WrBytes, after.Blocks[0].WrBytes},
		{"wr.reqs", before.Blocks[0].WrReqs, after.Blocks[0].WrReqs},
		{"capacity", before.Blocks[0].CapacityBytes, after.Blocks[0].CapacityBytes},
	} {
		pairs = append(pairs, pair{"block.0." + f.key, f.b, f.a})
	}
	for _, p := range pairs {
		v, ok := virsh[p.key]
		if !assert.True(t, ok, "virsh domstats has %s", p.key) {
			continue
		}
		t.Logf("%-16s ours %d .. %d, virsh %d", p.key, p.before, p.after, v)
		assert.LessOrEqual(t, p.before, v, p.key)
		assert.LessOrEqual(t, v, p.after, p.key)
		// Run-queue wait and delay are small and grow fast on a busy host (tens of ms a
		// second), so between virsh and our next reading they can move by more than 5 %:
		// for them the bracket above is the agreement.
		if v > 0 && !strings.HasSuffix(p.key, ".wait") && !strings.HasSuffix(p.key, ".delay") {
			assert.InEpsilon(t, float64(v), float64(p.after), 0.05, p.key)
		}
	}
	// The burning vCPU 0 ran far more than vCPU 1; the disk was read and written.
	assert.Greater(t, after.VCPUs[0].TimeNS, 2*after.VCPUs[1].TimeNS)
	assert.Greater(t, after.Blocks[0].WrBytes, uint64(2<<20))
	assert.Greater(t, after.Blocks[0].RdBytes, uint64(1<<20))
	assert.Equal(t, uint64(8<<20), after.Blocks[0].CapacityBytes)
	assert.Greater(t, after.Balloon.CurrentKiB, uint64(0))
}

// TestLibvirtKVMStats runs a real libvirt KVM domain (firmware only, see
// guesttest.StartLibvirtKVMDomain) and checks the KVM statistics libvirt relays per vCPU
// (vcpu.<n>.exits.sum and the rest), summed over the vCPUs, against `virsh domstats` taken
// between two of our readings; the exits grow.
func TestLibvirtKVMStats(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: starts a libvirt domain")
	}
	if f, err := os.OpenFile("/dev/kvm", os.O_RDWR, 0); err != nil {
		t.Skipf("/dev/kvm: %v (no usable KVM on this host)", err)
	} else {
		f.Close()
	}
	dom := guesttest.StartLibvirtKVMDomain(t, fmt.Sprintf("vmstats-kvm-%d", os.Getpid()))
	c := Client{}
	find := func() Domain {
		doms, err := c.Collect(context.Background())
		require.NoError(t, err)
		for _, d := range doms {
			if d.Name == dom.Name {
				return d
			}
		}
		t.Fatalf("domain %s not in the stats", dom.Name)
		return Domain{}
	}
	var before Domain
	require.Eventually(t, func() bool { before = find(); return before.HasKVM && before.KVM.Exits > 0 }, 30*time.Second, 200*time.Millisecond,
		"libvirt relays KVM statistics for a KVM domain")
	virsh := dom.Domstats(t)
	after := find()
	var exits, haltWait uint64
	for i := range after.VCPUs {
		exits += virsh["vcpu."+strconv.Itoa(i)+".exits.sum"]
		haltWait += virsh["vcpu."+strconv.Itoa(i)+".halt_wait_ns.sum"]
	}
	assert.Len(t, after.VCPUs, 2)
	assert.GreaterOrEqual(t, exits, before.KVM.Exits, "virsh read after our first reading")
	assert.LessOrEqual(t, exits, after.KVM.Exits, "and before our second")
	assert.GreaterOrEqual(t, haltWait, before.KVM.HaltWaitNS)
	assert.LessOrEqual(t, haltWait, after.KVM.HaltWaitNS)
	require.Eventually(t, func() bool { return find().KVM.Exits > after.KVM.Exits }, 30*time.Second, 200*time.Millisecond, "exits grow")
}
