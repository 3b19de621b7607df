package wasmruntimereceiver

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/otelcol-virt/otelcol-virt/internal/vmstats"
	"github.com/otelcol-virt/otelcol-virt/internal/vmstats/firecracker"
	"github.com/otelcol-virt/otelcol-virt/internal/vmstats/qmp"
	"github.com/otelcol-virt/otelcol-virt/internal/vmstats/unixapi"
	"github.com/otelcol-virt/otelcol-virt/internal/vmstats/vmmargs"
	m "github.com/otelcol-virt/otelcol-virt/receiver/wasmruntimereceiver/internal/metadata"
)

// vmmAPI is a VMM's API socket asked once per scrape.
type vmmAPI interface {
	ask(ctx context.Context) error
	// foundOnCommandLine reports a socket found on the VMM's command line, whose absence is a
	// path the VMM has not created yet (counted as missing) rather than a failure.
	foundOnCommandLine() bool
}

// maxVMMRequests bounds the API sockets asked at once: each request waits up to its timeout
// on a VMM that may be stuck, so they are not asked one after another.
const maxVMMRequests = 16

// askVMMs asks every API, several at a time, and counts the failures once all have answered.
func (s *scraperImpl) askVMMs(ctx context.Context, apis []vmmAPI) {
	errs := make([]error, len(apis))
	var wg sync.WaitGroup
	sem := make(chan struct{}, maxVMMRequests)
	for i, a := range apis {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			errs[i] = a.ask(ctx)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		switch {
		case err == nil:
		case apis[i].foundOnCommandLine():
			s.failFound(err)
		default:
			s.errs.Fail(err)
		}
	}
}

func (c *chSource) ask(ctx context.Context) error { return readCloudHypervisor(ctx, c) }
func (c *chSource) foundOnCommandLine() bool      { return c.root != nil }

// fcAPI is one Firecracker's API socket: its state at every scrape, and its machine
// configuration until the VM has started (Firecracker refuses to change it afterwards, so
// the last answer stands for the VMM's life).
type fcAPI struct {
	socket  string
	timeout time.Duration
	root    *vmmargs.Root // set when the socket was found on the VMM's command line

	info    *firecracker.InstanceInfo // nil when the last request failed
	machine *firecracker.MachineConfig
	fixed   bool // machine was read from a started VM
}

func (a *fcAPI) foundOnCommandLine() bool { return a.root != nil }

func (a *fcAPI) ask(ctx context.Context) error {
	ctx, cancel := unixapi.WithTimeout(ctx, a.timeout) // both requests within one timeout
	defer cancel()
	cl := firecracker.APIClient{Socket: a.socket, Timeout: a.timeout}
	if root := a.root; root != nil {
		cl.Dial = func(ctx context.Context) (net.Conn, error) { return root.DialUnix(ctx, a.socket) }
	}
	info, err := cl.InstanceInfo(ctx)
	if err != nil {
		a.info = nil
		if !a.fixed {
			a.machine = nil
		}
		return fmt.Errorf("vm.firecracker: %w", err)
	}
	a.info = &info
	if !a.fixed {
		mc, err := cl.MachineConfig(ctx)
		if err != nil {
			a.machine = nil
			return fmt.Errorf("vm.firecracker: %w", err)
		}
		// Asked after the state: a VM seen started was started when its size was read.
		a.machine, a.fixed = &mc, info.Started()
	}
	return nil
}

// qmpSource is one qemu's QMP monitor, asked for KVM's per-vCPU statistics and its disks'
// counters.
type qmpSource struct {
	cfg  QEMUQMPSource
	root *vmmargs.Root // set when the socket was found on the VMM's command line

	stats  *vmstats.KVMStats // the vCPUs' sum; nil when the last exchange failed or the VM is not on KVM
	blocks []qmp.Block       // nil when the last exchange failed
	status string            // RunState; "" when the last exchange failed
	size   vmSize
	// balloon is query-balloon's actual; 0 without a balloon device or an answer.
	balloon uint64
}

func (q *qmpSource) foundOnCommandLine() bool { return q.root != nil }

func (q *qmpSource) ask(ctx context.Context) error {
	cl := qmp.Client{Socket: q.cfg.Socket, Timeout: q.cfg.Timeout, MaxLineBytes: q.cfg.MaxLineBytes}
	if root := q.root; root != nil {
		cl.Dial = func(ctx context.Context) (net.Conn, error) { return root.DialUnix(ctx, q.cfg.Socket) }
	}
	st, err := cl.Query(ctx)
	q.stats, q.blocks, q.status, q.size, q.balloon = nil, nil, "", vmSize{}, 0
	if err != nil {
		return fmt.Errorf("vm.qemu_qmp: %w", err)
	}
	q.blocks, q.status = st.Blocks, st.Status
	q.size = vmSize{vcpus: int64(st.CPUs), memory: int64(st.MemoryBytes)}
	if st.HasBalloon {
		q.balloon = st.BalloonBytes
	}
	if st.NotKVM {
		return nil // TCG keeps no KVM statistics: nothing to report
	}
	var sum vmstats.KVMStats
	for i := range st.VCPUs {
		sum.Add(&st.VCPUs[i].Stats)
	}
	q.stats = &sum
	return nil
}

// record records the VM's state and disks as QEMU reports them, and returns its size now
// (vCPUs hot-plugged and memory plugged included), or size when the exchange failed.
func (q *qmpSource) record(mb *m.MetricsBuilder, ts pcommon.Timestamp, size vmSize) vmSize {
	for _, b := range q.blocks {
		recordBlock(mb, ts, b.Device, m.AttributeVMCounterSourceQemu, b.RdBytes, b.WrBytes, b.RdOps, b.WrOps)
	}
	if q.status != "" {
		recordVMState(mb, ts, libvirtStateSet, qemuState(q.status))
	}
	if q.balloon > 0 {
		mb.RecordWasmRuntimeVMMemoryBalloonDataPoint(ts, int64(q.balloon), m.AttributeVMBalloonStateCurrent)
	}
	if q.size.vcpus > 0 {
		return q.size
	}
	return size
}

// qemuState names a QEMU RunState in virDomainState's words, as libvirt reports a qemu domain
// (its qemu driver maps every RunState of a stopped VM, prelaunch, migration, I/O error,
// watchdog and the rest, to paused with a reason; qemuMonitorVMStatusToPausedReason).
func qemuState(runState string) string {
	switch runState {
	case "running", "shutdown":
		return runState
	case "guest-panicked":
		return "crashed"
	case "suspended":
		return "pmsuspended"
	}
	return "paused"
}

// fcState names Firecracker's VmState as the attribute does ("Not started": not_started).
func fcState(s string) string { return strings.ReplaceAll(strings.ToLower(s), " ", "_") }

// record records the VM's state and returns its size, or size unchanged when the machine
// configuration was never read.
func (a *fcAPI) record(mb *m.MetricsBuilder, ts pcommon.Timestamp, size vmSize) vmSize {
	if a.info != nil {
		recordVMState(mb, ts, fcStateSet, fcState(a.info.State))
	}
	if mc := a.machine; mc != nil && mc.VCPUs > 0 {
		return vmSize{vcpus: int64(mc.VCPUs), memory: int64(mc.MemSizeMiB) << 20}
	}
	return size
}
