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

// Snapshot is an immutable view of one publisher's latest discovery pass.
type Snapshot struct {
	Published   time.Time
	Instances   []Instance
	byPID       map[int]int
	byContainer map[string]int
	byPod       map[string][]int
}

// Registry holds the latest snapshot. The zero value is empty and ready to use.
type Registry struct {
	current atomic.Pointer[Snapshot]
	mu      sync.Mutex // serialises publishers
}

var shared Registry

// Shared returns the process-wide registry.
func Shared() *Registry { return &shared }

// Publish replaces the snapshot with instances; the slice must not be modified afterwards.
func (r *Registry) Publish(instances []Instance) {
	s := &Snapshot{
		Published:   time.Now(),
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
	r.mu.Lock()
	r.current.Store(s)
	r.mu.Unlock()
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
