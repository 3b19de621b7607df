package libvirtstats

import (
	"testing"

	"github.com/digitalocean/go-libvirt"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func param(field string, v any) libvirt.TypedParam {
	return libvirt.TypedParam{Field: field, Value: libvirt.TypedParamValue{I: v}}
}

// The field names and types are those virsh domstats prints for a QEMU domain (libvirt's
// qemuDomainGetStats* in src/qemu/qemu_driver.c add them as ullong, uint or string).
func TestFromRecord(t *testing.T) {
	rec := libvirt.DomainStatsRecord{Dom: libvirt.Domain{Name: "vm1", ID: 3, UUID: libvirt.UUID{0x12, 0x34}}, Params: []libvirt.TypedParam{
		param("state.state", int32(1)), param("state.reason", int32(1)),
		param("cpu.time", uint64(900)), param("cpu.user", uint64(500)), param("cpu.system", uint64(300)),
		param("balloon.current", uint64(196608)), param("balloon.maximum", uint64(196608)), param("balloon.rss", uint64(123456)),
		param("vcpu.current", uint32(2)), param("vcpu.maximum", uint32(2)),
		param("vcpu.1.state", int32(1)), param("vcpu.1.time", uint64(70)), param("vcpu.1.delay", uint64(9)),
		param("vcpu.0.state", int32(1)), param("vcpu.0.time", uint64(800)), param("vcpu.0.wait", uint64(0)), param("vcpu.0.delay", uint64(33)),
		param("block.count", uint32(1)), param("block.0.name", "vda"), param("block.0.path", "/var/lib/libvirt/images/vm1.img"),
		param("block.0.rd.reqs", uint64(72)), param("block.0.rd.bytes", uint64(8925696)), param("block.0.wr.bytes", uint64(8388608)),
		param("block.0.capacity", uint64(8388608)),
		param("net.count", uint32(1)), param("net.0.name", "vnet0"), param("net.0.rx.bytes", uint64(1000)), param("net.0.tx.pkts", uint64(7)),
		param("block.0.threshold", uint64(5)), param("perf.cmt", uint64(1)), // not collected
	}}
	d, err := FromRecord(rec)
	require.NoError(t, err)
	assert.Equal(t, "vm1", d.Name)
	assert.Equal(t, "12340000-0000-0000-0000-000000000000", d.UUID)
	assert.Equal(t, 1, d.State)
	assert.Equal(t, uint64(900), d.CPUTime)
	assert.Equal(t, []VCPU{{Index: 0, State: 1, TimeNS: 800, DelayNS: 33, HasWait: true, HasDelay: true}, {Index: 1, State: 1, TimeNS: 70, DelayNS: 9, HasDelay: true}}, d.VCPUs)
	assert.Equal(t, Balloon{CurrentKiB: 196608, MaximumKiB: 196608, RSSKiB: 123456}, d.Balloon)
	assert.Equal(t, []Block{{Name: "vda", Path: "/var/lib/libvirt/images/vm1.img", RdReqs: 72, RdBytes: 8925696, WrBytes: 8388608, CapacityBytes: 8388608}}, d.Blocks)
	assert.Equal(t, []Net{{Name: "vnet0", RxBytes: 1000, TxPkts: 7}}, d.Nets)

	for _, bad := range []libvirt.TypedParam{param("cpu.time", "x"), param("vcpu.0.time", int64(-1)), param("block.0.name", uint64(1)), param("state.state", uint64(1<<40))} {
		_, err := FromRecord(libvirt.DomainStatsRecord{Params: []libvirt.TypedParam{bad}})
		assert.Error(t, err, bad.Field)
	}
	d, err = FromRecord(libvirt.DomainStatsRecord{Params: []libvirt.TypedParam{param("vcpu.99999.time", uint64(1)), param("block.x.rd.bytes", uint64(1))}})
	require.NoError(t, err)
	assert.Empty(t, d.VCPUs, "an index past the cap is ignored")
	assert.Empty(t, d.Blocks)
}

// vcpu.<n>.<name>.sum of a KVM domain: the names KVMStats holds are summed over the vCPUs,
// the others (and .cur values) ignored, a wrong type refused.
func TestRecordKVMStats(t *testing.T) {
	d, err := FromRecord(libvirt.DomainStatsRecord{Dom: libvirt.Domain{Name: "k"}, Params: []libvirt.TypedParam{
		param("vcpu.0.time", uint64(5)), param("vcpu.0.exits.sum", uint64(6000)), param("vcpu.1.exits.sum", uint64(2)),
		param("vcpu.0.halt_wait_ns.sum", uint64(100)), param("vcpu.1.halt_wait_ns.sum", uint64(3000000)),
		param("vcpu.0.insn_emulation.sum", uint64(9)), param("vcpu.0.guest_mode.cur", false),
	}})
	require.NoError(t, err)
	assert.True(t, d.HasKVM)
	assert.Equal(t, uint64(6002), d.KVM.Exits)
	assert.Equal(t, uint64(3000100), d.KVM.HaltWaitNS)
	assert.Equal(t, uint64(6000), d.VCPUs[0].KVM.Exits)
	_, err = FromRecord(libvirt.DomainStatsRecord{Params: []libvirt.TypedParam{param("vcpu.0.exits.sum", "many")}})
	assert.Error(t, err)
	tcg, err := FromRecord(libvirt.DomainStatsRecord{Params: []libvirt.TypedParam{param("vcpu.0.time", uint64(5))}})
	require.NoError(t, err)
	assert.False(t, tcg.HasKVM, "TCG: none relayed")
}
