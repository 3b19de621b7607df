package wasmruntimereceiver

import (
	"context"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/receiver"
)

type wasmRuntimeScraper struct {
	cfg      *Config
	settings receiver.Settings
}

func newScraper(cfg *Config, set receiver.Settings) *wasmRuntimeScraper {
	return &wasmRuntimeScraper{cfg: cfg, settings: set}
}

func (s *wasmRuntimeScraper) start(context.Context, component.Host) error { return nil }

func (s *wasmRuntimeScraper) shutdown(context.Context) error { return nil }

func (s *wasmRuntimeScraper) scrape(context.Context) (pmetric.Metrics, error) {
	return pmetric.NewMetrics(), nil
}
