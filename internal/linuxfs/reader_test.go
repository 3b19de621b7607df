package linuxfs

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestClassify(t *testing.T) {
	pe := func(err error) error { return &fs.PathError{Op: "open", Path: "/proc/1/stat", Err: err} }
	for err, want := range map[error]Reason{
		pe(syscall.ENOENT):                Vanished,
		pe(syscall.ESRCH):                 Vanished,
		pe(syscall.EACCES):                Permission,
		pe(syscall.EPERM):                 Permission,
		pe(syscall.ENODEV):                Missing,
		pe(syscall.EFBIG):                 Malformed,
		fmt.Errorf("x: %w", ErrMalformed): Malformed, // proc.ErrMalformed and cgroup.ErrMalformed are this one
		pe(syscall.EIO):                   Other,
	} {
		assert.Equal(t, want, Classify(err), "%v", err)
	}
}

func TestFileReader(t *testing.T) {
	dir := t.TempDir()
	big := make([]byte, 100<<10) // larger than the initial buffer
	for i := range big {
		big[i] = byte('a' + i%26)
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "big"), big, 0o644))
	for i := 0; i < 5; i++ {
		require.NoError(t, os.WriteFile(filepath.Join(dir, fmt.Sprint(i)), nil, 0o644))
	}
	r := New(0)
	r.MaxOpen = 2
	got, err := r.ReadCached(filepath.Join(dir, "big"))
	require.NoError(t, err)
	assert.Equal(t, big, got, "grows its buffer for a large file")
	// In-place rewrite: a cached descriptor sees the new content.
	require.NoError(t, os.WriteFile(filepath.Join(dir, "big"), []byte("short"), 0o644))
	got, err = r.ReadCached(filepath.Join(dir, "big"))
	require.NoError(t, err)
	assert.Equal(t, "short", string(got))
	n, err := r.CountDir(dir)
	require.NoError(t, err)
	assert.Equal(t, int64(6), n)
	pids, err := r.ListNumeric(dir, nil)
	require.NoError(t, err)
	assert.ElementsMatch(t, []int{0, 1, 2, 3, 4}, pids, "numeric names only")
	_, err = r.Read(filepath.Join(dir, "nope"))
	assert.Equal(t, Vanished, Classify(err))
	assert.Equal(t, int64(5), r.reads)
	for i := 0; i < 3; i++ {
		_, err := r.ReadCached(filepath.Join(dir, fmt.Sprint(i)))
		require.NoError(t, err)
	}
	assert.Len(t, r.fds, 2, "bounded by maxOpen")
	r.BeginPass()
	r.EndPass()
	assert.Empty(t, r.fds, "files not read in a pass are closed")
}

// A file larger than any the kernel writes is refused, counted as malformed, and the buffer
// stays bounded: a hostile root cannot grow the collector's memory.
func TestFileReaderRefusesHugeFiles(t *testing.T) {
	huge := filepath.Join(t.TempDir(), "huge")
	require.NoError(t, os.WriteFile(huge, nil, 0o644))
	require.NoError(t, os.Truncate(huge, 2*maxFileSize)) // sparse: costs no disk
	r := New(0)
	_, err := r.Read(huge)
	assert.Equal(t, Malformed, Classify(err), "%v", err)
	_, err = r.ReadCached(huge)
	assert.Equal(t, Malformed, Classify(err), "%v", err)
	assert.LessOrEqual(t, len(r.buf), maxFileSize)
	assert.Empty(t, r.fds, "a refused file is not kept open")

	// A file right at the bound is still read whole.
	atBound := filepath.Join(t.TempDir(), "at-bound")
	require.NoError(t, os.WriteFile(atBound, nil, 0o644))
	require.NoError(t, os.Truncate(atBound, maxFileSize-1))
	got, err := r.Read(atBound)
	require.NoError(t, err)
	assert.Len(t, got, maxFileSize-1)
}

// TestSingleReadFiles checks, on this host's real procfs and cgroupfs, that the files read
// with a single pread are complete: the same bytes as reading until end of file.
func TestSingleReadFiles(t *testing.T) {
	paths := []string{"/proc/self/stat", "/proc/self/status", "/proc/1/stat"}
	for _, pattern := range []string{
		"/sys/fs/cgroup/*/memory.stat", "/sys/fs/cgroup/*/*/*/memory.stat", "/sys/fs/cgroup/*/cpu.stat",
		"/sys/fs/cgroup/*/cpuacct.stat", "/sys/fs/cgroup/*/blkio.throttle.io_service_bytes_recursive",
		"/sys/fs/cgroup/*/*.pressure", "/sys/fs/cgroup/*.pressure", "/sys/fs/cgroup/memory.stat",
		"/sys/fs/cgroup/*/*/memory.stat", "/sys/fs/cgroup/*/io.stat", "/sys/fs/cgroup/*/memory.events",
	} {
		m, _ := filepath.Glob(pattern)
		paths = append(paths, m...)
	}
	r := New(0)
	r.MaxOpen = 1 << 10
	t.Cleanup(r.CloseAll)
	checked := 0
	for _, p := range paths {
		full, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		for i := 0; i < 2; i++ { // first read opens, second one preads the cached descriptor
			got, err := r.ReadCached(p)
			require.NoError(t, err, p)
			// Values move between reads; the structure (keys and fields) must not be cut.
			assert.Equal(t, len(bytesFields(full)), len(bytesFields(got)), p)
		}
		checked++
	}
	t.Logf("checked %d files", checked)
	require.Greater(t, checked, 3)
}

func bytesFields(b []byte) []string {
	var out []string
	field := []byte{}
	for _, c := range b {
		if c == ' ' || c == '\n' || c == '\t' {
			if len(field) > 0 {
				out = append(out, string(field))
				field = field[:0]
			}
			continue
		}
		field = append(field, c)
	}
	if len(field) > 0 {
		out = append(out, string(field))
	}
	return out
}

// TestReadCachedRecords: seq_files of bounded records come whole from one pread when they are
// short of a page (this host's net/dev and net/tcp), and a larger file is still read to its end.
func TestReadCachedRecords(t *testing.T) {
	r := New(16)
	t.Cleanup(r.CloseAll)
	for _, p := range []string{"/proc/self/net/dev", "/proc/self/net/tcp", "/proc/self/net/tcp6"} {
		full, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		for i := 0; i < 2; i++ {
			got, err := r.ReadCachedRecords(p, 256)
			require.NoError(t, err, p)
			assert.Equal(t, len(bytesFields(full)), len(bytesFields(got)), p)
		}
	}
	dir := t.TempDir()
	for _, size := range []int{100, seqPage - 300, seqPage - 100, 3*seqPage + 17, 40 << 10} {
		p := filepath.Join(dir, "f")
		want := bytes.Repeat([]byte("x"), size)
		require.NoError(t, os.WriteFile(p, want, 0o644))
		r.CloseAll()
		got, err := r.ReadCachedRecords(p, 256)
		require.NoError(t, err)
		assert.Equal(t, size, len(got), "size %d", size)
	}
}

// A network namespace whose net/dev is past a page (50 tap devices): the first read fills a page,
// so the file is read to its end and every device is there.
func TestReadCachedRecordsPastAPage(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("creating a network namespace needs root")
	}
	ns := "linuxfs-" + strconv.Itoa(os.Getpid())
	require.NoError(t, exec.Command("ip", "netns", "add", ns).Run())
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", ns).Run() })
	for i := 0; i < 50; i++ {
		out, err := exec.Command("ip", "-n", ns, "tuntap", "add", "dev", "tapx"+strconv.Itoa(i), "mode", "tap").CombinedOutput()
		require.NoError(t, err, "%s", out)
	}
	cmd := exec.Command("ip", "netns", "exec", ns, "sleep", "30")
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	p := "/proc/" + strconv.Itoa(cmd.Process.Pid) + "/net/dev"
	var full []byte
	require.Eventually(t, func() bool {
		full, _ = os.ReadFile(p)
		return bytes.Count(full, []byte("tapx")) == 50
	}, 10*time.Second, 50*time.Millisecond)
	require.Greater(t, len(full), seqPage)
	r := New(4)
	t.Cleanup(r.CloseAll)
	for i := 0; i < 2; i++ {
		got, err := r.ReadCachedRecords(p, 256)
		require.NoError(t, err)
		assert.Equal(t, bytes.Count(full, []byte("\n")), bytes.Count(got, []byte("\n")))
		assert.Equal(t, 50, bytes.Count(got, []byte("tapx")))
	}
}

// CountFDs agrees with a listing of /proc/<pid>/fd, across passes of the cache and as the
// process opens and closes descriptors (the procfs size path), and counts the entries of a
// directory that is not on procfs (a fixture tree, where the size is not a count).
func TestCountFDs(t *testing.T) {
	cmd := exec.Command("sleep", "60")
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	// Until it sleeps, the dynamic loader opens and closes files in it (ld.so.cache, libc):
	// wait for its nanosleep (x86-64 syscall 35, or 230 clock_nanosleep; /proc/<pid>/syscall).
	require.Eventually(t, func() bool {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/syscall", cmd.Process.Pid))
		nr, _, _ := strings.Cut(string(b), " ")
		return err == nil && (nr == "35" || nr == "230")
	}, 10*time.Second, 10*time.Millisecond, "sleep did not reach its nanosleep")
	fdDir := fmt.Sprintf("/proc/%d/fd", cmd.Process.Pid)
	listed := func(dir string) int64 {
		ents, err := os.ReadDir(dir)
		require.NoError(t, err)
		return int64(len(ents))
	}
	for _, maxOpen := range []int{0, 16} {
		r := New(maxOpen)
		for pass := 0; pass < 3; pass++ {
			r.BeginPass()
			n, err := r.CountFDs(fdDir)
			require.NoError(t, err)
			assert.Equal(t, listed(fdDir), n, "max_open %d, pass %d", maxOpen, pass)
			r.EndPass()
		}
		assert.Equal(t, maxOpen > 0, r.Cached(fdDir), "held open only with a cache")
		self := fmt.Sprintf("/proc/%d/fd", os.Getpid())
		before, err := r.CountFDs(self)
		require.NoError(t, err)
		f, err := os.Open(os.DevNull)
		require.NoError(t, err)
		after, err := r.CountFDs(self)
		require.NoError(t, err)
		assert.Equal(t, before+1, after, "a descriptor opened between two counts is seen")
		require.NoError(t, f.Close())
		r.CloseAll()
	}

	dir := t.TempDir()
	for i := range 7 {
		require.NoError(t, os.WriteFile(filepath.Join(dir, fmt.Sprint(i)), nil, 0o644))
	}
	r := New(16)
	for range 2 {
		n, err := r.CountFDs(dir)
		require.NoError(t, err)
		assert.Equal(t, int64(7), n, "not procfs: listed")
	}

	require.NoError(t, cmd.Process.Kill())
	_ = cmd.Wait()
	_, err := r.CountFDs(fdDir)
	assert.Equal(t, Vanished, Classify(err), "a process that exited")
}
