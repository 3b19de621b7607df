package linuxfs

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBudgetFor(t *testing.T) {
	for soft, want := range map[uint64]int64{
		20000:   15000,  // a quarter stays with the collector
		1024:    768,    // the 256 floor and the quarter agree
		600:     344,    // the 256 floor
		300:     150,    // never more than half reserved
		1 << 20: 786432, // a container runtime's default
	} {
		assert.Equal(t, want, budgetFor(soft), "soft limit %d", soft)
	}
}

// The caches of all Readers draw from one budget: a second Reader gets what the first left,
// reads the rest uncached (counted, told once), and takes over what the first gives back; no
// descriptor is lost to the count when files vanish or caches close.
func TestReadersShareTheDescriptorBudget(t *testing.T) {
	dir := t.TempDir()
	var files []string
	for i := range 6 {
		p := filepath.Join(dir, fmt.Sprint(i))
		require.NoError(t, os.WriteFile(p, []byte(fmt.Sprint(i)), 0o644))
		files = append(files, p)
	}
	b := &descriptorBudget{}
	b.limit.Store(8)
	reader := func() *Reader {
		r := New(16)
		r.budget = b
		t.Cleanup(r.CloseAll)
		return r
	}
	pass := func(r *Reader) {
		t.Helper()
		r.BeginPass()
		for i, p := range files {
			data, err := r.ReadCached(p)
			require.NoError(t, err)
			require.Equal(t, fmt.Sprint(i), string(data))
		}
		r.EndPass()
	}
	first, second := reader(), reader()
	pass(first)
	assert.Equal(t, 6, first.OpenFiles())
	assert.Zero(t, first.Uncached())
	assert.False(t, first.NewlyFull())

	pass(second)
	assert.Equal(t, 2, second.OpenFiles(), "what the first Reader left of 8")
	assert.EqualValues(t, 4, second.Uncached())
	assert.True(t, second.NewlyFull())
	assert.False(t, second.NewlyFull(), "told once")
	assert.EqualValues(t, 8, b.held.Load())

	first.CloseAll()
	assert.EqualValues(t, 2, b.held.Load())
	pass(second)
	assert.Equal(t, 6, second.OpenFiles(), "the descriptors given back are taken over")
	assert.EqualValues(t, 4, second.Uncached(), "no file refused since")

	// A vanished file is dropped from the cache at the end of the pass it was not read in,
	// and its descriptor returns to the budget.
	require.NoError(t, os.Remove(files[5]))
	files = files[:5]
	pass(second)
	assert.Equal(t, 5, second.OpenFiles())
	assert.EqualValues(t, 5, b.held.Load())
	second.CloseAll()
	assert.Zero(t, b.held.Load())
}

// The process's budget follows the soft descriptor limit read at start.
func TestRefreshDescriptorBudget(t *testing.T) {
	var saved syscall.Rlimit
	require.NoError(t, syscall.Getrlimit(syscall.RLIMIT_NOFILE, &saved))
	if saved.Max < 1024 {
		t.Skipf("the hard RLIMIT_NOFILE here is %d, below the 1,024 this test sets", saved.Max)
	}
	t.Cleanup(func() {
		require.NoError(t, syscall.Setrlimit(syscall.RLIMIT_NOFILE, &saved))
		RefreshDescriptorBudget()
	})
	rl := saved
	rl.Cur = 1024
	require.NoError(t, syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl))
	RefreshDescriptorBudget()
	assert.EqualValues(t, 768, processBudget.limit.Load())
	require.NoError(t, syscall.Setrlimit(syscall.RLIMIT_NOFILE, &saved))
	RefreshDescriptorBudget()
	assert.Equal(t, budgetFor(saved.Cur), processBudget.limit.Load())
}
