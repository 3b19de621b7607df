package wasmruntimereceiver

import (
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/scraper/scraperhelper"

	"github.com/otelcol-virt/otelcol-virt/internal/runtimelogs"
	"github.com/otelcol-virt/otelcol-virt/internal/threat"
	"github.com/otelcol-virt/otelcol-virt/receiver/wasmruntimereceiver/internal/metadata"
)

// Type is the component type of the receiver.
var Type = metadata.Type

// NewFactory returns the factory of the wasm_runtime receiver. One receiver id in a metrics and
// a logs pipeline is one receiver: both signals share one scrape per interval (see
// shared.go). The map of shared receivers belongs to this factory, so two collectors in one
// process never share instances.
func NewFactory() receiver.Factory {
	shared := newSharedReceivers()
	return receiver.NewFactory(Type, createDefaultConfig,
		receiver.WithMetrics(shared.createMetrics, metadata.MetricsStability),
		receiver.WithLogs(shared.createLogs, metadata.LogsStability))
}

// defaultMaxOpenFiles covers the per-scrape files of about 2,000 instances (8 each) or a host
// with that many processes; start lowers it to a quarter of the descriptor limit when needed.
const defaultMaxOpenFiles = 16384

func createDefaultConfig() component.Config {
	cc := scraperhelper.NewDefaultControllerConfig()
	cc.CollectionInterval = 10 * time.Second
	return &Config{
		ControllerConfig:     cc,
		MetricsBuilderConfig: metadata.DefaultMetricsBuilderConfig(),
		MaxOpenFiles:         defaultMaxOpenFiles,
		LinearMemory:         defaultLinearMemoryConfig(),
		VM:                   defaultVMConfig(),
		Logs:                 runtimelogs.NewDefaultConfig(),
		Threats:              threat.NewDefaultConfig(),
	}
}
