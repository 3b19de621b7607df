package virtualizationattributesprocessor

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processorhelper"
)

const stability = component.StabilityLevelDevelopment

// Type is the component type of the processor.
var Type = component.MustNewType("virtualization_attributes")

var processorCapabilities = consumer.Capabilities{MutatesData: true}

// NewFactory returns the factory of the virtualization_attributes processor.
func NewFactory() processor.Factory {
	return processor.NewFactory(Type, createDefaultConfig,
		processor.WithTraces(createTraces, stability),
		processor.WithMetrics(createMetrics, stability),
		processor.WithLogs(createLogs, stability))
}

func createDefaultConfig() component.Config {
	return &Config{
		RefreshInterval: 5 * time.Minute,
		Association: AssociationConfig{
			Sources:        []string{SourceContainerID, SourcePodUID, SourceProcessPID, SourceServiceInstanceID},
			RegistryMaxAge: 2 * time.Minute,
			Lookup:         true,
			CacheSize:      4096,
			CacheTTL:       time.Minute,
			MaxProcesses:   8192,
			RescanInterval: 10 * time.Second,
		},
		ResourceAttributes: DefaultResourceAttributesConfig(),
	}
}

func createTraces(ctx context.Context, set processor.Settings, cfg component.Config, next consumer.Traces) (processor.Traces, error) {
	p, err := newVirtProcessor(cfg.(*Config), set)
	if err != nil {
		return nil, err
	}
	return processorhelper.NewTraces(ctx, set, cfg, next, p.processTraces,
		processorhelper.WithCapabilities(processorCapabilities),
		processorhelper.WithStart(p.start), processorhelper.WithShutdown(p.shutdown))
}

func createMetrics(ctx context.Context, set processor.Settings, cfg component.Config, next consumer.Metrics) (processor.Metrics, error) {
	p, err := newVirtProcessor(cfg.(*Config), set)
	if err != nil {
		return nil, err
	}
	return processorhelper.NewMetrics(ctx, set, cfg, next, p.processMetrics,
		processorhelper.WithCapabilities(processorCapabilities),
		processorhelper.WithStart(p.start), processorhelper.WithShutdown(p.shutdown))
}

func createLogs(ctx context.Context, set processor.Settings, cfg component.Config, next consumer.Logs) (processor.Logs, error) {
	p, err := newVirtProcessor(cfg.(*Config), set)
	if err != nil {
		return nil, err
	}
	return processorhelper.NewLogs(ctx, set, cfg, next, p.processLogs,
		processorhelper.WithCapabilities(processorCapabilities),
		processorhelper.WithStart(p.start), processorhelper.WithShutdown(p.shutdown))
}
