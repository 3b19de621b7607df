package proc

import (
	"bytes"

	"github.com/otelcol-virt/otelcol-virt/internal/bytesparse"
)

// NetDev is one interface's traffic.
type NetDev struct {
	RxBytes, TxBytes     uint64
	RxPackets, TxPackets uint64
	RxErrors, TxErrors   uint64
	RxDropped, TxDropped uint64
}

// GuestView returns the counters of a tap or macvtap as its guest sees them, receive and
// transmit swapped: what the guest sends, the host's side of the tap receives. This is
// libvirt's convention for net.<n>.rx_bytes (src/util/virnetdevtap.c,
// virNetDevTapInterfaceStats with swapped set) and Firecracker's for net_<id>.tx_bytes_count.
func (d NetDev) GuestView() NetDev {
	return NetDev{
		RxBytes: d.TxBytes, RxPackets: d.TxPackets, RxErrors: d.TxErrors, RxDropped: d.TxDropped,
		TxBytes: d.RxBytes, TxPackets: d.RxPackets, TxErrors: d.RxErrors, TxDropped: d.RxDropped,
	}
}

// ScanNetDev parses /proc/<pid>/net/dev (two header lines, then
// "iface: rx_bytes rx_packets rx_errs rx_drop fifo frame compressed multicast tx_bytes tx_packets tx_errs tx_drop ...")
// and calls fn for each interface but loopback; iface aliases data.
func ScanNetDev(data []byte, fn func(iface []byte, d NetDev)) error {
	_, data = bytesparse.NextLine(data)
	_, data = bytesparse.NextLine(data)
	var buf [17][]byte
	for len(data) > 0 {
		var line []byte
		line, data = bytesparse.NextLine(data)
		name, rest, ok := bytes.Cut(line, []byte{':'})
		if !ok {
			if len(bytes.TrimSpace(line)) == 0 {
				continue
			}
			return malformed("net/dev", "line %q has no interface", line)
		}
		f := bytesparse.Fields(buf[:0], rest)
		if len(f) < 16 {
			return malformed("net/dev", "%d counters, want 16", len(f))
		}
		var v [12]uint64
		for i, k := range [...]int{0, 1, 2, 3, 8, 9, 10, 11} {
			n, ok := bytesparse.Atou(f[k])
			if !ok {
				return malformed("net/dev", "bad counter %q", f[k])
			}
			v[i] = n
		}
		iface := bytes.TrimSpace(name)
		if string(iface) == "lo" {
			continue
		}
		fn(iface, NetDev{RxBytes: v[0], RxPackets: v[1], RxErrors: v[2], RxDropped: v[3], TxBytes: v[4], TxPackets: v[5], TxErrors: v[6], TxDropped: v[7]})
	}
	return nil
}
