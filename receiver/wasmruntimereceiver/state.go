package wasmruntimereceiver

import (
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/otelcol-virt/otelcol-virt/internal/cgroup"
	"github.com/otelcol-virt/otelcol-virt/internal/inventory"
)

// instState is what is kept per instance (its key) across scrapes.
type instState struct {
	gen    uint64
	limits effective

	// CPU usage is a rate: the previous reading and when it was taken.
	prevCPU float64
	prevAt  time.Time
	hasPrev bool

	// tree is the cumulative series of a process-grouped instance.
	tree treeSeries

	// subdirs are the sub-cgroups of a v1 memory cgroup, whose OOM kills the kernel counts
	// in each (v1 memory.oom_control is not hierarchical; v2 memory.events is).
	subdirs   []string
	subdirsAt time.Time

	// vm is the VMM's vCPU threads and taps of a VM instance.
	vm *vmInst

	// res is the instance's resource as last built from resIn and resExtra; each scrape
	// copies it into its ResourceMetrics.
	res      pcommon.Resource
	resIn    resourceInputs
	resExtra map[string]string
	resOK    bool
}

// treeSeries is a process tree's CPU and fault totals: live members plus the children they
// reaped. A member that exits and is reaped outside the tree (by init, after a double fork)
// takes its time with it; the series then restarts with a new start time rather than going
// backwards, which backends would read as a counter reset without one.
type treeSeries struct {
	start          pcommon.Timestamp
	user, system   float64
	minflt, majflt uint64
	ok             bool
}

// advance stores this scrape's totals and returns the start time of the series they belong to.
func (t *treeSeries) advance(user, system float64, minflt, majflt uint64, instStart, now pcommon.Timestamp) pcommon.Timestamp {
	switch {
	case !t.ok:
		t.start = instStart
	case user < t.user || system < t.system || minflt < t.minflt || majflt < t.majflt:
		t.start = now - 1 // a new series: what it counts started after the previous scrape
	}
	t.user, t.system, t.minflt, t.majflt, t.ok = user, system, minflt, majflt, true
	return t.start
}

// procCache is what is kept per process across scrapes.
type procCache struct {
	gen       uint64
	start     uint64
	fdDir     string
	status    string
	fdLimit   uint64
	fdLimitOK bool
	fdLimitAt time.Time
	netns     string
	netnsRead bool
}

func (s *scraperImpl) procOf(p *inventory.Process) *procCache {
	pc := s.procs[p.PID]
	if pc == nil || pc.start != p.Start {
		pc = &procCache{start: p.Start, fdDir: p.Dir + "fd", status: p.Dir + "status"}
		s.procs[p.PID] = pc
	}
	pc.gen = s.gen
	return pc
}

// processStart is when a process started: boot time plus its start time in clock ticks,
// computed without the int64 overflow of ticks*1e9 (which comes after ~2.9 years of uptime).
func processStart(boot time.Time, ticks uint64) time.Time {
	return boot.Add(time.Duration(ticks/clockTicks)*time.Second + time.Duration(ticks%clockTicks)*(time.Second/clockTicks))
}

// subCgroups lists the directories below dir (bounded), refreshed with the limits.
func (s *scraperImpl) subCgroups(st *instState, dir string, now time.Time) []string {
	if st.subdirsAt.IsZero() || now.Sub(st.subdirsAt) >= limitsRefresh {
		st.subdirs, st.subdirsAt = cgroup.Subtree(st.subdirs[:0], dir, 256, 8), now
	}
	return st.subdirs
}
