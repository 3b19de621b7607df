package vmstats

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/otelcol-virt/otelcol-virt/internal/linuxfs"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// On a tree laid out from the real guest's files: discovery, a scrape, then a vanished
// vCPU thread and a removed tap mark the VM stale instead of reporting zeros.
func TestCollectorOnCapturedTree(t *testing.T) {
	dir := t.TempDir()
	pids := buildTree(t, dir, 3, 2)
	// No open-file cache: a deleted regular file stays readable through an open descriptor,
	// where procfs answers ESRCH for an exited thread.
	c := NewCollector(linuxfs.New(0))
	c.ProcRoot = dir
	vm, err := c.Discover(pids[1], 2)
	require.NoError(t, err)
	require.Len(t, vm.VCPUs, 2)
	assert.Equal(t, []Tap{{Name: "tap1"}}, vm.Taps)
	assert.Equal(t, "net:[4026531840]", vm.NetNS)

	var s VMStats
	c.BeginScrape()
	c.Collect(vm, &s)
	require.Empty(t, s.Errs)
	want, _, err := ParseTaskStat(captured(t, "task/*/stat"))
	require.NoError(t, err)
	assert.Equal(t, want, s.VCPUs[0].CPU)
	require.Len(t, s.Taps, 1)
	assert.Greater(t, s.Taps[0].Host.RxBytes, uint64(0))
	assert.False(t, vm.Stale())

	// The namespace's net/dev no longer lists tap1; a vCPU thread exits.
	base := filepath.Join(dir, strconv.Itoa(pids[1]))
	nd, err := os.ReadFile(base + "/net/dev")
	require.NoError(t, err)
	lines := splitLines(nd)
	var kept []byte
	for _, l := range lines {
		if !contains(l, "tap1:") {
			kept = append(append(kept, l...), '\n')
		}
	}
	require.NoError(t, os.WriteFile(base+"/net/dev", kept, 0o644))
	require.NoError(t, os.RemoveAll(filepath.Join(base, "task", strconv.Itoa(vm.VCPUs[1].TID))))
	c.BeginScrape()
	c.Collect(vm, &s)
	assert.Empty(t, s.Taps, "a removed tap is absent, not zero")
	assert.Len(t, s.VCPUs, 1)
	assert.Len(t, s.Errs, 1)
	assert.True(t, vm.Stale())

	// A VMM whose descriptors cannot be listed: the names on its command line, marked so.
	other := filepath.Join(dir, strconv.Itoa(pids[2]))
	require.NoError(t, os.RemoveAll(other+"/fd"))
	require.NoError(t, os.WriteFile(other+"/cmdline", []byte("qemu-system-x86_64\x00-netdev\x00tap,id=n0,ifname=vnet7\x00"), 0o644))
	taps, err := DiscoverTaps(c.R, dir, dir+"/sys-class-net", pids[2], nil)
	assert.Error(t, err, "the fd listing error is kept")
	assert.Equal(t, []Tap{{Name: "vnet7", FromCmdline: true}}, taps)
}

func splitLines(b []byte) [][]byte {
	var out [][]byte
	for len(b) > 0 {
		i := 0
		for i < len(b) && b[i] != '\n' {
			i++
		}
		out = append(out, b[:i])
		if i < len(b) {
			i++
		}
		b = b[i:]
	}
	return out
}

func contains(b []byte, s string) bool {
	return len(s) <= len(b) && string(b) != "" && indexOf(b, s) >= 0
}

func indexOf(b []byte, s string) int {
	for i := 0; i+len(s) <= len(b); i++ {
		if string(b[i:i+len(s)]) == s {
			return i
		}
	}
	return -1
}
