package main

// Templates of generated_resource.go and generated_telemetry.go.

const resourceTmpl = header + `
package metadata

import (
	"go.opentelemetry.io/collector/pdata/pcommon"
)

// ResourceBuilder is a helper struct to build resources predefined in metadata.yaml.
// The ResourceBuilder is not thread-safe and must not to be used in multiple goroutines.
type ResourceBuilder struct {
	config ResourceAttributesConfig
	res    pcommon.Resource
}

// NewResourceBuilder creates a new ResourceBuilder. This method should be called on the start of the application.
func NewResourceBuilder(rac ResourceAttributesConfig) *ResourceBuilder {
	return &ResourceBuilder{
		config: rac,
		res:    pcommon.NewResource(),
	}
}
{{range .ResourceNames}}{{$a := res .}}{{if isEnum $a}}{{range $a.Enum}}
// Set{{goName $a.Key}}{{goName .}} sets "{{$a.Key}}={{.}}" attribute.
func (rb *ResourceBuilder) Set{{goName $a.Key}}{{goName .}}() {
	if rb.config.{{goName $a.Key}}.Enabled {
		rb.res.Attributes().PutStr({{quote $a.Key}}, {{quote .}})
	}
}
{{end}}{{else}}
// Set{{goName .}} sets provided value as "{{.}}" attribute.
func (rb *ResourceBuilder) Set{{goName .}}(val {{goType $a.Type}}) {
	if rb.config.{{goName .}}.Enabled {
		rb.res.Attributes().{{putFunc $a.Type}}({{quote .}}, val)
	}
}
{{end}}{{end}}
// Emit returns the built resource and resets the internal builder state.
func (rb *ResourceBuilder) Emit() pcommon.Resource {
	r := rb.res
	rb.res = pcommon.NewResource()
	return r
}
`

const telemetryTmpl = header + `
package metadata

import (
	"errors"

	"go.opentelemetry.io/otel/metric"

	"go.opentelemetry.io/collector/component"
)

// Meter returns the component's meter.
func Meter(settings component.TelemetrySettings) metric.Meter {
	return settings.MeterProvider.Meter({{quote .ScopeName}})
}

// TelemetryBuilder provides an interface for components to report telemetry
// as defined in metadata and user config.
type TelemetryBuilder struct {
	meter metric.Meter
{{- range .TelemetryNames}}{{$m := telemetry .}}
	{{goName .}} metric.{{if eq $m.ValueType "int"}}Int64{{else}}Float64{{end}}{{if $m.Gauge}}Gauge{{else if $m.Sum.Monotonic}}Counter{{else}}UpDownCounter{{end}}
{{- end}}
}

// TelemetryBuilderOption applies changes to default builder.
type TelemetryBuilderOption interface {
	apply(*TelemetryBuilder)
}

// NewTelemetryBuilder provides a struct with methods to update all internal telemetry
// for a component
func NewTelemetryBuilder(settings component.TelemetrySettings, options ...TelemetryBuilderOption) (*TelemetryBuilder, error) {
	builder := TelemetryBuilder{}
	for _, op := range options {
		op.apply(&builder)
	}
	builder.meter = Meter(settings)
	var err, errs error
{{- range .TelemetryNames}}{{$m := telemetry .}}
	builder.{{goName .}}, err = builder.meter.{{if eq $m.ValueType "int"}}Int64{{else}}Float64{{end}}{{if $m.Gauge}}Gauge{{else if $m.Sum.Monotonic}}Counter{{else}}UpDownCounter{{end}}(
		"otelcol_{{telemetryName .}}",
		metric.WithDescription({{quote $m.Description}}),
		metric.WithUnit({{quote $m.Unit}}),
	)
	errs = errors.Join(errs, err)
{{- end}}
	return &builder, errs
}
`
