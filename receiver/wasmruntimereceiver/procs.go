package wasmruntimereceiver

import (
	"time"

	"github.com/otelcol-virt/otelcol-virt/internal/inventory"
	"github.com/otelcol-virt/otelcol-virt/internal/proc"
)

// procSums are an instance's per-process figures summed over its processes.
type procSums struct {
	utime, stime, cutime, cstime uint64 // clock ticks
	minflt, majflt               uint64
	cminflt, cmajflt             uint64
	rssPages                     uint64
	vsize                        uint64
	threads                      int64
	fds                          int64
	fdOK                         bool
	fdUtil                       float64
	vol, invol                   uint64
	ctxOK                        bool
}

// processSums reads what the instance's processes need beyond their stat line (taken by the
// inventory's walk): descriptors, their limit and context switches, each when a metric asks.
func (s *scraperImpl) processSums(in *inventory.Instance, now time.Time) procSums {
	var sum procSums
	mb := s.mb
	wantFDs := mb.Enabled("wasm_runtime.file_descriptor.count") || mb.Enabled("wasm_runtime.file_descriptor.limit.utilization")
	wantFDLimit := mb.Enabled("wasm_runtime.file_descriptor.limit") || mb.Enabled("wasm_runtime.file_descriptor.limit.utilization")
	wantCtx := mb.Enabled("wasm_runtime.context_switches")
	for i := range in.Procs {
		p := &in.Procs[i]
		st := &p.Stat
		sum.utime += st.UTime
		sum.stime += st.STime
		sum.cutime += st.CUTime
		sum.cstime += st.CSTime
		sum.minflt += st.MinFlt
		sum.majflt += st.MajFlt
		sum.cminflt += st.CMinFlt
		sum.cmajflt += st.CMajFlt
		if st.RSS > 0 {
			sum.rssPages += uint64(st.RSS)
		}
		sum.vsize += st.VSize
		sum.threads += st.NumThreads
		if !wantFDs && !wantFDLimit && !wantCtx {
			continue
		}
		pc := s.procOf(p)
		var n int64
		if wantFDs {
			c, err := s.r.CountFDs(pc.fdDir)
			if err != nil {
				s.errs.Fail(err)
			} else {
				n, sum.fdOK = c, true
				sum.fds += c
			}
		}
		if wantFDLimit {
			if lim, ok := s.fdLimitOf(p, pc, now); ok && lim != proc.Unlimited && lim > 0 && n > 0 {
				sum.fdUtil = max(sum.fdUtil, float64(n)/float64(lim))
			}
		}
		if wantCtx {
			if d, err := s.r.ReadCached(pc.status); err == nil {
				if ps, err := proc.ParseStatus(d); err == nil {
					sum.vol += ps.VoluntaryCtxtSwitches
					sum.invol += ps.NonvoluntaryCtxtSwitches
					sum.ctxOK = true
				} else {
					s.errs.Fail(err)
				}
			} else {
				s.errs.Fail(err)
			}
		}
	}
	return sum
}

// fdLimitRefresh paces re-reading a process's limits (prlimit can change them).
const fdLimitRefresh = time.Minute

func (s *scraperImpl) fdLimitOf(p *inventory.Process, pc *procCache, now time.Time) (uint64, bool) {
	if !pc.fdLimitOK || now.Sub(pc.fdLimitAt) > fdLimitRefresh {
		d, err := s.r.Read(p.Dir + "limits")
		if err != nil {
			s.errs.Fail(err)
			return pc.fdLimit, pc.fdLimitOK
		}
		lim, err := proc.ParseOpenFilesLimit(d)
		if err != nil {
			s.errs.Fail(err)
			return pc.fdLimit, pc.fdLimitOK
		}
		pc.fdLimit, pc.fdLimitOK, pc.fdLimitAt = lim, true, now
	}
	return pc.fdLimit, pc.fdLimitOK
}
