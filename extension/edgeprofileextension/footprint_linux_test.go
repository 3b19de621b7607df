package edgeprofileextension

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/extension/extensiontest"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
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
