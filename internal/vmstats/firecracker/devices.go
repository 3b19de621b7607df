package firecracker

import (
	"slices"
	"strings"
)

// NetDevice is the cumulative traffic of one network interface ("net_<iface_id>"), as the
// guest sees it: rx is what the guest received (NetDeviceMetrics in
// src/vmm/src/devices/virtio/net/metrics.rs).
type NetDevice struct {
	ID                                   string
	RxBytes, RxPackets, RxFails, RxCount uint64
	TxBytes, TxPackets, TxFails, TxCount uint64
	// RxRateLimiterThrottled and TxRateLimiterThrottled count the times a rate limiter
	// held the device back.
	RxRateLimiterThrottled, TxRateLimiterThrottled uint64
}

// BlockDevice is the cumulative I/O of one drive ("block_<drive_id>", BlockDeviceMetrics in
// src/vmm/src/devices/virtio/block/virtio/metrics.rs).
type BlockDevice struct {
	ID                                             string
	ReadBytes, WriteBytes, ReadCount, WriteCount   uint64
	FlushCount, ExecuteFails, RateLimiterThrottled uint64
}

// VCPU is the "vcpu" group (VcpuMetrics in src/vmm/src/logger/metrics.rs): KVM exits that
// reached Firecracker, summed over the vCPUs.
type VCPU struct {
	ExitIOIn, ExitIOOut, ExitMMIORead, ExitMMIOWrite, Failures uint64
}

func (a *Accumulator) ids(prefix string) []string {
	var ids []string
	for k := range a.sums {
		group, _, _ := strings.Cut(k, ".")
		if id, ok := strings.CutPrefix(group, prefix); ok && id != "" && !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

// NetDevices returns every per-interface group seen so far, sorted by id.
func (a *Accumulator) NetDevices() []NetDevice {
	var out []NetDevice
	for _, id := range a.ids("net_") {
		g := "net_" + id + "."
		c := func(k string) uint64 { return a.sums[g+k] }
		out = append(out, NetDevice{
			ID:      id,
			RxBytes: c("rx_bytes_count"), RxPackets: c("rx_packets_count"), RxFails: c("rx_fails"), RxCount: c("rx_count"),
			TxBytes: c("tx_bytes_count"), TxPackets: c("tx_packets_count"), TxFails: c("tx_fails"), TxCount: c("tx_count"),
			RxRateLimiterThrottled: c("rx_rate_limiter_throttled"), TxRateLimiterThrottled: c("tx_rate_limiter_throttled"),
		})
	}
	return out
}

// BlockDevices returns every per-drive group seen so far, sorted by id.
func (a *Accumulator) BlockDevices() []BlockDevice {
	var out []BlockDevice
	for _, id := range a.ids("block_") {
		g := "block_" + id + "."
		c := func(k string) uint64 { return a.sums[g+k] }
		out = append(out, BlockDevice{
			ID:        id,
			ReadBytes: c("read_bytes"), WriteBytes: c("write_bytes"), ReadCount: c("read_count"), WriteCount: c("write_count"),
			FlushCount: c("flush_count"), ExecuteFails: c("execute_fails"), RateLimiterThrottled: c("rate_limiter_throttled_events"),
		})
	}
	return out
}

// VCPU returns the vCPU exit counters.
func (a *Accumulator) VCPU() VCPU {
	c := func(k string) uint64 { return a.sums["vcpu."+k] }
	return VCPU{ExitIOIn: c("exit_io_in"), ExitIOOut: c("exit_io_out"), ExitMMIORead: c("exit_mmio_read"),
		ExitMMIOWrite: c("exit_mmio_write"), Failures: c("failures")}
}

// SeccompFaults is seccomp.num_faults, a store metric (the count so far).
func (a *Accumulator) SeccompFaults() uint64 { return a.gauges["seccomp.num_faults"] }
