package wasmruntimereceiver

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/receiver"
	"go.uber.org/zap"

	"github.com/otelcol-virt/otelcol-virt/internal/cgroup"
	"github.com/otelcol-virt/otelcol-virt/internal/proc"
	"github.com/otelcol-virt/otelcol-virt/internal/registry"
	m "github.com/otelcol-virt/otelcol-virt/receiver/wasmruntimereceiver/internal/metadata"
)

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat and cpuacct.stat times; 100 on every
// Linux architecture the collector ships for.
const clockTicks = 100

// instState is what is cached per instance (per cgroup or per process tree) across scrapes.
type instState struct {
	gen       uint64
	limitRead time.Time

	cpuLimit  cgroup.CPULimit
	cpuLimOK  bool
	memLimit  cgroup.Limit
	memLimOK  bool
	pidsLimit cgroup.Limit
	pidsLimOK bool

	prevCPU  float64 // seconds
	prevTime time.Time
	hasPrev  bool

	// sources caches where each controller is read, refreshed with the limits.
	src   [numCtrl]cgroup.Source
	srcOK [numCtrl]bool
	srcAt time.Time
}

// pathKey names a control file by directory and name, for the path cache.
type pathKey struct{ dir, name string }

type wasmRuntimeScraper struct {
	cfg      *Config
	settings receiver.Settings
	logger   *zap.Logger
	registry *registry.Registry

	procRoot, cgroupRoot string
	layout               cgroup.Layout
	layoutErr            error
	namedMount           string // name=systemd hierarchy of v1 and hybrid hosts
	cgns                 cgroupNamespace
	bootTime             time.Time
	hostNetns            string
	discoveredAt         time.Time // when the process table was read
	pageSize             int64

	matchers []*matcher
	r        *fileReader
	mb       *m.Builder

	gen       uint64
	pids      []int
	procs     []procSnap
	byPID     map[int]int
	entries   map[int]*procEntry
	matched   []int
	instances []instance
	byKey     map[string]int
	states    map[string]*instState
	exclusive map[string]exclusiveCheck
	paths     map[pathKey]string

	errCounts  [len(reasons)]int64
	scrapeErrs [len(reasons)]int64
	firstErr   [len(reasons)]error
	warned     [len(reasons)]time.Time
	startTime  pcommon.Timestamp

	// connection counting scratch
	inodes map[uint64]struct{}
	fdBuf  []int
}

func newScraper(cfg *Config, set receiver.Settings) *wasmRuntimeScraper {
	root := cfg.RootPath
	if root == "" {
		root = "/"
	}
	s := &wasmRuntimeScraper{
		cfg:        cfg,
		settings:   set,
		logger:     set.Logger,
		registry:   registry.Shared(),
		procRoot:   filepath.Join(root, "proc"),
		cgroupRoot: filepath.Join(root, "sys", "fs", "cgroup"),
		pageSize:   int64(os.Getpagesize()),
		r:          newFileReader(),
		byPID:      map[int]int{},
		entries:    map[int]*procEntry{},
		byKey:      map[string]int{},
		states:     map[string]*instState{},
		exclusive:  map[string]exclusiveCheck{},
		paths:      map[pathKey]string{},
		inodes:     map[uint64]struct{}{},
	}
	if s.logger == nil {
		s.logger = zap.NewNop()
	}
	s.r.maxOpen = cfg.MaxOpenFiles
	s.matchers = append(userMatchers(cfg.Runtimes), builtinCatalog()...)
	s.mb = m.NewBuilder(cfg.Metrics, cfg.ResourceAttributes, set.BuildInfo.Version)
	return s
}

func (s *wasmRuntimeScraper) start(context.Context, component.Host) error {
	s.startTime = pcommon.NewTimestampFromTime(time.Now())
	data, err := s.r.read(filepath.Join(s.procRoot, "stat"))
	if err == nil {
		var bt uint64
		if bt, err = proc.ParseBootTime(data); err == nil {
			s.bootTime = time.Unix(int64(bt), 0)
		}
	}
	if err != nil {
		// Without the boot time uptimes and start timestamps are unknown; everything else works.
		s.logger.Warn("cannot read the boot time; uptime metrics are disabled", zap.Error(err))
	}
	s.detectLayout()
	if s.layoutErr == nil {
		s.resolveCgroupNamespace(time.Now())
	}
	// Never let the cache take more than a quarter of the descriptors the process may open.
	var rl syscall.Rlimit
	if s.r.maxOpen > 0 && syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl) == nil && rl.Cur > 0 && rl.Cur < uint64(4*s.r.maxOpen) {
		s.r.maxOpen = int(rl.Cur / 4)
	}
	// The host's network namespace is pid 1's; when that is not readable (pid 1 in another
	// user namespace) the collector's own stands in.
	for _, p := range []string{"1", "self"} {
		if ns, err := s.r.readlink(filepath.Join(s.procRoot, p, "ns", "net")); err == nil {
			s.hostNetns = ns
			break
		}
	}
	return nil
}

func (s *wasmRuntimeScraper) detectLayout() {
	hadErr := s.layoutErr != nil
	s.layout, s.layoutErr = cgroup.Detect(s.cgroupRoot)
	if s.layoutErr != nil {
		if !hadErr { // retried at every scrape, reported once
			s.logger.Warn("no cgroup hierarchy found; only per-process stats will be reported",
				zap.String("path", s.cgroupRoot), zap.Error(s.layoutErr))
		}
	} else {
		s.namedMount = namedMountOf(s.cgroupRoot, s.layout)
		s.logger.Debug("cgroup layout", zap.String("mode", s.layout.Mode), zap.String("unified", s.layout.Unified))
	}
}

func (s *wasmRuntimeScraper) shutdown(context.Context) error {
	s.r.closeAll()
	s.registry.Withdraw(s.settings.ID.String())
	return nil
}

// fail counts an error by reason; the first of each reason in a scrape is logged at its end.
func (s *wasmRuntimeScraper) fail(err error) {
	k := reasonIndex(classify(err))
	s.errCounts[k]++
	s.scrapeErrs[k]++
	if s.firstErr[k] == nil {
		s.firstErr[k] = err
	}
}

func reasonIndex(r string) int {
	for i, x := range reasons {
		if x == r {
			return i
		}
	}
	return len(reasons) - 1
}

func (s *wasmRuntimeScraper) scrape(context.Context) (pmetric.Metrics, error) {
	now := time.Now()
	if len(s.r.buf) > 1<<20 {
		// A huge file (the TCP table of a busy host) grew the buffer; do not keep it.
		s.r.buf = make([]byte, 16<<10)
	}
	if s.layoutErr != nil {
		if s.detectLayout(); s.layoutErr == nil {
			s.resolveCgroupNamespace(now)
		}
	} else if s.cgns.retry && now.Sub(s.cgns.at) >= warnEvery {
		s.resolveCgroupNamespace(now)
	}
	s.r.beginScrape()
	defer s.r.endScrape()
	s.discover(now)
	ts := pcommon.NewTimestampFromTime(now)
	for k := range s.instances {
		s.scrapeInstance(&s.instances[k], now, ts)
	}
	for key, st := range s.states {
		if st.gen != s.gen {
			delete(s.states, key)
		}
	}
	s.publish()
	s.selfMetrics(ts)
	s.logErrors(now)
	return s.mb.Emit(), nil
}

// logErrors logs at most one line per reason per scrape; vanished processes are normal churn.
// A reason that keeps failing (a controller a host never has) is warned about again only after
// warnEvery; in between it goes to debug, and the self-metric counts every failure.
const warnEvery = 5 * time.Minute

func (s *wasmRuntimeScraper) logErrors(now time.Time) {
	for i, n := range s.scrapeErrs {
		if n == 0 {
			continue
		}
		fields := []zap.Field{zap.String("reason", reasons[i]), zap.Int64("count", n), zap.NamedError("first", s.firstErr[i])}
		if reasons[i] == reasonVanished || now.Sub(s.warned[i]) < warnEvery {
			s.logger.Debug("reads failed during scrape", fields...)
		} else {
			s.warned[i] = now
			s.logger.Warn("reads failed during scrape; the instances are reported with what could be read (repeats are logged at debug level for 5m)", fields...)
		}
		s.scrapeErrs[i] = 0
		s.firstErr[i] = nil
	}
}

func (s *wasmRuntimeScraper) selfMetrics(ts pcommon.Timestamp) {
	s.mb.StartResource(s.startTime, ts)
	s.mb.Int(m.WasmRuntimeScrapeInstances, int64(len(s.instances)))
	s.mb.Int(m.WasmRuntimeScrapeFileReads, s.r.reads)
	for i, r := range reasons {
		s.mb.Int(m.WasmRuntimeScrapeErrors, s.errCounts[i], m.AttrErrorReason, r)
	}
}

func (s *wasmRuntimeScraper) publish() {
	out := make([]registry.Instance, 0, len(s.instances))
	for k := range s.instances {
		in := &s.instances[k]
		ri := registry.Instance{
			Key:         in.key,
			Kind:        in.id.Kind,
			Runtime:     in.id.Runtime,
			VMM:         in.id.VMM,
			ContainerID: in.cgid.ContainerID,
			PodUID:      in.cgid.PodUID,
			Pids:        make([]int, 0, 1+len(in.members)),
		}
		if in.cgroupKey {
			ri.CgroupPath = in.key
		}
		ri.Pids = append(ri.Pids, s.procs[in.main].e.pid)
		for _, j := range in.members {
			ri.Pids = append(ri.Pids, s.procs[j].e.pid)
		}
		attrs := map[string]string{}
		put := func(k, v string) {
			if v != "" {
				attrs[k] = v
			}
		}
		put(m.ResWasmRuntimeVMName, in.id.VMName)
		put(m.ResWasmRuntimeVMID, in.id.VMID)
		put(m.ResWasmRuntimeWasmModule, in.id.WasmModule)
		put(m.ResContainerRuntimeName, in.cgid.Runtime)
		put(m.ResWasmRuntimeK8sPodQoS, in.cgid.QoS)
		if in.id.VCPUs > 0 {
			put(m.ResWasmRuntimeVMVCPUs, strconv.FormatInt(in.id.VCPUs, 10))
		}
		if in.id.MemorySize > 0 {
			put(m.ResWasmRuntimeVMMemorySize, strconv.FormatInt(in.id.MemorySize, 10))
		}
		for k, v := range in.id.Extra {
			put(k, v)
		}
		ri.Attributes = attrs
		out = append(out, ri)
	}
	s.registry.PublishFor(s.settings.ID.String(), out)
}

func (s *wasmRuntimeScraper) stateOf(key string) *instState {
	st := s.states[key]
	if st == nil {
		st = &instState{}
		s.states[key] = st
	}
	st.gen = s.gen
	return st
}

// source returns where controller c of the instance is read, or false; cached per instance
// and refreshed with its limits.
func (s *wasmRuntimeScraper) source(in *instance, c int) (cgroup.Source, bool) {
	st := in.state
	if st == nil {
		return s.resolveSource(in, c)
	}
	if st.srcAt != st.limitRead {
		for k := range numCtrl {
			st.src[k], st.srcOK[k] = s.resolveSource(in, k)
		}
		st.srcAt = st.limitRead
	}
	return st.src[c], st.srcOK[c]
}

func (s *wasmRuntimeScraper) resolveSource(in *instance, c int) (cgroup.Source, bool) {
	if s.layoutErr != nil || in.cg == nil {
		return cgroup.Source{}, false
	}
	if d, ok := s.layout.V1[ctrlNames[c]]; ok {
		// An instance that owns a cgroup in other hierarchies but sits at the root of this
		// one (a runtime that did not use every controller) has no figures here: the root's
		// are the host's.
		if in.paths[c] == "" || (in.cgroupKey && in.paths[c] == "/") {
			return cgroup.Source{}, false
		}
		return cgroup.Source{Dir: filepath.Join(d, in.paths[c])}, true
	}
	name := ctrlNames[c]
	switch c {
	case ctrlCPUAcct:
		return cgroup.Source{}, false // v2 folds cpuacct into cpu.stat
	case ctrlBlkio:
		name = "io"
	}
	if s.layout.Unified == "" {
		return cgroup.Source{}, false
	}
	p := in.unified
	if !in.cgroupKey {
		p = in.cg.unified
	}
	if p == "" {
		return cgroup.Source{}, false
	}
	if !s.layout.UnifiedControllers[name] {
		// cpu.stat's usage fields exist without the cpu controller.
		if c != ctrlCPU || p == "/" {
			return cgroup.Source{}, false
		}
	}
	return cgroup.Source{Dir: filepath.Join(s.layout.Unified, p), V2: true}, true
}

// readStat reads a file that changes between scrapes (usage counters) through the open-file
// cache; readFile reads files that are re-read only when their cache expires (limits).
func (s *wasmRuntimeScraper) readStat(dir, name string) ([]byte, bool) {
	return s.readPath(dir, name, true)
}

func (s *wasmRuntimeScraper) readFile(dir, name string) ([]byte, bool) {
	return s.readPath(dir, name, false)
}

func (s *wasmRuntimeScraper) readPath(dir, name string, cached bool) ([]byte, bool) {
	k := pathKey{dir, name}
	p, ok := s.paths[k]
	if !ok {
		if len(s.paths) > 1<<16 {
			clear(s.paths)
		}
		p = dir + "/" + name
		s.paths[k] = p
	}
	var data []byte
	var err error
	if cached {
		data, err = s.r.readCached(p)
	} else {
		data, err = s.r.read(p)
	}
	if err != nil {
		s.failIn(dir, err)
		return nil, false
	}
	return data, true
}

// failIn counts a failed read of a file in dir: a file missing from a cgroup that still
// exists is a missing controller or an older kernel, not a vanished workload.
func (s *wasmRuntimeScraper) failIn(dir string, err error) {
	if errors.Is(err, syscall.ENOENT) {
		if _, serr := os.Stat(dir); serr == nil {
			k := reasonIndex(reasonMissing)
			s.errCounts[k]++
			s.scrapeErrs[k]++
			if s.firstErr[k] == nil {
				s.firstErr[k] = err
			}
			return
		}
	}
	s.fail(err)
}

// refreshLimits re-reads the limit files of an instance when its cache is stale.
func (s *wasmRuntimeScraper) refreshLimits(in *instance, st *instState, now time.Time) {
	if !st.limitRead.IsZero() && now.Sub(st.limitRead) < refreshAfter {
		return
	}
	st.limitRead = now
	in.state = st
	st.cpuLimOK, st.memLimOK, st.pidsLimOK = false, false, false
	if src, ok := s.source(in, ctrlCPU); ok {
		if src.V2 {
			if src.Dir == s.layout.Unified { // the root has no cpu.max and no limit
				st.cpuLimit, st.cpuLimOK = cgroup.CPULimit{Unlimited: true}, true
			} else {
				if d, ok := s.readFile(src.Dir, "cpu.max"); ok {
					if l, err := cgroup.ParseCPUMax(d); err == nil {
						st.cpuLimit, st.cpuLimOK = l, true
					} else {
						s.fail(err)
					}
				}
			}
		} else if q, ok := s.readFile(src.Dir, "cpu.cfs_quota_us"); ok {
			q = append([]byte(nil), q...)
			if p, ok := s.readFile(src.Dir, "cpu.cfs_period_us"); ok {
				if l, err := cgroup.ParseCFSQuota(q, p); err == nil {
					st.cpuLimit, st.cpuLimOK = l, true
				} else {
					s.fail(err)
				}
			}
		}
	}
	if src, ok := s.source(in, ctrlMemory); ok {
		name := "memory.limit_in_bytes"
		if src.V2 {
			name = "memory.max"
		}
		if src.V2 && src.Dir == s.layout.Unified {
			st.memLimit, st.memLimOK = cgroup.Limit{Unlimited: true}, true
		} else if d, ok := s.readFile(src.Dir, name); ok {
			if l, err := cgroup.ParseLimit(d); err == nil {
				st.memLimit, st.memLimOK = l, true
			} else {
				s.fail(err)
			}
		}
	}
	if src, ok := s.source(in, ctrlPids); ok {
		if d, err := s.r.read(src.Dir + "/pids.max"); err == nil {
			if l, err := cgroup.ParseLimit(d); err == nil {
				st.pidsLimit, st.pidsLimOK = l, true
			} else {
				s.fail(err)
			}
		} else if !os.IsNotExist(err) {
			s.fail(err)
		} else if src.Dir != s.layout.V1["pids"] && src.Dir != s.layout.Unified {
			s.failIn(src.Dir, err)
		} else {
			// the root cgroup has no pids.max: unlimited
			st.pidsLimit, st.pidsLimOK = cgroup.Limit{Unlimited: true}, true
		}
	}
}

func (s *wasmRuntimeScraper) scrapeInstance(in *instance, now time.Time, ts pcommon.Timestamp) {
	st := s.stateOf(in.key)
	in.state = st
	mainProc := &s.procs[in.main]
	procStart := s.bootTime.Add(time.Duration(mainProc.st.StartTime) * time.Second / clockTicks)
	start := pcommon.NewTimestampFromTime(procStart)
	mb := s.mb
	s.refreshLimits(in, st, now)
	mb.StartResource(start, ts)
	s.resourceAttributes(in)

	// Per-process figures, summed over the instance's processes.
	var utime, stime, rss, vsize, minflt, majflt uint64
	var threads, fds int64
	var vol, invol uint64
	var fdUtil float64
	wantFDs := mb.Enabled(m.ProcessUnixFileDescriptorCount) || mb.Enabled(m.WasmRuntimeFileDescriptorLimitUtilization)
	wantFDLimit := mb.Enabled(m.WasmRuntimeFileDescriptorLimit) || mb.Enabled(m.WasmRuntimeFileDescriptorLimitUtilization)
	wantCtx := mb.Enabled(m.ProcessContextSwitches)
	wantConn := mb.Enabled(m.WasmRuntimeConnectionCount)
	if wantConn {
		clear(s.inodes)
	}
	fdOK, ctxOK := false, false
	s.eachProc(in, func(p *procSnap) {
		utime += p.st.UTime
		stime += p.st.STime
		if p.st.RSS > 0 {
			rss += uint64(p.st.RSS)
		}
		vsize += p.st.VSize
		minflt += p.st.MinFlt
		majflt += p.st.MajFlt
		threads += p.st.NumThreads
		var n int64
		if wantFDs {
			c, err := s.r.countDir(p.e.fd)
			if err != nil {
				s.fail(err)
			} else {
				n, fdOK = c, true
				fds += c
			}
		}
		if wantFDLimit {
			if lim, ok := s.fdLimitOf(p.e, now); ok && lim != proc.Unlimited && lim > 0 && n > 0 {
				fdUtil = max(fdUtil, float64(n)/float64(lim))
			}
		}
		if wantCtx {
			if d, ok := s.readStat(p.e.dir[:len(p.e.dir)-1], "status"); ok {
				if ps, err := proc.ParseStatus(d); err == nil {
					vol += ps.VoluntaryCtxtSwitches
					invol += ps.NonvoluntaryCtxtSwitches
					ctxOK = true
				} else {
					s.fail(err)
				}
			}
		}
		if wantConn {
			s.collectSocketInodes(p.e)
		}
	})

	// Usage is a rate: pair each CPU reading with the time it was taken, not with the start of
	// the scrape (discovery takes longer on a busy host and would skew the interval).
	cpuSeconds := float64(utime+stime) / clockTicks
	cpuAt := s.discoveredAt
	cgroupCPU := false
	if in.cgroupKey {
		at := time.Now()
		if sec, ok := s.cgroupStats(in, st); ok {
			cpuSeconds, cgroupCPU, cpuAt = sec, true, at
		}
	}
	if !cgroupCPU {
		mb.Double(m.ProcessCPUTime, float64(utime)/clockTicks, m.AttrCPUMode, "user")
		mb.Double(m.ProcessCPUTime, float64(stime)/clockTicks, m.AttrCPUMode, "system")
	}
	usage, haveUsage := 0.0, false
	if st.hasPrev {
		if dt := cpuAt.Sub(st.prevTime).Seconds(); dt > 0 && cpuSeconds >= st.prevCPU {
			usage, haveUsage = (cpuSeconds-st.prevCPU)/dt, true
		}
	}
	st.prevCPU, st.prevTime, st.hasPrev = cpuSeconds, cpuAt, true
	if haveUsage {
		mb.Double(m.WasmRuntimeCPUUsage, usage)
		if cgroupCPU {
			mb.Double(m.ContainerCPUUsage, usage)
		}
	}
	s.limitMetrics(in, st, usage, haveUsage, int64(rss)*s.pageSize)

	if !in.cgroupKey {
		mb.Int(m.ProcessMemoryUsage, int64(rss)*s.pageSize)
	}
	mb.Int(m.ProcessMemoryVirtual, int64(vsize))
	mb.Int(m.ProcessThreadCount, threads)
	if fdOK {
		mb.Int(m.ProcessUnixFileDescriptorCount, fds)
	}
	if wantFDLimit {
		if lim, ok := s.fdLimitOf(mainProc.e, now); ok {
			if lim != proc.Unlimited {
				mb.Int(m.WasmRuntimeFileDescriptorLimit, int64(lim))
				if fdOK {
					mb.Double(m.WasmRuntimeFileDescriptorLimitUtilization, fdUtil)
				}
			}
			mb.Int(m.WasmRuntimeLimitConfigured, b2i(lim != proc.Unlimited), m.AttrLimitResource, "file_descriptors")
		}
	}
	if ctxOK {
		mb.Int(m.ProcessContextSwitches, int64(vol), m.AttrProcessContextSwitchType, "voluntary")
		mb.Int(m.ProcessContextSwitches, int64(invol), m.AttrProcessContextSwitchType, "involuntary")
	}
	mb.Int(m.ProcessPagingFaults, int64(majflt), m.AttrSystemPagingFaultType, "major")
	mb.Int(m.ProcessPagingFaults, int64(minflt), m.AttrSystemPagingFaultType, "minor")
	if wantConn {
		s.connectionMetrics(mainProc.e)
	}
	if mb.Enabled(m.ContainerNetworkIO) {
		s.networkIO(mainProc.e)
	}
	if !s.bootTime.IsZero() {
		up := now.Sub(procStart).Seconds()
		if in.cgroupKey {
			mb.Double(m.ContainerUptime, up)
		} else {
			mb.Double(m.ProcessUptime, up)
		}
	}
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func (s *wasmRuntimeScraper) eachProc(in *instance, fn func(p *procSnap)) {
	fn(&s.procs[in.main])
	for _, j := range in.members {
		fn(&s.procs[j])
	}
}

func (s *wasmRuntimeScraper) fdLimitOf(e *procEntry, now time.Time) (uint64, bool) {
	if !e.fdLimitOK || now.Sub(e.fdLimitRead) > refreshAfter {
		d, err := s.r.read(e.dir + "limits")
		if err != nil {
			s.fail(err)
			return e.fdLimit, e.fdLimitOK
		}
		lim, err := proc.ParseOpenFilesLimit(d)
		if err != nil {
			s.fail(err)
			return e.fdLimit, e.fdLimitOK
		}
		e.fdLimit, e.fdLimitOK, e.fdLimitRead = lim, true, now
	}
	return e.fdLimit, e.fdLimitOK
}

func (s *wasmRuntimeScraper) resourceAttributes(in *instance) {
	mb := s.mb
	e := s.procs[in.main].e
	mb.PutStr(m.ResWasmRuntimeInstanceID, in.key)
	mb.PutStr(m.ResWasmRuntimeInstanceKind, in.id.Kind)
	if in.cgroupKey {
		mb.PutStr(m.ResWasmRuntimeInstanceGrouping, "cgroup")
		mb.PutStr(m.ResWasmRuntimeCgroupPath, in.key)
	} else {
		mb.PutStr(m.ResWasmRuntimeInstanceGrouping, "process")
		if in.cg != nil {
			mb.PutStr(m.ResWasmRuntimeCgroupPath, in.cg.identityPath())
		}
	}
	if s.layoutErr == nil {
		mb.PutStr(m.ResWasmRuntimeCgroupVersion, s.layout.Mode)
	}
	mb.PutStr(m.ResWasmRuntimeRuntime, in.id.Runtime)
	mb.PutStr(m.ResWasmRuntimeVMM, in.id.VMM)
	mb.PutStr(m.ResWasmRuntimeVMName, in.id.VMName)
	vmID := in.id.VMID
	if vmID == "" {
		vmID = in.cgid.VMID
	}
	mb.PutStr(m.ResWasmRuntimeVMID, vmID)
	if in.id.VMName == "" {
		mb.PutStr(m.ResWasmRuntimeVMName, in.cgid.VMName)
	}
	if in.id.VCPUs > 0 {
		mb.PutInt(m.ResWasmRuntimeVMVCPUs, in.id.VCPUs)
	}
	if in.id.MemorySize > 0 {
		mb.PutInt(m.ResWasmRuntimeVMMemorySize, in.id.MemorySize)
	}
	mb.PutStr(m.ResWasmRuntimeWasmModule, in.id.WasmModule)
	mb.PutStr(m.ResWasmRuntimeK8sPodQoS, in.cgid.QoS)
	mb.PutStr(m.ResContainerID, in.cgid.ContainerID)
	mb.PutStr(m.ResContainerRuntimeName, in.cgid.Runtime)
	mb.PutStr(m.ResK8sPodUID, in.cgid.PodUID)
	mb.PutInt(m.ResProcessPID, int64(e.pid))
	mb.PutStr(m.ResProcessExecutableName, e.comm)
	for k, v := range in.id.Extra {
		mb.PutExtra(k, v)
	}
	st := s.states[in.key]
	mb.PutBool(m.ResWasmRuntimeLimitsConfigured, st != nil && st.cpuLimOK && !st.cpuLimit.Unlimited && st.memLimOK && !st.memLimit.Unlimited)
}
