package virtualizationattributesprocessor

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor"
	"go.uber.org/zap"

	"github.com/otelcol-virt/otelcol-virt/internal/catalog"
	"github.com/otelcol-virt/otelcol-virt/internal/inventory"
	"github.com/otelcol-virt/otelcol-virt/internal/linuxfs"
	"github.com/otelcol-virt/otelcol-virt/internal/virtdetect"
)

// resolverQueue bounds the association requests waiting for the lookup goroutine; beyond it a
// miss is simply retried on a later batch.
const resolverQueue = 256

type virtProcessor struct {
	cfg    *Config
	logger *zap.Logger
	fs     virtdetect.FS
	cpu    virtdetect.CPUID
	inv    atomic.Pointer[inventory.Inventory]
	cat    *catalog.Catalog
	reader *linuxfs.Reader // the lookup goroutine's
	tel    *telemetry
	warn   *rateLimitedWarn

	host atomic.Pointer[hostAttrs]

	cache   *assocCache
	reqs    chan cacheKey
	pending sync.Map // cacheKey -> struct{}: queued, not resolved yet
	index   *localIndex

	useConnection bool
	// kernelVM and kernelSandbox are the instance layers of the kernel-release heuristic.
	kernelVM, kernelSandbox *instanceInfo

	stop chan struct{}
	wg   sync.WaitGroup
}

func newVirtProcessor(cfg *Config, set processor.Settings) (*virtProcessor, error) {
	return newVirtProcessorWithCPUID(cfg, set, virtdetect.HostCPUID{})
}

// newVirtProcessorWithCPUID lets fixtures supply the CPUID vendor of the machine they come from.
func newVirtProcessorWithCPUID(cfg *Config, set processor.Settings, cpu virtdetect.CPUID) (*virtProcessor, error) {
	tel, err := newTelemetry(set.TelemetrySettings)
	if err != nil {
		return nil, err
	}
	p := &virtProcessor{
		cfg:    cfg,
		logger: set.Logger,
		fs:     virtdetect.NewFS(cfg.RootPath),
		cpu:    cpu,
		cat:    catalog.New(nil),
		reader: linuxfs.New(0),
		tel:    tel,
		warn:   &rateLimitedWarn{logger: set.Logger, every: time.Minute},
		cache:  newAssocCache(cfg.Association.CacheSize),
		reqs:   make(chan cacheKey, resolverQueue),
		stop:   make(chan struct{}),
	}
	p.useConnection = contains(cfg.Association.Sources, SourceConnection)
	if cfg.Association.KernelReleaseHeuristic {
		p.kernelVM = newInstanceInfo(catalog.KindVM, "", "", cfg.ResourceAttributes)
		p.kernelSandbox = newInstanceInfo(catalog.KindSandbox, "gvisor", "", cfg.ResourceAttributes)
	}
	// Detect now so that a processor is never without its host layer, even before Start.
	p.host.Store(p.detect())
	return p, nil
}

func (p *virtProcessor) detect() *hostAttrs {
	return buildHostAttrs(virtdetect.Detect(p.fs, p.cpu), p.cfg.Declared, p.cfg.ResourceAttributes)
}

func (p *virtProcessor) start(_ context.Context, host component.Host) error {
	inv, err := findInventory(p.cfg.Inventory, host)
	if err != nil {
		return err
	}
	if inv != nil {
		p.inv.Store(inv)
		p.cat = inv.Catalog() // the receivers' user-defined runtimes name processes the same way here
	} else if p.cfg.Association.Lookup {
		p.logger.Info("no instance_inventory extension: instances are looked up by reading /proc on demand; add the extension to share one inventory with the wasm_runtime receiver")
	}
	if !p.fs.Exists("/proc/self") && !p.fs.Exists("/proc/1") {
		p.logger.Warn("root_path has no /proc: host detection sees only CPUID and the instance lookup finds nothing; mount the host's / there (e.g. hostPath / at /hostfs)",
			zap.String("root_path", p.fs.Root()))
	}
	ha := p.host.Load()
	p.logger.Info("Host isolation layers detected", zap.String("layers", ha.summary()),
		zap.String("isolation_level", ha.host.IsolationLevel), zap.String("confidence", string(ha.host.Confidence)))
	// Why: the signals behind each layer, once at start, so an operator can check the answer.
	p.logger.Info("Host isolation evidence", zap.Strings("evidence", layerEvidence(ha.host)))
	if p.cfg.RefreshInterval > 0 {
		p.wg.Add(1)
		go p.refreshLoop()
	}
	if p.cfg.Association.Lookup {
		p.wg.Add(1)
		go p.resolveLoop()
	}
	return nil
}

func (p *virtProcessor) shutdown(context.Context) error {
	select {
	case <-p.stop:
	default:
		close(p.stop)
	}
	p.wg.Wait()
	p.tel.unregister()
	return nil
}

func (p *virtProcessor) refreshLoop() {
	defer p.wg.Done()
	t := time.NewTicker(p.cfg.RefreshInterval)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
			old, ha := p.host.Load(), p.detect()
			if old.summary() != ha.summary() {
				p.logger.Info("Host isolation layers changed", zap.String("from", old.summary()), zap.String("to", ha.summary()))
			}
			p.host.Store(ha)
		}
	}
}

func (p *virtProcessor) resolveLoop() {
	defer p.wg.Done()
	for {
		select {
		case <-p.stop:
			return
		case k := <-p.reqs:
			info := p.lookup(k)
			ttl := p.cfg.Association.CacheTTL
			if info == nil {
				ttl /= 4 // a process may appear soon: retry misses sooner
			}
			p.cache.put(k, cacheEntry{info: info, expires: time.Now().Add(ttl).UnixNano()})
			p.pending.Delete(k)
		}
	}
}

// associate finds the instance of a resource without blocking: registry and cache answer now,
// anything else is queued for the lookup goroutine and answered on a later batch.
func (p *virtProcessor) associate(attrs pcommon.Map, b *batch) (*instanceInfo, bool) {
	snap, now := b.snap, b.now
	tried := false
	for _, src := range p.cfg.Association.Sources {
		k, ok := cacheKey{}, false
		if src == SourceConnection {
			k, ok = b.conn, b.hasConn
		} else {
			k, ok = keyFor(src, attrs)
		}
		if !ok {
			continue
		}
		tried = true
		e, cached := p.cache.get(k)
		if snap != nil && k.kind != keyConnection {
			switch {
			case cached && e.snap == snap:
				if e.info != nil {
					return e.info, true
				}
			case cached && e.regMiss == snap:
				// This snapshot was asked already and does not know k: skip its maps until the next one.
			default:
				if in := lookupSnapshot(snap, k); in != nil {
					info := infoOf(in, p.cfg.ResourceAttributes)
					p.cache.put(k, cacheEntry{info: info, snap: snap})
					return info, true
				}
				if cached && e.snap == nil {
					e.regMiss = snap
					p.cache.put(k, e)
				}
			}
		}
		if cached && e.snap == nil && e.expires > now {
			if e.info != nil {
				return e.info, true
			}
			continue // known miss, until it expires
		}
		if p.cfg.Association.Lookup {
			if _, queued := p.pending.LoadOrStore(k, struct{}{}); !queued {
				select {
				case p.reqs <- k:
				default:
					p.pending.Delete(k) // queue full: try again with a later batch
				}
			}
		}
	}
	return nil, tried
}

// enrich adds the host and instance attributes to one resource.
func (p *virtProcessor) enrich(res pcommon.Resource, b *batch) {
	ha, c := b.host, &b.counts
	attrs := res.Attributes()
	info, tried := p.associate(attrs, b)
	switch {
	case info != nil:
		c.hit++
	case tried:
		c.miss++
	default:
		c.none++
	}
	if info == nil && p.kernelVM != nil {
		info = p.ownKernel(attrs, ha.host.KernelRelease) // a guess, not an association: not counted
	}
	n := len(ha.strs) + len(ha.compat) + len(ha.insertOnly) + 3
	if info != nil {
		n += len(info.strs) + len(info.compat)
	}
	attrs.EnsureCapacity(attrs.Len() + n)
	if info != nil {
		p.putAll(attrs, info.strs)
		p.putAll(attrs, info.compat)
	}
	p.putAll(attrs, ha.strs)
	if info == nil || len(info.compat) == 0 {
		p.putAll(attrs, ha.compat)
	} else if len(ha.compat) > 0 {
		// hypervisor.type describes the host even when the instance supplied the rest.
		for _, a := range ha.compat {
			if a.key == attrCompatHypervisorType {
				p.put(attrs, a.key, a.value)
			}
		}
	}
	p.putSlice(attrs, attrLayers, ha.layers)
	p.putSlice(attrs, attrDetectedLayers, ha.detected)
	p.putSlice(attrs, attrDetectionEvidence, ha.evidence)
	for _, a := range ha.insertOnly {
		if val, loaded := attrs.GetOrPutEmpty(a.key); !loaded {
			val.SetStr(a.value)
		}
	}
}

func (p *virtProcessor) put(attrs pcommon.Map, k, v string) {
	if p.cfg.Override {
		attrs.PutStr(k, v)
		return
	}
	// One scan of the map for "insert if absent" (Get then PutStr would scan it twice).
	if val, loaded := attrs.GetOrPutEmpty(k); !loaded {
		val.SetStr(v)
	}
}

func (p *virtProcessor) putAll(attrs pcommon.Map, list []kv) {
	for _, a := range list {
		p.put(attrs, a.key, a.value)
	}
}

func (p *virtProcessor) putSlice(attrs pcommon.Map, k string, values []string) {
	if len(values) == 0 {
		return
	}
	var s pcommon.Slice
	if p.cfg.Override {
		s = attrs.PutEmptySlice(k)
	} else {
		val, loaded := attrs.GetOrPutEmpty(k)
		if loaded {
			return
		}
		s = val.SetEmptySlice()
	}
	s.EnsureCapacity(len(values))
	for _, v := range values {
		s.AppendEmpty().SetStr(v)
	}
}

// counts are association results of one batch, reported once per batch.
type counts struct{ hit, miss, none int64 }

// batch is what every resource of one batch shares.
type batch struct {
	host    *hostAttrs
	snap    *inventory.Snapshot
	now     int64
	conn    cacheKey
	hasConn bool
	counts  counts
}

func (p *virtProcessor) begin(ctx context.Context) batch {
	now := time.Now()
	var snap *inventory.Snapshot
	if inv := p.inv.Load(); inv != nil {
		snap = inv.Current()
	}
	if snap != nil && now.Sub(snap.Taken) > p.cfg.Association.InventoryMaxAge {
		snap = nil // stale: nothing walks the inventory any more, use our own lookup
	}
	b := batch{host: p.host.Load(), snap: snap, now: now.UnixNano()}
	if p.useConnection {
		b.conn, b.hasConn = connectionKey(ctx)
	}
	return b
}

func (p *virtProcessor) processTraces(ctx context.Context, td ptrace.Traces) (ptrace.Traces, error) {
	b := p.begin(ctx)
	rss := td.ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		p.enrich(rss.At(i).Resource(), &b)
	}
	p.tel.record(ctx, b.counts)
	return td, nil
}

func (p *virtProcessor) processMetrics(ctx context.Context, md pmetric.Metrics) (pmetric.Metrics, error) {
	b := p.begin(ctx)
	rms := md.ResourceMetrics()
	for i := 0; i < rms.Len(); i++ {
		p.enrich(rms.At(i).Resource(), &b)
	}
	p.tel.record(ctx, b.counts)
	return md, nil
}

func (p *virtProcessor) processLogs(ctx context.Context, ld plog.Logs) (plog.Logs, error) {
	b := p.begin(ctx)
	rls := ld.ResourceLogs()
	for i := 0; i < rls.Len(); i++ {
		p.enrich(rls.At(i).Resource(), &b)
	}
	p.tel.record(ctx, b.counts)
	return ld, nil
}

// rateLimitedWarn logs a warning at most once per interval and counts the suppressed ones.
type rateLimitedWarn struct {
	logger     *zap.Logger
	every      time.Duration
	mu         sync.Mutex
	last       time.Time
	suppressed int
}

func (w *rateLimitedWarn) Warn(msg string, fields ...zap.Field) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.last.IsZero() && time.Since(w.last) < w.every {
		w.suppressed++
		return
	}
	w.logger.Warn(msg, append(fields, zap.Int("suppressed_since_last", w.suppressed))...)
	w.last, w.suppressed = time.Now(), 0
}

// findInventory returns the instance inventory the processor reads: the named extension, or
// the collector's only one; nil when there is none.
func findInventory(id *component.ID, host component.Host) (*inventory.Inventory, error) {
	exts := host.GetExtensions()
	if id != nil {
		ext, ok := exts[*id]
		if !ok {
			return nil, fmt.Errorf("inventory: extension %s is not configured; add it under extensions and service::extensions, or remove inventory", id)
		}
		pr, ok := ext.(inventory.Provider)
		if !ok {
			return nil, fmt.Errorf("inventory: extension %s is not an instance_inventory extension", id)
		}
		return pr.Inventory(), nil
	}
	var found []component.ID
	var inv *inventory.Inventory
	for eid, ext := range exts {
		if pr, ok := ext.(inventory.Provider); ok {
			found = append(found, eid)
			inv = pr.Inventory()
		}
	}
	if len(found) > 1 {
		return nil, fmt.Errorf("inventory: %d instance_inventory extensions are configured (%v); name the one to use with inventory: <id>", len(found), found)
	}
	return inv, nil
}
