package vmmargs

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-virt/otelcol-virt/internal/linuxfs"
)

// A VMM's tree (a temporary directory standing for <proc>/<pid>/root) holding its API socket
// and metrics FIFO, and links a compromised VMM could plant to point the collector elsewhere.
func vmmTree(t *testing.T) (root Root, outside string) {
	base := t.TempDir()
	dir := filepath.Join(base, "root")
	outside = filepath.Join(base, "outside")
	for _, d := range []string{dir + "/run", outside} {
		require.NoError(t, os.MkdirAll(d, 0o755))
	}
	listen := func(path string) {
		l, err := net.Listen("unix", path)
		require.NoError(t, err)
		t.Cleanup(func() { l.Close() })
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				c.Write([]byte(filepath.Base(path)))
				c.Close()
			}
		}()
	}
	listen(dir + "/run/api.sock")
	listen(outside + "/host.sock")
	require.NoError(t, syscall.Mkfifo(dir+"/run/metrics.fifo", 0o600))
	require.NoError(t, os.WriteFile(outside+"/secret", []byte("host file"), 0o600))
	require.NoError(t, os.Symlink("/run/api.sock", dir+"/run/link.sock"))     // absolute, inside
	require.NoError(t, os.Symlink(outside+"/host.sock", dir+"/run/abs.sock")) // absolute, to the host's tree
	require.NoError(t, os.Symlink("../../outside/host.sock", dir+"/run/rel.sock"))
	require.NoError(t, os.Symlink("/proc/self/root"+outside+"/secret", dir+"/run/magic"))
	return Root{Dir: dir}, outside
}

func dialName(t *testing.T, r Root, path string) (string, error) {
	c, err := r.DialUnix(context.Background(), path)
	if err != nil {
		return "", err
	}
	defer c.Close()
	b := make([]byte, 64)
	n, _ := c.Read(b)
	return string(b[:n]), nil
}

func TestDialInsideTheVMMRoot(t *testing.T) {
	r, _ := vmmTree(t)
	got, err := dialName(t, r, "/run/api.sock")
	require.NoError(t, err)
	assert.Equal(t, "api.sock", got)
	got, err = dialName(t, r, "/run/link.sock")
	require.NoError(t, err)
	assert.Equal(t, "api.sock", got, "an absolute link is the VMM's /, not the collector's")

	// Every way out ends inside the root, where the host's socket is not.
	for _, p := range []string{"/run/abs.sock", "/run/rel.sock", "/../outside/host.sock", "/run/../../outside/host.sock"} {
		_, err := dialName(t, r, p)
		assert.Error(t, err, p)
	}
	_, err = dialName(t, r, "/run/metrics.fifo")
	assert.ErrorContains(t, err, "not a socket")
}

func TestOpenInsideTheVMMRoot(t *testing.T) {
	r, outside := vmmTree(t)
	fd, err := r.Open("/run/metrics.fifo", syscall.O_RDONLY|syscall.O_NONBLOCK)
	require.NoError(t, err)
	syscall.Close(fd)
	var st syscall.Stat_t
	require.NoError(t, r.Stat("/run/metrics.fifo", &st))
	assert.Equal(t, uint32(syscall.S_IFIFO), st.Mode&syscall.S_IFMT)
	for _, p := range []string{"/run/magic", "/../outside/secret", "/run/../../outside/secret", outside + "/secret"} {
		_, err := r.Open(p, syscall.O_RDONLY)
		assert.Error(t, err, p)
	}
	_, err = Root{Dir: filepath.Join(outside, "nonexistent")}.Open("/x", syscall.O_RDONLY)
	assert.ErrorContains(t, err, "VMM root")
}

func TestProcessRoot(t *testing.T) {
	assert.Equal(t, Root{Dir: "/hostfs/proc/42/root", Cwd: "/hostfs/proc/42/cwd"}, ProcessRoot("/hostfs/proc/42/"))
	// The test's own root and working directory through procfs (real magic links): its
	// working directory is reachable inside the root, and this test file beneath it.
	wd, err := os.Getwd()
	require.NoError(t, err)
	self := ProcessRoot("/proc/" + strconv.Itoa(os.Getpid()) + "/")
	var st, want syscall.Stat_t
	require.NoError(t, self.Stat(wd, &st))
	require.NoError(t, self.Stat("root_test.go", &st))
	require.NoError(t, syscall.Stat("root_test.go", &want))
	assert.Equal(t, want.Ino, st.Ino)
}

// A socket of another user inside the VMM's root (a daemon's socket mounted into a container)
// is not the VMM's: not connected.
func TestDialRefusesAnotherUsersSocket(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to give the socket another owner")
	}
	r, _ := vmmTree(t)
	require.NoError(t, os.Lchown(r.Dir+"/run/api.sock", 4242, 4242))
	_, err := dialName(t, r, "/run/api.sock")
	assert.ErrorContains(t, err, "owned by uid 4242")
}

// Relative paths are the VMM's working directory's (Firecracker's docs/metrics.md example
// is "metrics.fifo"; the jailer's chroot is its working directory), and stay beneath it.
func TestRelativeToTheWorkingDirectory(t *testing.T) {
	r, outside := vmmTree(t)
	r.Cwd = r.Dir + "/run"
	got, err := dialName(t, r, "api.sock")
	require.NoError(t, err)
	assert.Equal(t, "api.sock", got)
	fd, err := r.Open("./metrics.fifo", syscall.O_RDONLY|syscall.O_NONBLOCK)
	require.NoError(t, err)
	syscall.Close(fd)
	for _, p := range []string{"rel.sock", "abs.sock", "link.sock", "../run/api.sock", "magic"} {
		_, err := r.Open(p, syscall.O_RDONLY|syscall.O_NONBLOCK)
		assert.Error(t, err, "%s: out of the working directory, or a magic link", p)
	}
	_, err = r.Open(outside+"/secret", syscall.O_RDONLY)
	assert.Error(t, err, "absolute paths stay inside the root")
	_, err = Root{Dir: r.Dir}.Open("api.sock", syscall.O_RDONLY)
	assert.ErrorContains(t, err, "working directory is not known")
}

func TestReadFile(t *testing.T) {
	r, _ := vmmTree(t)
	r.Cwd = r.Dir + "/run"
	require.NoError(t, os.WriteFile(r.Dir+"/run/vm.json", []byte(`{"machine-config":{}}`), 0o600))
	got, err := r.ReadFile("vm.json", 64)
	require.NoError(t, err)
	assert.Equal(t, `{"machine-config":{}}`, string(got))
	_, err = r.ReadFile("/run/vm.json", 8)
	assert.ErrorIs(t, err, linuxfs.ErrMalformed, "larger than asked")
	_, err = r.ReadFile("metrics.fifo", 64) // would block a reader that did not check
	assert.ErrorContains(t, err, "not a regular file")
	_, err = r.ReadFile("/run/api.sock", 64)
	assert.Error(t, err)
	_, err = r.ReadFile("missing.json", 64)
	assert.ErrorIs(t, err, syscall.ENOENT)
}
