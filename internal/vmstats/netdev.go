package vmstats

import (
	"bytes"

	"github.com/otelcol-virt/otelcol-virt/internal/bytesparse"
)

// NetCounters are a device's counters as the host kernel keeps them (struct
// rtnl_link_stats64), from the device's side: Rx is what the device received.
//
// For a tap or macvtap the device's receive is the guest's transmit: a frame the guest sends
// is written by the VMM to the tap and received by the host's stack there. GuestView swaps
// the two so that figures read as the guest sees them, the convention libvirt follows for
// its net.<n>.rx_bytes (src/util/virnetdevtap.c, virNetDevTapInterfaceStats with swapped).
type NetCounters struct {
	RxBytes, RxPackets, RxErrors, RxDropped uint64
	TxBytes, TxPackets, TxErrors, TxDropped uint64
}

// GuestView returns the counters as the guest sees them (receive and transmit swapped).
func (c NetCounters) GuestView() NetCounters {
	return NetCounters{
		RxBytes: c.TxBytes, RxPackets: c.TxPackets, RxErrors: c.TxErrors, RxDropped: c.TxDropped,
		TxBytes: c.RxBytes, TxPackets: c.RxPackets, TxErrors: c.RxErrors, TxDropped: c.RxDropped,
	}
}

// ScanNetDev calls fn for every device of /proc/<pid>/net/dev (net/core/net-procfs.c,
// dev_seq_printf_stats: two header lines, then "name: rx_bytes rx_packets rx_errs rx_drop
// rx_fifo rx_frame rx_compressed rx_multicast tx_bytes tx_packets tx_errs tx_drop tx_fifo
// tx_colls tx_carrier tx_compressed"). name aliases data.
//
// The file shows the network namespace of pid, so a tap inside a pod's or a sandbox's
// namespace is read without entering it; /sys/class/net/<dev>/statistics holds the same
// counters (both come from dev_get_stats) but only for the reader's own namespace.
func ScanNetDev(data []byte, fn func(name []byte, c NetCounters)) error {
	_, data = bytesparse.NextLine(data)
	hdr, data := bytesparse.NextLine(data)
	if !bytes.Contains(hdr, []byte("bytes")) {
		return malformed("net/dev", "no header")
	}
	var buf [20][]byte
	for len(data) > 0 {
		var line []byte
		line, data = bytesparse.NextLine(data)
		name, rest, ok := bytes.Cut(line, []byte{':'})
		if !ok {
			if len(bytes.TrimSpace(line)) == 0 {
				continue
			}
			return malformed("net/dev", "line without a device")
		}
		name = bytes.TrimSpace(name)
		if !ValidIfName(name) {
			return malformed("net/dev", "bad device name %q", name)
		}
		f := bytesparse.Fields(buf[:0], rest)
		if len(f) != 16 {
			return malformed("net/dev", "%d counters, want 16", len(f))
		}
		var v [8]uint64
		for i, k := range [...]int{0, 1, 2, 3, 8, 9, 10, 11} {
			n, ok := bytesparse.Atou(f[k])
			if !ok {
				return malformed("net/dev", "bad counter %q", f[k])
			}
			v[i] = n
		}
		fn(name, NetCounters{
			RxBytes: v[0], RxPackets: v[1], RxErrors: v[2], RxDropped: v[3],
			TxBytes: v[4], TxPackets: v[5], TxErrors: v[6], TxDropped: v[7],
		})
	}
	return nil
}
