package inventory

import (
	"time"

	"github.com/otelcol-virt/otelcol-virt/internal/catalog"
	"github.com/otelcol-virt/otelcol-virt/internal/cgroup"
	"github.com/otelcol-virt/otelcol-virt/internal/cgroupid"
	"github.com/otelcol-virt/otelcol-virt/internal/proc"
)

// Grouping tells how an instance's processes were found.
type Grouping uint8

const (
	// ByCgroup: the instance is a cgroup (with its sub-cgroups) and every process in it.
	ByCgroup Grouping = iota
	// ByProcess: the instance has no cgroup of its own; it is a matched process and its
	// descendants that no cgroup instance holds.
	ByProcess
)

func (g Grouping) String() string {
	if g == ByCgroup {
		return "cgroup"
	}
	return "process"
}

// Process is one process of an instance as the walk saw it.
type Process struct {
	PID int
	// Start is the start time after boot in clock ticks; with PID it identifies the process
	// across pid reuse.
	Start uint64
	Comm  string
	// Exe is /proc/<pid>/exe, read for matched processes only ("" otherwise or unreadable).
	Exe string
	// Dir is <root>/proc/<pid>/, for consumers that read more of the process.
	Dir string
	// Stat is the process's stat line as read by the walk at Snapshot.Taken.
	Stat proc.Stat
	// Matched is the catalog entry that recognised the process, nil for a member that only
	// sits in the instance's cgroup or below its process.
	Matched *catalog.Entry
}

// Instance is one discovered workload: a cgroup, or a process tree without a cgroup of its own.
type Instance struct {
	// Key identifies the instance for its life: its cgroup path, or "pid:<pid>:<start time>".
	Key      string
	Grouping Grouping
	// Identity is what the catalog learnt from the matched processes (runtime, kind, VMM, VM
	// name and size, Wasm module), completed from the cgroup's identity.
	Identity catalog.Identity
	// Cgroup is what the cgroup path tells (container and pod ids, QoS, VM ids).
	Cgroup cgroupid.Identity
	// Paths are the instance's cgroups in each hierarchy, as host paths (mapped from the
	// collector's cgroup namespace). For a process-grouped instance they are its main
	// process's cgroups, which it shares with others.
	Paths cgroup.Paths
	// Extra are further cgroups the instance spans: a Kata sandbox's VMM keeps its
	// thread-group leader in /kata_overhead/<id> while its vCPU threads are in the sandbox
	// cgroup. Their figures add to the instance's.
	Extra []cgroup.Paths
	// Procs are the instance's processes; Procs[0] is the main one (the oldest matched).
	Procs []Process
}

// Main is the instance's main process.
func (in *Instance) Main() *Process { return &in.Procs[0] }

// Snapshot is one walk of the host: immutable once published, shared by every reader.
type Snapshot struct {
	// Taken is when the process table was read; the stat lines of Process are of that time.
	Taken time.Time
	// Walk numbers the walks of the inventory that produced it, from 1.
	Walk uint64
	// Layout is the host's cgroup layout; LayoutErr is set when no hierarchy was found.
	Layout    cgroup.Layout
	LayoutErr error
	// BootTime is the host's boot time, zero when /proc/stat was unreadable.
	BootTime time.Time
	// HostNetns is the target of pid 1's ns/net link (the collector's own when that is not
	// readable), "" when neither is.
	HostNetns string
	// ProcRoot is <root>/proc.
	ProcRoot string

	Instances []Instance

	byPID       map[int]int
	byContainer map[string]int
	byPod       map[string][]int
	byKey       map[string]int
	byVMID      map[string]int
}

func (s *Snapshot) index() {
	s.byPID = make(map[int]int, len(s.Instances))
	s.byContainer = map[string]int{}
	s.byPod = map[string][]int{}
	s.byKey = make(map[string]int, len(s.Instances))
	s.byVMID = map[string]int{}
	for i := range s.Instances {
		in := &s.Instances[i]
		s.byKey[in.Key] = i
		for _, p := range in.Procs {
			s.byPID[p.PID] = i
		}
		if c := in.Cgroup.ContainerID; c != "" {
			s.byContainer[c] = i
		}
		if u := in.Cgroup.PodUID; u != "" {
			s.byPod[u] = append(s.byPod[u], i)
		}
		if id := in.VMID(); id != "" {
			s.byVMID[id] = i
		}
	}
}

// VMID is the instance's VM id from its command line, else from its cgroup.
func (in *Instance) VMID() string {
	if in.Identity.VMID != "" {
		return in.Identity.VMID
	}
	return in.Cgroup.VMID
}

// VMName is the instance's VM name from its command line, else from its cgroup.
func (in *Instance) VMName() string {
	if in.Identity.VMName != "" {
		return in.Identity.VMName
	}
	return in.Cgroup.VMName
}

// ByPID returns the instance a process belongs to.
func (s *Snapshot) ByPID(pid int) (*Instance, bool) {
	if s == nil {
		return nil, false
	}
	i, ok := s.byPID[pid]
	return s.found(i, ok)
}

// ByKey returns the instance with that key.
func (s *Snapshot) ByKey(key string) (*Instance, bool) {
	if s == nil {
		return nil, false
	}
	i, ok := s.byKey[key]
	return s.found(i, ok)
}

// ByContainerID returns the instance of a container id (its full id).
func (s *Snapshot) ByContainerID(id string) (*Instance, bool) {
	if s == nil {
		return nil, false
	}
	i, ok := s.byContainer[id]
	return s.found(i, ok)
}

// ByVMID returns the instance of a VM id (libvirt uuid or id, jailer id, Kata sandbox id).
func (s *Snapshot) ByVMID(id string) (*Instance, bool) {
	if s == nil {
		return nil, false
	}
	i, ok := s.byVMID[id]
	return s.found(i, ok)
}

func (s *Snapshot) found(i int, ok bool) (*Instance, bool) {
	if !ok {
		return nil, false
	}
	return &s.Instances[i], true
}

// ByPodUID returns the instances of a Kubernetes pod, oldest first.
func (s *Snapshot) ByPodUID(uid string) []*Instance {
	if s == nil {
		return nil
	}
	idx := s.byPod[uid]
	out := make([]*Instance, len(idx))
	for j, i := range idx {
		out[j] = &s.Instances[i]
	}
	return out
}
