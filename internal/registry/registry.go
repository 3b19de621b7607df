// Package registry shares the instances discovered by the wasm_runtime receiver with other
// components of the same collector process (the virtualization_attributes processor), so that a
// host is scanned once, not once per component.
//
// A publisher replaces its whole snapshot after each discovery pass; readers look instances up
// without locks through an atomic pointer to an immutable snapshot.
package registry

import (
	"sync"
	"sync/atomic"
	"time"
)

// Isolation kinds of an instance.
const (
	KindWasm      = "wasm"
	KindMicroVM   = "microvm"
	KindVM        = "vm"
	KindSandbox   = "sandbox"
	KindContainer = "container"
	KindProcess   = "process"
)

// Instance is one discovered workload instance: a cgroup, or a process tree without its own cgroup.
type Instance struct {
	// Key identifies the instance across scans: its cgroup path, or "pid:<pid>:<start time>".
	Key string
	// Kind is one of the Kind* constants.
	Kind string
	// Runtime is the engine or VMM product that runs it (wasmtime, wasmedge, firecracker, qemu...).
	Runtime string
	// VMM names the virtual machine monitor for VM kinds (qemu, firecracker, cloud_hypervisor...).
	VMM string
	// Pids are the processes of the instance; Pids[0] is the main one.
	Pids        []int
	CgroupPath  string
	ContainerID string
	PodUID      string
	// Attributes are extra resource attributes the publisher derived (VM name, vCPUs, module...).
	Attributes map[string]string
}

// Snapshot is an immutable view of the publishers' latest discovery passes.
type Snapshot struct {
	Published   time.Time
	Instances   []Instance
	byPID       map[int]int
	byContainer map[string]int
	byPod       map[string][]int
}

// Registry holds the latest pass of each publisher, merged into one snapshot for readers. The
// zero value is empty and ready to use.
type Registry struct {
	current atomic.Pointer[Snapshot]
	mu      sync.Mutex          // serialises publishers
	passes  map[string]Snapshot // latest pass of each publisher, by publisher id
}

var shared Registry

// Shared returns the process-wide registry.
func Shared() *Registry { return &shared }

// Publish replaces the anonymous publisher's pass with instances (for a single publisher).
func (r *Registry) Publish(instances []Instance) { r.PublishFor("", instances) }

// PublishFor replaces the pass of one publisher (e.g. a receiver's component id) with instances,
// so that several receivers in one collector do not overwrite each other. The slice must not be
// modified afterwards.
func (r *Registry) PublishFor(publisher string, instances []Instance) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.passes == nil {
		r.passes = map[string]Snapshot{}
	}
	r.passes[publisher] = Snapshot{Published: time.Now(), Instances: instances}
	r.rebuild()
}

// Withdraw removes a publisher's pass, e.g. when its receiver shuts down.
func (r *Registry) Withdraw(publisher string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.passes[publisher]; !ok {
		return
	}
	delete(r.passes, publisher)
	r.rebuild()
}

// rebuild merges every publisher's pass into a new immutable snapshot; r.mu is held.
func (r *Registry) rebuild() {
	if len(r.passes) == 0 {
		r.current.Store(nil)
		return
	}
	var merged []Instance
	var newest time.Time
	if len(r.passes) == 1 {
		for _, p := range r.passes {
			merged, newest = p.Instances, p.Published
		}
	} else {
		for _, p := range r.passes {
			merged = append(merged, p.Instances...)
			if p.Published.After(newest) {
				newest = p.Published
			}
		}
	}
	r.current.Store(index(merged, newest))
}

func index(instances []Instance, published time.Time) *Snapshot {
	s := &Snapshot{
		Published:   published,
		Instances:   instances,
		byPID:       make(map[int]int, len(instances)),
		byContainer: make(map[string]int),
		byPod:       make(map[string][]int),
	}
	for i := range instances {
		in := &instances[i]
		for _, pid := range in.Pids {
			s.byPID[pid] = i
		}
		if in.ContainerID != "" {
			s.byContainer[in.ContainerID] = i
		}
		if in.PodUID != "" {
			s.byPod[in.PodUID] = append(s.byPod[in.PodUID], i)
		}
	}
	return s
}

// Snapshot returns the latest snapshot, or nil when nothing was published yet.
func (r *Registry) Snapshot() *Snapshot { return r.current.Load() }

// Fresh reports whether a snapshot was published within maxAge.
func (r *Registry) Fresh(maxAge time.Duration) bool {
	s := r.current.Load()
	return s != nil && time.Since(s.Published) <= maxAge
}

// ByPID returns the instance a process belongs to.
func (s *Snapshot) ByPID(pid int) (*Instance, bool) {
	if s == nil {
		return nil, false
	}
	i, ok := s.byPID[pid]
	if !ok {
		return nil, false
	}
	return &s.Instances[i], true
}

// ByContainerID returns the instance of a container id (full 64-hex id).
func (s *Snapshot) ByContainerID(id string) (*Instance, bool) {
	if s == nil {
		return nil, false
	}
	i, ok := s.byContainer[id]
	if !ok {
		return nil, false
	}
	return &s.Instances[i], true
}

// ByPodUID returns the instances of a Kubernetes pod.
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
