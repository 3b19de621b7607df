package linuxfs

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type watchEvents struct {
	changed  []string // dir/name
	children []string
}

func drain(t *testing.T, w *ChangeWatch) (watchEvents, bool) {
	t.Helper()
	var ev watchEvents
	complete := w.Drain(func(dir, name string) { ev.changed = append(ev.changed, dir+"|"+name) },
		func(dir string) { ev.children = append(ev.children, dir) })
	slices.Sort(ev.changed)
	ev.changed = slices.Compact(ev.changed)
	return ev, complete
}

// Writes, and subdirectories made and removed, are reported for the watched directories only;
// a removed child's watch is dropped, and nothing is reported twice.
func TestChangeWatch(t *testing.T) {
	w := NewChangeWatch(0)
	require.NoError(t, w.Err(), "inotify")
	t.Cleanup(w.Close)
	root := t.TempDir()
	dir := filepath.Join(root, "pod")
	other := filepath.Join(root, "other")
	require.NoError(t, os.Mkdir(dir, 0o755))
	require.NoError(t, os.Mkdir(other, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "memory.max"), []byte("max\n"), 0o644))

	require.True(t, w.Watch(root))
	require.True(t, w.Watch(dir))
	require.True(t, w.Watch(dir), "watching twice is one watch")
	assert.Equal(t, 2, w.Len())
	ev, complete := drain(t, w)
	assert.True(t, complete)
	assert.Empty(t, ev.changed, "watching alone changes nothing")

	require.NoError(t, os.WriteFile(filepath.Join(dir, "memory.max"), []byte("1048576\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(other, "memory.max"), []byte("1\n"), 0o644))
	ev, complete = drain(t, w)
	assert.True(t, complete)
	assert.Equal(t, []string{dir + "|memory.max"}, ev.changed, "the write in dir; other is not watched")
	assert.Empty(t, ev.children)

	// A child made, watched and removed: the parent reports both, the child's watch goes.
	child := filepath.Join(dir, "app")
	require.NoError(t, os.Mkdir(child, 0o755))
	ev, _ = drain(t, w)
	assert.Equal(t, []string{child}, ev.children)
	require.True(t, w.Watch(child))
	require.NoError(t, os.Remove(child))
	ev, _ = drain(t, w)
	assert.Equal(t, []string{child}, ev.children)
	assert.False(t, w.Watched(child), "a removed child is no longer watched")
	assert.Equal(t, 2, w.Len())

	w.Retain(func(d string) bool { return d == dir })
	assert.Equal(t, 1, w.Len())
	assert.False(t, w.Watched(root))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "memory.max"), []byte("2\n"), 0o644))
	ev, _ = drain(t, w)
	assert.Equal(t, []string{dir + "|memory.max"}, ev.changed)
}

// At its cap a watch refuses more directories and says why; a queue the kernel overflowed is
// reported as incomplete (anything may have changed).
func TestChangeWatchLimits(t *testing.T) {
	w := NewChangeWatch(2)
	require.NoError(t, w.Err(), "inotify")
	t.Cleanup(w.Close)
	root := t.TempDir()
	for i := range 3 {
		require.NoError(t, os.Mkdir(filepath.Join(root, strconv.Itoa(i)), 0o755))
	}
	assert.True(t, w.Watch(filepath.Join(root, "0")))
	assert.True(t, w.Watch(filepath.Join(root, "1")))
	assert.False(t, w.Watch(filepath.Join(root, "2")))
	assert.ErrorContains(t, w.Full(), "at most 2")
	w.Unwatch(filepath.Join(root, "1"))
	assert.True(t, w.Watch(filepath.Join(root, "2")))
	assert.NoError(t, w.Full())

	queued := 16384
	if d, err := os.ReadFile("/proc/sys/fs/inotify/max_queued_events"); err == nil {
		queued, _ = strconv.Atoi(string(d[:len(d)-1]))
	}
	if queued > 1<<16 {
		t.Skipf("fs.inotify.max_queued_events is %d here: overflowing it takes too long", queued)
	}
	dir := filepath.Join(root, "0")
	f0, err := os.Create(filepath.Join(dir, "a"))
	require.NoError(t, err)
	f1, err := os.Create(filepath.Join(dir, "b"))
	require.NoError(t, err)
	defer f0.Close()
	defer f1.Close()
	for range queued/2 + 8 { // alternate files: the kernel merges only repeats of the last event
		_, _ = f0.Write([]byte{1})
		_, _ = f1.Write([]byte{1})
	}
	_, complete := drain(t, w)
	assert.False(t, complete, "an overflowed queue is no complete account")
	_, complete = drain(t, w)
	assert.True(t, complete, "and the next drain starts afresh")
}

// Closed, or without inotify, nothing is watched and Drain has nothing to report.
func TestChangeWatchClosed(t *testing.T) {
	w := NewChangeWatch(0)
	w.Close()
	assert.False(t, w.Watch(t.TempDir()))
	_, complete := drain(t, w)
	assert.True(t, complete)
}

// The kernel's events are decoded with their padded names; a short read is not trusted.
func FuzzChangeWatchDispatch(f *testing.F) {
	f.Add([]byte{1, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 'a', 0, 0, 0})
	f.Add([]byte{1, 0, 0, 0, 0, 0x40, 0, 0x40, 0, 0, 0, 0, 0xff, 0xff, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		w := &ChangeWatch{fd: -1, byWD: map[int32]string{1: "/d"}, byDir: map[string]int32{"/d": 1}}
		w.dispatch(b, func(dir, name string) {
			if dir != "/d" {
				t.Fatalf("event for unwatched %q", dir)
			}
		}, func(string) {})
	})
}
