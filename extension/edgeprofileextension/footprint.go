package edgeprofileextension

import (
	"os"
	"runtime/debug"
	"strconv"
	"strings"

	"go.opentelemetry.io/collector/extension/extensioncapabilities"
	"go.uber.org/zap"
)

// Start-up leaves a collector far larger than it idles at: every package's init and every
// component's construction run once, touching most of the binary's code pages and leaving
// garbage on the heap. On a small box that resident set is what the memory budget is spent on.
// Once the pipelines are ready (extensioncapabilities.PipelineWatcher, which the v0.165 service
// calls after every receiver has started), the extension hands both back:
//   - debug.FreeOSMemory: a GC, then every free heap page returned to the OS at once rather
//     than by the background scavenger over minutes;
//   - on Linux, MADV_DONTNEED on this process's read-only, private mappings of its own
//     executable (code, read-only data, the function tables). They are clean copies of the
//     file: the pages stay in the page cache and the ones still used fault back in as minor
//     faults, which is what the kernel's reclaim may do to them at any time anyway. Writable
//     mappings (initialised data) are never touched: dropping them would lose their contents.
var _ extensioncapabilities.PipelineWatcher = (*edgeProfile)(nil)

// Ready implements extensioncapabilities.PipelineWatcher.
func (e *edgeProfile) Ready() error {
	if !e.cfg.ReleaseStartupMemory {
		return nil
	}
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		e.releaseStartupMemory()
	}()
	return nil
}

// NotReady implements extensioncapabilities.PipelineWatcher.
func (e *edgeProfile) NotReady() error { return nil }

func (e *edgeProfile) releaseStartupMemory() {
	before := readResident()
	debug.FreeOSMemory()
	mappings, err := dropExecutableMappings()
	after := readResident()
	fields := []zap.Field{
		zap.Int("rss_kib_before", before.total), zap.Int("rss_kib_after", after.total),
		zap.Int("anon_kib_before", before.anon), zap.Int("anon_kib_after", after.anon),
		zap.Int("file_kib_before", before.file), zap.Int("file_kib_after", after.file),
		zap.Int("executable_mappings_released", mappings),
	}
	if err != nil {
		e.logger.Warn("edge_profile could not release the start-up pages of the executable (the heap was released); set release_startup_memory: false to skip this", append(fields, zap.Error(err))...)
		return
	}
	e.logger.Info("edge_profile released start-up memory", fields...)
}

// resident is a process's resident set in KiB, from /proc/self/status (zero elsewhere).
type resident struct{ total, anon, file int }

func readResident() resident {
	var r resident
	raw, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return r
	}
	for _, line := range strings.Split(string(raw), "\n") {
		key, val, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		f := strings.Fields(val)
		if len(f) == 0 {
			continue
		}
		n, _ := strconv.Atoi(f[0])
		switch key {
		case "VmRSS":
			r.total = n
		case "RssAnon":
			r.anon = n
		case "RssFile":
			r.file = n
		}
	}
	return r
}
