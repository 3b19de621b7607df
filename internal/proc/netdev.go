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
	for len(data) > 0 {
		var line []byte
		line, data = bytesparse.NextLine(data)
		colon := bytes.IndexByte(line, ':')
		if colon < 0 {
			if len(bytes.TrimSpace(line)) == 0 {
				continue
			}
			return malformed("net/dev", "line %q has no interface", line)
		}
		iface := bytes.TrimSpace(line[:colon])
		if string(iface) == "lo" {
			continue // half of a VMM's namespace's lines: not scanned at all
		}
		v, err := netDevCounters(line[colon+1:])
		if err != nil {
			return err
		}
		fn(iface, NetDev{RxBytes: v[0], RxPackets: v[1], RxErrors: v[2], RxDropped: v[3], TxBytes: v[4], TxPackets: v[5], TxErrors: v[6], TxDropped: v[7]})
	}
	return nil
}

// netDevUsed marks the counters read of the 16 (rx bytes, packets, errs, drop; tx the same).
var netDevUsed = [16]bool{0: true, 1: true, 2: true, 3: true, 8: true, 9: true, 10: true, 11: true}

// netDevCounters scans the space- or tab-separated counters after an interface's colon in one
// pass (net/core/net-procfs.c, dev_seq_printf_stats: 16 of them), keeping the eight used.
func netDevCounters(rest []byte) ([8]uint64, error) {
	var v [8]uint64
	n, k := 0, 0
	for i := 0; ; {
		for i < len(rest) && (rest[i] == ' ' || rest[i] == '\t') {
			i++
		}
		if i == len(rest) {
			break
		}
		j := i
		for j < len(rest) && rest[j] != ' ' && rest[j] != '\t' {
			j++
		}
		if n < len(netDevUsed) && netDevUsed[n] {
			x, end, ok := bytesparse.ScanUint(rest[:j], i)
			if !ok || end != j {
				return v, malformed("net/dev", "bad counter %q", rest[i:j])
			}
			v[k] = x
			k++
		}
		n++
		i = j
	}
	if n < 16 {
		return v, malformed("net/dev", "%d counters, want 16", n)
	}
	return v, nil
}
