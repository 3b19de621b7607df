package threat

import (
	"context"
	"fmt"
	"math"
	"sort"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

// LinearMemoryRule fires the memory_exhaustion event for one linear memory of a Wasm runtime
// process, named by its index, when its committed size reaches Threshold of its limit: the
// engine's reservation (what the memory can grow to in place; 4 GiB for a 32-bit memory) or
// LimitMiB when that is smaller. It clears when the memory falls below ClearThreshold (the
// hysteresis: a memory hovering at the bound does not flap), or is gone.
type LinearMemoryRule struct {
	Enabled        bool    `mapstructure:"enabled"`
	Threshold      float64 `mapstructure:"threshold"`
	ClearThreshold float64 `mapstructure:"clear_threshold"`
	// LimitMiB is a per-memory limit in MiB (e.g. the runtime's own per-instance limit: wasmtime
	// StoreLimits memory_size, Spin's and wasmCloud's max memory settings); 0 uses the engine's
	// reservation alone.
	LimitMiB uint64 `mapstructure:"limit_mib"`
}

// LinearMemoryRead is one read of a runtime process's mappings (wasm_runtime.linear_memory.*
// metrics of one wasm_runtime.linear_memory.pid).
type LinearMemoryRead struct {
	PID int64
	// Truncated is set when mappings past the receiver's bound were not examined: memories may
	// be missing, so nothing fires, clears or is forgotten on such a read.
	Truncated bool
	Memories  []LinearMemory
}

// LinearMemory is one linear memory as read; sizes are bytes, -1 when not reported.
type LinearMemory struct {
	Index     int64
	Committed int64
	Resident  int64
	Capacity  int64
}

// Reasons specific to linear memories.
const (
	// ClearMemoryGone: the memory (or its process) is no longer in the instance's mappings.
	ClearMemoryGone = "memory_gone"
)

// Attributes of linear memory events (the metric attributes of the receiver, and the sizes
// at the event).
const (
	AttrLinearMemoryIndex     = "wasm_runtime.linear_memory.index"
	AttrLinearMemoryPID       = "wasm_runtime.linear_memory.pid"
	AttrLinearMemoryCommitted = "wasm_runtime.linear_memory.committed"
	AttrLinearMemoryResident  = "wasm_runtime.linear_memory.resident"
	AttrLinearMemoryGrowth    = "wasm_runtime.linear_memory.growth"
	AttrLinearMemoryLimit     = "wasm_runtime.linear_memory.limit"
	AttrLinearMemoryLimitFrom = "wasm_runtime.linear_memory.limit.source"
)

// Values of AttrLinearMemoryLimitFrom.
const (
	LimitFromRuntime    = "runtime"
	LimitFromConfigured = "configured"
)

type memKey struct{ pid, index int64 }

// memState is one linear memory of an instance between reads.
type memState struct {
	committed int64
	firing    bool
	since     time.Time
	value     float64
	last      LinearMemory
	limit     int64
	from      string
}

func (r *LinearMemoryRule) validate() []error {
	if !r.Enabled {
		return nil
	}
	var errs []error
	if math.IsNaN(r.Threshold) || r.Threshold <= 0 || r.Threshold > 1 {
		errs = append(errs, fmt.Errorf("threats.linear_memory.threshold: %v is out of range (0, 1] (e.g. threshold: 0.9)", r.Threshold))
	}
	if math.IsNaN(r.ClearThreshold) || r.ClearThreshold < 0 || r.ClearThreshold >= r.Threshold {
		errs = append(errs, fmt.Errorf("threats.linear_memory.clear_threshold: %v must be at least 0 and below threshold %v (e.g. clear_threshold: 0.8)", r.ClearThreshold, r.Threshold))
	}
	if r.LimitMiB > 1<<24 {
		errs = append(errs, fmt.Errorf("threats.linear_memory.limit_mib: %d is beyond 16 TiB, larger than any linear memory; use 0 for the engine's reservation", r.LimitMiB))
	}
	return errs
}

// limitOf returns the bytes a memory is measured against and where that bound comes from.
func (r *LinearMemoryRule) limitOf(m LinearMemory) (int64, string) {
	configured := int64(r.LimitMiB << 20)
	switch {
	case configured > 0 && (m.Capacity <= 0 || configured < m.Capacity):
		return configured, LimitFromConfigured
	case m.Capacity > 0:
		return m.Capacity, LimitFromRuntime
	}
	return 0, ""
}

// evalLinearMemories runs the linear memory rule over one sample of an instance.
func (e *Engine) evalLinearMemories(ctx context.Context, out *output, s Sample, st *instanceState, now time.Time) {
	r := &e.cfg.LinearMemory
	if !r.Enabled || len(s.LinearMemoryReads) == 0 {
		// Mappings are read every few scrapes: between reads every memory keeps its state.
		return
	}
	if st.memories == nil {
		st.memories = map[memKey]*memState{}
	}
	read := map[int64]bool{}
	truncated := map[int64]bool{}
	for _, rd := range s.LinearMemoryReads {
		read[rd.PID] = true
		if rd.Truncated {
			truncated[rd.PID] = true
			continue
		}
		seen := map[int64]bool{}
		for _, m := range rd.Memories {
			if m.Committed < 0 || seen[m.Index] {
				continue
			}
			seen[m.Index] = true
			k := memKey{rd.PID, m.Index}
			ms := st.memories[k]
			if ms == nil {
				ms = &memState{committed: m.Committed}
				st.memories[k] = ms
			}
			growth := m.Committed - ms.committed
			ms.committed = m.Committed
			limit, from := r.limitOf(m)
			if limit <= 0 {
				continue
			}
			v := float64(m.Committed) / float64(limit)
			switch {
			case !ms.firing && v >= r.Threshold:
				ms.firing, ms.since, ms.value = true, now, v
				ms.last, ms.limit, ms.from = m, limit, from
				e.emitMemory(ctx, out, s.Key, s.Resource, k, ms, StateFiring, "", growth, now)
			case ms.firing && v < r.ClearThreshold:
				ms.value, ms.last, ms.limit, ms.from = v, m, limit, from
				e.emitMemory(ctx, out, s.Key, s.Resource, k, ms, StateCleared, ClearRecovered, growth, now)
				ms.firing = false
			case ms.firing:
				ms.value, ms.last, ms.limit, ms.from = v, m, limit, from
			}
		}
		// Memories of this process not in a complete read are gone.
		for _, k := range sortedKeys(st.memories) {
			if k.pid == rd.PID && !seen[k.index] {
				e.forgetMemory(ctx, out, s.Key, s.Resource, k, st, ClearMemoryGone, now)
			}
		}
	}
	// A read of the instance that did not cover a process means the process is gone (the
	// receiver reads all runtime processes at the same collections); a truncated read of it
	// keeps everything.
	for _, k := range sortedKeys(st.memories) {
		if !read[k.pid] && !truncated[k.pid] {
			e.forgetMemory(ctx, out, s.Key, s.Resource, k, st, ClearMemoryGone, now)
		}
	}
}

func (e *Engine) forgetMemory(ctx context.Context, out *output, key string, resource map[string]any, k memKey, st *instanceState, reason string, now time.Time) {
	ms := st.memories[k]
	if ms.firing {
		e.emitMemory(ctx, out, key, resource, k, ms, StateCleared, reason, 0, now)
	}
	delete(st.memories, k)
}

func sortedKeys[V any](m map[memKey]V) []memKey {
	keys := make([]memKey, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].pid != keys[j].pid {
			return keys[i].pid < keys[j].pid
		}
		return keys[i].index < keys[j].index
	})
	return keys
}

func (e *Engine) emitMemory(ctx context.Context, out *output, key string, resource map[string]any, k memKey, ms *memState, state, reason string, growth int64, now time.Time) {
	lr := out.record(key, resource)
	bound := e.cfg.LinearMemory.Threshold
	m := ms.last
	attrs := lr.Attributes()
	attrs.PutInt(AttrLinearMemoryPID, k.pid)
	attrs.PutInt(AttrLinearMemoryIndex, k.index)
	attrs.PutInt(AttrLinearMemoryCommitted, m.Committed)
	if m.Resident >= 0 {
		attrs.PutInt(AttrLinearMemoryResident, m.Resident)
	}
	attrs.PutInt(AttrLinearMemoryGrowth, growth)
	attrs.PutInt(AttrLinearMemoryLimit, ms.limit)
	attrs.PutStr(AttrLinearMemoryLimitFrom, ms.from)
	basis := "its runtime's reservation"
	if ms.from == LimitFromConfigured {
		basis = "the configured limit"
	}
	text := fmt.Sprintf("linear memory %d of process %d at %.0f%% of %s (%s), committed %s, resident %s, %+d bytes since the last read; bound %.0f%%",
		k.index, k.pid, ms.value*100, basis, mib(ms.limit), mib(m.Committed), mib(m.Resident), growth, e.cfg.LinearMemory.Threshold*100)
	rs := &ruleState{streak: 1, since: ms.since}
	e.fill(ctx, out, lr, key, memoryRule, state, reason, ms.value, bound, text, rs, now)
	out.events[len(out.events)-1].Memory = &MemoryRef{PID: k.pid, Index: k.index}
}

// memoryRule is the memory_exhaustion rule as the linear memory events report it.
var memoryRule = rule{id: RuleMemoryExhaustion, vector: VectorMemory, severity: plog.SeverityNumberError, unit: "1"}

func mib(b int64) string {
	if b < 0 {
		return "unknown"
	}
	return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20))
}

// clearMemoriesGone clears the firing linear memory events of a vanished instance.
func (e *Engine) clearMemoriesGone(ctx context.Context, out *output, key string, st *instanceState, now time.Time) {
	for _, k := range sortedKeys(st.memories) {
		e.forgetMemory(ctx, out, key, st.resource, k, st, ClearInstanceGone, now)
	}
}

// firingMemories tells whether any linear memory of the instance fires.
func (st *instanceState) firingMemories() bool {
	for _, ms := range st.memories {
		if ms.firing {
			return true
		}
	}
	return false
}

// linearMemoryPoints gathers one resource's linear memory points into reads: a process was
// read at this scrape when it has a wasm_runtime.linear_memory.count point.
type linearMemoryPoints struct {
	counted   map[int64]bool
	truncated map[int64]bool
	mems      map[memKey]*LinearMemory
}

func (p *linearMemoryPoints) add(m pmetric.Metric) {
	var dps pmetric.NumberDataPointSlice
	switch m.Type() {
	case pmetric.MetricTypeSum:
		dps = m.Sum().DataPoints()
	case pmetric.MetricTypeGauge:
		dps = m.Gauge().DataPoints()
	default:
		return
	}
	if p.counted == nil {
		p.counted, p.truncated, p.mems = map[int64]bool{}, map[int64]bool{}, map[memKey]*LinearMemory{}
	}
	for i := 0; i < dps.Len(); i++ {
		dp := dps.At(i)
		pid, ok := intAttr(dp, AttrLinearMemoryPID)
		if !ok {
			continue
		}
		v := numberInt(dp)
		switch m.Name() {
		case metricLMCount:
			p.counted[pid] = true
			continue
		case metricLMTruncated:
			p.truncated[pid] = p.truncated[pid] || v > 0
			continue
		}
		idx, ok := intAttr(dp, AttrLinearMemoryIndex)
		if !ok {
			continue
		}
		k := memKey{pid, idx}
		lm := p.mems[k]
		if lm == nil {
			lm = &LinearMemory{Index: idx, Committed: -1, Resident: -1, Capacity: -1}
			p.mems[k] = lm
		}
		switch m.Name() {
		case metricLMCommitted:
			lm.Committed = v
		case metricLMResident:
			lm.Resident = v
		case metricLMCapacity:
			lm.Capacity = v
		}
	}
}

// reads returns the reads in pid order, each memory in index order; nil when none.
func (p *linearMemoryPoints) reads() []LinearMemoryRead {
	if len(p.counted) == 0 {
		return nil
	}
	out := make([]LinearMemoryRead, 0, len(p.counted))
	for pid := range p.counted {
		out = append(out, LinearMemoryRead{PID: pid, Truncated: p.truncated[pid]})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].PID < out[j].PID })
	for _, k := range sortedKeys(p.mems) {
		i := sort.Search(len(out), func(i int) bool { return out[i].PID >= k.pid })
		if i < len(out) && out[i].PID == k.pid {
			out[i].Memories = append(out[i].Memories, *p.mems[k])
		}
	}
	return out
}

func intAttr(dp pmetric.NumberDataPoint, key string) (int64, bool) {
	v, ok := dp.Attributes().Get(key)
	if !ok || v.Type() != pcommon.ValueTypeInt {
		return 0, false
	}
	return v.Int(), true
}
