// Package inventory is otelcol-virt's one inventory of the Wasm, VM, sandbox and container
// instances on a host. One walk of /proc and one pass over the instances' cgroups produces an
// immutable Snapshot that every component of a collector reads: the wasm_runtime receiver's
// metrics, threat rules and runtime logs, and the virtualization_attributes processor. An
// Inventory belongs to one collector (the instance_inventory extension, or a receiver without
// one); nothing is shared between collectors in one process.
package inventory

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/otelcol-virt/otelcol-virt/internal/catalog"
	"github.com/otelcol-virt/otelcol-virt/internal/cgroup"
	"github.com/otelcol-virt/otelcol-virt/internal/linuxfs"
	"github.com/otelcol-virt/otelcol-virt/internal/proc"
)

// Config configures discovery.
type Config struct {
	// RootPath is where the host's / is mounted (e.g. /hostfs in a DaemonSet); /proc and /sys
	// are read below it. Empty means the collector's own root.
	RootPath string
	// Runtimes are user-defined matchers, checked before the built-in catalog.
	Runtimes []catalog.Matcher
	// MaxOpenFiles bounds the /proc/<pid>/stat files kept open between walks so that each is
	// re-read with one pread; 0 disables the cache.
	MaxOpenFiles int
	// Containers makes every container cgroup (containerd, CRI-O, Docker, Podman, LXC,
	// nspawn) an instance of kind container, as cAdvisor reports them, besides the Wasm, VM
	// and sandbox instances. It costs one read of /proc/<pid>/cgroup per process lifetime.
	Containers bool
}

// refreshAfter bounds how long facts that rarely change (a process's cgroup, whether a cgroup
// holds one process tree) are served from cache: they can change (a process moved by a cgroup
// manager), so they are re-read at this pace rather than never.
const refreshAfter = time.Minute

// Inventory discovers instances. Its methods are safe for concurrent use; one walk runs at a
// time and every caller that asks meanwhile gets its result.
type Inventory struct {
	cfg    Config
	logger *zap.Logger
	cat    *catalog.Catalog

	mu    sync.Mutex // serialises walks; guards everything below it
	r     *linuxfs.Reader
	tally linuxfs.Tally

	procRoot, cgroupRoot string
	layout               cgroup.Layout
	layoutErr            error
	namedMount           string
	cgns                 cgroupNamespace
	bootTime             time.Time
	hostNetns            string

	walk      uint64
	entries   map[int]*procEntry
	exclusive map[string]exclusiveCheck
	subtrees  map[string]*subtree
	joined    linuxfs.JoinCache // cgroup directories joined once for every walk that groups them
	scratch   walkScratch

	current atomic.Pointer[Snapshot]
	walks   atomic.Int64
	started bool
	static  bool // serves published snapshots only (Static)
}

// New returns an inventory; Start prepares it and the first Acquire walks.
func New(cfg Config, logger *zap.Logger) *Inventory {
	root := cfg.RootPath
	if root == "" {
		root = "/"
	}
	if logger == nil {
		logger = zap.NewNop()
	}
	return &Inventory{
		cfg:        cfg,
		logger:     logger,
		cat:        catalog.New(cfg.Runtimes),
		r:          linuxfs.New(cfg.MaxOpenFiles),
		procRoot:   filepath.Join(root, "proc"),
		cgroupRoot: filepath.Join(root, "sys", "fs", "cgroup"),
		entries:    map[int]*procEntry{},
		exclusive:  map[string]exclusiveCheck{},
		subtrees:   map[string]*subtree{},
	}
}

// Catalog is the runtime catalog discovery matches against.
func (inv *Inventory) Catalog() *catalog.Catalog {
	if inv.cat == nil {
		return catalog.New(nil)
	}
	return inv.cat
}

// Start reads what does not change while the collector runs (boot time, the cgroup layout and
// the collector's cgroup namespace root) and bounds the descriptor cache.
func (inv *Inventory) Start(context.Context) error {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	if inv.started {
		return nil
	}
	inv.started = true
	data, err := inv.r.Read(filepath.Join(inv.procRoot, "stat"))
	if err == nil {
		var bt uint64
		if bt, err = proc.ParseBootTime(data); err == nil {
			inv.bootTime = time.Unix(int64(bt), 0)
		}
	}
	if err != nil {
		// Without the boot time uptimes and start timestamps are unknown; everything else works.
		inv.logger.Warn("cannot read the boot time; uptime metrics and start timestamps are not reported", zap.Error(err))
	}
	inv.detectLayout()
	if inv.layoutErr == nil {
		inv.resolveCgroupNamespace(time.Now())
	}
	linuxfs.RefreshDescriptorBudget()
	// The host's network namespace is pid 1's; when that is not readable (pid 1 in another
	// user namespace) the collector's own stands in.
	for _, p := range []string{"1", "self"} {
		if ns, err := inv.r.Readlink(filepath.Join(inv.procRoot, p, "ns", "net")); err == nil {
			inv.hostNetns = ns
			break
		}
	}
	return nil
}

// Close releases the cached descriptors.
func (inv *Inventory) Close() {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	if inv.r != nil {
		inv.r.CloseAll()
	}
}

// Current returns the latest snapshot without walking, nil before the first walk.
func (inv *Inventory) Current() *Snapshot { return inv.current.Load() }

// Walks counts the walks of /proc so far.
func (inv *Inventory) Walks() int64 { return inv.walks.Load() }

// Errors returns the failed reads of every walk so far, by reason.
func (inv *Inventory) Errors() [linuxfs.NumReasons]int64 {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	return inv.tally.Total
}

// Acquire returns a snapshot taken no earlier than maxAge before now, walking the host when the
// latest one is older. Callers on one collection interval pass about half of it, so that
// however many ask within an interval, the host is walked once.
func (inv *Inventory) Acquire(now time.Time, maxAge time.Duration) (*Snapshot, error) {
	if s := inv.current.Load(); s != nil && (inv.static || now.Sub(s.Taken) < maxAge) {
		return s, nil
	}
	inv.mu.Lock()
	defer inv.mu.Unlock()
	if s := inv.current.Load(); s != nil && now.Sub(s.Taken) < maxAge {
		return s, nil // walked while this caller waited
	}
	if !inv.started {
		return nil, fmt.Errorf("inventory: Acquire before Start")
	}
	s, err := inv.walkLocked(now)
	if err != nil {
		return nil, err
	}
	inv.current.Store(s)
	inv.walks.Add(1)
	return s, nil
}

func (inv *Inventory) detectLayout() {
	hadErr := inv.layoutErr != nil
	inv.layout, inv.layoutErr = cgroup.Detect(inv.cgroupRoot)
	if inv.layoutErr != nil {
		if !hadErr { // retried at every walk, reported once
			inv.logger.Warn("no cgroup hierarchy found; instances are grouped by process and reported without cgroup figures",
				zap.String("path", inv.cgroupRoot), zap.Error(inv.layoutErr))
		}
		return
	}
	inv.namedMount = namedMountOf(inv.cgroupRoot, inv.layout)
	inv.logger.Debug("cgroup layout", zap.String("mode", inv.layout.Mode), zap.String("unified", inv.layout.Unified))
}

// CachedFiles reports how many descriptors the walk keeps open, and whether path is one.
func (inv *Inventory) CachedFiles(path string) (open int, cached bool) {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	return inv.r.OpenFiles(), inv.r.Cached(path)
}

// ProcRoot is <root>/proc.
func (inv *Inventory) ProcRoot() string { return inv.procRoot }

// SetTrace records every file operation of the walks in ops (nil stops): benchmarks replay
// them as the floor a walk cannot go below.
func (inv *Inventory) SetTrace(ops *[]linuxfs.TraceOp) {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	inv.r.Trace = ops
}
