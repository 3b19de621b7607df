package virtualizationattributesprocessor

import (
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/otelcol-virt/otelcol-virt/internal/catalog"
	"github.com/otelcol-virt/otelcol-virt/internal/cgroup"
	"github.com/otelcol-virt/otelcol-virt/internal/cgroupid"
	"github.com/otelcol-virt/otelcol-virt/internal/linuxfs"
	"github.com/otelcol-virt/otelcol-virt/internal/proc"
)

// procFacts is one process as the lookup reads it; it implements catalog.Process so that the
// processor names a process exactly as the wasm_runtime receiver's discovery does.
type procFacts struct {
	r    *linuxfs.Reader
	dir  string // <root>/proc/<pid>/
	comm string
	cgid cgroupid.Identity

	exe         string
	exeRead     bool
	cmdline     []string
	cmdlineRead bool
}

func (f *procFacts) Comm() string              { return f.comm }
func (f *procFacts) Cgroup() cgroupid.Identity { return f.cgid }

// ParseNamedFile implements catalog.Process. The processor reports none of what such files
// say (a VM's size is the receiver's), so nothing is read.
func (f *procFacts) ParseNamedFile(string, int, func([]byte) error) {}

func (f *procFacts) Exe() string {
	if !f.exeRead {
		f.exeRead = true
		f.exe, _ = f.r.Readlink(f.dir + "exe")
	}
	return f.exe
}

func (f *procFacts) Cmdline() ([]string, bool) {
	if !f.cmdlineRead {
		f.cmdlineRead = true
		if d, err := f.r.Read(f.dir + "cmdline"); err == nil {
			f.cmdline = proc.ParseCmdline(d)
		}
	}
	return f.cmdline, len(f.cmdline) > 0
}

// readProc reads a process's comm and cgroup below the root; false when it is gone.
func (p *virtProcessor) readProc(pid int) (*procFacts, bool) {
	dir := filepath.Join(p.fs.Root(), "proc", strconv.Itoa(pid)) + "/"
	data, err := p.reader.Read(dir + "cgroup")
	if err != nil {
		return nil, false
	}
	paths, err := cgroup.ParsePaths(data)
	if err != nil {
		return nil, false
	}
	f := &procFacts{r: p.reader, dir: dir, cgid: cgroupid.Parse(paths.Identity())}
	if c, err := p.reader.Read(dir + "comm"); err == nil {
		f.comm = strings.TrimRight(string(c), "\n")
	}
	return f, true
}

// classify names a process with the shared catalog, and by its cgroup alone when no runtime
// of the catalog runs it (a plain container, a Kata sandbox's helper).
func (p *virtProcessor) classify(f *procFacts) *instanceInfo {
	if _, id, res := p.cat.Match(f); res == catalog.Matched {
		kind, rt, vmm := id.Kind, id.Runtime, id.VMM
		if f.cgid.Runtime == cgroupid.RuntimeKata {
			kind, rt, _ = catalog.ForCgroup(f.cgid) // the inventory's rule: a Kata sandbox is Kata's
		}
		return newInstanceInfo(kind, rt, vmm, p.cfg.ResourceAttributes)
	}
	kind, rt, vmm := catalog.ForCgroup(f.cgid)
	return newInstanceInfo(kind, rt, vmm, p.cfg.ResourceAttributes)
}

// localIndex maps container ids and pod uids to a process, from one scan of /proc.
type localIndex struct {
	byContainer map[string]int
	byPod       map[string]int
	monitor     map[int]bool
	scanned     time.Time
	truncated   bool
}

// scanProc reads the cgroups of up to maxProcs processes. Workload processes are preferred over
// runtime helpers (conmon, shims) by keeping the first non-monitor process seen per id.
func (p *virtProcessor) scanProc(maxProcs int) *localIndex {
	idx := &localIndex{byContainer: map[string]int{}, byPod: map[string]int{}, monitor: map[int]bool{}, scanned: time.Now()}
	pids, err := p.reader.ListNumeric(filepath.Join(p.fs.Root(), "proc"), nil)
	if err != nil {
		return idx
	}
	for n, pid := range pids {
		if n >= maxProcs {
			idx.truncated = true
			break
		}
		f, ok := p.readProc(pid)
		if !ok || f.cgid.IsZero() {
			continue
		}
		idx.monitor[pid] = f.cgid.Monitor
		keep := func(m map[string]int, key string) {
			if old, ok := m[key]; !ok || idx.monitor[old] && !f.cgid.Monitor {
				m[key] = pid
			}
		}
		if c := f.cgid.ContainerID; c != "" {
			keep(idx.byContainer, c)
		}
		if u := f.cgid.PodUID; u != "" {
			keep(idx.byPod, u)
		}
	}
	return idx
}

// lookup resolves one key by reading /proc; it runs on the resolver goroutine only.
func (p *virtProcessor) lookup(k cacheKey) *instanceInfo {
	byPID := func(pid int) *instanceInfo {
		if f, ok := p.readProc(pid); ok {
			return p.classify(f)
		}
		return nil
	}
	if k.kind == keyConnection {
		pid, ok := socketOwner(p.fs.Root(), k.ap, p.cfg.Association.MaxProcesses)
		if !ok {
			return nil
		}
		k = cacheKey{kind: keyPID, n: int64(pid)}
	}
	if k.kind == keyPID {
		if k.n > 1<<31 {
			return nil
		}
		return byPID(int(k.n))
	}
	if p.index == nil || time.Since(p.index.scanned) >= p.cfg.Association.RescanInterval {
		p.index = p.scanProc(p.cfg.Association.MaxProcesses)
		if p.index.truncated {
			p.warn.Warn("/proc scan stopped at association::max_processes; raise it to see every process")
		}
	}
	switch k.kind {
	case keyContainer:
		if pid, ok := p.index.byContainer[k.s]; ok {
			return byPID(pid)
		}
	case keyPod:
		if pid, ok := p.index.byPod[k.s]; ok {
			return byPID(pid)
		}
	case keyServiceInstance:
		if rest, ok := strings.CutPrefix(k.s, "pid:"); ok {
			rest, _, _ = strings.Cut(rest, ":")
			if n, err := strconv.Atoi(rest); err == nil && n > 1 {
				return byPID(n)
			}
			return nil
		}
		if pid, ok := p.index.byContainer[k.s]; ok {
			return byPID(pid)
		}
		if pid, ok := p.index.byPod[k.s]; ok {
			return byPID(pid)
		}
	}
	return nil
}
