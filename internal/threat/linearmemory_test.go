package threat

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

const mib64 = int64(1) << 20

// lmOnly is a configuration with only the linear memory rule, limited to limitMiB per memory.
func lmOnly(limitMiB uint64) Config {
	cfg := only("", nil)
	cfg.LinearMemory = LinearMemoryRule{Enabled: true, Threshold: 0.9, ClearThreshold: 0.8, LimitMiB: limitMiB}
	return cfg
}

// lmSample is one instance's sample with one read of process 100 holding memories of the given
// committed MiB (index = position), each with a 4 GiB capacity.
func lmSample(truncated bool, committedMiB ...int64) Sample {
	s := NewSample("i1", map[string]any{"wasm_runtime.instance.id": "i1"})
	rd := LinearMemoryRead{PID: 100, Truncated: truncated}
	for i, c := range committedMiB {
		rd.Memories = append(rd.Memories, LinearMemory{Index: int64(i), Committed: c * mib64, Resident: c * mib64, Capacity: 4 << 30})
	}
	s.LinearMemoryReads = []LinearMemoryRead{rd}
	return s
}

// lmRun evaluates one sample per scrape and returns the events as "index:state[:reason]".
func lmRun(t *testing.T, cfg Config, samples []Sample) [][]string {
	t.Helper()
	e, err := NewEngine(cfg, nil)
	require.NoError(t, err)
	var out [][]string
	for i, s := range samples {
		var in []Sample
		if s.Key != "" {
			in = []Sample{s}
		}
		_, evs := e.Evaluate(context.Background(), t0.Add(time.Duration(i)*10*time.Second), in)
		var step []string
		for _, ev := range evs {
			require.Equal(t, RuleMemoryExhaustion, ev.Rule)
			require.NotNil(t, ev.Memory, "a linear memory event names its memory")
			assert.Equal(t, int64(100), ev.Memory.PID)
			str := fmt.Sprintf("%d:%s", ev.Memory.Index, ev.State)
			if ev.Reason != "" {
				str += ":" + ev.Reason
			}
			step = append(step, str)
		}
		out = append(out, step)
	}
	return out
}

// The growing memory fires once, naming its index; its neighbours stay quiet; it clears only
// below the clear threshold (a memory between 80 % and 90 % keeps firing).
func TestLinearMemoryFiresOnTheGrowingMemory(t *testing.T) {
	got := lmRun(t, lmOnly(256), []Sample{
		lmSample(false, 64, 20, 100),
		lmSample(false, 64, 20, 200),
		lmSample(false, 64, 20, 231), // 231/256 = 90.2 %
		lmSample(false, 64, 20, 250),
		lmSample(false, 64, 20, 210), // 82 %: a pooling slot reset below the bound, above the clear threshold
		lmSample(false, 64, 20, 200), // 78 %
		lmSample(false, 64, 20, 240),
	})
	assert.Equal(t, [][]string{nil, nil, {"2:firing"}, nil, nil, {"2:cleared:recovered"}, {"2:firing"}}, got)
}

// Without a configured limit the engine's reservation is the bound; a configured limit above
// it does not raise the bound.
func TestLinearMemoryBoundIsTheSmallerLimit(t *testing.T) {
	near := lmSample(false, 3700, 10) // 3700 MiB of 4096 = 90.3 %
	assert.Equal(t, [][]string{{"0:firing"}}, lmRun(t, lmOnly(0), []Sample{near}))
	assert.Equal(t, [][]string{{"0:firing"}}, lmRun(t, lmOnly(1<<20), []Sample{near}), "1 TiB configured: the 4 GiB reservation binds")
	assert.Equal(t, [][]string{nil}, lmRun(t, lmOnly(0), []Sample{lmSample(false, 3600, 10)}))
}

// A truncated read never fires, clears or forgets: memories past the bound were not seen.
func TestLinearMemoryTruncatedReadHolds(t *testing.T) {
	got := lmRun(t, lmOnly(256), []Sample{
		lmSample(true, 250),      // above the bound, but truncated: no event
		lmSample(false, 250),     // complete: fires
		lmSample(true),           // truncated and the memory not seen: held, not gone
		lmSample(true, 10),       // truncated and below the clear threshold: held
		lmSample(false, 250, 40), // still firing, nothing new
		lmSample(false),          // complete and gone
	})
	assert.Equal(t, [][]string{nil, {"0:firing"}, nil, nil, nil, {"0:cleared:memory_gone"}}, got)
}

// Scrapes that do not read the mappings (linear_memory.every) keep every state.
func TestLinearMemoryBetweenReadsHolds(t *testing.T) {
	none := NewSample("i1", map[string]any{"wasm_runtime.instance.id": "i1"})
	got := lmRun(t, lmOnly(256), []Sample{lmSample(false, 240), none, none, lmSample(false, 245), none, lmSample(false, 10)})
	assert.Equal(t, [][]string{{"0:firing"}, nil, nil, nil, nil, {"0:cleared:recovered"}}, got)
}

// A process of the instance missing from a read of the instance is gone; the instance gone
// clears what its memories had firing.
func TestLinearMemoryProcessAndInstanceGone(t *testing.T) {
	e, err := NewEngine(lmOnly(256), nil)
	require.NoError(t, err)
	ctx := context.Background()
	_, evs := e.Evaluate(ctx, t0, []Sample{lmSample(false, 250, 240)})
	require.Len(t, evs, 2)
	assert.Equal(t, []string{RuleMemoryExhaustion}, e.Firing("i1"))

	other := NewSample("i1", map[string]any{"wasm_runtime.instance.id": "i1"})
	other.LinearMemoryReads = []LinearMemoryRead{{PID: 200, Memories: []LinearMemory{{Index: 0, Committed: mib64, Capacity: 4 << 30}}}}
	_, evs = e.Evaluate(ctx, t0.Add(time.Minute), []Sample{other})
	require.Len(t, evs, 2, "process 100 is gone from a read of the instance")
	for i, ev := range evs {
		assert.Equal(t, StateCleared, ev.State)
		assert.Equal(t, ClearMemoryGone, ev.Reason)
		assert.Equal(t, MemoryRef{PID: 100, Index: int64(i)}, *ev.Memory)
	}

	_, evs = e.Evaluate(ctx, t0.Add(2*time.Minute), []Sample{lmSample(false, 250)})
	require.Len(t, evs, 1)
	_, evs = e.Evaluate(ctx, t0.Add(3*time.Minute), nil)
	require.Len(t, evs, 1)
	assert.Equal(t, ClearInstanceGone, evs[0].Reason)
	assert.Equal(t, MemoryRef{PID: 100, Index: 0}, *evs[0].Memory)
	assert.Empty(t, e.Firing("i1"))
}

// The record names the memory and carries its sizes and the limit it was measured against.
func TestLinearMemoryRecord(t *testing.T) {
	e, err := NewEngine(lmOnly(256), nil)
	require.NoError(t, err)
	ctx := context.Background()
	_, _ = e.Evaluate(ctx, t0, []Sample{lmSample(false, 5, 100)})
	s := lmSample(false, 5, 240)
	s.LinearMemoryReads[0].Memories[1].Resident = 236 * mib64
	logs, evs := e.Evaluate(ctx, t0.Add(30*time.Second), []Sample{s})
	require.Len(t, evs, 1)
	require.Equal(t, 1, logs.LogRecordCount())
	lr := logs.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0)
	assert.Equal(t, EventNamePrefix+RuleMemoryExhaustion, lr.EventName())
	assert.Equal(t, plog.SeverityNumberError, lr.SeverityNumber())
	attrs := lr.Attributes().AsRaw()
	assert.Equal(t, int64(1), attrs[AttrLinearMemoryIndex])
	assert.Equal(t, int64(100), attrs[AttrLinearMemoryPID])
	assert.Equal(t, 240*mib64, attrs[AttrLinearMemoryCommitted])
	assert.Equal(t, 236*mib64, attrs[AttrLinearMemoryResident])
	assert.Equal(t, 140*mib64, attrs[AttrLinearMemoryGrowth])
	assert.Equal(t, 256*mib64, attrs[AttrLinearMemoryLimit])
	assert.Equal(t, LimitFromConfigured, attrs[AttrLinearMemoryLimitFrom])
	assert.InDelta(t, 240.0/256, attrs[AttrValue], 1e-9)
	assert.Equal(t, 0.9, attrs[AttrBound])
	assert.Equal(t, "memory", attrs[AttrVector])
	assert.Contains(t, lr.Body().Str(), "linear memory 1 of process 100 at 94% of the configured limit (256.0 MiB)")
	assert.Equal(t, int64(1), e.Count(RuleMemoryExhaustion, StateFiring))
}

// The sampler reads the receiver's linear memory points into reads: a process with a count
// point was read, its memories come from the per-memory points.
func TestSamplerLinearMemories(t *testing.T) {
	md := pmetric.NewMetrics()
	rm := md.ResourceMetrics().AppendEmpty()
	rm.Resource().Attributes().PutStr("wasm_runtime.instance.id", "i1")
	ms := rm.ScopeMetrics().AppendEmpty().Metrics()
	point := func(name string, gauge bool, v int64, attrs ...int64) {
		m := ms.AppendEmpty()
		m.SetName(name)
		var dp pmetric.NumberDataPoint
		if gauge {
			dp = m.SetEmptyGauge().DataPoints().AppendEmpty()
		} else {
			dp = m.SetEmptySum().DataPoints().AppendEmpty()
		}
		dp.SetIntValue(v)
		dp.Attributes().PutInt(AttrLinearMemoryPID, attrs[0])
		if len(attrs) > 1 {
			dp.Attributes().PutInt(AttrLinearMemoryIndex, attrs[1])
		}
	}
	point(metricLMCount, false, 2, 7)
	point(metricLMTruncated, true, 0, 7)
	point(metricLMCommitted, false, 10, 7, 1)
	point(metricLMCommitted, false, 20, 7, 0)
	point(metricLMResident, false, 9, 7, 1)
	point(metricLMCapacity, false, 4<<30, 7, 0)
	point(metricLMCount, false, 0, 3)
	point(metricLMTruncated, true, 12, 3)
	point(metricLMCommitted, false, 5, 9, 0) // no count point: process 9 was not read
	got := NewSampler().Samples(md, t0)
	require.Len(t, got, 1)
	assert.Equal(t, []LinearMemoryRead{
		{PID: 3, Truncated: true},
		{PID: 7, Memories: []LinearMemory{
			{Index: 0, Committed: 20, Resident: -1, Capacity: 4 << 30},
			{Index: 1, Committed: 10, Resident: 9, Capacity: -1},
		}},
	}, got[0].LinearMemoryReads)

	empty := pmetric.NewMetrics()
	instanceMetrics{id: "i2"}.add(empty)
	assert.Nil(t, NewSampler().Samples(empty, t0)[0].LinearMemoryReads, "a scrape that did not read mappings")
}

func TestLinearMemoryConfig(t *testing.T) {
	cfg := loadConfig(t, "linear_memory_custom")
	require.NoError(t, cfg.Validate())
	assert.Equal(t, LinearMemoryRule{Enabled: true, Threshold: 0.95, ClearThreshold: 0.8, LimitMiB: 256}, cfg.LinearMemory)
	assert.Equal(t, NewDefaultConfig().Memory, cfg.Memory, "the instance-level rule is apart")

	invalid := loadConfig(t, "linear_memory_invalid")
	err := invalid.Validate()
	require.Error(t, err)
	for _, want := range []string{
		"threats.linear_memory.threshold: 1.5 is out of range (0, 1]",
		"threats.linear_memory.clear_threshold: 1.6 must be at least 0 and below threshold 1.5",
		"threats.linear_memory.limit_mib: 99999999999 is beyond 16 TiB",
	} {
		assert.Contains(t, err.Error(), want)
	}
	off := NewDefaultConfig()
	off.LinearMemory = LinearMemoryRule{Threshold: 7}
	require.NoError(t, off.Validate(), "a disabled rule is not checked")
}
