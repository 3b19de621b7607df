package proc

import (
	"bytes"

	"github.com/otelcol-virt/otelcol-virt/internal/bytesparse"
)

// NetDev is traffic summed over the interfaces of a network namespace, loopback excluded.
type NetDev struct {
	RxBytes, TxBytes     uint64
	RxPackets, TxPackets uint64
	RxErrors, TxErrors   uint64
	RxDropped, TxDropped uint64
}

// ParseNetDev parses /proc/<pid>/net/dev (two header lines, then
// "iface: rx_bytes rx_packets rx_errs rx_drop fifo frame compressed multicast tx_bytes tx_packets tx_errs tx_drop ...").
func ParseNetDev(data []byte) (NetDev, error) {
	var d NetDev
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
			return d, malformed("net/dev", "line %q has no interface", line)
		}
		f := bytesparse.Fields(buf[:0], rest)
		if len(f) < 16 {
			return d, malformed("net/dev", "%d counters, want 16", len(f))
		}
		var v [12]uint64
		for i, k := range [...]int{0, 1, 2, 3, 8, 9, 10, 11} {
			n, ok := bytesparse.Atou(f[k])
			if !ok {
				return d, malformed("net/dev", "bad counter %q", f[k])
			}
			v[i] = n
		}
		if string(bytes.TrimSpace(name)) == "lo" {
			continue
		}
		d.RxBytes += v[0]
		d.RxPackets += v[1]
		d.RxErrors += v[2]
		d.RxDropped += v[3]
		d.TxBytes += v[4]
		d.TxPackets += v[5]
		d.TxErrors += v[6]
		d.TxDropped += v[7]
	}
	return d, nil
}
