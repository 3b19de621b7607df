package wasmruntimereceiver

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/scraper"
	"go.opentelemetry.io/collector/scraper/scraperhelper"

	"github.com/otelcol-virt/otelcol-virt/internal/runtimelogs"
	"github.com/otelcol-virt/otelcol-virt/internal/threat"
	"github.com/otelcol-virt/otelcol-virt/receiver/wasmruntimereceiver/internal/metadata"
)

const stability = component.StabilityLevelDevelopment

// Type is the component type of the receiver.
var Type = metadata.Type

// NewFactory returns the factory of the wasm_runtime receiver.
func NewFactory() receiver.Factory {
	return receiver.NewFactory(Type, createDefaultConfig, receiver.WithMetrics(createMetrics, stability), receiver.WithLogs(createLogs, stability))
}

// defaultMaxOpenFiles covers the per-scrape files of about 2,000 instances (8 each) or a host
// with that many processes; start lowers it to a quarter of the descriptor limit when needed.
const defaultMaxOpenFiles = 16384

func createDefaultConfig() component.Config {
	cc := scraperhelper.NewDefaultControllerConfig()
	cc.CollectionInterval = 10 * time.Second
	return &Config{
		ControllerConfig:   cc,
		MaxOpenFiles:       defaultMaxOpenFiles,
		Metrics:            metadata.DefaultMetricsConfig(),
		ResourceAttributes: metadata.DefaultResourceAttributesConfig(),
		Logs:               runtimelogs.NewDefaultConfig(),
		Threats:            threat.NewDefaultConfig(),
	}
}

func createMetrics(_ context.Context, set receiver.Settings, cfg component.Config, next consumer.Metrics) (receiver.Metrics, error) {
	rCfg := cfg.(*Config)
	s := newScraper(rCfg, set)
	sc, err := scraper.NewMetrics(s.scrape, scraper.WithStart(s.start), scraper.WithShutdown(s.shutdown))
	if err != nil {
		return nil, err
	}
	return scraperhelper.NewMetricsController(&rCfg.ControllerConfig, set, next, scraperhelper.AddMetricsScraper(Type, sc))
}
