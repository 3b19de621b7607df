package inventory

import (
	"cmp"
	"errors"
	"slices"
	"strconv"
	"syscall"
	"time"

	"github.com/otelcol-virt/otelcol-virt/internal/bytesparse"
	"github.com/otelcol-virt/otelcol-virt/internal/catalog"
	"github.com/otelcol-virt/otelcol-virt/internal/cgroup"
	"github.com/otelcol-virt/otelcol-virt/internal/cgroupid"
)

// draft is an instance being grouped.
type draft struct {
	key      string
	grouping Grouping
	main     int // index into procs
	id       catalog.Identity
	cgid     cgroupid.Identity
	paths    cgroup.Paths
	extra    []cgroup.Paths
}

// group turns the matched processes into instances. An instance is a cgroup and every process
// in it when the matched process has a cgroup of its own: one that cgroupid recognises as a
// workload's (a container, a VM scope, a jailer cgroup, a Kata sandbox), or one no process
// outside its tree shares (a systemd service, a cgroup a launcher made). Otherwise it is the
// process and its descendants. Runtimes that run the workload in a process that is not a
// descendant of the one users see (runwasi's container init is a sibling of its shim; Kata's
// vCPU threads sit in another cgroup than their process) are found by cgroup membership.
func (inv *Inventory) group(now time.Time) []Instance {
	sc := &inv.scratch
	procs := sc.procs
	slices.SortFunc(sc.matched, func(a, b int) int { return cmp.Compare(procs[a].st.StartTime, procs[b].st.StartTime) })
	clear(sc.byKey)
	// At most one draft a matched process: sized once, not grown draft by draft.
	drafts := make([]draft, 0, len(sc.matched))

	add := func(d draft, i int) {
		if k, ok := sc.byKey[d.key]; ok {
			drafts[k].id.Merge(procs[i].e.id)
			if procs[drafts[k].main].e.entry.Role == catalog.RoleHelper && procs[i].e.entry.Role == catalog.RoleWorkload {
				drafts[k].main = i // the workload names the instance better than its shim
				drafts[k].id = mergedFirst(procs[i].e.id, drafts[k].id)
			}
			procs[i].owner = int32(k)
			return
		}
		sc.byKey[d.key] = len(drafts)
		procs[i].owner = int32(len(drafts))
		drafts = append(drafts, d)
	}

	// Cgroup instances first, so that membership is settled before process trees are.
	var processGrouped, overhead []int
	for _, i := range sc.matched {
		p := &procs[i]
		e := p.e
		cg := inv.cgroupsOf(e, now)
		if cg == nil || inv.layoutErr != nil {
			if e.entry.Role == catalog.RoleWorkload {
				processGrouped = append(processGrouped, i)
			}
			continue
		}
		if e.cgid.Runtime == cgroupid.RuntimeKata && e.cgid.Monitor {
			overhead = append(overhead, i) // joins its sandbox below
			continue
		}
		d, ok := inv.cgroupDraft(i, cg, now)
		if !ok {
			if e.entry.Role == catalog.RoleWorkload {
				processGrouped = append(processGrouped, i)
			}
			continue
		}
		add(d, i)
	}
	inv.joinSandboxes(overhead, &drafts, add)
	// Every process in an instance's cgroups belongs to it; the innermost instance wins when
	// one cgroup instance holds another (a container inside a VM scope).
	order := make([]int, len(drafts))
	for k := range order {
		order[k] = k
	}
	slices.SortFunc(order, func(a, b int) int { return cmp.Compare(len(drafts[b].key), len(drafts[a].key)) })
	for _, k := range order {
		inv.claimMembers(&drafts[k], int32(k))
	}
	// Process trees: a matched process that no cgroup instance holds makes one, unless a
	// matched ancestor already did.
	for _, i := range processGrouped {
		p := &procs[i]
		if p.owner >= 0 {
			continue
		}
		if a := inv.ownedAncestor(i); a >= 0 && drafts[a].grouping == ByProcess {
			p.owner = a
			drafts[a].id.Merge(p.e.id)
			continue
		}
		d := draft{key: "pid:" + strconv.Itoa(p.e.pid) + ":" + strconv.FormatUint(p.e.start, 10), grouping: ByProcess, main: i, id: p.e.id}
		if p.e.cg != nil {
			d.paths, d.cgid = *p.e.cg, p.e.cgid
		}
		add(d, i)
	}
	// Descendants of process-grouped instances that no cgroup instance claimed.
	for i := range procs {
		if procs[i].owner == -2 {
			inv.ownerOf(i, drafts)
		}
	}

	out := make([]Instance, len(drafts))
	for k := range drafts {
		d := &drafts[k]
		id := d.id
		completeFromCgroup(&id, d.cgid)
		out[k] = Instance{Key: d.key, Grouping: d.grouping, Identity: id, Cgroup: d.cgid, Paths: d.paths, Extra: d.extra}
		out[k].Procs = append(out[k].Procs, inv.process(d.main))
	}
	for i := range procs {
		if o := procs[i].owner; o >= 0 && int(o) < len(drafts) && drafts[o].main != i {
			out[o].Procs = append(out[o].Procs, inv.process(i))
		}
	}
	return out
}

// mergedFirst is a.Merge(b) returned by value, a's fields winning.
func mergedFirst(a, b catalog.Identity) catalog.Identity {
	a.Merge(b)
	return a
}

func (inv *Inventory) process(i int) Process {
	p := &inv.scratch.procs[i]
	e := p.e
	out := Process{PID: e.pid, Start: e.start, Comm: e.comm, Dir: e.dir, Stat: p.st, Matched: e.entry}
	if e.entry != nil {
		out.Exe = e.Exe()
	}
	return out
}

// cgroupDraft decides whether matched process i has a cgroup of its own and builds its draft.
func (inv *Inventory) cgroupDraft(i int, cg *cgroup.Paths, now time.Time) (draft, bool) {
	sc := &inv.scratch
	p := &sc.procs[i]
	e := p.e
	cid := e.cgid
	d := draft{grouping: ByCgroup, main: i, id: e.id, cgid: cid}
	switch {
	case cid.Scope != "" && !cid.Monitor:
		d.paths = scopedPaths(cg)
	case cid.Scope != "":
		// A runtime's helper cgroup (conmon, an LXC monitor): not the workload's.
		return d, false
	default:
		if e.entry.Role != catalog.RoleWorkload {
			return d, false
		}
		var parent *cgroup.Paths
		if j, ok := sc.byPID[p.st.PPID]; ok && p.st.PPID > 0 {
			parent = inv.cgroupsOf(sc.procs[j].e, now)
		}
		if parent == nil || !cg.Differs(parent) || !inv.exclusiveTo(i, cg, now) {
			return d, false
		}
		d.paths = *cg
		if parent.Unified == cg.Unified {
			d.paths.Unified = "" // shared with the parent: not the instance's
		}
	}
	d.key = instanceKey(&d.paths)
	if d.key == "" || d.key == "/" {
		return d, false
	}
	return d, true
}

// joinSandboxes adds the processes of Kata overhead cgroups (/kata_overhead/<id>, which keeps
// the shim and virtiofsd, and on cgroup v1 the VMM's leader and non-vCPU threads) to their
// sandbox's instance, with the overhead cgroup as one more cgroup of the instance: its CPU and
// memory are the sandbox's too. The sandbox is found, in this order, by the cgroup of a VMM's
// own vCPU threads (v1 moves only those: Kata's AddThread writes tasks), by an instance whose
// sandbox id is the overhead's (v2 moves the whole VMM into kata_<id>, or the systemd driver's
// cri-containerd-<id>.scope), or not at all when the sandbox cgroup is not visible: then the
// overhead cgroup stands alone.
// Kata: src/runtime/virtcontainers/sandbox.go (resCtrlKataOverheadID, setupResourceController,
// constrainHypervisor) and pkg/resourcecontrol/cgroups.go (AddThread), commit 7c6ba40c.
func (inv *Inventory) joinSandboxes(overhead []int, drafts *[]draft, add func(draft, int)) {
	sc := &inv.scratch
	attach := func(i, k int) {
		e := sc.procs[i].e
		ov := scopedPaths(e.cg)
		d := &(*drafts)[k]
		dup := d.paths == ov
		for _, x := range d.extra {
			dup = dup || x == ov
		}
		if !dup {
			d.extra = append(d.extra, ov)
		}
		d.id.Merge(e.id)
		sc.procs[i].owner = int32(k)
	}
	// The VMM whose vCPU threads sit in the sandbox cgroup names it.
	var rest []int
	for _, i := range overhead {
		e := sc.procs[i].e
		found := false
		for _, t := range inv.readTaskCgroups(e, 256) {
			tid := cgroupid.Parse(t.Identity())
			if tid.Scope == "" || tid.Monitor {
				continue
			}
			d := draft{grouping: ByCgroup, main: i, id: e.id, cgid: tid, paths: scopedPaths(&t)}
			if d.key = instanceKey(&d.paths); d.key != "" {
				add(d, i)
				attach(i, int(sc.procs[i].owner))
				found = true
				break
			}
		}
		if !found {
			rest = append(rest, i)
		}
	}
	// The others join the instance of their sandbox id, or stand alone.
	for _, i := range rest {
		e := sc.procs[i].e
		sid := e.cgid.VMID
		k := -1
		for j := range *drafts {
			d := &(*drafts)[j]
			if sid != "" && (d.cgid.VMID == sid || d.id.VMID == sid || d.cgid.ContainerID == sid) {
				k = j
				break
			}
		}
		if k >= 0 {
			attach(i, k)
			continue
		}
		d := draft{grouping: ByCgroup, main: i, id: e.id, cgid: e.cgid, paths: scopedPaths(e.cg)}
		if d.key = instanceKey(&d.paths); d.key != "" {
			add(d, i)
		}
	}
}

// instanceKey is the instance's cgroup path in the hierarchy that best names it.
func instanceKey(p *cgroup.Paths) string {
	if p.Unified != "" && p.Unified != "/" {
		return p.Unified
	}
	for _, c := range [...]cgroup.Controller{cgroup.CPU, cgroup.Memory, cgroup.Pids, cgroup.CPUAcct, cgroup.Blkio} {
		if p.V1[c] != "" && p.V1[c] != "/" {
			return p.V1[c]
		}
	}
	if p.Named != "" && p.Named != "/" {
		return p.Named
	}
	return ""
}

// scopedPaths cuts each of a process's cgroup paths to the instance scope cgroupid finds in it:
// libvirt puts a VMM's threads in sub-cgroups (libvirt/emulator, libvirt/vcpuN) of the machine
// scope, Podman a container's processes in libpod-<id>.scope/container.
func scopedPaths(cg *cgroup.Paths) cgroup.Paths {
	cut := func(p string) string {
		if p == "" {
			return p
		}
		if sc := cgroupid.Parse(p).Scope; sc != "" {
			return sc
		}
		return p
	}
	out := *cg
	for c := range cgroup.NumControllers {
		out.V1[c] = cut(cg.V1[c])
	}
	if cg.Unified != "/" {
		out.Unified = cut(cg.Unified)
	}
	out.Named = cut(cg.Named)
	return out
}

// Bounds of a membership read: a runtime's sub-cgroups below an instance are a handful.
const (
	maxMemberDirs  = 512
	maxMemberDepth = 8
)

// claimMembers gives every process listed in the instance's cgroups (and their sub-cgroups)
// that no instance holds yet to the instance.
func (inv *Inventory) claimMembers(d *draft, k int32) {
	inv.claimIn(&d.paths, k)
	for i := range d.extra {
		inv.claimIn(&d.extra[i], k)
	}
}

func (inv *Inventory) claimIn(paths *cgroup.Paths, k int32) {
	sc := &inv.scratch
	dir := inv.membershipDir(paths)
	if dir == "" {
		return
	}
	sc.members = inv.listMembers(dir, sc.members[:0])
	for _, pid := range sc.members {
		if j, ok := sc.byPID[pid]; ok && sc.procs[j].owner < 0 {
			sc.procs[j].owner = k
		}
	}
}

// membershipDir is the directory whose cgroup.procs lists an instance's processes: the unified
// hierarchy when it names the instance (every process is in exactly one cgroup there), else the
// first v1 hierarchy that does.
func (inv *Inventory) membershipDir(p *cgroup.Paths) string {
	if inv.layout.Unified != "" && p.Unified != "" && p.Unified != "/" {
		return inv.joined.Join(inv.layout.Unified, p.Unified)
	}
	for _, c := range [...]cgroup.Controller{cgroup.CPU, cgroup.Memory, cgroup.Pids, cgroup.CPUAcct, cgroup.Blkio} {
		if m, ok := inv.layout.V1[c.Name()]; ok && p.V1[c] != "" && p.V1[c] != "/" {
			return inv.joined.Join(m, p.V1[c])
		}
	}
	if inv.namedMount != "" && p.Named != "" && p.Named != "/" {
		return inv.joined.Join(inv.namedMount, p.Named)
	}
	return ""
}

// listMembers appends the pids of cgroup.procs of dir and of its sub-cgroups (bounded). The
// sub-cgroups a runtime makes are set up with the instance and kept for its life (libvirt's
// emulator and vcpuN): the listing is cached like other slow-changing facts.
func (inv *Inventory) listMembers(dir string, dst []int) []int {
	for _, d := range inv.subtreeOf(dir) {
		// Kept open and re-read with pread like the usage files: a seq_file restarts at
		// offset 0, and an open cgroup.procs does not keep the cgroup from being removed.
		data, err := inv.r.ReadCachedMultiAt(d, "cgroup.procs")
		if err != nil {
			// A threaded cgroup (libvirt's vcpuN and emulator on v2) lists no processes: its
			// threaded domain above does.
			if !errors.Is(err, syscall.EOPNOTSUPP) {
				inv.tally.FailIn(d, err)
			}
			continue
		}
		dst = appendPIDs(dst, data)
	}
	return dst
}

// subtreeOf returns dir and its sub-cgroups, listed at most once per refreshAfter.
func (inv *Inventory) subtreeOf(dir string) []string {
	if st, ok := inv.subtrees[dir]; ok && time.Since(st.at) < refreshAfter {
		st.walk = inv.walk
		return st.dirs
	}
	if len(inv.subtrees) > 4096 {
		for d, st := range inv.subtrees {
			if st.walk != inv.walk {
				delete(inv.subtrees, d)
			}
		}
	}
	st := &subtree{dirs: cgroup.Subtree([]string{dir}, dir, maxMemberDirs, maxMemberDepth), at: time.Now(), walk: inv.walk}
	inv.subtrees[dir] = st
	return st.dirs
}

type subtree struct {
	dirs []string
	at   time.Time
	walk uint64
}

// ownedAncestor returns the instance of the nearest ancestor that has one, or -1.
func (inv *Inventory) ownedAncestor(i int) int32 {
	sc := &inv.scratch
	for hops := 0; hops < 64; hops++ {
		j, ok := sc.byPID[sc.procs[i].st.PPID]
		if !ok || sc.procs[i].st.PPID <= 0 {
			return -1
		}
		if o := sc.procs[j].owner; o >= 0 {
			return o
		}
		i = j
	}
	return -1
}

// ownerOf resolves, through its ancestors, which process-grouped instance a process no cgroup
// instance holds belongs to.
func (inv *Inventory) ownerOf(i int, drafts []draft) {
	sc := &inv.scratch
	var stack [64]int
	n := 0
	owner := int32(-1)
	for {
		p := &sc.procs[i]
		if p.owner != -2 {
			owner = p.owner
			break
		}
		if n == len(stack) {
			break
		}
		stack[n] = i
		n++
		j, ok := sc.byPID[p.st.PPID]
		if !ok || p.st.PPID <= 0 {
			break
		}
		i = j
	}
	if owner >= 0 && drafts[owner].grouping != ByProcess {
		owner = -1 // a cgroup instance's processes are those in its cgroups, not its descendants
	}
	for k := 0; k < n; k++ {
		sc.procs[stack[k]].owner = owner
	}
}

// completeFromCgroup fills what the processes' names did not tell from the cgroup identity.
func completeFromCgroup(id *catalog.Identity, cid cgroupid.Identity) {
	if id.VMID == "" {
		id.VMID = cid.VMID
	}
	if id.VMName == "" {
		id.VMName = cid.VMName
	}
	k, rt, vmm := catalog.ForCgroup(cid)
	if cid.Runtime == cgroupid.RuntimeKata {
		// The sandbox is Kata's whatever process was matched first (shim or VMM).
		id.Runtime, id.Kind = rt, k
	}
	if id.VMM == "" {
		id.VMM = vmm
	}
}

// exclusiveCheck caches whether a cgroup holds only one process tree.
type exclusiveCheck struct {
	ok bool
	at time.Time
}

// exclusiveTo reports whether every process in the cgroup of process i is i or one of its
// descendants: a process its launcher put in a cgroup of its own (a systemd service, a jailer,
// a test) rather than one sharing its daemon's cgroup. One read of cgroup.procs, cached.
func (inv *Inventory) exclusiveTo(i int, cg *cgroup.Paths, now time.Time) bool {
	sc := &inv.scratch
	if inv.layoutErr != nil {
		return false
	}
	dir := inv.membershipDir(cg)
	if dir == "" {
		return false
	}
	if c, ok := inv.exclusive[dir]; ok && now.Sub(c.at) < refreshAfter {
		return c.ok
	}
	pids := inv.listMembersFlat(dir)
	root := sc.procs[i].e.pid
	ok := true
	for _, pid := range pids {
		if !inv.descends(pid, root) {
			ok = false
			break
		}
	}
	if len(inv.exclusive) > 4096 {
		clear(inv.exclusive)
	}
	inv.exclusive[dir] = exclusiveCheck{ok: ok, at: now}
	return ok
}

// listMembersFlat reads one cgroup.procs, through the cache: it is the file listMembers
// re-reads at every walk.
func (inv *Inventory) listMembersFlat(dir string) []int {
	data, err := inv.r.ReadCachedMultiAt(dir, "cgroup.procs")
	if err != nil {
		inv.tally.FailIn(dir, err)
		return nil
	}
	return appendPIDs(nil, data)
}

// appendPIDs appends the pids of a cgroup.procs file (one decimal a line) to dst.
func appendPIDs(dst []int, data []byte) []int {
	for len(data) > 0 {
		var line []byte
		line, data = bytesparse.NextLine(data)
		if pid, ok := bytesparse.Atoi(line); ok && pid > 0 && pid < 1<<31 {
			dst = append(dst, int(pid))
		}
	}
	return dst
}

// descends reports whether pid is root or below it; pids that appeared after the walk count as
// descendants (they cannot be told apart yet).
func (inv *Inventory) descends(pid, root int) bool {
	sc := &inv.scratch
	for hops := 0; hops < 64; hops++ {
		if pid == root {
			return true
		}
		j, ok := sc.byPID[pid]
		if !ok {
			return true
		}
		pid = sc.procs[j].st.PPID
		if pid <= 0 {
			return false
		}
	}
	return false
}
