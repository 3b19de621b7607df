package virtualizationattributesprocessor

import (
	"context"
	"sync"
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
	s, err := acquire(cfg.(*Config), set)
	if err != nil {
		return nil, err
	}
	return processorhelper.NewTraces(ctx, set, cfg, next, s.p.processTraces,
		processorhelper.WithCapabilities(processorCapabilities),
		processorhelper.WithStart(s.start), processorhelper.WithShutdown(s.shutdown))
}

func createMetrics(ctx context.Context, set processor.Settings, cfg component.Config, next consumer.Metrics) (processor.Metrics, error) {
	s, err := acquire(cfg.(*Config), set)
	if err != nil {
		return nil, err
	}
	return processorhelper.NewMetrics(ctx, set, cfg, next, s.p.processMetrics,
		processorhelper.WithCapabilities(processorCapabilities),
		processorhelper.WithStart(s.start), processorhelper.WithShutdown(s.shutdown))
}

func createLogs(ctx context.Context, set processor.Settings, cfg component.Config, next consumer.Logs) (processor.Logs, error) {
	s, err := acquire(cfg.(*Config), set)
	if err != nil {
		return nil, err
	}
	return processorhelper.NewLogs(ctx, set, cfg, next, s.p.processLogs,
		processorhelper.WithCapabilities(processorCapabilities),
		processorhelper.WithStart(s.start), processorhelper.WithShutdown(s.shutdown))
}

// sharedProcessor lets every signal and pipeline of one configured processor share one host
// detection, one association cache and one lookup goroutine, as contrib's sharedcomponent does.
type sharedProcessor struct {
	p       *virtProcessor
	refs    int // created processors not shut down yet
	running int // started processors not shut down yet
}

var (
	sharedMu   sync.Mutex
	sharedProc = map[*Config]*sharedProcessor{}
)

func acquire(cfg *Config, set processor.Settings) (*sharedProcessor, error) {
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if s, ok := sharedProc[cfg]; ok {
		s.refs++
		return s, nil
	}
	p, err := newVirtProcessor(cfg, set)
	if err != nil {
		return nil, err
	}
	s := &sharedProcessor{p: p, refs: 1}
	sharedProc[cfg] = s
	return s, nil
}

func (s *sharedProcessor) start(ctx context.Context, host component.Host) error {
	sharedMu.Lock()
	defer sharedMu.Unlock()
	s.running++
	if s.running == 1 {
		return s.p.start(ctx, host)
	}
	return nil
}

func (s *sharedProcessor) shutdown(ctx context.Context) error {
	sharedMu.Lock()
	defer sharedMu.Unlock()
	var err error
	if s.running > 0 {
		s.running--
		if s.running == 0 {
			err = s.p.shutdown(ctx)
		}
	}
	if s.refs > 0 {
		s.refs--
	}
	if s.refs == 0 {
		for cfg, x := range sharedProc {
			if x == s {
				delete(sharedProc, cfg)
			}
		}
		if s.running == 0 {
			err = s.p.shutdown(ctx) // idempotent: also stops a processor that was never started
		}
	}
	return err
}
