package wasmruntimereceiver

import (
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/digitalocean/go-libvirt"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/otelcol-virt/otelcol-virt/internal/vmstats/libvirtstats"
	m "github.com/otelcol-virt/otelcol-virt/receiver/wasmruntimereceiver/internal/metadata"
)

func libvirtParam(field string, v any) libvirt.TypedParam {
	return libvirt.TypedParam{Field: field, Value: libvirt.TypedParamValue{I: v}}
}

// A libvirt domain's stats (the record virsh domstats prints, turned into a Domain by the
// libvirt source) land on the qemu instance of the same uuid, else of the same name: per-disk
// and per-interface counters with libvirt as their source, the balloon in bytes, and the state
// (1 for the domain's, 0 for the others). No real libvirtd runs here (see Not yet done).
func TestLibvirtDomainOnItsInstance(t *testing.T) {
	_, s := scrapeRoot(t, "hybrid-libvirt-qemu", nil)
	snap := s.inv.Current()
	in, ok := snap.ByVMID(vmUUID)
	require.True(t, ok, "the libvirt qemu instance")

	var uuid libvirt.UUID
	raw, err := hex.DecodeString(strings.ReplaceAll(vmUUID, "-", ""))
	require.NoError(t, err)
	copy(uuid[:], raw)
	d, err := libvirtstats.FromRecord(libvirt.DomainStatsRecord{Dom: libvirt.Domain{Name: "web-01", ID: 3, UUID: uuid}, Params: []libvirt.TypedParam{
		libvirtParam("state.state", int32(3)), libvirtParam("cpu.time", uint64(1500000000)),
		libvirtParam("balloon.current", uint64(2097152)), libvirtParam("balloon.rss", uint64(1998848)),
		libvirtParam("block.count", uint32(1)), libvirtParam("block.0.name", "vda"),
		libvirtParam("block.0.rd.reqs", uint64(72)), libvirtParam("block.0.rd.bytes", uint64(8925696)), libvirtParam("block.0.wr.reqs", uint64(64)), libvirtParam("block.0.wr.bytes", uint64(8388608)),
		libvirtParam("net.count", uint32(1)), libvirtParam("net.0.name", "vnet0"),
		libvirtParam("net.0.rx.bytes", uint64(1000)), libvirtParam("net.0.tx.bytes", uint64(5000)), libvirtParam("net.0.tx.pkts", uint64(7)), libvirtParam("net.0.rx.drop", uint64(2)),
	}})
	require.NoError(t, err)
	ts := pcommon.NewTimestampFromTime(time.Now())
	record := func(doms map[string]*libvirtstats.Domain) (map[string]float64, string) {
		s.snap = snap
		s.vm.sources.libvirt = doms
		s.mb.Reset()
		s.recordVMSources(in, vmmProcess(in), ts)
		md := s.mb.Emit(m.WithResource(s.resource(in, s.rb)))
		got := map[string]float64{}
		if md.ResourceMetrics().Len() == 0 {
			return got, "" // nothing recorded: the builder emits no resource
		}
		require.Equal(t, 1, md.ResourceMetrics().Len())
		rm := md.ResourceMetrics().At(0)
		for _, name := range []string{"wasm_runtime.vm.block.io", "wasm_runtime.vm.block.operations", "wasm_runtime.vm.network.io", "wasm_runtime.vm.network.packet.count", "wasm_runtime.vm.memory.balloon", "wasm_runtime.vm.cpu.time"} {
			for _, p := range points(rm, name) {
				if src, ok := p.attrs["wasm_runtime.vm.counter.source"]; ok {
					assert.Equal(t, "libvirt", src)
				}
				key := name + "/" + p.attrs["wasm_runtime.vm.device"] + p.attrs["network.interface.name"] + "/" + p.attrs["disk.io.direction"] + p.attrs["network.io.direction"] + p.attrs["wasm_runtime.vm.balloon.state"]
				got[key] = p.value
			}
		}
		state, states := "", 0
		for _, p := range points(rm, "wasm_runtime.vm.state") {
			states++
			if p.value == 1 {
				assert.Empty(t, state, "one current state")
				state = p.attrs["wasm_runtime.vm.state"]
			}
		}
		assert.Contains(t, []int{0, len(libvirtStates)}, states, "every virDomainState or none")
		return got, state
	}

	got, state := record(map[string]*libvirtstats.Domain{"uuid:" + vmUUID: &d})
	assert.Equal(t, "paused", state)
	assert.Equal(t, map[string]float64{
		"wasm_runtime.vm.block.io/vda/read": 8925696, "wasm_runtime.vm.block.io/vda/write": 8388608,
		"wasm_runtime.vm.block.operations/vda/read": 72, "wasm_runtime.vm.block.operations/vda/write": 64,
		"wasm_runtime.vm.network.io/vnet0/receive": 1000, "wasm_runtime.vm.network.io/vnet0/transmit": 5000,
		"wasm_runtime.vm.network.packet.count/vnet0/receive": 0, "wasm_runtime.vm.network.packet.count/vnet0/transmit": 7,
		"wasm_runtime.vm.memory.balloon//current": 2097152 * 1024, "wasm_runtime.vm.memory.balloon//rss": 1998848 * 1024,
		"wasm_runtime.vm.cpu.time//": 1.5,
	}, got)

	byName, _ := record(map[string]*libvirtstats.Domain{"uuid:00000000-0000-0000-0000-000000000001": {}, "name:web-01": &d})
	assert.Equal(t, got, byName, "matched by name when the uuid differs")
	none, state := record(map[string]*libvirtstats.Domain{"name:other": &d})
	assert.Empty(t, none, "another domain's figures stay off this instance")
	assert.Empty(t, state)
}
