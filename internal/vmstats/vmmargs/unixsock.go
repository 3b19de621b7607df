package vmmargs

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// MaxUnixTable bounds a read of /proc/<pid>/net/unix: about 100 bytes a socket, so 32 MiB
// is some 300,000 sockets in the VMM's network namespace.
const MaxUnixTable = 32 << 20

// soAcceptCon is __SO_ACCEPTCON (include/uapi/linux/net.h), the Flags of a listening socket.
const soAcceptCon = 1 << 16

// SocketInode returns the inode of the socket a /proc/<pid>/fd/<n> link names
// ("socket:[<inode>]", fs/proc/fd.c through d_path of sockfs, net/socket.c sockfs_dname).
func SocketInode(link string) (uint64, error) {
	rest, ok := strings.CutPrefix(link, "socket:[")
	if !ok || !strings.HasSuffix(rest, "]") {
		return 0, malformed("descriptor %q is not a socket", link)
	}
	ino, err := strconv.ParseUint(strings.TrimSuffix(rest, "]"), 10, 64)
	if err != nil {
		return 0, malformed("descriptor %q: bad socket inode", link)
	}
	return ino, nil
}

// UnixSocketPath finds the path a listening Unix socket is bound to in a /proc/<pid>/net/unix
// table, by its inode. The table is the kernel's unix_seq_show (net/unix/af_unix.c of
// brauner/linux, commit 0149a6ceaf8fa9f345130c300bf936bd7c042d1b): a header line, then per
// socket "%pK: %08X %08X %08X %04X %02X %5lu" (address, refcount, protocol, flags with
// __SO_ACCEPTCON when listening, type, state, inode) and, when bound, one space and the path
// with its bytes as they are (an abstract name starts with '@', NUL bytes print as '@'). The
// path is the rest of the line, spaces included (prometheus/procfs's NetUNIX takes only the
// next field, so a path with a space would be cut; that is why this parser exists). A path
// holding a newline is cut at it by the format itself, and what follows the newline reads as a
// line of its own: a bound name can forge another socket's line, in any place of the table
// (sockets are listed by hash bucket). An inode found on two lines is therefore refused, and
// the whole table is read to know.
func UnixSocketPath(table []byte, inode uint64) (string, error) {
	if len(table) > MaxUnixTable {
		return "", malformed("net/unix of %d bytes, more than %d", len(table), MaxUnixTable)
	}
	header, rest, _ := bytes.Cut(table, []byte{'\n'})
	if !bytes.HasPrefix(header, []byte("Num ")) || !bytes.Contains(header, []byte(" Inode")) {
		return "", malformed("net/unix: header %.80q is not the kernel's", header)
	}
	var flagsField []byte // nil until the line of inode is found
	var path string
	for len(rest) > 0 {
		var line []byte
		line, rest, _ = bytes.Cut(rest, []byte{'\n'})
		fields, p, ok := unixFields(line)
		if !ok {
			continue // a continuation of a path holding a newline, or not a socket line
		}
		if ino, err := strconv.ParseUint(string(fields[6]), 10, 64); err != nil || ino != inode {
			continue
		}
		if flagsField != nil {
			return "", malformed("net/unix: socket %d on two lines (a bound name holding a newline forged one); not used", inode)
		}
		flagsField, path = fields[3], p
	}
	if flagsField != nil {
		flags, err := strconv.ParseUint(string(flagsField), 16, 32)
		if err != nil {
			return "", malformed("net/unix: socket %d: flags %q", inode, flagsField)
		}
		switch {
		case flags&soAcceptCon == 0:
			return "", fmt.Errorf("socket %d is not listening", inode)
		case path == "":
			return "", fmt.Errorf("socket %d is not bound to a path", inode)
		case path[0] == '@':
			return "", fmt.Errorf("socket %d is bound to the abstract name %q, which lives in the VMM's network namespace, not in a file", inode, path)
		}
		return path, nil
	}
	return "", fmt.Errorf("socket %d is not in the VMM's net/unix (it is not a Unix socket, or it was closed)", inode)
}

// unixFields splits a socket line into its seven fields and its path ("" when unbound).
func unixFields(line []byte) ([7][]byte, string, bool) {
	var f [7][]byte
	for i := range f {
		line = bytes.TrimLeft(line, " ")
		end := bytes.IndexByte(line, ' ')
		if end < 0 {
			end = len(line)
		}
		if end == 0 {
			return f, "", false
		}
		f[i], line = line[:end], line[end:]
	}
	if !bytes.HasSuffix(f[0], []byte(":")) {
		return f, "", false
	}
	// %5lu pads the inode on the left only; what follows it is " " and the path, verbatim.
	if len(line) == 0 {
		return f, "", true
	}
	if line[0] != ' ' || len(line) == 1 {
		return f, "", false
	}
	return f, string(line[1:]), true
}
