package edgeprofileextension

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

func (e *edgeProfile) registerMetrics() error {
	meter := e.settings.MeterProvider.Meter("github.com/otelcol-virt/otelcol-virt/extension/edgeprofileextension")
	var err error
	e.switches, err = meter.Int64Counter("otelcol_edge_profile_switches",
		metric.WithDescription("Switches of the active edge_profile preset, by previous and new preset and by source (config, state, control, file, auto, opamp)."),
		metric.WithUnit("{switch}"))
	if err != nil {
		return err
	}
	active, err := meter.Int64ObservableGauge("otelcol_edge_profile_active",
		metric.WithDescription("1 for the active edge_profile preset, 0 for the others."),
		metric.WithUnit("1"))
	if err != nil {
		return err
	}
	e.metricReg, err = meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		cur := e.Active()
		for _, name := range e.Presets() {
			v := int64(0)
			if name == cur {
				v = 1
			}
			o.ObserveInt64(active, v, metric.WithAttributes(attribute.String("profile", name)))
		}
		return nil
	}, active)
	return err
}
