package wasmruntimereceiver

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-virt/otelcol-virt/internal/cgroup"
	"github.com/otelcol-virt/otelcol-virt/internal/linuxfs"
)

// A watched directory's limits are served until a limit file is written, or the directory is
// removed and made again, however long that takes; one that cannot be watched is re-read on
// the minute. Real writes to real cgroups: TestLimitsOfTheParentCgroup.
func TestWatchedLimitsServedUntilWritten(t *testing.T) {
	cfg := testConfig()
	root, err := filepath.Abs(rootDir("v2-kubepods-systemd-runwasi"))
	require.NoError(t, err)
	cfg.RootPath = root
	s := newTestScraper(t, cfg)
	require.NoError(t, s.limitWatch.w.Err(), "inotify")

	pod := filepath.Join(t.TempDir(), "pod")
	app := filepath.Join(pod, "app")
	require.NoError(t, os.MkdirAll(app, 0o755))
	write := func(dir, file, v string) {
		require.NoError(t, os.WriteFile(filepath.Join(dir, file), []byte(v+"\n"), 0o644))
	}
	write(app, "memory.max", "1048576")
	start := time.Now()
	read := func(at time.Time) (uint64, int) {
		var ops []linuxfs.TraceOp
		s.r.Trace = &ops
		defer func() { s.r.Trace = nil }()
		dl := s.limitsOf(app, cgroup.Memory, true, at)
		require.True(t, dl.memOK)
		return dl.mem.Value, len(ops)
	}

	v, reads := read(start)
	assert.Equal(t, uint64(1048576), v)
	assert.Equal(t, 3, reads, "memory.max, memory.high, memory.swap.max")
	s.drainLimitChanges(start)
	v, reads = read(start.Add(5 * time.Minute))
	assert.Equal(t, uint64(1048576), v)
	assert.Zero(t, reads, "unchanged and watched: served past the minute")

	write(pod, "cgroup.procs", "1") // not a limit file
	write(app, "memory.events", "oom 1")
	s.drainLimitChanges(start.Add(5 * time.Minute))
	_, reads = read(start.Add(5 * time.Minute))
	assert.Zero(t, reads, "writes to other files change no limit")

	write(app, "memory.max", "2097152")
	s.drainLimitChanges(start.Add(5 * time.Minute))
	v, reads = read(start.Add(5 * time.Minute))
	assert.Equal(t, uint64(2097152), v, "a written limit is read at the next scrape")
	assert.Equal(t, 3, reads)

	require.NoError(t, os.RemoveAll(app))
	require.NoError(t, os.Mkdir(app, 0o755))
	write(app, "memory.max", "4194304")
	s.drainLimitChanges(start.Add(6 * time.Minute))
	v, _ = read(start.Add(6 * time.Minute))
	assert.Equal(t, uint64(4194304), v, "a directory made again under the same name is read again")

	_, reads = read(start.Add(6*time.Minute + watchedLimitsRefresh))
	assert.Equal(t, 3, reads, "even a watched directory is read again after watchedLimitsRefresh")

	// Unwatched (inotify unavailable): re-read once a minute, as before.
	s.limitWatch.close()
	clear(s.dirLimits)
	later := start.Add(time.Hour)
	_, reads = read(later)
	assert.Equal(t, 3, reads)
	_, reads = read(later.Add(30 * time.Second))
	assert.Zero(t, reads)
	_, reads = read(later.Add(limitsRefresh))
	assert.Equal(t, 3, reads)
}

// Directories no instance has used for two minutes are dropped from the cache and unwatched.
func TestLimitWatchSweepsUnusedDirectories(t *testing.T) {
	cfg := testConfig()
	root, err := filepath.Abs(rootDir("v2-kubepods-systemd-runwasi"))
	require.NoError(t, err)
	cfg.RootPath = root
	s := newTestScraper(t, cfg)
	require.NoError(t, s.limitWatch.w.Err(), "inotify")
	base := t.TempDir()
	a, b := filepath.Join(base, "a"), filepath.Join(base, "b")
	for _, d := range []string{a, b} {
		require.NoError(t, os.Mkdir(d, 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(d, "pids.max"), []byte("10\n"), 0o644))
	}
	watched := s.limitWatch.w.Len()
	start := time.Now()
	s.limitsOf(a, cgroup.Pids, true, start)
	s.limitsOf(b, cgroup.Pids, true, start)
	assert.Equal(t, watched+3, s.limitWatch.w.Len(), "a, b and their parent")
	s.limitsOf(a, cgroup.Pids, true, start.Add(3*time.Minute))
	s.drainLimitChanges(start.Add(3 * time.Minute))
	assert.NotContains(t, s.dirLimits, limitKey{b, cgroup.Pids})
	assert.Contains(t, s.dirLimits, limitKey{a, cgroup.Pids})
	assert.False(t, s.limitWatch.w.Watched(b))
	assert.True(t, s.limitWatch.w.Watched(a))
	assert.True(t, s.limitWatch.w.Watched(base), "the parent of a directory still cached")
}
