package wasmruntimereceiver

import (
	"context"
	"errors"
	"maps"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/scraper"
	"go.opentelemetry.io/collector/scraper/scraperhelper"

	"github.com/otelcol-virt/otelcol-virt/internal/registry"
	"github.com/otelcol-virt/otelcol-virt/internal/runtimelogs"
	"github.com/otelcol-virt/otelcol-virt/internal/threat"
	"github.com/otelcol-virt/otelcol-virt/receiver/wasmruntimereceiver/internal/metadata"
)

// createLogs builds the logs signal of the receiver: the runtimes' own log files (logs.sources)
// and the threat events (threats), each present when configured.
func createLogs(ctx context.Context, set receiver.Settings, cfg component.Config, next consumer.Logs) (receiver.Logs, error) {
	rCfg := cfg.(*Config)
	var parts multiReceiver
	if len(rCfg.Logs.Sources) > 0 {
		r, err := runtimelogs.NewLogsReceiver(ctx, set, &rCfg.Logs, runtimelogs.RegistryResolver(registry.Shared()), next)
		if err != nil {
			return nil, err
		}
		parts = append(parts, r)
	}
	// The scrape also runs discovery, which publishes the instances the log sources' resolver
	// joins records to; with threats disabled it only does that.
	if rCfg.Threats.Enabled || len(rCfg.Logs.Sources) > 0 {
		r, err := newThreatReceiver(set, rCfg, next)
		if err != nil {
			return nil, err
		}
		parts = append(parts, r)
	}
	if len(parts) == 0 {
		return nil, errors.New("wasm_runtime is in a logs pipeline without anything to emit: add logs.sources or set threats.enabled: true")
	}
	return parts, nil
}

// newThreatReceiver scrapes on the receiver's interval with the metrics the rules read enabled,
// whatever the metrics pipeline exports, and hands each scrape to the rules instead of a metrics
// pipeline; the events go to next.
func newThreatReceiver(set receiver.Settings, cfg *Config, next consumer.Logs) (receiver.Logs, error) {
	engine, err := threat.NewEngine(cfg.Threats, set.MeterProvider.Meter(threat.ScopeName))
	if err != nil {
		return nil, err
	}
	events, err := threat.NewMetricsConsumer(engine, next, nil)
	if err != nil {
		return nil, err
	}
	tCfg := *cfg
	tCfg.Metrics = maps.Clone(cfg.Metrics)
	for _, name := range cfg.Threats.RequiredMetrics() {
		tCfg.Metrics[name] = metadata.MetricConfig{Enabled: true}
	}
	tCfg.ResourceAttributes = maps.Clone(cfg.ResourceAttributes)
	tCfg.ResourceAttributes["wasm_runtime.instance.id"] = metadata.ResourceAttributeConfig{Enabled: true}
	s := newScraper(&tCfg, set)
	sc, err := scraper.NewMetrics(s.scrape, scraper.WithStart(s.start), scraper.WithShutdown(s.shutdown))
	if err != nil {
		return nil, err
	}
	return scraperhelper.NewMetricsController(&cfg.ControllerConfig, set, events, scraperhelper.AddMetricsScraper(Type, sc))
}

// multiReceiver starts and stops its parts together.
type multiReceiver []component.Component

func (m multiReceiver) Start(ctx context.Context, host component.Host) error {
	for i, c := range m {
		if err := c.Start(ctx, host); err != nil {
			for _, started := range m[:i] {
				_ = started.Shutdown(ctx)
			}
			return err
		}
	}
	return nil
}

func (m multiReceiver) Shutdown(ctx context.Context) error {
	var errs []error
	for _, c := range m {
		errs = append(errs, c.Shutdown(ctx))
	}
	return errors.Join(errs...)
}
