package linuxfs

import (
	"sync"
	"sync/atomic"
	"syscall"
)

// descriptorBudget is how many descriptors the open-file caches of all the Readers of a process
// may hold together. One budget for the process, not a share per Reader: a host of 1,000
// instances needs about 11 files each in the scraper's cache and 2 in the inventory's, and a
// fixed quarter of the limit per Reader left most of those reopened at every scrape (open and
// close cost more CPU than the pread they wrap) while the other Reader's quarter stood empty.
type descriptorBudget struct {
	held  atomic.Int64
	limit atomic.Int64
	once  sync.Once
}

// processBudget is the budget every Reader made by New draws from.
var processBudget descriptorBudget

// budgetFor is the part of a soft RLIMIT_NOFILE the caches may hold: all but a quarter, and
// never less than 256 nor more than half left to the rest of the collector (its listeners and
// client connections, persistent queues, log files).
func budgetFor(soft uint64) int64 {
	reserve := min(max(soft/4, 256), soft/2)
	return int64(soft - reserve)
}

// refresh reads the soft descriptor limit (Go raises it to the hard limit at start).
func (b *descriptorBudget) refresh() {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil || rl.Cur == 0 {
		b.limit.Store(budgetFor(1024)) // the usual default
		return
	}
	b.limit.Store(budgetFor(rl.Cur))
}

// take reserves one descriptor for a cache; false when the budget is spent.
func (b *descriptorBudget) take() bool {
	b.once.Do(func() {
		if b.limit.Load() == 0 {
			b.refresh()
		}
	})
	for {
		held := b.held.Load()
		if held >= b.limit.Load() {
			return false
		}
		if b.held.CompareAndSwap(held, held+1) {
			return true
		}
	}
}

func (b *descriptorBudget) release() { b.held.Add(-1) }

// RefreshDescriptorBudget re-reads the descriptor limit the caches of all Readers share: call it
// at start, after anything that changes the limit.
func RefreshDescriptorBudget() { processBudget.refresh() }
