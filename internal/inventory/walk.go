package inventory

import (
	"fmt"
	"path/filepath"
	"strconv"
	"time"

	"go.uber.org/zap"

	"github.com/otelcol-virt/otelcol-virt/internal/catalog"
	"github.com/otelcol-virt/otelcol-virt/internal/cgroup"
	"github.com/otelcol-virt/otelcol-virt/internal/cgroupid"
	"github.com/otelcol-virt/otelcol-virt/internal/proc"
	"github.com/otelcol-virt/otelcol-virt/internal/vmstats/vmmargs"
)

// procEntry is what is cached about one process for its lifetime, keyed by pid and checked
// against its start time and comm (an exec changes comm; pid reuse changes start time).
type procEntry struct {
	inv   *Inventory
	pid   int
	start uint64
	comm  string
	dir   string // <proc>/<pid>/
	stat  string // <proc>/<pid>/stat
	walk  uint64

	matchDone bool
	entry     *catalog.Entry
	id        catalog.Identity

	cmdline     []string
	cmdlineRead bool
	exe         string
	exeRead     bool

	cg     *cgroup.Paths
	cgid   cgroupid.Identity
	cgRead time.Time
	now    time.Time // the walk's time, for Cgroup()
}

// Comm implements catalog.Process.
func (e *procEntry) Comm() string { return e.comm }

// Exe implements catalog.Process.
func (e *procEntry) Exe() string {
	if !e.exeRead {
		e.exeRead = true
		exe, err := e.inv.r.Readlink(e.dir + "exe")
		if err != nil {
			e.inv.tally.Fail(err)
		}
		e.exe = exe
	}
	return e.exe
}

// Cmdline implements catalog.Process.
func (e *procEntry) Cmdline() ([]string, bool) {
	if !e.cmdlineRead {
		data, err := e.inv.r.Read(e.dir + "cmdline")
		if err != nil {
			e.inv.tally.Fail(err)
			return nil, false
		}
		e.cmdline = proc.ParseCmdline(data)
		// Empty right after execve: not yet (or a zombie); read again at the next walk.
		e.cmdlineRead = len(e.cmdline) > 0
	}
	return e.cmdline, len(e.cmdline) > 0
}

// ParseNamedFile implements catalog.Process: the file is opened inside the process's root or
// beneath its working directory (vmmargs.Root), never followed out of them.
func (e *procEntry) ParseNamedFile(path string, max int, parse func([]byte) error) {
	data, err := vmmargs.ProcessRoot(e.dir).ReadFile(path, max)
	if err == nil {
		err = parse(data)
	}
	if err != nil {
		e.inv.tally.Fail(fmt.Errorf("pid %d: %w", e.pid, err))
	}
}

// Cgroup implements catalog.Process.
func (e *procEntry) Cgroup() cgroupid.Identity {
	e.inv.cgroupsOf(e, e.now)
	return e.cgid
}

// walkScratch is reused from walk to walk.
type walkScratch struct {
	pids    []int
	procs   []procSnap
	byPID   map[int]int
	matched []int
	byKey   map[string]int
	members []int
}

// procSnap is one process as seen in this walk.
type procSnap struct {
	st    proc.Stat
	e     *procEntry
	owner int32 // index into instances, -1 none, -2 not computed yet
}

// walkLocked reads the process table, matches runtimes and groups processes into instances.
func (inv *Inventory) walkLocked(now time.Time) (*Snapshot, error) {
	sc := &inv.scratch
	if sc.byPID == nil {
		sc.byPID, sc.byKey = map[int]int{}, map[string]int{}
	}
	inv.walk++
	inv.r.BeginPass()
	defer inv.r.EndPass()
	inv.r.ShrinkBuffer()
	if inv.layoutErr != nil {
		if inv.detectLayout(); inv.layoutErr == nil {
			inv.resolveCgroupNamespace(now)
		}
	} else if inv.cgns.retry && now.Sub(inv.cgns.at) >= retryNamespaceEvery {
		inv.resolveCgroupNamespace(now)
	}

	var err error
	sc.pids, err = inv.r.ListNumeric(inv.procRoot, sc.pids[:0])
	if err != nil {
		inv.tally.Fail(err)
		return nil, err
	}
	taken := time.Now()
	sc.procs = sc.procs[:0]
	clear(sc.byPID)
	for _, pid := range sc.pids {
		e := inv.entries[pid]
		path := ""
		if e != nil {
			path = e.stat
		} else {
			path = inv.procRoot + "/" + strconv.Itoa(pid) + "/stat"
		}
		data, err := inv.r.ReadCached(path)
		if err != nil {
			inv.tally.Fail(err)
			continue
		}
		st, comm, err := proc.ParseStat(data)
		if err != nil {
			inv.tally.Fail(err)
			continue
		}
		if e == nil || e.start != st.StartTime || e.comm != string(comm) {
			dir := inv.procRoot + "/" + strconv.Itoa(pid) + "/"
			e = &procEntry{inv: inv, pid: pid, start: st.StartTime, comm: string(comm), dir: dir, stat: dir + "stat"}
			inv.entries[pid] = e
		}
		e.walk, e.now = inv.walk, now
		sc.byPID[pid] = len(sc.procs)
		sc.procs = append(sc.procs, procSnap{st: st, e: e, owner: -2})
	}
	for pid, e := range inv.entries {
		if e.walk != inv.walk {
			delete(inv.entries, pid)
		}
	}

	sc.matched = sc.matched[:0]
	for i := range sc.procs {
		p := &sc.procs[i]
		if !p.e.matchDone {
			inv.match(p)
		}
		if p.e.entry != nil {
			sc.matched = append(sc.matched, i)
		}
	}

	snap := &Snapshot{
		Taken:     taken,
		Walk:      inv.walk,
		Layout:    inv.layout,
		LayoutErr: inv.layoutErr,
		BootTime:  inv.bootTime,
		HostNetns: inv.hostNetns,
		ProcRoot:  inv.procRoot,
	}
	snap.Instances = inv.group(now)
	inv.joined.EndPass()
	snap.index()
	if inv.r.NewlyFull() {
		inv.logger.Warn("the open-file cache is full: the process files beyond it are reopened at every walk, which costs CPU; raise the descriptor limit (LimitNOFILE, ulimit -n) or max_open_files",
			zap.Int("open_files", inv.r.OpenFiles()), zap.Int("max_open_files", inv.r.MaxOpen))
	}
	inv.tally.EndPass(inv.logger, now, "reads failed while discovering instances; they are reported with what could be read")
	return snap, nil
}

// retryNamespaceEvery paces new searches for a cgroup namespace root that was not found.
const retryNamespaceEvery = 5 * time.Minute

// match runs the catalog on a process once per lifetime.
func (inv *Inventory) match(p *procSnap) {
	e := p.e
	e.matchDone = true
	if e.pid == 2 || p.st.PPID == 2 { // kernel threads
		return
	}
	entry, id, res := inv.cat.Match(e)
	if res == catalog.NoMatch && inv.cfg.Containers {
		entry, id, res = containerMatch(e)
	}
	switch res {
	case catalog.Retry:
		e.matchDone = false
	case catalog.Matched:
		e.entry, e.id = entry, id
		if inv.logger.Core().Enabled(zap.DebugLevel) {
			inv.logger.Debug("process matched", zap.Int("pid", e.pid), zap.String("comm", e.comm), zap.String("runtime", id.Runtime), zap.String("kind", id.Kind))
		}
	}
}

// cgroupsOf returns a process's cgroup paths, mapped to host paths and cached.
func (inv *Inventory) cgroupsOf(e *procEntry, now time.Time) *cgroup.Paths {
	if e.cg == nil || now.Sub(e.cgRead) > refreshAfter {
		data, err := inv.r.Read(e.dir + "cgroup")
		if err != nil {
			inv.tally.Fail(err)
			return e.cg
		}
		cg, err := cgroup.ParsePaths(data)
		if err != nil {
			inv.tally.Fail(err)
			return e.cg
		}
		// What the path says (container and pod ids) is true even when it cannot be mapped
		// to the mounted hierarchy: identity comes from the path as read if the mapped one
		// is lost.
		raw := cgroupid.Parse(cg.Identity())
		inv.inHostHierarchies(&cg)
		e.cg, e.cgRead = &cg, now
		if e.cgid = cgroupid.Parse(cg.Identity()); e.cgid.IsZero() {
			e.cgid = raw
			e.cgid.Scope = "" // not a path of the mounted hierarchy
		}
	}
	return e.cg
}

// readTaskCgroups returns the distinct cgroup paths (mapped to host paths) of the threads of a
// process, at most limit threads read. A Kata VMM keeps its leader and its vCPU threads in
// different cgroups; /proc/<pid>/cgroup shows only the leader's.
func (inv *Inventory) readTaskCgroups(e *procEntry, limit int) []cgroup.Paths {
	tids, err := inv.r.ListNumeric(e.dir+"task", nil)
	if err != nil {
		inv.tally.Fail(err)
		return nil
	}
	var out []cgroup.Paths
	for i, tid := range tids {
		if i >= limit {
			break
		}
		data, err := inv.r.Read(filepath.Join(e.dir, "task", strconv.Itoa(tid), "cgroup"))
		if err != nil {
			continue // exited since the listing
		}
		cg, err := cgroup.ParsePaths(data)
		if err != nil {
			inv.tally.Fail(err)
			continue
		}
		inv.inHostHierarchies(&cg)
		dup := false
		for j := range out {
			if !out[j].Differs(&cg) {
				dup = true
			}
		}
		if !dup {
			out = append(out, cg)
		}
	}
	return out
}

// containerEntry stands for the container runtimes, whose workloads are any process in a
// container cgroup.
var containerEntry = &catalog.Entry{Name: "container", Kind: catalog.KindContainer, Origin: "cgroup layout (internal/cgroupid)"}

// containerMatch makes a process in a container's cgroup (not its runtime's monitor) a
// workload of kind container.
func containerMatch(e *procEntry) (*catalog.Entry, catalog.Identity, catalog.Result) {
	cid := e.Cgroup()
	if cid.ContainerID == "" || cid.Monitor || cid.Scope == "" {
		return nil, catalog.Identity{}, catalog.NoMatch
	}
	kind, rt, vmm := catalog.ForCgroup(cid)
	if kind != catalog.KindContainer {
		return nil, catalog.Identity{}, catalog.NoMatch // a VM or sandbox cgroup: the catalog's
	}
	return containerEntry, catalog.Identity{Runtime: rt, Kind: kind, VMM: vmm}, catalog.Matched
}
