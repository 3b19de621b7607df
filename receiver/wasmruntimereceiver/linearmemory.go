package wasmruntimereceiver

import (
	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/otelcol-virt/otelcol-virt/internal/catalog"
	"github.com/otelcol-virt/otelcol-virt/internal/inventory"
	"github.com/otelcol-virt/otelcol-virt/internal/wasmmem"
)

// linearMemoryMetrics are the metrics recorded from a runtime process's mappings; the mappings
// are read only when one of them is enabled (by the user or by a threat rule).
var linearMemoryMetrics = [...]string{
	"wasm_runtime.linear_memory.count",
	"wasm_runtime.linear_memory.committed",
	"wasm_runtime.linear_memory.resident",
	"wasm_runtime.linear_memory.reserved",
	"wasm_runtime.linear_memory.capacity",
	"wasm_runtime.linear_memory.largest.resident",
	"wasm_runtime.linear_memory.largest.growth",
	"wasm_runtime.linear_memory.truncated",
}

// linearMemories keeps one tracker per Wasm runtime process, so that each memory keeps its
// index and its growth is measured between reads. All processes are read at the same
// collections (one cadence for the receiver): on a collection that reads, a process of an
// instance without points is one that is gone or could not be read, which the threat rules
// need to tell from "not read this time".
type linearMemories struct {
	checked, wanted, perMemory bool
	cadence                    wasmmem.Cadence
	gen                        uint64 // scrape of the current batch of calls
	due                        bool
	procs                      map[lmKey]*lmProc
}

type lmKey struct {
	pid   int
	start uint64 // clock ticks after boot: a reused pid is another process
}

type lmProc struct {
	tracker *wasmmem.Tracker
	path    string
	gen     uint64
}

// begin starts a scrape's batch of calls: it drops the trackers of processes the previous
// batch did not see and decides whether this collection reads.
func (lm *linearMemories) begin(s *scraperImpl) {
	if !lm.checked {
		lm.checked = true
		for _, name := range linearMemoryMetrics {
			lm.wanted = lm.wanted || s.mb.Enabled(name)
		}
		for _, name := range linearMemoryMetrics[1:5] {
			lm.perMemory = lm.perMemory || s.mb.Enabled(name)
		}
		lm.cadence = wasmmem.Cadence{Every: s.cfg.LinearMemory.Every}
		lm.procs = map[lmKey]*lmProc{}
	}
	for k, p := range lm.procs {
		if p.gen != lm.gen {
			delete(lm.procs, k)
		}
	}
	lm.gen = s.gen
	lm.due = lm.cadence.Due()
}

// recordLinearMemory reads the mappings of the instance's Wasm runtime processes, on the
// collections the cadence says, and records their linear memories. Processes that are not
// Wasm runtimes, and runtimes whose engine keeps memories where they cannot be told apart
// (wazero's Go heap), are never read.
func (s *scraperImpl) recordLinearMemory(in *inventory.Instance, ts pcommon.Timestamp) {
	cfg := &s.cfg.LinearMemory
	lm := &s.lm
	if !cfg.Enabled {
		return
	}
	if lm.gen != s.gen || !lm.checked {
		lm.begin(s)
	}
	if !lm.wanted {
		return
	}
	for i := range in.Procs {
		p := &in.Procs[i]
		e := p.Matched
		if e == nil || e.Kind != catalog.KindWasm || e.Role != catalog.RoleWorkload {
			continue
		}
		key := lmKey{p.PID, p.Start}
		lp := lm.procs[key]
		if lp == nil {
			layout, ok := cfg.layoutFor(e.Name, in.Identity.Runtime)
			if !ok {
				continue
			}
			tr := wasmmem.NewTracker(layout)
			tr.Scanner.MaxVMAs = cfg.MaxMappings
			lp = &lmProc{tracker: tr, path: p.Dir + "smaps"}
			lm.procs[key] = lp
		}
		lp.gen = s.gen
		if lm.due {
			s.readLinearMemories(int64(p.PID), lp, ts)
		}
	}
}

// readLinearMemories reads one process's smaps through the file layer (counted, its failures
// classified like any read) and records what the tracker found.
func (s *scraperImpl) readLinearMemories(pid int64, lp *lmProc, ts pcommon.Timestamp) {
	data, err := s.r.Read(lp.path)
	if err != nil {
		s.errs.Fail(err)
		return
	}
	rep, err := lp.tracker.Update(data)
	if err != nil {
		s.errs.Fail(err)
		return
	}
	mb := s.mb
	mb.RecordWasmRuntimeLinearMemoryCountDataPoint(ts, int64(len(rep.Memories)), pid)
	mb.RecordWasmRuntimeLinearMemoryTruncatedDataPoint(ts, int64(rep.Truncated), pid)
	if s.lm.perMemory {
		for i := range rep.Memories {
			m := &rep.Memories[i]
			idx := int64(m.Index)
			mb.RecordWasmRuntimeLinearMemoryCommittedDataPoint(ts, int64(m.Committed), pid, idx)
			mb.RecordWasmRuntimeLinearMemoryResidentDataPoint(ts, int64(m.Resident), pid, idx)
			mb.RecordWasmRuntimeLinearMemoryReservedDataPoint(ts, int64(m.Reserved), pid, idx)
			mb.RecordWasmRuntimeLinearMemoryCapacityDataPoint(ts, int64(m.Capacity), pid, idx)
		}
	}
	if big, ok := rep.LargestMemory(); ok {
		idx := int64(big.Index)
		mb.RecordWasmRuntimeLinearMemoryLargestResidentDataPoint(ts, int64(big.Resident), pid, idx)
		mb.RecordWasmRuntimeLinearMemoryLargestGrowthDataPoint(ts, big.Growth, pid, idx)
	}
}
