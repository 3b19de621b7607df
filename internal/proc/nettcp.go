package proc

import (
	"bytes"

	"github.com/otelcol-virt/otelcol-virt/internal/bytesparse"
)

// TCPStates maps the kernel's TCP state numbers (include/net/tcp_states.h) to the values of
// the semantic conventions' network.connection.state (v1.44); TCP_NEW_SYN_RECV (a request
// socket) is syn_received.
var TCPStates = [...]string{
	1: "established", 2: "syn_sent", 3: "syn_received", 4: "fin_wait_1", 5: "fin_wait_2",
	6: "time_wait", 7: "closed", 8: "close_wait", 9: "last_ack", 10: "listen", 11: "closing",
	12: "syn_received",
}

// ScanNetTCP calls fn with the state and socket inode of every entry of /proc/<pid>/net/tcp or
// tcp6 held whole in data. It allocates nothing.
func ScanNetTCP(data []byte, fn func(state uint8, inode uint64)) error {
	_, data = bytesparse.NextLine(data) // header
	for len(data) > 0 {
		var line []byte
		line, data = bytesparse.NextLine(data)
		state, inode, ok, err := ParseNetTCPLine(line)
		if err != nil {
			return err
		}
		if ok {
			fn(state, inode)
		}
	}
	return nil
}

// ParseNetTCPLine parses one line of /proc/<pid>/net/tcp or tcp6 into its state and socket
// inode, for tables streamed a chunk at a time; ok is false for the header and empty lines.
func ParseNetTCPLine(line []byte) (state uint8, inode uint64, ok bool, err error) {
	var buf [12][]byte
	f := bytesparse.Fields(buf[:0], line)
	if len(f) == 0 || string(f[0]) == "sl" {
		return 0, 0, false, nil
	}
	if len(f) < 10 {
		return 0, 0, false, malformed("net/tcp", "%d fields, want at least 10", len(f))
	}
	st := f[3]
	if len(st) != 2 {
		return 0, 0, false, malformed("net/tcp", "bad state %q", st)
	}
	hi, ok1 := unhex(st[0])
	lo, ok2 := unhex(st[1])
	if !ok1 || !ok2 {
		return 0, 0, false, malformed("net/tcp", "bad state %q", st)
	}
	inode, ok = bytesparse.Atou(f[9])
	if !ok {
		return 0, 0, false, malformed("net/tcp", "bad inode %q", f[9])
	}
	return hi<<4 | lo, inode, true, nil
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
