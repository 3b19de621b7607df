package wasmruntimereceiver

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/otelcol-virt/otelcol-virt/internal/vmstats/guesttest"
)

// TestLibvirtDomainThroughTheReceiver runs a real libvirt domain (QEMU TCG, as
// guesttest.StartLibvirtDomain says why) that writes and reads its disk once and then burns
// vCPU 0 (guesttest.DiskThenBurn), and the wasm_runtime receiver, built by its factory
// from a `vm: {libvirt: {enabled: true}}` configuration, into a sink. On the domain's qemu
// instance of the batch just consumed, the per-vCPU time and run-queue wait (read from procfs
// by the receiver) and the domain's CPU time and disk figures (relayed from libvirt) equal
// `virsh domstats` read just before and just after that scrape, within 5 %.
func TestLibvirtDomainThroughTheReceiver(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: starts a libvirt domain")
	}
	dom := guesttest.StartDiskThenBurnDomain(t, fmt.Sprintf("wasmrt-libvirt-%d", os.Getpid()))
	pid := strconv.Itoa(dom.PID(t))

	cfg := testConfig()
	require.NoError(t, confmap.NewFromStringMap(map[string]any{
		"collection_interval": "250ms", // a short scrape-to-scrape gap keeps the virsh bracket below narrow
		"vm":                  map[string]any{"libvirt": map[string]any{"enabled": true, "timeout": "200ms"}},
	}).Unmarshal(cfg))
	require.NoError(t, cfg.Validate())
	sink := new(consumertest.MetricsSink)
	r, err := NewFactory().CreateMetrics(context.Background(), receivertest.NewNopSettings(Type), cfg, sink)
	require.NoError(t, err)
	require.NoError(t, r.Start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() { _ = r.Shutdown(context.Background()) })

	// The domain's instance in a batch that carries libvirt's figures.
	instance := func(md pmetric.Metrics) (pmetric.ResourceMetrics, bool) {
		rm, ok := findResource(md, "process.pid", pid)
		if !ok {
			return rm, false
		}
		_, ok = value(rm, "wasm_runtime.vm.block.io", "wasm_runtime.vm.device", "vda", "disk.io.direction", "write")
		return rm, ok
	}
	require.Eventually(t, func() bool {
		all := sink.AllMetrics()
		return len(all) > 0 && func() bool { _, ok := instance(all[len(all)-1]); return ok }()
	}, 30*time.Second, 50*time.Millisecond, "the qemu instance with libvirt's figures")
	time.Sleep(5 * time.Second) // vCPU 0 burns on: figures large against the gap below

	// virsh brackets one scrape: read before it starts and right after its batch is consumed.
	// Scrapes run one after another, so the second batch consumed after `before` returned was
	// read entirely after it (the first may have been under way).
	before := dom.Domstats(t)
	seen := len(sink.AllMetrics())
	require.Eventually(t, func() bool { return len(sink.AllMetrics()) >= seen+2 }, 10*time.Second, 5*time.Millisecond)
	virsh := dom.Domstats(t)
	rm, ok := instance(sink.AllMetrics()[seen+1])
	require.True(t, ok, "the qemu instance in the bracketed batch")
	t.Log(dump(rm))

	assert.Equal(t, "qemu", resAttr(rm, "wasm_runtime.vmm"))
	assert.Equal(t, dom.Name, resAttr(rm, "wasm_runtime.vm.name"))
	assert.Equal(t, 1.0, mustValue(t, rm, "wasm_runtime.vm.state", "wasm_runtime.vm.state", "running"), "libvirt's state on the instance")
	assert.Equal(t, 0.0, mustValue(t, rm, "wasm_runtime.vm.state", "wasm_runtime.vm.state", "paused"))

	type check struct {
		key    string  // virsh domstats field
		ours   float64 // what the receiver emitted, in virsh's unit
		ticked bool    // libvirt reads it from stat, in USER_HZ ticks
	}
	const ns = 1e9
	checks := []check{{key: "cpu.time", ours: mustValue(t, rm, "wasm_runtime.vm.cpu.time") * ns}}
	for v := 0; v < 2; v++ {
		id := strconv.Itoa(v)
		// libvirt's vcpu.<n>.time is the vCPU thread's stat utime+stime (src/qemu/qemu_driver.c
		// qemuDomainHelperGetVcpus -> src/util/virprocess.c virProcessGetStatInfo, libvirt
		// 9.0.0), ticks of the run time the receiver reads from schedstat in nanoseconds.
		checks = append(checks, check{key: "vcpu." + id + ".time", ours: mustValue(t, rm, "wasm_runtime.vm.vcpu.time", "wasm_runtime.vm.vcpu.id", id) * ns, ticked: true})
		if _, ok := virsh["vcpu."+id+".delay"]; ok { // schedstat's wait, libvirt >= 7.9
			checks = append(checks, check{key: "vcpu." + id + ".delay", ours: mustValue(t, rm, "wasm_runtime.vm.vcpu.wait.time", "wasm_runtime.vm.vcpu.id", id) * ns})
		}
	}
	blk := func(metric, dir string) float64 {
		return mustValue(t, rm, metric, "wasm_runtime.vm.device", "vda", "disk.io.direction", dir, "wasm_runtime.vm.counter.source", "libvirt")
	}
	checks = append(checks,
		check{key: "block.0.rd.bytes", ours: blk("wasm_runtime.vm.block.io", "read")},
		check{key: "block.0.wr.bytes", ours: blk("wasm_runtime.vm.block.io", "write")},
		check{key: "block.0.rd.reqs", ours: blk("wasm_runtime.vm.block.operations", "read")},
		check{key: "block.0.wr.reqs", ours: blk("wasm_runtime.vm.block.operations", "write")},
	)
	for _, c := range checks {
		v, ok := virsh[c.key]
		if !assert.True(t, ok, "virsh domstats has %s", c.key) {
			continue
		}
		b := before[c.key]
		t.Logf("%-16s virsh before %d, receiver %.0f, virsh after %d", c.key, b, c.ours, v)
		tick := 0.0
		if c.ticked {
			// utime and stime are each cut to whole USER_HZ ticks (fs/proc/array.c,
			// nsec_to_clock_t of each): the sum can lag the run time by two.
			tick = 2 * ns / 100
		}
		// Equal to virsh at some moment of the scrape, within 5 %: a counter that grows fast
		// against its size (a vCPU's run-queue wait on a busy host) moves by more than 5 %
		// between two virsh runs, so the figure is held between the two reads, not to one.
		assert.GreaterOrEqual(t, c.ours, 0.95*float64(b)-tick, "%s: not below virsh before the scrape", c.key)
		assert.LessOrEqual(t, c.ours, float64(v)+tick, "%s: not above virsh after the scrape", c.key)
	}
	assert.GreaterOrEqual(t, virsh["block.0.wr.bytes"], uint64(4<<20), "the guest wrote its 4 MiB")
	assert.GreaterOrEqual(t, virsh["block.0.rd.bytes"], uint64(4<<20), "and read them back")
	assert.Greater(t, virsh["vcpu.0.time"], 2*virsh["vcpu.1.time"], "vCPU 0 burns")
}

// A libvirt KVM domain's KVM statistics, relayed by libvirt from QEMU (libvirt holds the
// domain's monitor), land on its qemu instance without debugfs, and grow.
func TestLibvirtKVMDomainThroughTheReceiver(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: starts a libvirt domain")
	}
	requireKVM(t)
	dom := guesttest.StartLibvirtKVMDomain(t, fmt.Sprintf("wasmrt-kvm-%d", os.Getpid()))
	pid := strconv.Itoa(dom.PID(t))
	cfg := testConfig()
	cfg.VM.Libvirt.Enabled = true
	s := newTestScraper(t, cfg)
	exits := func() (float64, bool) {
		md, _ := scrapeFresh(s) // other processes' read errors on a shared host do not matter here
		rm, ok := findResource(md, "process.pid", pid)
		if !ok {
			return 0, false
		}
		return value(rm, "wasm_runtime.vm.kvm.exits")
	}
	var first float64
	require.Eventually(t, func() bool { v, ok := exits(); first = v; return ok && v > 0 }, 30*time.Second, 250*time.Millisecond, "KVM exits from libvirt")
	require.Eventually(t, func() bool { v, ok := exits(); return ok && v > first }, 30*time.Second, 250*time.Millisecond, "KVM exits grow")
}
