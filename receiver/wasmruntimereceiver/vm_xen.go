package wasmruntimereceiver

import (
	"context"
	"strconv"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/otelcol-virt/otelcol-virt/internal/catalog"
	"github.com/otelcol-virt/otelcol-virt/internal/vmstats/xen"
	m "github.com/otelcol-virt/otelcol-virt/receiver/wasmruntimereceiver/internal/metadata"
)

// scrapeXen reports one instance per Xen domain but dom0: a domain is not a process in dom0's
// /proc, so the inventory never finds it; dom0 itself is the host the other instances run on.
// It returns the instance keys it emitted, in order.
func (s *scraperImpl) scrapeXen(ctx context.Context, ts pcommon.Timestamp, keys []string) []string {
	cfg := s.cfg.VM.Xen
	doms, err := xen.List(ctx, cfg.XLPath, cfg.Timeout)
	if err != nil {
		s.errs.Fail(err)
		return keys
	}
	mb, rb := s.mb, s.rb
	for _, d := range doms {
		if d.ID == 0 {
			continue
		}
		// A domain's uuid is stable across migration and restart, its id is not.
		key := "xen:" + d.UUID
		if d.UUID == "" {
			key = "xen:" + d.Name
		}
		mb.Reset(m.WithStartTime(s.started))
		mb.RecordWasmRuntimeVMCPUTimeDataPoint(ts, d.CPUTimeS)
		mb.RecordWasmRuntimeVMMemoryUsageDataPoint(ts, int64(d.MemMiB)<<20)
		rb.SetWasmRuntimeInstanceID(key)
		rb.SetWasmRuntimeInstanceKind(catalog.KindVM)
		rb.SetWasmRuntimeRuntime("xen")
		rb.SetWasmRuntimeVMM("xen")
		rb.SetWasmRuntimeVMName(d.Name)
		if d.UUID != "" {
			rb.SetWasmRuntimeVMID(d.UUID)
		} else {
			rb.SetWasmRuntimeVMID(strconv.Itoa(d.ID))
		}
		rb.SetWasmRuntimeVMVcpus(int64(d.VCPUs))
		rb.SetWasmRuntimeVMMemorySize(int64(d.MemMiB) << 20)
		recordVMState(mb, ts, xenStateSet, xenState(d.State))
		vmSize{vcpus: int64(d.VCPUs), memory: int64(d.MemMiB) << 20}.record(mb, ts)
		mb.EmitForResource(m.WithResource(rb.Emit()))
		keys = append(keys, key)
	}
	return keys
}

// xenState names a domain's state flags (xl's "r b p s <reason> d", the reason letter 'c' is
// a crash) with virDomainState's words, so Xen and libvirt domains read alike; a domain neither
// running nor blocked is runnable, waiting for a physical CPU: "nostate".
func xenState(st xen.State) string {
	switch {
	case st.Dying:
		return "dying"
	case st.Shutdown:
		if st.Reason == 'c' {
			return "crashed"
		}
		return "shutdown"
	case st.Paused:
		return "paused"
	case st.Running:
		return "running"
	case st.Blocked:
		return "blocked"
	}
	return "nostate"
}
