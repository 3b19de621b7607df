package wasmruntimereceiver

import (
	"path"
	"time"

	"go.uber.org/zap"

	"github.com/otelcol-virt/otelcol-virt/internal/cgroup"
	"github.com/otelcol-virt/otelcol-virt/internal/linuxfs"
)

// limitWatch lets the limit files of a cgroup be served from cache until one is written: the
// kernel notifies a directory's watchers of every write to its files (see linuxfs.ChangeWatch),
// so a resize is seen at the next scrape rather than up to a minute later, and the files of a
// thousand unchanged instances are not reopened once a minute. A directory that cannot be
// watched is re-read on the minute as before.
type limitWatch struct {
	w *linuxfs.ChangeWatch // nil before start or after shutdown
	// gen changes whenever cached limits were dropped, so that every instance folds its
	// limits again (from the cache, where nothing else changed).
	gen     uint64
	sweptAt time.Time
	told    bool
}

// limitFiles are the files limitsOf reads; writes to any other file of a watched directory
// (cgroup.procs when a process joins, memory.events the kernel updates) change no limit.
var limitFiles = map[string]bool{
	"cpu.max": true, "memory.max": true, "memory.high": true, "memory.swap.max": true, "pids.max": true, // v2
	"cpu.cfs_quota_us": true, "cpu.cfs_period_us": true, "memory.limit_in_bytes": true, "memory.memsw.limit_in_bytes": true, // v1
}

// limitControllers are the controllers limitsOf caches a directory's files for.
var limitControllers = [...]cgroup.Controller{cgroup.CPU, cgroup.Memory, cgroup.Pids}

func (lw *limitWatch) start(logger *zap.Logger) {
	lw.w = linuxfs.NewChangeWatch(0)
	if err := lw.w.Err(); err != nil {
		logger.Info("cgroup limit files are re-read once a minute: their changes cannot be watched", zap.Error(err))
	}
}

func (lw *limitWatch) close() {
	if lw.w != nil {
		lw.w.Close()
		lw.w = nil
	}
}

// watch watches dir and its parent, which alone learns that dir was removed (and perhaps made
// again, empty of the limits cached for it), and reports whether both are watched.
func (lw *limitWatch) watch(dir string) bool {
	return lw.w != nil && lw.w.Watch(path.Dir(dir)) && lw.w.Watch(dir)
}

// retainFor stops watching every directory that guards no cached limits.
func (lw *limitWatch) retainFor(cached map[limitKey]*dirLimits) {
	if lw.w == nil {
		return
	}
	want := make(map[string]bool, 2*len(cached))
	for k, dl := range cached {
		if dl.watched {
			want[k.dir], want[path.Dir(k.dir)] = true, true
		}
	}
	lw.w.Retain(func(dir string) bool { return want[dir] })
}

// drainLimitChanges drops the cached limits of every directory written, removed or made since
// the last scrape, and once a minute those no instance used for two minutes.
func (s *scraperImpl) drainLimitChanges(now time.Time) {
	lw := &s.limitWatch
	if lw.w == nil {
		return
	}
	drop := func(dir string) {
		for _, c := range limitControllers {
			if _, ok := s.dirLimits[limitKey{dir, c}]; ok {
				delete(s.dirLimits, limitKey{dir, c})
				lw.gen++
			}
		}
	}
	complete := lw.w.Drain(func(dir, name string) {
		if limitFiles[name] {
			drop(dir)
		}
	}, drop)
	if !complete { // the kernel's queue overflowed: anything may have changed
		clear(s.dirLimits)
		lw.gen++
	}
	if now.Sub(lw.sweptAt) >= limitsRefresh {
		lw.sweptAt = now
		for k, dl := range s.dirLimits {
			if now.Sub(dl.used) > 2*limitsRefresh {
				delete(s.dirLimits, k)
			}
		}
		lw.retainFor(s.dirLimits)
	}
	if err := lw.w.Full(); err != nil && !lw.told {
		lw.told = true
		s.logger.Warn("some cgroup limit files are re-read once a minute: no more directories can be watched; raise fs.inotify.max_user_watches",
			zap.Int("watched_directories", lw.w.Len()), zap.Error(err))
	}
}

// maxDirLimits bounds the limit cache; past it, everything is read again.
const maxDirLimits = 1 << 15
