package wasmruntimereceiver

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/otelcol-virt/otelcol-virt/internal/cgroupid"
	"github.com/otelcol-virt/otelcol-virt/internal/proc"
)

// refreshAfter bounds how long values that rarely change (limits, a process's cgroup and fd
// limit) are served from cache. They can change (systemctl set-property, prlimit, a process
// moved), so they are re-read at this pace rather than never.
const refreshAfter = time.Minute

// Controllers the receiver reads, by index.
const (
	ctrlCPU = iota
	ctrlCPUAcct
	ctrlMemory
	ctrlPids
	ctrlBlkio
	numCtrl
)

var ctrlNames = [numCtrl]string{"cpu", "cpuacct", "memory", "pids", "blkio"}

// procEntry is what is cached about one process for its lifetime, keyed by pid and checked
// against its start time and comm (an exec changes comm; pid reuse changes start time).
type procEntry struct {
	pid   int
	start uint64
	comm  string
	dir   string // <proc>/<pid>/
	stat  string // <proc>/<pid>/stat
	fd    string // <proc>/<pid>/fd
	gen   uint64

	matchDone bool
	m         *matcher
	id        identity

	cmdline     []string
	cmdlineRead bool
	joined      string
	exe         string
	exeRead     bool

	cg     *procCgroups
	cgRead time.Time

	fdLimit     uint64
	fdLimitRead time.Time
	fdLimitOK   bool

	netns     string // target of ns/net, "" until read
	netnsRead bool
}

// procCgroups are a process's cgroup paths.
type procCgroups struct {
	v1      [numCtrl]string // "" when the controller is not on a v1 hierarchy
	unified string          // path in the v2 hierarchy, "" without a 0:: line
	named   string          // name=systemd path, used for identity on v1 hosts
}

// identityPath is the path that best names the workload: the unified one unless it is the
// root (hybrid hosts keep processes at / there), else the systemd or a controller path.
func (c *procCgroups) identityPath() string {
	for _, p := range []string{c.unified, c.named, c.v1[ctrlCPU], c.v1[ctrlMemory], c.v1[ctrlPids]} {
		if p != "" && p != "/" {
			return p
		}
	}
	return "/"
}

func parseProcCgroups(data []byte) (*procCgroups, error) {
	lines, err := proc.ParseCgroup(data)
	if err != nil {
		return nil, err
	}
	c := &procCgroups{}
	for _, l := range lines {
		if l.HierarchyID == 0 && len(l.Controllers) == 0 {
			c.unified = l.Path
			continue
		}
		for _, ctl := range l.Controllers {
			if ctl == "name=systemd" {
				c.named = l.Path
			}
			for i, n := range ctrlNames {
				if ctl == n {
					c.v1[i] = l.Path
				}
			}
		}
	}
	return c, nil
}

// procSnap is one process as seen in this scrape.
type procSnap struct {
	st    proc.Stat
	e     *procEntry
	owner int32 // index into instances, -1 none, -2 not computed
}

// instance is one discovered workload in this scrape.
type instance struct {
	key       string
	cgroupKey bool // grouped by a dedicated cgroup
	main      int  // index into procs
	members   []int
	id        identity
	cgid      cgroupid.Identity
	cg        *procCgroups // the main process's cgroups
	paths     [numCtrl]string
	unified   string // instance's unified path ("" when shared or absent)
	state     *instState
}

// discover scans the process table, matches runtimes and groups processes into instances.
func (s *wasmRuntimeScraper) discover(now time.Time) {
	s.gen++
	s.procs = s.procs[:0]
	s.instances = s.instances[:0]
	clear(s.byPID)
	var err error
	s.pids, err = s.r.listPIDs(s.procRoot, s.pids[:0])
	if err != nil {
		s.fail(err)
		return
	}
	s.discoveredAt = time.Now()
	for _, pid := range s.pids {
		e := s.entries[pid]
		path := ""
		if e != nil {
			path = e.stat
		} else {
			path = s.procRoot + "/" + strconv.Itoa(pid) + "/stat"
		}
		data, err := s.r.readCached(path)
		if err != nil {
			s.fail(err)
			continue
		}
		st, comm, err := proc.ParseStat(data)
		if err != nil {
			s.fail(err)
			continue
		}
		if e == nil || e.start != st.StartTime || e.comm != string(comm) {
			dir := s.procRoot + "/" + strconv.Itoa(pid) + "/"
			e = &procEntry{pid: pid, start: st.StartTime, comm: string(comm), dir: dir, stat: dir + "stat", fd: dir + "fd"}
			s.entries[pid] = e
		}
		e.gen = s.gen
		s.byPID[pid] = len(s.procs)
		s.procs = append(s.procs, procSnap{st: st, e: e, owner: -2})
	}
	for pid, e := range s.entries {
		if e.gen != s.gen {
			delete(s.entries, pid)
		}
	}

	// Match, then group matched processes oldest first so parents get their key first.
	s.matched = s.matched[:0]
	for i := range s.procs {
		p := &s.procs[i]
		if !p.e.matchDone {
			s.match(p)
		}
		if p.e.m != nil {
			s.matched = append(s.matched, i)
		}
	}
	slices.SortFunc(s.matched, func(a, b int) int {
		return cmp.Compare(s.procs[a].st.StartTime, s.procs[b].st.StartTime)
	})

	s.instances = s.instances[:0]
	clear(s.byKey)
	for _, i := range s.matched {
		s.group(i, now)
	}
	for i := range s.procs {
		s.ownerOf(i)
	}
	for i := range s.procs {
		if o := s.procs[i].owner; o >= 0 && s.instances[o].main != i {
			s.instances[o].members = append(s.instances[o].members, i)
		}
	}
	// Filters.
	kept := s.instances[:0]
	for _, in := range s.instances {
		if !s.cfg.Include.empty() && !s.cfg.Include.matches(in.id.Kind, in.id.Runtime) {
			continue
		}
		if s.cfg.Exclude.matches(in.id.Kind, in.id.Runtime) {
			continue
		}
		kept = append(kept, in)
	}
	s.instances = kept
}

// match runs the matchers on a process once per lifetime.
func (s *wasmRuntimeScraper) match(p *procSnap) {
	e := p.e
	e.matchDone = true
	if e.pid == 2 || p.st.PPID == 2 { // kernel threads
		return
	}
	for _, m := range s.matchers {
		if m.comm != nil && !m.comm.MatchString(e.comm) {
			continue
		}
		if m.exe != nil && !m.exe.MatchString(s.exeOf(e)) {
			continue
		}
		if m.needsCmdline() && s.cmdlineOf(e) == "" {
			// Right after execve the kernel shows the new comm before it has set up the
			// argument area: an empty command line here means "not yet" (or a zombie), so
			// matching is retried at the next scrape.
			e.matchDone, e.cmdlineRead = false, false
			return
		}
		if m.cmdline != nil && !m.cmdline.MatchString(s.cmdlineOf(e)) {
			continue
		}
		e.m = m
		e.id = identity{Runtime: m.name, Kind: m.kind, VMM: m.vmm}
		if m.extract != nil {
			s.cmdlineOf(e)
			m.extract(e.cmdline, s.exeOf(e), &e.id)
		}
		if len(m.attrs) > 0 {
			m.applyUserAttrs(s.cmdlineOf(e), &e.id)
		}
		return
	}
}

func (s *wasmRuntimeScraper) exeOf(e *procEntry) string {
	if !e.exeRead {
		e.exeRead = true
		exe, err := s.r.readlink(e.dir + "exe")
		if err != nil {
			s.fail(err)
		}
		e.exe = exe
	}
	return e.exe
}

func (s *wasmRuntimeScraper) cmdlineOf(e *procEntry) string {
	if !e.cmdlineRead {
		e.cmdlineRead = true
		data, err := s.r.read(e.dir + "cmdline")
		if err != nil {
			s.fail(err)
			return ""
		}
		e.cmdline = proc.ParseCmdline(data)
		e.joined = strings.Join(e.cmdline, " ")
	}
	return e.joined
}

func (s *wasmRuntimeScraper) cgroupsOf(e *procEntry, now time.Time) *procCgroups {
	if e.cg == nil || now.Sub(e.cgRead) > refreshAfter {
		data, err := s.r.read(e.dir + "cgroup")
		if err != nil {
			s.fail(err)
			return e.cg
		}
		cg, err := parseProcCgroups(data)
		if err != nil {
			s.fail(err)
			return e.cg
		}
		s.inHostHierarchies(cg)
		e.cg, e.cgRead = cg, now
	}
	return e.cg
}

// group assigns matched process i to an instance: its own cgroup when it has one (a cgroup
// layout cgroupid recognises, or a cgroup other than its parent's), else the instance of its
// nearest matched ancestor, else a process-tree instance of its own.
func (s *wasmRuntimeScraper) group(i int, now time.Time) {
	p := &s.procs[i]
	cg := s.cgroupsOf(p.e, now)
	var in instance
	in.main = i
	in.id = p.e.id
	in.cg = cg
	if cg != nil {
		in.cgid = cgroupid.Parse(cg.identityPath())
		dedicated := in.cgid.Scope != ""
		var parentCG *procCgroups
		if !dedicated {
			if j, ok := s.byPID[p.st.PPID]; ok && p.st.PPID > 0 {
				parentCG = s.cgroupsOf(s.procs[j].e, now)
			}
			dedicated = parentCG != nil && differs(cg, parentCG) && s.exclusiveTo(i, cg, now)
		}
		if dedicated {
			in.cgroupKey = true
			for c := range numCtrl {
				in.paths[c] = scoped(cg.v1[c], in.cgid.Scope != "")
			}
			if cg.unified != "" && cg.unified != "/" && (parentCG == nil || cg.unified != parentCG.unified) {
				in.unified = scoped(cg.unified, in.cgid.Scope != "")
			}
			in.key = s.instanceKey(&in)
		} else {
			in.paths = cg.v1
		}
	}
	if !in.cgroupKey {
		// A matched descendant of a matched process without a cgroup of its own is part of
		// the ancestor's instance.
		if a := s.matchedAncestor(i); a >= 0 {
			s.procs[i].owner = a
			return
		}
		in.key = "pid:" + strconv.Itoa(p.e.pid) + ":" + strconv.FormatUint(p.e.start, 10)
	}
	if k, ok := s.byKey[in.key]; ok {
		// Several matched processes in one cgroup (a Kata shim and its VMM): one instance,
		// identity completed from each.
		s.instances[k].id.merge(p.e.id)
		s.procs[i].owner = int32(k)
		return
	}
	s.byKey[in.key] = len(s.instances)
	p.owner = int32(len(s.instances))
	s.instances = append(s.instances, in)
}

func (s *wasmRuntimeScraper) instanceKey(in *instance) string {
	if in.unified != "" {
		return in.unified
	}
	for _, c := range [...]int{ctrlCPU, ctrlMemory, ctrlPids, ctrlCPUAcct, ctrlBlkio} {
		if in.paths[c] != "" && in.paths[c] != "/" {
			return in.paths[c]
		}
	}
	return in.cg.identityPath()
}

// scoped cuts a controller path to the instance scope cgroupid finds in it (libvirt puts the
// VMM's threads in sub-cgroups of the machine scope).
func scoped(p string, recognised bool) string {
	if !recognised || p == "" {
		return p
	}
	if sc := cgroupid.Parse(p).Scope; sc != "" {
		return sc
	}
	return p
}

func differs(a, b *procCgroups) bool {
	if a.unified != b.unified {
		return true
	}
	for c := range numCtrl {
		if a.v1[c] != b.v1[c] {
			return true
		}
	}
	return false
}

// matchedAncestor returns the instance index of the nearest ancestor that already owns an
// instance, or -1.
func (s *wasmRuntimeScraper) matchedAncestor(i int) int32 {
	for hops := 0; hops < 64; hops++ {
		j, ok := s.byPID[s.procs[i].st.PPID]
		if !ok || s.procs[i].st.PPID <= 0 {
			return -1
		}
		if o := s.procs[j].owner; o >= 0 {
			return o
		}
		i = j
	}
	return -1
}

// ownerOf resolves which instance, if any, a process belongs to through its ancestors.
func (s *wasmRuntimeScraper) ownerOf(i int) int32 {
	var stack [64]int
	n := 0
	owner := int32(-1)
	for {
		p := &s.procs[i]
		if p.owner != -2 {
			owner = p.owner
			break
		}
		if n == len(stack) {
			break
		}
		stack[n] = i
		n++
		j, ok := s.byPID[p.st.PPID]
		if !ok || p.st.PPID <= 0 {
			break
		}
		i = j
	}
	for k := 0; k < n; k++ {
		s.procs[stack[k]].owner = owner
	}
	return owner
}

// exclusiveCheck caches whether a cgroup holds only one process tree.
type exclusiveCheck struct {
	ok bool
	at time.Time
}

// exclusiveTo reports whether every process in the cgroup of process i is i or one of its
// descendants: a process its launcher put in a cgroup of its own (a systemd service, a
// jailer, a test) rather than one sharing its daemon's cgroup (a shim in containerd.service).
// One read of cgroup.procs, cached like limits.
func (s *wasmRuntimeScraper) exclusiveTo(i int, cg *procCgroups, now time.Time) bool {
	dir := ""
	switch {
	case s.layoutErr != nil:
		return false
	case s.layout.Unified != "" && cg.unified != "" && cg.unified != "/":
		dir = s.layout.Unified + cg.unified
	default:
		for c := range numCtrl {
			if d, ok := s.layout.V1[ctrlNames[c]]; ok && cg.v1[c] != "" && cg.v1[c] != "/" {
				dir = d + cg.v1[c]
				break
			}
		}
	}
	if dir == "" {
		return false
	}
	if c, ok := s.exclusive[dir]; ok && now.Sub(c.at) < refreshAfter {
		return c.ok
	}
	data, err := s.r.read(dir + "/cgroup.procs")
	if err != nil {
		s.fail(err)
		return false
	}
	root := s.procs[i].e.pid
	ok := true
	for len(data) > 0 && ok {
		j := 0
		for j < len(data) && data[j] != '\n' {
			j++
		}
		pid, err := strconv.Atoi(string(data[:j]))
		if j < len(data) {
			j++
		}
		data = data[j:]
		if err != nil {
			continue
		}
		ok = s.descends(pid, root)
	}
	if len(s.exclusive) > 4096 {
		clear(s.exclusive)
	}
	s.exclusive[dir] = exclusiveCheck{ok: ok, at: now}
	return ok
}

// descends reports whether pid is root or below it; pids that appeared after the scan count
// as descendants (they cannot be told apart yet).
func (s *wasmRuntimeScraper) descends(pid, root int) bool {
	for hops := 0; hops < 64; hops++ {
		if pid == root {
			return true
		}
		j, ok := s.byPID[pid]
		if !ok {
			return true
		}
		pid = s.procs[j].st.PPID
		if pid <= 0 {
			return false
		}
	}
	return false
}
