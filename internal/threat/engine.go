package threat

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"
)

// ScopeName is the instrumentation scope of the threat events.
const ScopeName = "github.com/otelcol-virt/otelcol-virt/receiver/wasmruntimereceiver/threats"

// States of an event.
const (
	StateFiring  = "firing"
	StateCleared = "cleared"
)

// Reasons an event cleared.
const (
	ClearRecovered    = "recovered"
	ClearInstanceGone = "instance_gone"
)

// Attributes of the event records.
const (
	AttrRule               = "wasm_runtime.threat.rule"
	AttrVector             = "wasm_runtime.threat.vector"
	AttrState              = "wasm_runtime.threat.state"
	AttrValue              = "wasm_runtime.threat.value"
	AttrBound              = "wasm_runtime.threat.bound"
	AttrUnit               = "wasm_runtime.threat.unit"
	AttrConsecutiveScrapes = "wasm_runtime.threat.consecutive_scrapes"
	AttrDuration           = "wasm_runtime.threat.duration"
	AttrClearReason        = "wasm_runtime.threat.clear_reason"
	AttrMissingLimits      = "wasm_runtime.threat.missing_limits"
)

// EventsMetricName is the self-metric counting the events by rule and state.
const EventsMetricName = "otelcol_wasm_runtime_threat_events"

// ruleState is the state machine of one rule on one instance: idle, counting breaching scrapes,
// or firing.
type ruleState struct {
	streak int // breaching scrapes in a row
	calm   int // non-breaching scrapes in a row while firing
	firing bool
	since  time.Time
	value  float64
}

type instanceState struct {
	resource map[string]any
	limits   *Limits
	oomKills int64
	rules    []ruleState
	// memories are the instance's linear memories (linearmemory.go).
	memories map[memKey]*memState
}

// Event is one emitted event, as the engine reports it to tests and counters.
type Event struct {
	Key, Rule, State, Reason string
	Value, Bound             float64
	// Memory names the linear memory of a per-memory memory_exhaustion event; nil otherwise.
	Memory *MemoryRef
}

// MemoryRef names a linear memory: its process and its index in that process.
type MemoryRef struct{ PID, Index int64 }

// Engine evaluates the rules on each scrape. It is safe for concurrent use, though a receiver
// calls it from its scrape loop only.
type Engine struct {
	mu        sync.Mutex
	cfg       Config
	rules     []rule
	instances map[string]*instanceState
	counter   metric.Int64Counter
	counts    map[[2]string]int64
}

// NewEngine returns an engine for a validated configuration; meter may be nil.
func NewEngine(cfg Config, meter metric.Meter) (*Engine, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if meter == nil {
		meter = noop.NewMeterProvider().Meter(ScopeName)
	}
	counter, err := meter.Int64Counter(EventsMetricName,
		metric.WithDescription("Threat events emitted by the wasm_runtime receiver, by rule and state."),
		metric.WithUnit("{event}"))
	if err != nil {
		return nil, err
	}
	e := &Engine{cfg: cfg, instances: map[string]*instanceState{}, counter: counter, counts: map[[2]string]int64{}}
	require := append([]string(nil), cfg.Limits.Require...)
	for _, r := range rules {
		if r.id == RuleMissingLimits {
			r.measure = func(s Sample, _ *instanceState) (float64, bool) {
				if s.Limits == nil {
					return 0, false
				}
				return float64(len(missingLimits(s.Limits, require))), true
			}
			r.describe = func(v, _ float64, s Sample) string {
				if v == 0 {
					return "instance runs with its required limits (" + strings.Join(require, ", ") + ")"
				}
				return "instance runs without " + strings.Join(missingLimits(s.Limits, require), ", ") + " limit(s)"
			}
		}
		e.rules = append(e.rules, r)
	}
	return e, nil
}

// Evaluate runs the rules over one scrape's samples and returns the events that started or
// cleared, with each instance's resource. Instances seen before and absent now clear all their
// firing events. Samples with an empty or repeated key are ignored.
func (e *Engine) Evaluate(ctx context.Context, now time.Time, samples []Sample) (plog.Logs, []Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := newOutput(now)
	if !e.cfg.Enabled {
		return out.logs, nil
	}

	sorted := make([]Sample, 0, len(samples))
	present := make(map[string]bool, len(samples))
	for _, s := range samples {
		if s.Key == "" || present[s.Key] {
			continue
		}
		present[s.Key] = true
		sorted = append(sorted, s)
	}
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Key < sorted[j].Key })

	for _, s := range sorted {
		// The state is updated in place; prev is nil for an instance seen for the first time.
		st := e.instances[s.Key]
		prev := st
		if st == nil {
			st = &instanceState{oomKills: -1, rules: make([]ruleState, len(e.rules))}
			e.instances[s.Key] = st
		}
		for i, r := range e.rules {
			on, bound, scrapes, clearAfter := r.settings(&e.cfg)
			rs := &st.rules[i]
			if !on {
				continue
			}
			v, known := r.measure(s, prev)
			if !known {
				continue // hold the state until the measurement comes back
			}
			holds := v >= bound
			if r.above {
				holds = v > bound
			}
			switch {
			case holds && !rs.firing:
				rs.streak++
				if rs.streak >= scrapes {
					rs.firing, rs.since, rs.value = true, now, v
					e.emit(ctx, out, s.Key, s.Resource, r, StateFiring, "", v, bound, r.describe(v, bound, s), rs, now, s.Limits)
				}
			case holds:
				rs.streak++
				rs.calm = 0
				rs.value = v
			case rs.firing:
				rs.calm++
				if rs.calm >= clearAfter {
					e.emit(ctx, out, s.Key, s.Resource, r, StateCleared, ClearRecovered, v, bound, r.describe(v, bound, s), rs, now, s.Limits)
					*rs = ruleState{}
				}
			default:
				rs.streak = 0
			}
		}
		e.evalLinearMemories(ctx, out, s, st, now)
		st.resource, st.limits = s.Resource, s.Limits
		if s.OOMKills >= 0 {
			st.oomKills = s.OOMKills
		}
	}

	// Instances that disappeared clear what they had firing.
	gone := make([]string, 0)
	for key := range e.instances {
		if !present[key] {
			gone = append(gone, key)
		}
	}
	sort.Strings(gone)
	for _, key := range gone {
		st := e.instances[key]
		for i, r := range e.rules {
			rs := &st.rules[i]
			if !rs.firing {
				continue
			}
			_, bound, _, _ := r.settings(&e.cfg)
			e.emit(ctx, out, key, st.resource, r, StateCleared, ClearInstanceGone, rs.value, bound,
				"instance is gone", rs, now, st.limits)
		}
		e.clearMemoriesGone(ctx, out, key, st, now)
		delete(e.instances, key)
	}
	return out.logs, out.events
}

// Firing returns the rules firing on an instance, sorted.
func (e *Engine) Firing(key string) []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	st := e.instances[key]
	if st == nil {
		return nil
	}
	var ids []string
	for i, rs := range st.rules {
		if rs.firing {
			ids = append(ids, e.rules[i].id)
		}
	}
	if st.firingMemories() && !slices.Contains(ids, RuleMemoryExhaustion) {
		ids = append(ids, RuleMemoryExhaustion)
	}
	sort.Strings(ids)
	return ids
}

// Count returns how many events of a rule and state were emitted.
func (e *Engine) Count(rule, state string) int64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.counts[[2]string{rule, state}]
}

type output struct {
	logs   plog.Logs
	now    pcommon.Timestamp
	byKey  map[string]plog.LogRecordSlice
	events []Event
}

func newOutput(now time.Time) *output {
	return &output{logs: plog.NewLogs(), now: pcommon.NewTimestampFromTime(now), byKey: map[string]plog.LogRecordSlice{}}
}

// record appends a log record to the instance's resource logs.
func (out *output) record(key string, resource map[string]any) plog.LogRecord {
	records, ok := out.byKey[key]
	if !ok {
		rl := out.logs.ResourceLogs().AppendEmpty()
		if err := rl.Resource().Attributes().FromRaw(resource); err != nil {
			// A value pcommon cannot hold: keep the instance id at least.
			rl.Resource().Attributes().PutStr("wasm_runtime.instance.id", key)
		}
		sl := rl.ScopeLogs().AppendEmpty()
		sl.Scope().SetName(ScopeName)
		records = sl.LogRecords()
		out.byKey[key] = records
	}
	return records.AppendEmpty()
}

func (e *Engine) emit(ctx context.Context, out *output, key string, resource map[string]any, r rule, state, reason string,
	value, bound float64, text string, rs *ruleState, now time.Time, limits *Limits,
) {
	lr := out.record(key, resource)
	e.fill(ctx, out, lr, key, r, state, reason, value, bound, text, rs, now)
	if r.id == RuleMissingLimits && limits != nil {
		missing := lr.Attributes().PutEmptySlice(AttrMissingLimits)
		for _, l := range missingLimits(limits, e.cfg.Limits.Require) {
			missing.AppendEmpty().SetStr(l)
		}
	}
}

// fill writes an event's common fields into lr and counts it.
func (e *Engine) fill(ctx context.Context, out *output, lr plog.LogRecord, key string, r rule, state, reason string,
	value, bound float64, text string, rs *ruleState, now time.Time,
) {
	lr.SetTimestamp(out.now)
	lr.SetObservedTimestamp(out.now)
	lr.SetEventName(EventNamePrefix + r.id)
	attrs := lr.Attributes()
	attrs.PutStr(AttrRule, r.id)
	attrs.PutStr(AttrVector, r.vector)
	attrs.PutStr(AttrState, state)
	attrs.PutDouble(AttrValue, value)
	attrs.PutDouble(AttrBound, bound)
	attrs.PutStr(AttrUnit, r.unit)
	if state == StateFiring {
		lr.SetSeverityNumber(r.severity)
		attrs.PutInt(AttrConsecutiveScrapes, int64(rs.streak))
		lr.Body().SetStr(text)
	} else {
		lr.SetSeverityNumber(plog.SeverityNumberInfo)
		attrs.PutStr(AttrClearReason, reason)
		attrs.PutDouble(AttrDuration, now.Sub(rs.since).Seconds())
		lr.Body().SetStr(fmt.Sprintf("cleared after %s: %s", now.Sub(rs.since).Round(time.Second), text))
	}
	lr.SetSeverityText(strings.ToUpper(lr.SeverityNumber().String()))
	e.counts[[2]string{r.id, state}]++
	e.counter.Add(ctx, 1, metric.WithAttributes(attribute.String("rule", r.id), attribute.String("state", state)))
	out.events = append(out.events, Event{Key: key, Rule: r.id, State: state, Reason: reason, Value: value, Bound: bound})
}
