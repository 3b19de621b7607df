package edgeprofileextension

import (
	"os"
	"path/filepath"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/extension/extensiontest"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
	"golang.org/x/sys/unix"
)

// The test binary's own code pages go back to the page cache and the process runs on.
func TestDropExecutableMappingsReleasesCodePages(t *testing.T) {
	before := readResident()
	require.Positive(t, before.file, "RssFile of the test binary")
	n, err := dropExecutableMappings()
	require.NoError(t, err)
	assert.Positive(t, n)
	after := readResident()
	assert.Less(t, after.file, before.file, "file-backed resident KiB: before %d, after %d", before.file, after.file)
	// Code runs on after the drop: its pages fault back in from the page cache.
	_, err = (&Config{Presets: map[string]PresetConfig{"x": {}}}).ResolvePresets()
	require.NoError(t, err)
}

func TestExecutableRangesOnlyReadOnlyPrivateMappingsOfTheFile(t *testing.T) {
	maps := []byte(`00400000-01a61000 r-xp 00000000 fd:01 1234 /usr/bin/otelcol-virt
01a61000-032bb000 r--p 01661000 fd:01 1234 /usr/bin/otelcol-virt (deleted)
032bb000-033b9000 rw-p 02ebb000 fd:01 1234 /usr/bin/otelcol-virt
033b9000-033c0000 r--s 00000000 fd:01 1234 /usr/bin/otelcol-virt
7f0000000000-7f0000100000 r--p 00000000 fd:01 999 /var/lib/queue/exporter_otlp_http_x_traces
7f0000200000-7f0000300000 r-xp 00000000 fd:02 1234 /other/device/same/inode
7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0 [stack]
`)
	got, err := executableRanges(maps, 0xfd, 0x01, 1234)
	require.NoError(t, err)
	assert.Equal(t, [][2]uintptr{{0x400000, 0x1a61000}, {0x1a61000, 0x32bb000}}, got)

	_, err = executableRanges([]byte("zz-01 r-xp 0 fd:01 1234 /x\n"), 0xfd, 0x01, 1234)
	assert.ErrorContains(t, err, "bad address range")
}

// A read-only private mapping that holds pages of its own (what the dynamic loader leaves in
// a PIE build's RELRO segment: written, then made read-only) is never dropped: MADV_DONTNEED
// would put the file's bytes back under it. One that holds only page-cache pages is.
func TestCleanMappingsSkipPrivatelyWrittenOnes(t *testing.T) {
	page := os.Getpagesize()
	path := filepath.Join(t.TempDir(), "segment")
	require.NoError(t, os.WriteFile(path, make([]byte, 2*page), 0o600))
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	mapOne := func() []byte {
		b, err := unix.Mmap(int(f.Fd()), 0, page, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE)
		require.NoError(t, err)
		t.Cleanup(func() { _ = unix.Munmap(b) })
		return b
	}
	written, readOnly := mapOne(), mapOne()
	written[0] = 1  // a relocation, in a private copy of the page
	_ = readOnly[0] // the file's page, from the page cache
	require.NoError(t, unix.Mprotect(written, unix.PROT_READ))
	require.NoError(t, unix.Mprotect(readOnly, unix.PROT_READ))

	var st unix.Stat_t
	require.NoError(t, unix.Stat(path, &st))
	got, err := cleanMappingsOf(unix.Major(st.Dev), unix.Minor(st.Dev), st.Ino)
	require.NoError(t, err)
	start := func(b []byte) uintptr { return uintptr(unsafePointer(b)) }
	assert.Equal(t, [][2]uintptr{{start(readOnly), start(readOnly) + uintptr(page)}}, got,
		"only the mapping without a private page (written at %#x, clean at %#x)", start(written), start(readOnly))
}

// Ready releases the memory once and logs what it did; release_startup_memory: false skips it.
func TestReadyReleasesStartupMemory(t *testing.T) {
	for _, enabled := range []bool{true, false} {
		core, logs := observer.New(zap.InfoLevel)
		cfg := createDefaultConfig().(*Config)
		cfg.ReleaseStartupMemory = enabled
		cfg.StorageDirectory = t.TempDir()
		set := extensiontest.NewNopSettings(Type)
		set.Logger = zap.New(core)
		e, err := newEdgeProfile(cfg, set)
		require.NoError(t, err)
		require.NoError(t, e.Ready())
		e.wg.Wait()
		released := logs.FilterMessage("edge_profile released start-up memory").All()
		if !enabled {
			assert.Empty(t, released)
			continue
		}
		require.Len(t, released, 1, "%v", logs.All())
		fields := released[0].ContextMap()
		assert.Positive(t, fields["executable_mappings_released"])
		assert.Positive(t, fields["rss_kib_after"])
	}
}

func unsafePointer(b []byte) unsafe.Pointer { return unsafe.Pointer(&b[0]) }
