package wasmruntimereceiver

import (
	"context"
	"fmt"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/scraper/scrapererror"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/otelcol-virt/otelcol-virt/internal/cgroup"
	"github.com/otelcol-virt/otelcol-virt/internal/inventory"
	"github.com/otelcol-virt/otelcol-virt/internal/linuxfs"
	m "github.com/otelcol-virt/otelcol-virt/receiver/wasmruntimereceiver/internal/metadata"
)

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat and cpuacct.stat times; 100 on every
// Linux architecture the collector ships for.
const clockTicks = 100

// scraperImpl reads the figures of the inventory's instances. The inventory says which
// instances exist and which processes and cgroups make each; the scraper reads their cgroup and
// per-process files. It runs on the scrape controller's goroutine only.
type scraperImpl struct {
	cfg      *Config
	settings receiver.Settings
	logger   *zap.Logger
	// enabled is the metric set the scrape records: the user's plus what the threat rules read;
	// requested is the user's, what the metrics pipeline gets.
	enabled, requested m.MetricsBuilderConfig
	mb                 *m.MetricsBuilder
	rb                 *m.ResourceBuilder
	tb                 *m.TelemetryBuilder

	inv     *inventory.Inventory
	ownsInv bool
	r       *linuxfs.Reader
	errs    linuxfs.Tally
	pageSz  int64
	started pcommon.Timestamp

	snap       *inventory.Snapshot
	states     map[string]*instState
	procs      map[int]*procCache
	dirLimits  map[limitKey]*dirLimits
	limitWatch limitWatch
	dirs       linuxfs.JoinCache // cgroup directories joined once for every scrape that reads them
	devices    deviceNames
	netns      netnsScratch
	lm         linearMemories
	vm         vmParts
	lastKeys   []string // instance key of each resource of the last scrape, for the threat rules
	kept       []int
	cgBuf      []*cgroup.Paths
	lastScrape time.Time
	gen        uint64
	// maxAge is how old a snapshot may be for this scrape to use it rather than walk: half
	// the collection interval, so that one walk serves every consumer of an interval.
	maxAge   time.Duration
	reported [linuxfs.NumReasons]int64 // errors already added to the telemetry counter
}

func newScraper(cfg *Config, set receiver.Settings, threats bool) (*scraperImpl, error) {
	s := &scraperImpl{
		cfg:       cfg,
		settings:  set,
		logger:    set.Logger,
		requested: cfg.MetricsBuilderConfig,
		enabled:   cfg.MetricsBuilderConfig,
		r:         linuxfs.New(cfg.MaxOpenFiles),
		pageSz:    int64(pageSize()),
		states:    map[string]*instState{},
		procs:     map[int]*procCache{},
		dirLimits: map[limitKey]*dirLimits{},
		maxAge:    cfg.CollectionInterval / 2,
	}
	if s.logger == nil {
		s.logger = zap.NewNop()
	}
	if threats {
		for _, name := range cfg.Threats.RequiredMetrics() {
			if !s.enabled.Metrics.SetEnabled(name, true) {
				return nil, fmt.Errorf("threats: rule needs metric %s, which this receiver does not have", name)
			}
		}
	}
	s.vm.sources = newVMSources(&cfg.VM)
	s.mb = m.NewMetricsBuilder(s.enabled, set)
	s.rb = s.mb.NewResourceBuilder()
	tb, err := m.NewTelemetryBuilder(set.TelemetrySettings)
	if err != nil {
		return nil, err
	}
	s.tb = tb
	return s, nil
}

// start finds the inventory: the instance_inventory extension the config names, or one of the
// receiver's own.
func (s *scraperImpl) start(ctx context.Context, host component.Host) error {
	s.started = pcommon.NewTimestampFromTime(time.Now())
	linuxfs.RefreshDescriptorBudget()
	s.limitWatch.start(s.logger)
	if id := s.cfg.Inventory; id != nil {
		ext, ok := host.GetExtensions()[*id]
		if !ok {
			return fmt.Errorf("inventory: extension %s is not configured; add it under extensions and service::extensions, or remove inventory to let the receiver discover instances itself", id)
		}
		p, ok := ext.(inventory.Provider)
		if !ok {
			return fmt.Errorf("inventory: extension %s is not an instance_inventory extension", id)
		}
		s.inv = p.Inventory()
		return nil
	}
	s.inv = inventory.New(inventory.Config{RootPath: s.cfg.RootPath, Runtimes: s.cfg.Runtimes, MaxOpenFiles: s.cfg.MaxOpenFiles, Containers: s.cfg.Containers}, s.logger)
	s.ownsInv = true
	return s.inv.Start(ctx)
}

func (s *scraperImpl) shutdown(context.Context) error {
	s.r.CloseAll()
	s.limitWatch.close()
	s.vm.sources.close()
	if s.ownsInv && s.inv != nil {
		s.inv.Close()
	}
	return nil
}

// scrape takes the inventory's snapshot of this interval (walking the host if no other
// consumer did) and records every instance's figures.
func (s *scraperImpl) scrape(ctx context.Context) (pmetric.Metrics, error) {
	now := time.Now()
	s.gen++
	snap, err := s.inv.Acquire(now, s.maxAge)
	if err != nil {
		return pmetric.NewMetrics(), err
	}
	s.snap = snap
	s.lastScrape = now
	s.r.BeginPass()
	defer s.r.EndPass()
	s.r.ShrinkBuffer()
	s.drainLimitChanges(now)
	readsBefore := s.r.Reads()
	ts := pcommon.NewTimestampFromTime(now)
	s.lastKeys = s.lastKeys[:0]
	s.kept = s.kept[:0]
	for i := range snap.Instances {
		if s.keep(&snap.Instances[i]) {
			s.kept = append(s.kept, i)
		}
	}
	s.netns.begin()
	s.vmBegin(ctx, snap)
	if s.mb.Enabled("wasm_runtime.connection.count") {
		s.countConnections(snap, s.kept)
	}
	for _, i := range s.kept {
		in := &snap.Instances[i]
		st := s.stateOf(in.Key)
		s.scrapeInstance(in, st, now, ts)
		s.mb.EmitForResource(m.WithResource(s.cachedResource(in, st)))
		s.lastKeys = append(s.lastKeys, in.Key)
	}
	if s.cfg.VM.Xen.Enabled {
		s.lastKeys = s.scrapeXen(ctx, ts, s.lastKeys)
	}
	n := len(s.lastKeys)
	s.netns.end()
	for key, st := range s.states {
		if st.gen != s.gen {
			delete(s.states, key)
		}
	}
	for pid, pc := range s.procs {
		if pc.gen != s.gen {
			delete(s.procs, pid)
		}
	}
	s.dirs.EndPass()
	md := s.mb.Emit()
	if s.r.NewlyFull() {
		s.logger.Warn("the open-file cache is full: the files beyond it are reopened at every scrape, which costs CPU; raise the descriptor limit (LimitNOFILE, ulimit -n) or max_open_files",
			zap.Int("open_files", s.r.OpenFiles()), zap.Int("max_open_files", s.r.MaxOpen))
	}
	s.telemetry(ctx, n, s.r.Reads()-readsBefore)
	return md, s.endPass(now)
}

// keep applies include and exclude.
func (s *scraperImpl) keep(in *inventory.Instance) bool {
	kind, rt := in.Identity.Kind, in.Identity.Runtime
	if !s.cfg.Include.empty() && !s.cfg.Include.matches(kind, rt) {
		return false
	}
	return !s.cfg.Exclude.matches(kind, rt)
}

func (s *scraperImpl) stateOf(key string) *instState {
	st := s.states[key]
	if st == nil {
		st = &instState{}
		s.states[key] = st
	}
	st.gen = s.gen
	return st
}

// endPass logs this scrape's failed reads (one line per reason, rate limited) and returns them
// as a partial scrape error, so that the Collector's otelcol_scraper_errored_metric_points
// counts them; vanished processes are churn, not errors.
func (s *scraperImpl) endPass(now time.Time) error {
	pass := s.errs.Pass()
	err := s.errs.PassError()
	s.errs.EndPass(s.logger, now, "reads failed during scrape; the instances are reported with what could be read")
	if err == nil {
		return nil
	}
	failed := 0
	for r, n := range pass {
		if linuxfs.Reason(r) != linuxfs.Vanished {
			failed += int(n)
		}
	}
	return scrapererror.NewPartialScrapeError(err, failed)
}

// telemetry records the receiver's own metrics through the collector's meter provider.
func (s *scraperImpl) telemetry(ctx context.Context, instances int, reads int64) {
	s.tb.WasmRuntimeScrapeInstances.Record(ctx, int64(instances))
	s.tb.WasmRuntimeScrapeFileReads.Add(ctx, reads)
	// A receiver with an inventory of its own reports the walk's failed reads too; a shared
	// inventory's are the extension's to report.
	total := s.errs.Total
	if s.ownsInv {
		inv := s.inv.Errors()
		for r := range total {
			total[r] += inv[r]
		}
	}
	for r := linuxfs.Reason(0); r < linuxfs.NumReasons; r++ {
		if d := total[r] - s.reported[r]; d > 0 {
			s.tb.WasmRuntimeScrapeErrors.Add(ctx, d, metric.WithAttributes(attribute.String("wasm_runtime.error.reason", r.String())))
		}
	}
	s.reported = total
}

// dropUnrequested removes from md the metrics only the threat rules asked for.
func (s *scraperImpl) dropUnrequested(md pmetric.Metrics) {
	if s.enabled == s.requested {
		return
	}
	md.ResourceMetrics().RemoveIf(func(rm pmetric.ResourceMetrics) bool {
		rm.ScopeMetrics().RemoveIf(func(sm pmetric.ScopeMetrics) bool {
			sm.Metrics().RemoveIf(func(mt pmetric.Metric) bool { return !s.requested.Metrics.IsEnabled(mt.Name()) })
			return sm.Metrics().Len() == 0
		})
		return rm.ScopeMetrics().Len() == 0
	})
}
