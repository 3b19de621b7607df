package wasmmem

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// vma renders one smaps entry as the kernel prints it (fs/proc/task_mmu.c, Linux 6.x field
// order), sizes in kB.
func vma(start, end uint64, perm, path string, rss, swap uint64) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%08x-%08x %s 00000000 00:00 0", start, end, perm)
	if path != "" {
		fmt.Fprintf(&b, "%*s%s", 73-b.Len(), "", path)
	}
	b.WriteString("\n")
	for _, f := range []struct {
		name string
		kb   uint64
	}{{"Size", (end - start) >> 10}, {"KernelPageSize", 4}, {"MMUPageSize", 4}, {"Rss", rss}, {"Pss", rss},
		{"Pss_Dirty", rss}, {"Shared_Clean", 0}, {"Shared_Dirty", 0}, {"Private_Clean", 0}, {"Private_Dirty", rss},
		{"Referenced", rss}, {"Anonymous", rss}, {"KSM", 0}, {"LazyFree", 0}, {"AnonHugePages", 0},
		{"ShmemPmdMapped", 0}, {"FilePmdMapped", 0}, {"Shared_Hugetlb", 0}, {"Private_Hugetlb", 0},
		{"Swap", swap}, {"SwapPss", swap}, {"Locked", 0}} {
		fmt.Fprintf(&b, "%-16s%8d kB\n", f.name+":", f.kb)
	}
	b.WriteString("THPeligible:           0\nProtectionKey:         0\nVmFlags: rd wr mr mw me ac \n")
	return b.String()
}

func TestParseSmaps(t *testing.T) {
	in := vma(0x1000, 0x3000, "r-xp", "/usr/bin/x", 8, 0) +
		vma(0x10000000, 0x10100000, "rw-p", "", 512, 4) +
		vma(0x7f0000000000, 0x7f0000001000, "rw-s", "/dev/shm/x (deleted)", 4, 0)
	var s Scanner
	sm, err := s.Parse([]byte(in))
	require.NoError(t, err)
	require.Len(t, sm.VMAs, 3)
	v := sm.VMAs[1]
	assert.Equal(t, uint64(0x10000000), v.Start)
	assert.Equal(t, uint64(1<<20), v.Size())
	assert.Equal(t, PermRead|PermWrite, v.Perm)
	assert.Equal(t, uint64(512<<10), v.Rss)
	assert.Equal(t, uint64(512<<10), v.PrivateDirty)
	assert.Equal(t, uint64(4<<10), v.Swap)
	assert.Empty(t, v.Path)
	assert.Equal(t, "/dev/shm/x (deleted)", string(sm.VMAs[2].Path))
	assert.Equal(t, PermRead|PermWrite|PermShared, sm.VMAs[2].Perm)
	assert.Equal(t, Totals{VMAs: 3, Rss: 524 << 10, Pss: 524 << 10, PrivateDirty: 524 << 10, Anonymous: 524 << 10, Swap: 4 << 10}, sm.Totals)

	// Wide values (past 8 columns) take the general path and agree.
	wide := strings.Replace(in, "Rss:                 512 kB", "Rss:            123456789 kB", 1)
	sm, err = s.Parse([]byte(wide))
	require.NoError(t, err)
	assert.Equal(t, uint64(123456789<<10), sm.VMAs[1].Rss)
}

func TestParseSmapsBoundCountsTruncation(t *testing.T) {
	var in strings.Builder
	for i := uint64(0); i < 10; i++ {
		in.WriteString(vma(0x1000*(2*i+1), 0x1000*(2*i+2), "rw-p", "", 4, 0))
	}
	s := Scanner{MaxVMAs: 4}
	sm, err := s.Parse([]byte(in.String()))
	require.NoError(t, err)
	assert.Len(t, sm.VMAs, 4)
	assert.Equal(t, 6, sm.Truncated)
	assert.Equal(t, 10, sm.Totals.VMAs, "totals include the truncated mappings")
	assert.Equal(t, uint64(40<<10), sm.Totals.Rss)
}

func TestParseSmapsMalformed(t *testing.T) {
	good := vma(0x1000, 0x2000, "rw-p", "", 4, 0)
	for name, in := range map[string]string{
		"field first":    "Rss:                   4 kB\n" + good,
		"bad range":      strings.Replace(good, "00001000-00002000", "00002000-00001000", 1),
		"bad perms":      strings.Replace(good, "rw-p", "rwzp", 1),
		"bad value":      strings.Replace(good, "Rss:                   4 kB", "Rss:                   x kB", 1),
		"no unit":        strings.Replace(good, "Rss:                   4 kB", "Rss:    4", 1),
		"out of order":   good + good,
		"overflow":       strings.Replace(good, "Rss:                   4 kB", "Rss: 99999999999999999999 kB", 1),
		"truncated head": "00001000-",
	} {
		var s Scanner
		_, err := s.Parse([]byte(in))
		assert.True(t, errors.Is(err, ErrMalformed), "%s: %v", name, err)
	}
}

// A mapping that grew or merged while the file was read is printed again from its new start
// (the kernel resumes each read(2) at the mapping that ends past where it stopped): the later
// record replaces the ones it overlaps, in the list and the totals. This is what a wasmtime
// guest growing its linear memory during the read produced on Linux 6.18.
func TestParseSmapsTornRead(t *testing.T) {
	in := vma(0x1000, 0x2000, "rw-p", "", 4, 0) +
		vma(0x3000, 0x4000, "rw-p", "", 4, 0) +
		vma(0x4000, 0x5000, "rw-p", "", 4, 0) +
		vma(0x3000, 0x8000, "rw-p", "", 20, 0) + // the two above, merged and grown
		vma(0x9000, 0xa000, "r--p", "", 4, 0)
	var s Scanner
	sm, err := s.Parse([]byte(in))
	require.NoError(t, err)
	require.Len(t, sm.VMAs, 3)
	assert.Equal(t, [][2]uint64{{0x1000, 0x2000}, {0x3000, 0x8000}, {0x9000, 0xa000}},
		[][2]uint64{{sm.VMAs[0].Start, sm.VMAs[0].End}, {sm.VMAs[1].Start, sm.VMAs[1].End}, {sm.VMAs[2].Start, sm.VMAs[2].End}})
	assert.Equal(t, 1, sm.Torn)
	assert.Equal(t, 3, sm.Totals.VMAs)
	assert.Equal(t, uint64(28<<10), sm.Totals.Rss, "the overlapped records leave the totals")

	// Overlap that does not end past its predecessor is not that race.
	_, err = s.Parse([]byte(vma(0x1000, 0x4000, "rw-p", "", 4, 0) + vma(0x2000, 0x3000, "rw-p", "", 4, 0)))
	assert.ErrorIs(t, err, ErrMalformed)
}

func TestParseSmapsAllocationFree(t *testing.T) {
	c := loadCapture(t, "wasmtime-1000")
	tr := NewTracker(Wasmtime)
	_, err := tr.Update(c.smaps)
	require.NoError(t, err)
	allocs := testing.AllocsPerRun(5, func() {
		if _, err := tr.Update(c.smaps); err != nil {
			t.Fatal(err)
		}
	})
	assert.Zero(t, allocs, "parse, classify and track after warm-up")
}

func TestParseRollup(t *testing.T) {
	b, err := os.ReadFile("testdata/rollup/smaps_rollup")
	require.NoError(t, err)
	r, err := ParseRollup(b)
	require.NoError(t, err)
	assert.Equal(t, Rollup{Rss: 1628 << 10, Pss: 296 << 10, PssAnon: 116 << 10, PssFile: 180 << 10,
		PrivateDirty: 116 << 10, Anonymous: 116 << 10}, r)
	assert.Zero(t, testing.AllocsPerRun(5, func() { _, _ = ParseRollup(b) }))
	_, err = ParseRollup([]byte("Rss: 4 kB\n"))
	assert.ErrorIs(t, err, ErrMalformed)
	_, err = ParseRollup(nil)
	assert.ErrorIs(t, err, ErrMalformed)
	// The live file of this process parses.
	live, err := os.ReadFile("/proc/self/smaps_rollup")
	require.NoError(t, err)
	_, err = ParseRollup(live)
	require.NoError(t, err)
}

func FuzzParseSmaps(f *testing.F) {
	f.Add([]byte(vma(0x1000, 0x2000, "rw-p", "", 4, 0) + vma(0x3000, 0x5000, "---p", "[x]", 0, 0)))
	f.Add([]byte("00001000-00002000 rw-p 0 0:0 0\nRss: 4 kB\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		s := Scanner{MaxVMAs: 8}
		sm, err := s.Parse(b)
		if err != nil {
			return
		}
		if len(sm.VMAs) > 8 || sm.Totals.VMAs != len(sm.VMAs)+sm.Truncated {
			t.Fatalf("bound broken: %d kept, %d truncated, %d total", len(sm.VMAs), sm.Truncated, sm.Totals.VMAs)
		}
		for i, v := range sm.VMAs {
			if v.End < v.Start || i > 0 && sm.VMAs[i-1].End > v.Start {
				t.Fatalf("mapping %d out of order", i)
			}
		}
		for _, r := range Classify(nil, sm.VMAs, Layout{GuardBefore: 4096, Reservation: 8192, GuardAfter: 4096}) {
			if r.Committed > r.Capacity || r.Resident > r.Committed+1<<40 {
				t.Fatalf("impossible region %+v", r)
			}
		}
	})
}

func FuzzParseRollup(f *testing.F) {
	b, _ := os.ReadFile("testdata/rollup/smaps_rollup")
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) { _, _ = ParseRollup(b) })
}
