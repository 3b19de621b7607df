package wasmruntimereceiver

import (
	"context"
	"errors"
	"sync"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/scraper"
	"go.opentelemetry.io/collector/scraper/scraperhelper"

	"github.com/otelcol-virt/otelcol-virt/internal/runtimelogs"
	"github.com/otelcol-virt/otelcol-virt/internal/threat"
)

// sharedReceivers holds one receiver per component id, whatever pipelines it is in: the
// Collector creates a receiver once per signal, and a metrics and a logs pipeline must not
// walk the host twice. The Collector's own receivers do the same (otlpreceiver's shared
// component map); here the map lives in the factory rather than in a package variable.
type sharedReceivers struct {
	mu  sync.Mutex
	ids map[component.ID]*sharedReceiver
}

func newSharedReceivers() *sharedReceivers {
	return &sharedReceivers{ids: map[component.ID]*sharedReceiver{}}
}

func (sr *sharedReceivers) get(set receiver.Settings, cfg *Config) *sharedReceiver {
	sr.mu.Lock()
	defer sr.mu.Unlock()
	r := sr.ids[set.ID]
	if r == nil {
		r = &sharedReceiver{cfg: cfg, set: set, owner: sr}
		sr.ids[set.ID] = r
	}
	return r
}

func (sr *sharedReceivers) createMetrics(_ context.Context, set receiver.Settings, cfg component.Config, next consumer.Metrics) (receiver.Metrics, error) {
	r := sr.get(set, cfg.(*Config))
	r.mu.Lock()
	defer r.mu.Unlock()
	r.metrics = next
	return &signal{r: r}, nil
}

func (sr *sharedReceivers) createLogs(_ context.Context, set receiver.Settings, cfg component.Config, next consumer.Logs) (receiver.Logs, error) {
	rCfg := cfg.(*Config)
	if len(rCfg.Logs.Sources) == 0 && !rCfg.Threats.Enabled {
		return nil, errors.New("wasm_runtime is in a logs pipeline without anything to emit: add logs.sources or set threats.enabled: true")
	}
	r := sr.get(set, rCfg)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.logs = next
	return &signal{r: r}, nil
}

// signal is what the Collector holds for one signal of a shared receiver.
type signal struct {
	r       *sharedReceiver
	started bool
}

func (s *signal) Start(ctx context.Context, host component.Host) error {
	if err := s.r.start(ctx, host); err != nil {
		return err
	}
	s.started = true
	return nil
}

func (s *signal) Shutdown(ctx context.Context) error {
	if !s.started {
		return nil
	}
	s.started = false
	return s.r.shutdown(ctx)
}

// sharedReceiver is one receiver id: one scraper and one scrape controller feeding the metrics
// pipeline, the threat rules and (through the inventory) the runtime logs.
type sharedReceiver struct {
	cfg   *Config
	set   receiver.Settings
	owner *sharedReceivers

	mu      sync.Mutex
	metrics consumer.Metrics
	logs    consumer.Logs
	refs    int
	parts   []component.Component
	scraper *scraperImpl
}

func (r *sharedReceiver) start(ctx context.Context, host component.Host) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.refs++
	if r.refs > 1 {
		return nil
	}
	if err := r.build(ctx); err != nil {
		r.refs = 0
		return err
	}
	// The scraper starts first: it finds the inventory (an extension, or its own) that the
	// controller's first scrape and the log resolver read.
	if err := r.scraper.start(ctx, host); err != nil {
		r.refs = 0
		return err
	}
	for i, c := range r.parts {
		if err := c.Start(ctx, host); err != nil {
			for _, started := range r.parts[:i] {
				_ = started.Shutdown(ctx)
			}
			_ = r.scraper.shutdown(ctx)
			r.refs = 0
			return err
		}
	}
	return nil
}

// build creates the parts once every signal of the id has been created (the Collector creates
// all components before it starts any).
func (r *sharedReceiver) build(ctx context.Context) error {
	var engine *threat.Engine
	if r.logs != nil && r.cfg.Threats.Enabled {
		var err error
		if engine, err = threat.NewEngine(r.cfg.Threats, r.set.MeterProvider.Meter(threat.ScopeName)); err != nil {
			return err
		}
	}
	s, err := newScraper(r.cfg, r.set, engine != nil)
	if err != nil {
		return err
	}
	r.scraper = s
	sc, err := scraper.NewMetrics(s.scrape)
	if err != nil {
		return err
	}
	fan := &fanout{s: s, metrics: r.metrics, logs: r.logs, engine: engine}
	if engine != nil {
		fan.sampler = threat.NewSampler()
	}
	next, err := consumer.NewMetrics(fan.consume)
	if err != nil {
		return err
	}
	ctrl, err := scraperhelper.NewMetricsController(&r.cfg.ControllerConfig, r.set, next, scraperhelper.AddMetricsScraper(Type, sc))
	if err != nil {
		return err
	}
	r.parts = []component.Component{ctrl}
	if r.logs != nil && len(r.cfg.Logs.Sources) > 0 {
		lr, err := runtimelogs.NewLogsReceiver(ctx, r.set, &r.cfg.Logs, s.logResolver(), r.logs)
		if err != nil {
			return err
		}
		r.parts = append(r.parts, lr)
	}
	return nil
}

func (r *sharedReceiver) shutdown(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.refs--
	if r.refs > 0 {
		return nil
	}
	var errs []error
	for i := len(r.parts) - 1; i >= 0; i-- {
		errs = append(errs, r.parts[i].Shutdown(ctx))
	}
	if r.scraper != nil {
		errs = append(errs, r.scraper.shutdown(ctx))
	}
	r.parts, r.scraper = nil, nil
	r.owner.mu.Lock()
	delete(r.owner.ids, r.set.ID)
	r.owner.mu.Unlock()
	return errors.Join(errs...)
}

// fanout hands each scrape to the threat rules (which read every metric they need) and then to
// the metrics pipeline (with only the metrics the user enabled).
type fanout struct {
	s       *scraperImpl
	metrics consumer.Metrics
	logs    consumer.Logs
	engine  *threat.Engine
	sampler *threat.Sampler
}

func (f *fanout) consume(ctx context.Context, md pmetric.Metrics) error {
	var errs []error
	if f.engine != nil {
		now := f.s.lastScrape
		logs, _ := f.engine.Evaluate(ctx, now, f.sampler.SamplesKeyed(md, f.s.lastKeys, now))
		if logs.LogRecordCount() > 0 {
			errs = append(errs, f.logs.ConsumeLogs(ctx, logs))
		}
	}
	if f.metrics != nil {
		f.s.dropUnrequested(md)
		errs = append(errs, f.metrics.ConsumeMetrics(ctx, md))
	}
	return errors.Join(errs...)
}
