package metadata

import (
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

// Builder assembles one scrape's pmetric.Metrics, one ResourceMetrics per instance, creating
// each metric lazily the first time a data point is recorded for it on that resource.
type Builder struct {
	enabled    [NumMetrics]bool
	resEnabled map[string]bool
	version    string

	md    pmetric.Metrics
	ms    pmetric.MetricSlice
	res   pcommon.Map
	cur   [NumMetrics]pmetric.Metric
	have  [NumMetrics]bool
	start pcommon.Timestamp
	now   pcommon.Timestamp
}

// NewBuilder returns a builder honouring the metric and resource attribute settings.
func NewBuilder(mc MetricsConfig, rc ResourceAttributesConfig, version string) *Builder {
	b := &Builder{enabled: mc.Enabled(), resEnabled: make(map[string]bool, len(ResourceAttributes)), version: version}
	for n, e := range ResourceAttributes {
		b.resEnabled[n] = e
		if c, ok := rc[n]; ok {
			b.resEnabled[n] = c.Enabled
		}
	}
	b.md = pmetric.NewMetrics()
	return b
}

// Enabled reports whether a metric is enabled.
func (b *Builder) Enabled(id MetricID) bool { return b.enabled[id] }

// ResourceEnabled reports whether a resource attribute is enabled.
func (b *Builder) ResourceEnabled(name string) bool { return b.resEnabled[name] }

// StartResource begins the metrics of one resource; start is the start time of its cumulative
// metrics and now the time of its data points.
func (b *Builder) StartResource(start, now pcommon.Timestamp) {
	rm := b.md.ResourceMetrics().AppendEmpty()
	b.res = rm.Resource().Attributes()
	b.res.EnsureCapacity(16)
	sm := rm.ScopeMetrics().AppendEmpty()
	sm.Scope().SetName(ScopeName)
	sm.Scope().SetVersion(b.version)
	b.ms = sm.Metrics()
	b.ms.EnsureCapacity(32)
	b.have = [NumMetrics]bool{}
	b.start, b.now = start, now
}

// PutStr sets a string resource attribute when enabled and non-empty.
func (b *Builder) PutStr(name, v string) {
	if v != "" && b.resEnabled[name] {
		b.res.PutStr(name, v)
	}
}

// PutExtra sets a user-defined string resource attribute (from a runtime's attributes).
func (b *Builder) PutExtra(name, v string) {
	if v != "" {
		b.res.PutStr(name, v)
	}
}

// PutInt sets an int resource attribute when enabled.
func (b *Builder) PutInt(name string, v int64) {
	if b.resEnabled[name] {
		b.res.PutInt(name, v)
	}
}

// PutBool sets a bool resource attribute when enabled.
func (b *Builder) PutBool(name string, v bool) {
	if b.resEnabled[name] {
		b.res.PutBool(name, v)
	}
}

// pointsHint pre-sizes the data point slices of metrics that carry one point per attribute
// value, saving the slice regrowths pdata would otherwise do for every instance.
var pointsHint = func() (h [NumMetrics]int) {
	for _, id := range []MetricID{ContainerCPUTime, ProcessCPUTime, ContainerDiskIO, WasmRuntimeDiskOperations, ContainerNetworkIO, ProcessPagingFaults, ProcessContextSwitches} {
		h[id] = 2
	}
	h[WasmRuntimeLimitConfigured] = 4
	h[WasmRuntimePressureStallTime] = 6
	h[WasmRuntimeConnectionCount] = 12
	h[WasmRuntimeScrapeErrors] = 5
	return h
}()

func (b *Builder) metric(id MetricID) pmetric.Metric {
	if b.have[id] {
		return b.cur[id]
	}
	d := &Metrics[id]
	m := b.ms.AppendEmpty()
	m.SetName(d.Name)
	m.SetDescription(d.Description)
	m.SetUnit(d.Unit)
	if d.Kind == Sum {
		s := m.SetEmptySum()
		s.SetIsMonotonic(d.Monotonic)
		s.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
		if n := pointsHint[id]; n > 0 {
			s.DataPoints().EnsureCapacity(n)
		}
	} else {
		m.SetEmptyGauge()
	}
	b.cur[id], b.have[id] = m, true
	return m
}

func (b *Builder) point(id MetricID) pmetric.NumberDataPoint {
	m := b.metric(id)
	var dp pmetric.NumberDataPoint
	if Metrics[id].Kind == Sum {
		dp = m.Sum().DataPoints().AppendEmpty()
		dp.SetStartTimestamp(b.start)
	} else {
		dp = m.Gauge().DataPoints().AppendEmpty()
	}
	dp.SetTimestamp(b.now)
	return dp
}

// Int records an integer data point; attrs are key, value pairs.
func (b *Builder) Int(id MetricID, v int64, attrs ...string) {
	if !b.enabled[id] {
		return
	}
	dp := b.point(id)
	dp.SetIntValue(v)
	putAttrs(dp.Attributes(), attrs)
}

// Double records a floating point data point; attrs are key, value pairs.
func (b *Builder) Double(id MetricID, v float64, attrs ...string) {
	if !b.enabled[id] {
		return
	}
	dp := b.point(id)
	dp.SetDoubleValue(v)
	putAttrs(dp.Attributes(), attrs)
}

func putAttrs(m pcommon.Map, attrs []string) {
	if len(attrs) == 0 {
		return
	}
	m.EnsureCapacity(len(attrs) / 2)
	for i := 0; i+1 < len(attrs); i += 2 {
		m.PutStr(attrs[i], attrs[i+1])
	}
}

// Emit returns the metrics built so far and starts a new batch.
func (b *Builder) Emit() pmetric.Metrics {
	md := b.md
	b.md = pmetric.NewMetrics()
	b.have = [NumMetrics]bool{}
	return md
}
