package main

// The template of generated_metrics.go: typed record methods, enums and the builder.

const metricsTmpl = header + `
package metadata

import (
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/receiver"
)
{{range .AttributeNames}}{{$a := attr .}}{{if isEnum $a}}
// Attribute{{goName .}} specifies the value {{$a.Name}} attribute.
type Attribute{{goName .}} int

const (
	_ Attribute{{goName .}} = iota
{{- range $a.Enum}}
	Attribute{{goName $a.Key}}{{goName .}}
{{- end}}
)

// String returns the string representation of the Attribute{{goName .}}.
func (av Attribute{{goName .}}) String() string {
	switch av {
{{- range $a.Enum}}
	case Attribute{{goName $a.Key}}{{goName .}}:
		return {{quote .}}
{{- end}}
	}
	return ""
}

// MapAttribute{{goName .}} is a helper map of string to Attribute{{goName .}} attribute value.
var MapAttribute{{goName .}} = map[string]Attribute{{goName .}}{
{{- range $a.Enum}}
	{{quote .}}: Attribute{{goName $a.Key}}{{goName .}},
{{- end}}
}
{{end}}{{end}}
// MetricsInfo names each metric and its attributes.
var MetricsInfo = metricsInfo{
{{- range .MetricNames}}{{$m := metric .}}
	{{goName .}}: metricInfo{
		Name: {{quote .}},
{{- if $m.Attributes}}
		Attributes: []string{ {{- range $m.Attributes}}{{quote (attr .).Name}}, {{end -}} },
{{- end}}
	},
{{- end}}
}

type metricsInfo struct {
{{- range .MetricNames}}
	{{goName .}} metricInfo
{{- end}}
}

type metricInfo struct {
	Name       string
	Attributes []string
}

// MetricAttributeOption applies an optional attribute (or a data point setting) to a data point.
type MetricAttributeOption interface {
	apply(pmetric.NumberDataPoint)
}

type metricAttributeOptionFunc func(pmetric.NumberDataPoint)

func (maof metricAttributeOptionFunc) apply(dp pmetric.NumberDataPoint) {
	maof(dp)
}

// WithStartTimestamp sets the start timestamp of one data point: the start of its own series,
// when it differs from the builder's (a series that restarted).
func WithStartTimestamp(start pcommon.Timestamp) MetricAttributeOption {
	return metricAttributeOptionFunc(func(dp pmetric.NumberDataPoint) {
		dp.SetStartTimestamp(start)
	})
}
{{range .AttributeNames}}{{$a := attr .}}
// With{{goName .}}MetricAttribute sets the optional {{$a.Name}} attribute.
func With{{goName .}}MetricAttribute(val {{goType $a.Type}}) MetricAttributeOption {
	return metricAttributeOptionFunc(func(dp pmetric.NumberDataPoint) {
		dp.Attributes().{{putFunc $a.Type}}({{quote $a.Name}}, val)
	})
}
{{end}}
{{- range .MetricNames}}{{$m := metric .}}{{$g := goName .}}
type metric{{$g}} struct {
	data     pmetric.Metric        // data buffer for generated metric.
	config   {{$g}}MetricConfig    // metric config provided by user.
	capacity int                   // max observed number of data points added to the metric.
}

// init fills {{.}} metric with initial data.
func (m *metric{{$g}}) init() {
	m.data.SetName({{quote .}})
	m.data.SetDescription({{quote $m.Description}})
	m.data.SetUnit({{quote $m.Unit}})
{{- if $m.Sum}}
	m.data.SetEmptySum()
	m.data.Sum().SetIsMonotonic({{$m.Sum.Monotonic}})
	m.data.Sum().SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
	m.data.Sum().DataPoints().EnsureCapacity(m.capacity)
{{- else}}
	m.data.SetEmptyGauge()
	m.data.Gauge().DataPoints().EnsureCapacity(m.capacity)
{{- end}}
}

func (m *metric{{$g}}) recordDataPoint(start pcommon.Timestamp, ts pcommon.Timestamp, val {{goType $m.ValueType}}{{range $m.Attributes}}, {{lowerName .}}AttributeValue {{goType (attr .).Type}}{{end}}, options ...MetricAttributeOption) {
	if !m.config.Enabled {
		return
	}
	dp := m.data.{{if $m.Sum}}Sum{{else}}Gauge{{end}}().DataPoints().AppendEmpty()
	dp.SetStartTimestamp(start)
	dp.SetTimestamp(ts)
	dp.Set{{if eq $m.ValueType "int"}}Int{{else}}Double{{end}}Value(val)
{{- if gt (len $m.Attributes) 1}}
	// Sized for the attributes at once: growing the map one Put at a time allocates at each.
	dp.Attributes().EnsureCapacity({{len $m.Attributes}})
{{- end}}
{{- range $m.Attributes}}{{$a := attr .}}
	dp.Attributes().{{putFunc $a.Type}}({{quote $a.Name}}, {{lowerName .}}AttributeValue)
{{- end}}
	for _, op := range options {
		op.apply(dp)
	}
}

// updateCapacity saves max length of data point slices that will be used for the slice capacity.
func (m *metric{{$g}}) updateCapacity() {
	if m.data.{{if $m.Sum}}Sum{{else}}Gauge{{end}}().DataPoints().Len() > m.capacity {
		m.capacity = m.data.{{if $m.Sum}}Sum{{else}}Gauge{{end}}().DataPoints().Len()
	}
}

// emit appends recorded metric data to a metrics slice and prepares it for recording another set of data points.
func (m *metric{{$g}}) emit(metrics pmetric.MetricSlice) {
	if m.config.Enabled && m.data.{{if $m.Sum}}Sum{{else}}Gauge{{end}}().DataPoints().Len() > 0 {
		m.updateCapacity()
		m.data.MoveTo(metrics.AppendEmpty())
		m.init()
	}
}

func newMetric{{$g}}(cfg {{$g}}MetricConfig) metric{{$g}} {
	m := metric{{$g}}{config: cfg}
	if cfg.Enabled {
		m.data = pmetric.NewMetric()
		m.init()
	}
	return m
}
{{end}}
// MetricsBuilder provides an interface for scrapers to report metrics while taking care of all
// the transformations required to produce metric representation defined in metadata and user
// config.
type MetricsBuilder struct {
	config          MetricsBuilderConfig // config of the metrics builder.
	startTime       pcommon.Timestamp    // start time that will be applied to all recorded data points.
	metricsCapacity int                  // maximum observed number of metrics per resource.
	metricsBuffer   pmetric.Metrics      // accumulates metrics data before emitting.
	buildInfo       component.BuildInfo  // contains version information.
{{- range .MetricNames}}
	metric{{goName .}} metric{{goName .}}
{{- end}}
}

// MetricBuilderOption applies changes to default metrics builder.
type MetricBuilderOption interface {
	apply(*MetricsBuilder)
}

type metricBuilderOptionFunc func(mb *MetricsBuilder)

func (mbof metricBuilderOptionFunc) apply(mb *MetricsBuilder) {
	mbof(mb)
}

// WithStartTime sets startTime on the metrics builder.
func WithStartTime(startTime pcommon.Timestamp) MetricBuilderOption {
	return metricBuilderOptionFunc(func(mb *MetricsBuilder) {
		mb.startTime = startTime
	})
}

// NewMetricsBuilder returns a builder for the metrics of mbc.
func NewMetricsBuilder(mbc MetricsBuilderConfig, settings receiver.Settings, options ...MetricBuilderOption) *MetricsBuilder {
	mb := &MetricsBuilder{
		config:        mbc,
		startTime:     pcommon.NewTimestampFromTime(time.Now()),
		metricsBuffer: pmetric.NewMetrics(),
		buildInfo:     settings.BuildInfo,
{{- range .MetricNames}}
		metric{{goName .}}: newMetric{{goName .}}(mbc.Metrics.{{goName .}}),
{{- end}}
	}
	for _, op := range options {
		op.apply(mb)
	}
	return mb
}

// NewResourceBuilder returns a new resource builder that should be used to build a resource associated with for the emitted metrics.
func (mb *MetricsBuilder) NewResourceBuilder() *ResourceBuilder {
	return NewResourceBuilder(mb.config.ResourceAttributes)
}

// updateCapacity updates max length of metrics and resource attributes that will be used for the slice capacity.
func (mb *MetricsBuilder) updateCapacity(rm pmetric.ResourceMetrics) {
	if mb.metricsCapacity < rm.ScopeMetrics().At(0).Metrics().Len() {
		mb.metricsCapacity = rm.ScopeMetrics().At(0).Metrics().Len()
	}
}

// ResourceMetricsOption applies changes to provided resource metrics.
type ResourceMetricsOption interface {
	apply(pmetric.ResourceMetrics)
}

type resourceMetricsOptionFunc func(pmetric.ResourceMetrics)

func (rmof resourceMetricsOptionFunc) apply(rm pmetric.ResourceMetrics) {
	rmof(rm)
}

// WithResource sets the provided resource on the emitted ResourceMetrics.
// It's recommended to use ResourceBuilder to create the resource.
func WithResource(res pcommon.Resource) ResourceMetricsOption {
	return resourceMetricsOptionFunc(func(rm pmetric.ResourceMetrics) {
		res.CopyTo(rm.Resource())
	})
}

// EmitForResource saves all the generated metrics under a new resource and updates the internal
// state to be ready for recording another set of data points as part of another resource.
func (mb *MetricsBuilder) EmitForResource(options ...ResourceMetricsOption) {
	rm := pmetric.NewResourceMetrics()
	rm.SetSchemaUrl("https://opentelemetry.io/schemas/{{.SemConvVersion}}")
	ils := rm.ScopeMetrics().AppendEmpty()
	ils.Scope().SetName(ScopeName)
	ils.Scope().SetVersion(mb.buildInfo.Version)
	ils.Metrics().EnsureCapacity(mb.metricsCapacity)
{{- range .MetricNames}}
	mb.metric{{goName .}}.emit(ils.Metrics())
{{- end}}
	for _, op := range options {
		op.apply(rm)
	}
	if ils.Metrics().Len() > 0 {
		mb.updateCapacity(rm)
		rm.MoveTo(mb.metricsBuffer.ResourceMetrics().AppendEmpty())
	}
}

// Emit returns all the metrics accumulated by the metrics builder and updates the internal state
// to be ready for recording another set of metrics.
func (mb *MetricsBuilder) Emit(options ...ResourceMetricsOption) pmetric.Metrics {
	mb.EmitForResource(options...)
	metrics := mb.metricsBuffer
	mb.metricsBuffer = pmetric.NewMetrics()
	return metrics
}
{{range .MetricNames}}{{$m := metric .}}
// Record{{goName .}}DataPoint adds a data point to {{.}} metric.
func (mb *MetricsBuilder) Record{{goName .}}DataPoint(ts pcommon.Timestamp, val {{goType $m.ValueType}}{{range $m.Attributes}}{{$a := attr .}}, {{lowerName .}}AttributeValue {{if isEnum $a}}Attribute{{goName .}}{{else}}{{goType $a.Type}}{{end}}{{end}}, options ...MetricAttributeOption) {
	mb.metric{{goName .}}.recordDataPoint(mb.startTime, ts, val{{range $m.Attributes}}{{$a := attr .}}, {{lowerName .}}AttributeValue{{if isEnum $a}}.String(){{end}}{{end}}, options...)
}
{{end}}
// Enabled reports whether a metric is enabled, by name.
func (mb *MetricsBuilder) Enabled(name string) bool { return mb.config.Metrics.IsEnabled(name) }

// Reset resets metrics builder to its initial state. It should be used when external metrics
// source is restarted, and metrics builder should update its startTime and reset its internal
// state accordingly.
func (mb *MetricsBuilder) Reset(options ...MetricBuilderOption) {
	mb.startTime = pcommon.NewTimestampFromTime(time.Now())
	for _, op := range options {
		op.apply(mb)
	}
}
`
