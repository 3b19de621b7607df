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
	f, _ := newFactory()
	return f
}

// newFactory returns a factory and its shared processors: they belong to this factory, so two
// collectors in one process never share a host detection or an association cache.
func newFactory() (processor.Factory, *sharedProcessors) {
	sp := &sharedProcessors{byCfg: map[*Config]*sharedProcessor{}}
	return processor.NewFactory(Type, createDefaultConfig,
		processor.WithTraces(sp.createTraces, stability),
		processor.WithMetrics(sp.createMetrics, stability),
		processor.WithLogs(sp.createLogs, stability)), sp
}

// sharedProcessors maps each configured processor to its shared state.
type sharedProcessors struct {
	mu    sync.Mutex
	byCfg map[*Config]*sharedProcessor
}

func createDefaultConfig() component.Config {
	return &Config{
		RefreshInterval: 5 * time.Minute,
		Association: AssociationConfig{
			Sources:         []string{SourceContainerID, SourcePodUID, SourceProcessPID, SourceServiceInstanceID},
			InventoryMaxAge: 2 * time.Minute,
			Lookup:          true,
			CacheSize:       4096,
			CacheTTL:        time.Minute,
			MaxProcesses:    8192,
			RescanInterval:  10 * time.Second,
		},
		ResourceAttributes: DefaultResourceAttributesConfig(),
	}
}

func (f *sharedProcessors) createTraces(ctx context.Context, set processor.Settings, cfg component.Config, next consumer.Traces) (processor.Traces, error) {
	s, err := f.acquire(cfg.(*Config), set)
	if err != nil {
		return nil, err
	}
	return processorhelper.NewTraces(ctx, set, cfg, next, s.p.processTraces,
		processorhelper.WithCapabilities(processorCapabilities),
		processorhelper.WithStart(s.start), processorhelper.WithShutdown(s.shutdown))
}

func (f *sharedProcessors) createMetrics(ctx context.Context, set processor.Settings, cfg component.Config, next consumer.Metrics) (processor.Metrics, error) {
	s, err := f.acquire(cfg.(*Config), set)
	if err != nil {
		return nil, err
	}
	return processorhelper.NewMetrics(ctx, set, cfg, next, s.p.processMetrics,
		processorhelper.WithCapabilities(processorCapabilities),
		processorhelper.WithStart(s.start), processorhelper.WithShutdown(s.shutdown))
}

func (f *sharedProcessors) createLogs(ctx context.Context, set processor.Settings, cfg component.Config, next consumer.Logs) (processor.Logs, error) {
	s, err := f.acquire(cfg.(*Config), set)
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
	owner   *sharedProcessors
	p       *virtProcessor
	refs    int // created processors not shut down yet
	running int // started processors not shut down yet
}

func (f *sharedProcessors) acquire(cfg *Config, set processor.Settings) (*sharedProcessor, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if s, ok := f.byCfg[cfg]; ok {
		s.refs++
		return s, nil
	}
	p, err := newVirtProcessor(cfg, set)
	if err != nil {
		return nil, err
	}
	s := &sharedProcessor{owner: f, p: p, refs: 1}
	f.byCfg[cfg] = s
	return s, nil
}

func (s *sharedProcessor) start(ctx context.Context, host component.Host) error {
	s.owner.mu.Lock()
	defer s.owner.mu.Unlock()
	s.running++
	if s.running == 1 {
		return s.p.start(ctx, host)
	}
	return nil
}

func (s *sharedProcessor) shutdown(ctx context.Context) error {
	s.owner.mu.Lock()
	defer s.owner.mu.Unlock()
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
		for cfg, x := range s.owner.byCfg {
			if x == s {
				delete(s.owner.byCfg, cfg)
			}
		}
		if s.running == 0 {
			err = s.p.shutdown(ctx) // idempotent: also stops a processor that was never started
		}
	}
	return err
}
