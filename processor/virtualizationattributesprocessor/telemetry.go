package virtualizationattributesprocessor

import (
	"context"
	"sync/atomic"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

const scopeName = "github.com/otelcol-virt/otelcol-virt/processor/virtualizationattributesprocessor"

// telemetry holds the processor's own metrics (see documentation.md). Batches only add to
// atomic counters; the SDK reads them when it collects, so the hot path pays three atomic adds
// per batch, never an SDK call.
type telemetry struct {
	hit, miss, none atomic.Int64
	registration    metric.Registration
}

func newTelemetry(set component.TelemetrySettings) (*telemetry, error) {
	t := &telemetry{}
	m := set.MeterProvider.Meter(scopeName)
	c, err := m.Int64ObservableCounter("otelcol_processor_virtualization_attributes_associations",
		metric.WithDescription("Resources the processor tried to associate with a local instance, by result: hit (instance found), miss (identifying attributes but no instance known yet), none (no identifying attribute)."),
		metric.WithUnit("{resources}"))
	if err != nil {
		return nil, err
	}
	opt := func(r string) metric.ObserveOption {
		return metric.WithAttributeSet(attribute.NewSet(attribute.String("result", r)))
	}
	hit, miss, none := opt("hit"), opt("miss"), opt("none")
	t.registration, err = m.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		o.ObserveInt64(c, t.hit.Load(), hit)
		o.ObserveInt64(c, t.miss.Load(), miss)
		o.ObserveInt64(c, t.none.Load(), none)
		return nil
	}, c)
	if err != nil {
		return nil, err
	}
	return t, nil
}

// record adds one batch's results.
func (t *telemetry) record(_ context.Context, c counts) {
	if c.hit > 0 {
		t.hit.Add(c.hit)
	}
	if c.miss > 0 {
		t.miss.Add(c.miss)
	}
	if c.none > 0 {
		t.none.Add(c.none)
	}
}

func (t *telemetry) unregister() {
	if t.registration != nil {
		_ = t.registration.Unregister()
	}
}
