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
