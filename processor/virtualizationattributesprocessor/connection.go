package virtualizationattributesprocessor

import (
	"context"
	"net"
	"net/netip"
	"path/filepath"
	"strconv"

	"github.com/prometheus/procfs"
	"go.opentelemetry.io/collector/client"
)

// connectionKey returns the key of the batch's client connection when it comes from this host
// over loopback TCP: only then is the sending process's socket in our network namespace, where
// its owner can be found. A forwarding agent or gateway would be found instead of the
// application, which is why the source is off by default.
func connectionKey(ctx context.Context) (cacheKey, bool) {
	addr := client.FromContext(ctx).Addr
	tcp, ok := addr.(*net.TCPAddr)
	if !ok || tcp == nil {
		return cacheKey{}, false
	}
	ap := tcp.AddrPort()
	if !ap.Addr().Unmap().IsLoopback() {
		return cacheKey{}, false
	}
	return cacheKey{kind: keyConnection, ap: netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())}, true
}

// socketOwner finds the process holding the local end of a TCP connection: the socket's inode
// from /proc/net/tcp{,6}, then the process with a "socket:[inode]" descriptor. Both reads are
// bounded (maxProcs processes) and run on the lookup goroutine only.
func socketOwner(root string, ap netip.AddrPort, maxProcs int) (int, bool) {
	fs, err := procfs.NewFS(filepath.Join(root, "proc"))
	if err != nil {
		return 0, false
	}
	var inode uint64
	for _, table := range []func() (procfs.NetTCP, error){fs.NetTCP, fs.NetTCP6} {
		lines, err := table()
		if err != nil {
			continue
		}
		for _, l := range lines {
			a, ok := netip.AddrFromSlice(l.LocalAddr)
			if ok && a.Unmap() == ap.Addr() && l.LocalPort == uint64(ap.Port()) && l.Inode != 0 {
				inode = l.Inode
				break
			}
		}
		if inode != 0 {
			break
		}
	}
	if inode == 0 {
		return 0, false
	}
	want := "socket:[" + strconv.FormatUint(inode, 10) + "]"
	procs, err := fs.AllProcs()
	if err != nil {
		return 0, false
	}
	for i, p := range procs {
		if i >= maxProcs {
			break
		}
		targets, err := p.FileDescriptorTargets()
		if err != nil {
			continue
		}
		for _, t := range targets {
			if t == want {
				return p.PID, true
			}
		}
	}
	return 0, false
}
