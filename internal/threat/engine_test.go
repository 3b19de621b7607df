package threat

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

var t0 = time.Date(2026, 11, 27, 21, 0, 0, 0, time.UTC)

// only returns a configuration with just the named rule enabled.
func only(rule string, mod func(*Config)) Config {
	cfg := NewDefaultConfig()
	cfg.CPU.Enabled = rule == RuleCPUExhaustion
	cfg.Memory.Enabled = rule == RuleMemoryExhaustion
	cfg.OOMKill.Enabled = rule == RuleOOMKill
	cfg.FileDescriptors.Enabled = rule == RuleFDExhaustion
	cfg.FileCreation.Enabled = rule == RuleFileSpam
	cfg.Connections.Enabled = rule == RuleConnectionFlood
	cfg.Limits.Enabled = rule == RuleMissingLimits
	if mod != nil {
		mod(&cfg)
	}
	return cfg
}

// run evaluates one sample per scrape and returns, per scrape, the events as "rule:state".
func run(t *testing.T, cfg Config, samples []Sample) [][]string {
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
			step = append(step, ev.Rule+":"+ev.State)
		}
		out = append(out, step)
	}
	return out
}

func cpu(v float64) Sample {
	s := NewSample("i1", map[string]any{"wasm_runtime.instance.id": "i1"})
	s.CPUUtilization = v
	return s
}

func TestCPUNeedsConsecutiveScrapes(t *testing.T) {
	cfg := only(RuleCPUExhaustion, func(c *Config) { c.CPU.ConsecutiveScrapes, c.CPU.ClearScrapes = 3, 1 })
	got := run(t, cfg, []Sample{cpu(0.9), cpu(0.9), cpu(0.5), cpu(0.9), cpu(0.9), cpu(0.9), cpu(0.95), cpu(1.2), cpu(0.2), cpu(0.1)})
	want := [][]string{nil, nil, nil, nil, nil, {"cpu_exhaustion:firing"}, nil, nil, {"cpu_exhaustion:cleared"}, nil}
	assert.Equal(t, want, got)
}

func TestCPUBoundIsInclusive(t *testing.T) {
	cfg := only(RuleCPUExhaustion, func(c *Config) { c.CPU.ConsecutiveScrapes, c.CPU.ClearScrapes = 1, 1 })
	assert.Equal(t, [][]string{{"cpu_exhaustion:firing"}, nil, {"cpu_exhaustion:cleared"}},
		run(t, cfg, []Sample{cpu(0.8), cpu(0.8), cpu(0.7999)}))
}

func TestUnknownHoldsState(t *testing.T) {
	cfg := only(RuleCPUExhaustion, func(c *Config) { c.CPU.ConsecutiveScrapes, c.CPU.ClearScrapes = 2, 1 })
	// An unknown scrape neither breaks the streak nor clears.
	assert.Equal(t, [][]string{nil, nil, {"cpu_exhaustion:firing"}, nil, nil, {"cpu_exhaustion:cleared"}},
		run(t, cfg, []Sample{cpu(0.9), cpu(Unknown), cpu(0.9), cpu(Unknown), cpu(-1), cpu(0.1)}))
}

func TestClearScrapesHysteresis(t *testing.T) {
	cfg := only(RuleCPUExhaustion, func(c *Config) { c.CPU.ConsecutiveScrapes, c.CPU.ClearScrapes = 2, 3 })
	// A value hovering around the bound fires once; only three calm scrapes in a row clear it,
	// and a breach among them starts the count again.
	got := run(t, cfg, []Sample{cpu(0.9), cpu(0.9), cpu(0.7), cpu(0.9), cpu(0.7), cpu(0.7), cpu(0.9), cpu(0.1), cpu(0.1), cpu(0.1), cpu(0.1)})
	want := [][]string{nil, {"cpu_exhaustion:firing"}, nil, nil, nil, nil, nil, nil, nil, {"cpu_exhaustion:cleared"}, nil}
	assert.Equal(t, want, got)
	// Disappearing does not wait.
	assert.Equal(t, [][]string{nil, {"cpu_exhaustion:firing"}, nil, {"cpu_exhaustion:cleared"}},
		run(t, cfg, []Sample{cpu(0.9), cpu(0.9), cpu(0.1), {}}))
}

func TestMemory(t *testing.T) {
	mem := func(v float64) Sample { s := NewSample("i1", nil); s.MemoryUtilization = v; return s }
	assert.Equal(t, [][]string{nil, {"memory_exhaustion:firing"}, nil, {"memory_exhaustion:cleared"}, nil},
		run(t, only(RuleMemoryExhaustion, nil), []Sample{mem(0.89), mem(0.9), mem(0.99), mem(0.5), mem(Unknown)}))
}

func TestOOMKill(t *testing.T) {
	oom := func(n int64) Sample { s := NewSample("i1", nil); s.OOMKills = n; return s }
	// The first scrape is the baseline: kills from before the collector watched do not fire.
	got := run(t, only(RuleOOMKill, nil), []Sample{oom(4), oom(4), oom(5), oom(5), oom(7), oom(-1), oom(8), oom(0), oom(0)})
	want := [][]string{nil, nil, {"oom_kill:firing"}, {"oom_kill:cleared"}, {"oom_kill:firing"}, nil, nil, {"oom_kill:cleared"}, nil}
	assert.Equal(t, want, got, "unknown holds; a counter that went down (cgroup recreated) is no kill")
}

func TestAboveBoundRules(t *testing.T) {
	for _, tc := range []struct {
		rule  string
		set   func(*Sample, float64)
		bound float64
	}{
		{RuleFDExhaustion, func(s *Sample, v float64) { s.FileDescriptors = int64(v) }, 1000},
		{RuleFileSpam, func(s *Sample, v float64) { s.FileCreationRate = v }, 100},
		{RuleConnectionFlood, func(s *Sample, v float64) { s.TCPConnections = int64(v) }, 500},
	} {
		t.Run(tc.rule, func(t *testing.T) {
			mk := func(v float64) Sample { s := NewSample("i1", nil); tc.set(&s, v); return s }
			got := run(t, only(tc.rule, nil), []Sample{mk(tc.bound), mk(tc.bound + 1), mk(tc.bound * 10), mk(tc.bound), mk(0)})
			assert.Equal(t, [][]string{nil, {tc.rule + ":firing"}, nil, {tc.rule + ":cleared"}, nil}, got, "bound itself does not fire")
		})
	}
}

func TestMissingLimits(t *testing.T) {
	lim := func(l *Limits) Sample { s := NewSample("i1", nil); s.Limits = l; return s }
	all := &Limits{CPU: true, Memory: true, PIDs: true}
	got := run(t, only(RuleMissingLimits, nil), []Sample{
		lim(&Limits{}), lim(&Limits{CPU: true}), lim(nil), lim(all), lim(all), lim(&Limits{CPU: true, Memory: true}),
	})
	assert.Equal(t, [][]string{{"missing_limits:firing"}, nil, nil, {"missing_limits:cleared"}, nil, {"missing_limits:firing"}}, got)

	// Only the required limits count.
	cfg := only(RuleMissingLimits, func(c *Config) { c.Limits.Require = []string{LimitMemory} })
	assert.Equal(t, [][]string{nil, {"missing_limits:firing"}},
		run(t, cfg, []Sample{lim(&Limits{Memory: true}), lim(&Limits{CPU: true, PIDs: true})}))
}

func TestInstanceGoneClears(t *testing.T) {
	cfg := only(RuleCPUExhaustion, func(c *Config) { c.CPU.ConsecutiveScrapes = 1 })
	got := run(t, cfg, []Sample{cpu(0.9), {}, cpu(0.9), {}, {}})
	assert.Equal(t, [][]string{{"cpu_exhaustion:firing"}, {"cpu_exhaustion:cleared"}, {"cpu_exhaustion:firing"}, {"cpu_exhaustion:cleared"}, nil}, got)

	e, err := NewEngine(cfg, nil)
	require.NoError(t, err)
	e.Evaluate(context.Background(), t0, []Sample{cpu(0.9)})
	logs, evs := e.Evaluate(context.Background(), t0.Add(30*time.Second), nil)
	require.Len(t, evs, 1)
	assert.Equal(t, ClearInstanceGone, evs[0].Reason)
	assert.InDelta(t, 0.9, evs[0].Value, 1e-9, "the last value is reported")
	rl := logs.ResourceLogs().At(0)
	id, _ := rl.Resource().Attributes().Get("wasm_runtime.instance.id")
	assert.Equal(t, "i1", id.Str(), "the last known resource")
	lr := rl.ScopeLogs().At(0).LogRecords().At(0)
	d, _ := lr.Attributes().Get(AttrDuration)
	assert.InDelta(t, 30, d.Double(), 1e-9)
}

func TestSeveralInstancesAndRules(t *testing.T) {
	cfg := NewDefaultConfig()
	cfg.CPU.ConsecutiveScrapes = 1
	e, err := NewEngine(cfg, nil)
	require.NoError(t, err)
	a := NewSample("a", map[string]any{"wasm_runtime.instance.id": "a"})
	a.CPUUtilization, a.MemoryUtilization, a.TCPConnections = 0.95, 0.95, 2000
	a.Limits = &Limits{CPU: true, Memory: true, PIDs: true}
	b := NewSample("b", map[string]any{"wasm_runtime.instance.id": "b"})
	b.Limits = &Limits{}
	b.FileDescriptors = 5000
	_, evs := e.Evaluate(context.Background(), t0, []Sample{b, a, a /* duplicate ignored */, NewSample("", nil)})
	var got []string
	for _, ev := range evs {
		got = append(got, ev.Key+"/"+ev.Rule)
	}
	assert.Equal(t, []string{"a/cpu_exhaustion", "a/memory_exhaustion", "a/connection_flood", "b/fd_exhaustion", "b/missing_limits"}, got)
	assert.Equal(t, []string{"connection_flood", "cpu_exhaustion", "memory_exhaustion"}, e.Firing("a"))
	// Holding: nothing new.
	_, evs = e.Evaluate(context.Background(), t0.Add(time.Second), []Sample{a, b})
	assert.Empty(t, evs)
}

func TestDisabled(t *testing.T) {
	cfg := NewDefaultConfig()
	cfg.Enabled = false
	s := cpu(5)
	s.Limits = &Limits{}
	got := run(t, cfg, []Sample{s, s, s, s, s, s, s, {}})
	for _, step := range got {
		assert.Empty(t, step)
	}
}

func TestRecordShape(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	meter := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader)).Meter("test")
	cfg := only(RuleMissingLimits, nil)
	e, err := NewEngine(cfg, meter)
	require.NoError(t, err)
	s := NewSample("cg:/wasm/a", map[string]any{"wasm_runtime.instance.id": "cg:/wasm/a", "wasm_runtime.runtime": "wasmtime"})
	s.Limits = &Limits{Memory: true}
	logs, _ := e.Evaluate(context.Background(), t0, []Sample{s})
	require.Equal(t, 1, logs.LogRecordCount())
	rl := logs.ResourceLogs().At(0)
	assert.Equal(t, map[string]any{"wasm_runtime.instance.id": "cg:/wasm/a", "wasm_runtime.runtime": "wasmtime"}, rl.Resource().Attributes().AsRaw())
	sl := rl.ScopeLogs().At(0)
	assert.Equal(t, ScopeName, sl.Scope().Name())
	lr := sl.LogRecords().At(0)
	assert.Equal(t, "wasm_runtime.threat.missing_limits", lr.EventName())
	assert.Equal(t, plog.SeverityNumberWarn, lr.SeverityNumber())
	assert.Equal(t, "WARN", lr.SeverityText())
	assert.Equal(t, "instance runs without cpu, pids limit(s)", lr.Body().Str())
	assert.Equal(t, t0, lr.Timestamp().AsTime())
	assert.Equal(t, map[string]any{
		AttrRule: "missing_limits", AttrVector: "posture", AttrState: "firing", AttrValue: 2.0, AttrBound: 0.0,
		AttrUnit: "{limit}", AttrConsecutiveScrapes: int64(1), AttrMissingLimits: []any{"cpu", "pids"},
	}, lr.Attributes().AsRaw())

	s.Limits = &Limits{CPU: true, Memory: true, PIDs: true}
	logs, _ = e.Evaluate(context.Background(), t0.Add(time.Minute), []Sample{s})
	lr = logs.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0)
	assert.Equal(t, plog.SeverityNumberInfo, lr.SeverityNumber())
	assert.Equal(t, "cleared after 1m0s: instance runs with its required limits (cpu, memory, pids)", lr.Body().Str())
	reason, _ := lr.Attributes().Get(AttrClearReason)
	assert.Equal(t, ClearRecovered, reason.Str())

	assert.Equal(t, int64(1), e.Count(RuleMissingLimits, StateFiring))
	assert.Equal(t, int64(1), e.Count(RuleMissingLimits, StateCleared))
	var rm metricdata.ResourceMetrics
	require.NoError(t, reader.Collect(context.Background(), &rm))
	sum := rm.ScopeMetrics[0].Metrics[0]
	assert.Equal(t, EventsMetricName, sum.Name)
	points := sum.Data.(metricdata.Sum[int64]).DataPoints
	total := map[string]int64{}
	for _, p := range points {
		st, _ := p.Attributes.Value("state")
		total[st.AsString()] += p.Value
	}
	assert.Equal(t, map[string]int64{StateFiring: 1, StateCleared: 1}, total)
}

func TestNewEngineRejectsInvalid(t *testing.T) {
	cfg := NewDefaultConfig()
	cfg.Memory.Threshold = 1.5
	_, err := NewEngine(cfg, nil)
	require.ErrorContains(t, err, "threats.memory.threshold")
}

func ExampleEngine_Evaluate() {
	cfg := NewDefaultConfig()
	cfg.CPU.ConsecutiveScrapes, cfg.CPU.ClearScrapes = 2, 1
	e, _ := NewEngine(cfg, nil)
	s := NewSample("pid:42:1000", map[string]any{"wasm_runtime.instance.id": "pid:42:1000"})
	s.Limits = &Limits{CPU: true, Memory: true, PIDs: true}
	for i, u := range []float64{0.97, 0.99, 0.3} {
		s.CPUUtilization = u
		logs, _ := e.Evaluate(context.Background(), t0.Add(time.Duration(i)*10*time.Second), []Sample{s})
		for j := 0; j < logs.LogRecordCount(); j++ {
			lr := logs.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(j)
			fmt.Println(lr.EventName(), lr.SeverityText(), lr.Body().Str())
		}
	}
	// Output:
	// wasm_runtime.threat.cpu_exhaustion WARN CPU use at 99% of its CPU limit, bound 80%
	// wasm_runtime.threat.cpu_exhaustion INFO cleared after 10s: CPU use at 30% of its CPU limit, bound 80%
}
