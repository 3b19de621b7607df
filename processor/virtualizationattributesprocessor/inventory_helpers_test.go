package virtualizationattributesprocessor

import (
	"github.com/otelcol-virt/otelcol-virt/internal/catalog"
	"github.com/otelcol-virt/otelcol-virt/internal/cgroupid"
	"github.com/otelcol-virt/otelcol-virt/internal/inventory"
)

// ri is an instance as the tests describe it.
type ri struct {
	Key, Kind, Runtime, VMM string
	Pids                    []int
	ContainerID, PodUID     string
}

// publish puts instances in a static inventory, as the wasm_runtime receiver's walks would.
func publish(inv *inventory.Inventory, ins []ri) {
	out := make([]inventory.Instance, len(ins))
	for i, r := range ins {
		out[i] = inventory.Instance{Key: r.Key,
			Identity: catalog.Identity{Kind: r.Kind, Runtime: r.Runtime, VMM: r.VMM},
			Cgroup:   cgroupid.Identity{ContainerID: r.ContainerID, PodUID: r.PodUID}}
		for _, pid := range r.Pids {
			out[i].Procs = append(out[i].Procs, inventory.Process{PID: pid})
		}
	}
	inv.Publish(out)
}
