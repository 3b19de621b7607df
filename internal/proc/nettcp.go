package proc

import (
	"bytes"

	"github.com/otelcol-virt/otelcol-virt/internal/bytesparse"
)

// TCP states as numbered by the kernel (include/net/tcp_states.h), named as ss(8) lower-cased.
var TCPStates = [...]string{
	1: "established", 2: "syn_sent", 3: "syn_recv", 4: "fin_wait1", 5: "fin_wait2",
	6: "time_wait", 7: "close", 8: "close_wait", 9: "last_ack", 10: "listen", 11: "closing",
	12: "new_syn_recv",
}

// ScanNetTCP calls fn with the state and socket inode of every entry of /proc/<pid>/net/tcp or
// tcp6. It allocates nothing.
func ScanNetTCP(data []byte, fn func(state uint8, inode uint64)) error {
	_, data = bytesparse.NextLine(data) // header
	var buf [12][]byte
	for len(data) > 0 {
		var line []byte
		line, data = bytesparse.NextLine(data)
		f := bytesparse.Fields(buf[:0], line)
		if len(f) == 0 {
			continue
		}
		if len(f) < 10 {
			return malformed("net/tcp", "%d fields, want at least 10", len(f))
		}
		st := f[3]
		if len(st) != 2 {
			return malformed("net/tcp", "bad state %q", st)
		}
		hi, ok1 := unhex(st[0])
		lo, ok2 := unhex(st[1])
		if !ok1 || !ok2 {
			return malformed("net/tcp", "bad state %q", st)
		}
		inode, ok := bytesparse.Atou(f[9])
		if !ok {
			return malformed("net/tcp", "bad inode %q", f[9])
		}
		fn(hi<<4|lo, inode)
	}
	return nil
}

func unhex(c byte) (uint8, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// SocketInode returns the inode of a /proc/<pid>/fd link target "socket:[12345]".
func SocketInode(link []byte) (uint64, bool) {
	rest, ok := bytes.CutPrefix(link, []byte("socket:["))
	if !ok || len(rest) < 2 || rest[len(rest)-1] != ']' {
		return 0, false
	}
	return bytesparse.Atou(rest[:len(rest)-1])
}
