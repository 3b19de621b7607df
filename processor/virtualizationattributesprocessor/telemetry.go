package virtualizationattributesprocessor

import (
	"context"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

const scopeName = "github.com/otelcol-virt/otelcol-virt/processor/virtualizationattributesprocessor"

// telemetry holds the processor's own metrics (see documentation.md).
type telemetry struct {
	associations metric.Int64Counter
	hit, miss    metric.MeasurementOption
	none         metric.MeasurementOption
}

func newTelemetry(set component.TelemetrySettings) (*telemetry, error) {
	m := set.MeterProvider.Meter(scopeName)
	c, err := m.Int64Counter("otelcol_processor_virtualization_attributes_associations",
		metric.WithDescription("Resources the processor tried to associate with a local instance, by result: hit (instance found), miss (identifying attributes but no instance known yet), none (no identifying attribute)."),
		metric.WithUnit("{resources}"))
	if err != nil {
		return nil, err
	}
	opt := func(r string) metric.MeasurementOption {
		return metric.WithAttributeSet(attribute.NewSet(attribute.String("result", r)))
	}
	return &telemetry{associations: c, hit: opt("hit"), miss: opt("miss"), none: opt("none")}, nil
}

// record adds one batch's results: three calls per batch at most, never one per resource.
func (t *telemetry) record(ctx context.Context, c counts) {
	if c.hit > 0 {
		t.associations.Add(ctx, c.hit, t.hit)
	}
	if c.miss > 0 {
		t.associations.Add(ctx, c.miss, t.miss)
	}
	if c.none > 0 {
		t.associations.Add(ctx, c.none, t.none)
	}
}
