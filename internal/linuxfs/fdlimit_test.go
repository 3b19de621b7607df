package linuxfs

import (
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The open-file cache takes at most a quarter of the soft descriptor limit read at start, and
// never grows past what was configured.
func TestCapToDescriptorLimit(t *testing.T) {
	var saved syscall.Rlimit
	require.NoError(t, syscall.Getrlimit(syscall.RLIMIT_NOFILE, &saved))
	if saved.Max < 1024 {
		t.Skipf("the hard RLIMIT_NOFILE here is %d, below the 1,024 this test sets", saved.Max)
	}
	capAt := func(soft uint64, maxOpen int) int {
		t.Helper()
		rl := saved
		rl.Cur = soft
		require.NoError(t, syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl))
		defer func() { require.NoError(t, syscall.Setrlimit(syscall.RLIMIT_NOFILE, &saved)) }()
		r := New(maxOpen)
		r.CapToDescriptorLimit()
		return r.MaxOpen
	}
	assert.Equal(t, 256, capAt(1024, 16384), "a quarter of a 1,024 soft limit")
	soft := min(saved.Max, 8192)
	assert.Equal(t, int(soft/8), capAt(soft, int(soft/8)), "below a quarter: as configured")
	assert.Equal(t, 0, capAt(1024, 0), "0 (no cache) stays 0")
}
