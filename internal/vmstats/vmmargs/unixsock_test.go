package vmmargs

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-virt/otelcol-virt/internal/linuxfs"
)

// TestUnixSocketPathLive binds a listening socket at a path with a space, as a launcher that
// hands Cloud Hypervisor --api-socket fd=<n> would, and finds that path again from this
// process's own fd link and net/unix, as the kernel writes them.
func TestUnixSocketPathLive(t *testing.T) {
	path := filepath.Join(t.TempDir(), "api sock")
	l, err := net.Listen("unix", path)
	require.NoError(t, err)
	defer l.Close()
	f, err := l.(*net.UnixListener).File() // a dup: the same socket
	require.NoError(t, err)
	defer f.Close()
	link, err := os.Readlink("/proc/self/fd/" + strconv.Itoa(int(f.Fd())))
	require.NoError(t, err)
	ino, err := SocketInode(link)
	require.NoError(t, err)
	table, err := os.ReadFile("/proc/self/net/unix")
	require.NoError(t, err)
	got, err := UnixSocketPath(table, ino)
	require.NoError(t, err)
	assert.Equal(t, path, got)

	// A connected, unbound socket of the same process: found, but not a listener.
	c, err := net.Dial("unix", path)
	require.NoError(t, err)
	defer c.Close()
	cf, err := c.(*net.UnixConn).File()
	require.NoError(t, err)
	defer cf.Close()
	link, err = os.Readlink("/proc/self/fd/" + strconv.Itoa(int(cf.Fd())))
	require.NoError(t, err)
	ino, err = SocketInode(link)
	require.NoError(t, err)
	table, err = os.ReadFile("/proc/self/net/unix")
	require.NoError(t, err)
	_, err = UnixSocketPath(table, ino)
	assert.ErrorContains(t, err, "not listening")
}

// A table in the kernel's format (unix_seq_show), with what a VMM could bind: an abstract
// name, a path holding a newline crafted to look like another socket's line.
func TestUnixSocketPathTable(t *testing.T) {
	const header = "Num       RefCount Protocol Flags    Type St Inode Path\n"
	line := func(flags string, ino int, path string) string {
		s := "0000000000000000: 00000002 00000000 " + flags + " 0001 01 " + strconv.Itoa(ino)
		if path != "" {
			s += " " + path
		}
		return s + "\n"
	}
	table := header +
		line("00010000", 100, "/run/ch/vm1.sock") +
		line("00000000", 101, "") +
		line("00010000", 102, "@/org/kernel/abstract") +
		line("00010000", 103, "/run/evil\n"+strings.TrimSuffix(line("00010000", 104, "/host.sock"), "\n")) +
		line("00010000", 104, "/run/ch/real.sock") +
		line("00010000", 105, "/run/two  spaces.sock") +
		"   garbage\n"
	for ino, want := range map[uint64]string{100: "/run/ch/vm1.sock", 103: "/run/evil", 105: "/run/two  spaces.sock"} {
		got, err := UnixSocketPath([]byte(table), ino)
		if assert.NoError(t, err, ino) {
			assert.Equal(t, want, got, ino)
		}
	}
	for ino, msg := range map[uint64]string{101: "not listening", 102: "abstract", 104: "on two lines", 999: "not in the VMM's net/unix"} {
		_, err := UnixSocketPath([]byte(table), ino)
		assert.ErrorContains(t, err, msg, ino)
	}
	_, err := UnixSocketPath([]byte("bogus header\n"+line("00010000", 1, "/a")), 1)
	assert.ErrorIs(t, err, linuxfs.ErrMalformed)
	_, err = UnixSocketPath(make([]byte, MaxUnixTable+1), 1)
	assert.ErrorIs(t, err, linuxfs.ErrMalformed)

	for _, bad := range []string{"pipe:[12]", "socket:[x]", "socket:[12", "/dev/null", ""} {
		_, err := SocketInode(bad)
		assert.ErrorIs(t, err, linuxfs.ErrMalformed, bad)
	}
}

func FuzzUnixSocketPath(f *testing.F) {
	if data, err := os.ReadFile("/proc/self/net/unix"); err == nil {
		f.Add(data, uint64(1))
	}
	f.Add([]byte("Num       RefCount Protocol Flags    Type St Inode Path\n0: 1 0 00010000 0001 01 7 /a b\n"), uint64(7))
	f.Fuzz(func(t *testing.T, table []byte, ino uint64) {
		p, err := UnixSocketPath(table, ino)
		if err == nil && (p == "" || p[0] == '@' || strings.ContainsRune(p, '\n')) {
			t.Fatalf("accepted %q", p)
		}
	})
}
