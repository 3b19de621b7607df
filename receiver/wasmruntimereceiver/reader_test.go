package wasmruntimereceiver

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-virt/otelcol-virt/internal/cgroup"
	"github.com/otelcol-virt/otelcol-virt/internal/proc"
)

func TestClassify(t *testing.T) {
	pe := func(err error) error { return &fs.PathError{Op: "open", Path: "/proc/1/stat", Err: err} }
	for err, want := range map[error]string{
		pe(syscall.ENOENT):                       reasonVanished,
		pe(syscall.ESRCH):                        reasonVanished,
		pe(syscall.EACCES):                       reasonPermission,
		pe(syscall.EPERM):                        reasonPermission,
		pe(syscall.ENODEV):                       reasonMissing,
		pe(syscall.EFBIG):                        reasonMalformed,
		fmt.Errorf("x: %w", proc.ErrMalformed):   reasonMalformed,
		fmt.Errorf("x: %w", cgroup.ErrMalformed): reasonMalformed,
		pe(syscall.EIO):                          reasonOther,
	} {
		assert.Equal(t, want, classify(err), "%v", err)
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
	r := newFileReader()
	r.maxOpen = 2
	got, err := r.readCached(filepath.Join(dir, "big"))
	require.NoError(t, err)
	assert.Equal(t, big, got, "grows its buffer for a large file")
	// In-place rewrite: a cached descriptor sees the new content.
	require.NoError(t, os.WriteFile(filepath.Join(dir, "big"), []byte("short"), 0o644))
	got, err = r.readCached(filepath.Join(dir, "big"))
	require.NoError(t, err)
	assert.Equal(t, "short", string(got))
	n, err := r.countDir(dir)
	require.NoError(t, err)
	assert.Equal(t, int64(6), n)
	pids, err := r.listPIDs(dir, nil)
	require.NoError(t, err)
	assert.ElementsMatch(t, []int{0, 1, 2, 3, 4}, pids, "numeric names only")
	_, err = r.read(filepath.Join(dir, "nope"))
	assert.Equal(t, reasonVanished, classify(err))
	assert.Equal(t, int64(5), r.reads)
	for i := 0; i < 3; i++ {
		_, err := r.readCached(filepath.Join(dir, fmt.Sprint(i)))
		require.NoError(t, err)
	}
	assert.Len(t, r.fds, 2, "bounded by maxOpen")
	r.beginScrape()
	r.endScrape()
	assert.Empty(t, r.fds, "files not read in a scrape are closed")
}

// A file larger than any the kernel writes is refused, counted as malformed, and the buffer
// stays bounded: a hostile root cannot grow the collector's memory.
func TestFileReaderRefusesHugeFiles(t *testing.T) {
	huge := filepath.Join(t.TempDir(), "huge")
	require.NoError(t, os.WriteFile(huge, nil, 0o644))
	require.NoError(t, os.Truncate(huge, 2*maxFileSize)) // sparse: costs no disk
	r := newFileReader()
	_, err := r.read(huge)
	assert.Equal(t, reasonMalformed, classify(err), "%v", err)
	_, err = r.readCached(huge)
	assert.Equal(t, reasonMalformed, classify(err), "%v", err)
	assert.LessOrEqual(t, len(r.buf), maxFileSize)
	assert.Empty(t, r.fds, "a refused file is not kept open")

	// A file right at the bound is still read whole.
	atBound := filepath.Join(t.TempDir(), "at-bound")
	require.NoError(t, os.WriteFile(atBound, nil, 0o644))
	require.NoError(t, os.Truncate(atBound, maxFileSize-1))
	got, err := r.read(atBound)
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
	r := newFileReader()
	r.maxOpen = 1 << 10
	t.Cleanup(r.closeAll)
	checked := 0
	for _, p := range paths {
		full, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		for i := 0; i < 2; i++ { // first read opens, second one preads the cached descriptor
			got, err := r.readCached(p)
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
