package wasmmem

// Region is one linear memory found in a process's mappings.
type Region struct {
	// Base is the memory's address: the start of its committed part (or of its reservation
	// past the guard, when nothing is committed).
	Base uint64
	// Committed is the read-write part (wasm memory.size rounded up to the host page).
	Committed uint64
	// Resident is the committed part's Rss: pages the guest (or the runtime, for data
	// segments) has touched and the kernel has not reclaimed.
	Resident uint64
	// Swap is the committed part's swapped-out bytes.
	Swap uint64
	// Reserved is the address space the memory holds: Layout.Span.
	Reserved uint64
	// Capacity is what the memory can commit without moving: Layout.Reservation.
	Capacity uint64
}

// Classify finds the linear memories of layout in vmas (address order, as smaps prints
// them) and appends them to dst in address order. It allocates only when dst has no room.
//
// A memory is a run of adjacent, private, read-write mappings [base, end) of at most
// Reservation bytes, with adjacent PROT_NONE mappings covering at least GuardBefore bytes
// below base and at least base+Reservation+GuardAfter-end above end.
func Classify(dst []Region, vmas []VMA, l Layout) []Region {
	if l.Reservation == 0 {
		return dst
	}
	n := len(vmas)
	first := len(dst)
	// noneEnd[i] for a PROT_NONE run is computed on the fly: walk runs of adjacent mappings.
	for i := 0; i < n; {
		if !isCommitted(&vmas[i]) {
			i++
			continue
		}
		// A committed run starts at i.
		j := i
		var res, swap uint64
		for j < n && isCommitted(&vmas[j]) && (j == i || vmas[j].Start == vmas[j-1].End) {
			res += vmas[j].Rss
			swap += vmas[j].Swap
			j++
		}
		base, end := vmas[i].Start, vmas[j-1].End
		if end-base <= l.Reservation &&
			noneBelow(vmas, i) >= l.GuardBefore &&
			noneAbove(vmas, j, end) >= base+l.Reservation+l.GuardAfter-end {
			dst = append(dst, Region{Base: base, Committed: end - base, Resident: res, Swap: swap,
				Reserved: l.Span(), Capacity: l.Reservation})
		}
		i = j
	}
	return appendEmpty(dst, first, vmas, l)
}

func isCommitted(v *VMA) bool {
	return v.Perm&(PermRead|PermWrite) == PermRead|PermWrite && v.Perm&(PermShared|PermExec) == 0
}

// noneBelow is the length of the adjacent PROT_NONE mappings ending at vmas[i].Start.
func noneBelow(vmas []VMA, i int) uint64 {
	at := vmas[i].Start
	var n uint64
	for k := i - 1; k >= 0 && vmas[k].End == at && vmas[k].Perm.None(); k-- {
		n += vmas[k].Size()
		at = vmas[k].Start
	}
	return n
}

// noneAbove is the length of the adjacent PROT_NONE mappings starting at end (vmas[j]).
func noneAbove(vmas []VMA, j int, end uint64) uint64 {
	var n uint64
	for k := j; k < len(vmas) && vmas[k].Start == end && vmas[k].Perm.None(); k++ {
		n += vmas[k].Size()
		end = vmas[k].End
	}
	return n
}

// appendEmpty adds memories that have committed nothing: PROT_NONE runs holding whole spans
// beyond what the committed memories found beside them claim. Only exact multiples count, so
// an unrelated reservation is not taken for an empty memory.
func appendEmpty(dst []Region, first int, vmas []VMA, l Layout) []Region {
	span := l.Span()
	found := dst[first:]
	k := 0 // next found memory at or above the run
	var extra []Region
	for i := 0; i < len(vmas); {
		if !vmas[i].Perm.None() {
			i++
			continue
		}
		start := vmas[i].Start
		end := vmas[i].End
		j := i + 1
		for j < len(vmas) && vmas[j].Perm.None() && vmas[j].Start == end {
			end = vmas[j].End
			j++
		}
		lo, hi := start, end
		for k < len(found) && found[k].Base < start {
			k++
		}
		// The memory below claims its tail; the one above its guard.
		if k > 0 {
			m := found[k-1]
			if claim := m.Base + l.Reservation + l.GuardAfter; claim > lo && m.Base+m.Committed == start {
				lo = min(claim, hi)
			}
		}
		if k < len(found) && found[k].Base == end && l.GuardBefore <= hi-lo {
			hi -= l.GuardBefore
		}
		if free := hi - lo; free >= span && free%span == 0 {
			for b := lo + l.GuardBefore; b < hi; b += span {
				extra = append(extra, Region{Base: b, Reserved: span, Capacity: l.Reservation})
			}
		}
		i = j
	}
	if len(extra) == 0 {
		return dst
	}
	dst = append(dst, extra...)
	sortRegions(dst[first:])
	return dst
}

func sortRegions(r []Region) {
	for i := 1; i < len(r); i++ {
		for j := i; j > 0 && r[j].Base < r[j-1].Base; j-- {
			r[j], r[j-1] = r[j-1], r[j]
		}
	}
}
