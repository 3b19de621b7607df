package cloudhypervisor

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
)

// Info is what GET /api/v1/vm.info tells of a VM's size and state (cloud-hypervisor, commit
// ae44c2971c83dd2b1bd704fa81102ec0dec4e7d4: vmm/src/api/mod.rs VmInfoResponse, built by
// vm_info in vmm/src/lib.rs). A VM configured through the API (Kata passes only
// --api-socket) has no size on its VMM's command line, and vm.resize changes both: this is
// the current configuration, not the one at boot.
type Info struct {
	// State is VmState of vmm/src/vm.rs: Created, Running, Shutdown, Paused, BreakPoint.
	State string
	// VCPUs is config.cpus.boot_vcpus, which Vm::resize sets to the desired count.
	VCPUs uint32
	// MaxVCPUs is config.cpus.max_vcpus.
	MaxVCPUs uint32
	// MemoryBytes is MemoryConfig::total_size (vmm/src/config.rs): size, the zones' sizes
	// and what was hot-plugged.
	MemoryBytes uint64
	// ActualBytes is memory_actual_size: the memory less the balloon, plus what virtio-mem
	// plugged.
	ActualBytes uint64
}

// States are the values of Info.State, as VmState serializes them.
var States = [...]string{"Created", "Running", "Shutdown", "Paused", "BreakPoint"}

type memoryZone struct {
	Size           uint64  `json:"size"`
	HotpluggedSize *uint64 `json:"hotplugged_size"`
}

type rawInfo struct {
	Config *struct {
		CPUs struct {
			BootVCPUs uint32 `json:"boot_vcpus"`
			MaxVCPUs  uint32 `json:"max_vcpus"`
		} `json:"cpus"`
		Memory struct {
			Size           uint64       `json:"size"`
			HotpluggedSize *uint64      `json:"hotplugged_size"`
			Zones          []memoryZone `json:"zones"`
		} `json:"memory"`
	} `json:"config"`
	State            *string `json:"state"`
	MemoryActualSize uint64  `json:"memory_actual_size"`
}

// maxZones bounds the memory zones summed (Cloud Hypervisor takes one per --memory-zone; a
// VM has a handful).
const maxZones = 1024

// ParseInfo decodes a vm.info body. The answer holds the whole VmConfig and device tree; only
// the size and the state are kept, and numbers that do not fit their Rust types are refused.
func ParseInfo(body []byte, l Limits) (Info, error) {
	l = l.withDefaults()
	if int64(len(body)) > l.MaxBodyBytes {
		return Info{}, ErrTooLarge
	}
	var raw rawInfo
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&raw); err != nil {
		return Info{}, fmt.Errorf("vm.info: %w", err)
	}
	if dec.More() {
		return Info{}, errors.New("vm.info: data after the object")
	}
	if raw.Config == nil || raw.State == nil {
		return Info{}, errors.New("vm.info: no config or state (both are required by the API's VmInfo)")
	}
	known := false
	for _, s := range States {
		known = known || s == *raw.State
	}
	if !known {
		return Info{}, fmt.Errorf("vm.info: unknown state %q", *raw.State)
	}
	mem := raw.Config.Memory
	if len(mem.Zones) > maxZones {
		return Info{}, fmt.Errorf("vm.info: %d memory zones: %w", len(mem.Zones), ErrTooLarge)
	}
	total, ok := mem.Size, true
	add := func(v uint64) {
		if total > math.MaxUint64-v {
			ok = false
		}
		total += v
	}
	if mem.HotpluggedSize != nil {
		add(*mem.HotpluggedSize)
	}
	for _, z := range mem.Zones {
		add(z.Size)
		if z.HotpluggedSize != nil {
			add(*z.HotpluggedSize)
		}
	}
	if !ok || total > math.MaxInt64 {
		return Info{}, errors.New("vm.info: memory size past 2^63 bytes")
	}
	return Info{
		State: *raw.State, VCPUs: raw.Config.CPUs.BootVCPUs, MaxVCPUs: raw.Config.CPUs.MaxVCPUs,
		MemoryBytes: total, ActualBytes: min(raw.MemoryActualSize, math.MaxInt64),
	}, nil
}

// Info performs GET /api/v1/vm.info. Cloud Hypervisor answers it once a VM is created (by
// --kernel on its command line or PUT vm.create); before, it fails.
func (c Client) Info(ctx context.Context) (Info, error) {
	body, err := c.get(ctx, "vm.info")
	if err != nil {
		return Info{}, err
	}
	return ParseInfo(body, c.Limits)
}
