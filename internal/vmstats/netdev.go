package vmstats

import "github.com/otelcol-virt/otelcol-virt/internal/proc"

// NetCounters are a device's counters as the host kernel keeps them, from the device's side
// (Rx is what the device received), read from /proc/<pid>/net/dev with proc.ScanNetDev.
//
// For a tap or macvtap the device's receive is the guest's transmit: a frame the guest sends
// is written by the VMM to the tap and received by the host's stack there. GuestView swaps
// the two so that figures read as the guest sees them.
//
// /proc/<pid>/net/dev shows the network namespace of pid, so a tap inside a pod's or a
// sandbox's namespace is read without entering it; /sys/class/net/<dev>/statistics holds the
// same counters (both come from dev_get_stats) but only for the reader's own namespace.
type NetCounters = proc.NetDev
