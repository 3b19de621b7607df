package wasmmem

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/otelcol-virt/otelcol-virt/internal/linuxfs"
)

// ErrMalformed is wrapped by every parse error. It is the Linux file layer's, so that a
// malformed smaps is counted under the same reason as any other malformed file.
var ErrMalformed = linuxfs.ErrMalformed

// Perm is the permission column of a mapping ("rw-p").
type Perm uint8

const (
	PermRead Perm = 1 << iota
	PermWrite
	PermExec
	PermShared
)

// None reports a PROT_NONE mapping: a reservation or a guard region.
func (p Perm) None() bool { return p&(PermRead|PermWrite|PermExec) == 0 }

// VMA is one mapping of /proc/<pid>/smaps (the kernel's fs/proc/task_mmu.c show_smap). Sizes
// are bytes. Path points into the parsed buffer and is valid only as long as that buffer.
type VMA struct {
	Start, End   uint64
	Perm         Perm
	Inode        uint64
	Path         []byte
	Rss          uint64
	Pss          uint64
	PrivateDirty uint64
	Anonymous    uint64
	Swap         uint64
}

// Size is the mapping's length.
func (v *VMA) Size() uint64 { return v.End - v.Start }

// Totals are sums over every mapping of a process, truncated ones included.
type Totals struct {
	VMAs         int
	Rss          uint64
	Pss          uint64
	PrivateDirty uint64
	Anonymous    uint64
	Swap         uint64
}

// Smaps is one parsed smaps file.
type Smaps struct {
	// VMAs holds the first MaxVMAs mappings in address order (the kernel prints them sorted).
	VMAs []VMA
	// Truncated counts the mappings past the bound: parsed into Totals, not kept.
	Truncated int
	// Torn counts mappings printed again, from a new start, because the process changed its
	// address space while the file was read; the later record is kept (see resolveTorn).
	Torn   int
	Totals Totals
}

// Scanner parses smaps files into reused storage: after the first file of a given size, a
// parse allocates nothing. The result is valid until the next Parse.
type Scanner struct {
	// MaxVMAs bounds the mappings kept per file (a process can have up to vm.max_map_count,
	// 65530 by default). Zero means DefaultMaxVMAs.
	MaxVMAs int
	vmas    []VMA
	block   block
}

// block is the run of fixed-width lines that follows each header on this kernel (Size to
// Locked on Linux 6.x), learned from the first mapping and checked on every other: where it
// matches, the fields the package uses are read at their offsets and the rest is skipped.
type block struct {
	lines int                // fixed-width lines after the header; 0 until learned
	at    [nFields]int8      // line of each field within the block, -1 when absent
	learn int                // lines seen in the current block while learning, -1 when done
	seen  [nFields]int8      // learning: line of each field so far
	name  [nFields][2]uint64 // the 16 name columns of each field's line, as two words
}

const (
	fRss = iota
	fPss
	fPrivateDirty
	fAnonymous
	fSwap
	nFields
)

var fieldNames = [nFields]string{"Rss:", "Pss:", "Private_Dirty:", "Anonymous:", "Swap:"}

func (v *VMA) field(f int) *uint64 {
	switch f {
	case fRss:
		return &v.Rss
	case fPss:
		return &v.Pss
	case fPrivateDirty:
		return &v.PrivateDirty
	case fAnonymous:
		return &v.Anonymous
	}
	return &v.Swap
}

// skipBlock reads the fixed-width block at the start of b into v when b has the learned shape,
// and returns the rest.
func (k *block) skipBlock(b []byte, v *VMA) ([]byte, bool) {
	n := k.lines * fieldLine
	if k.lines == 0 || len(b) < n {
		return b, false
	}
	for off := fieldLine - 1; off < n; off += fieldLine {
		if b[off] != '\n' {
			return b, false
		}
	}
	var vals [nFields]uint64
	for f, li := range k.at {
		if li < 0 {
			continue
		}
		line := b[int(li)*fieldLine : int(li)*fieldLine+fieldLine-1]
		if binary.LittleEndian.Uint64(line[0:8]) != k.name[f][0] || binary.LittleEndian.Uint64(line[8:16]) != k.name[f][1] {
			return b, false
		}
		x, ok := fixedKB(line)
		if !ok {
			return b, false
		}
		vals[f] = x
	}
	for f, li := range k.at {
		if li >= 0 {
			*v.field(f) = vals[f]
		}
	}
	return b[n:], true
}

const fieldLine = 28

// DefaultMaxVMAs keeps a process with 1,000 linear memories: the wasmtime test host with
// 1,000 instances has 8,808 mappings (three or four per memory, two per thread stack, the
// runtime's own).
const DefaultMaxVMAs = 16384

// Parse reads the bytes of one /proc/<pid>/smaps file.
func (s *Scanner) Parse(b []byte) (Smaps, error) {
	max := s.MaxVMAs
	if max <= 0 {
		max = DefaultMaxVMAs
	}
	out := Smaps{}
	vmas := s.vmas[:0]
	var cur *VMA // the mapping being filled, nil when past the bound
	var skipped VMA
	for lineNo := 1; len(b) > 0; lineNo++ {
		var line []byte
		// The kernel prints each size field as a 16-column name and an 8-column value
		// ("Rss:                 123 kB", fs/proc/task_mmu.c SEQ_PUT_DEC): 27 bytes and a
		// newline. Taking those without a search is what keeps the parse near a plain read.
		if len(b) >= fieldLine && b[fieldLine-1] == '\n' && b[fieldLine-4] == ' ' && b[fieldLine-3] == 'k' && b[fieldLine-2] == 'B' {
			line, b = b[:fieldLine-1], b[fieldLine:]
		} else if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			line, b = b, nil
		}
		if len(line) == 0 {
			continue
		}
		c := line[0]
		if s.block.lines == 0 && s.block.learn >= 0 && cur != nil {
			s.block.learnLine(line)
		}
		if len(line) == fieldLine-1 && cur != nil {
			if dst := fixedField(cur, line); dst != nil {
				v, ok := fixedKB(line)
				if !ok {
					s.vmas = vmas
					return Smaps{}, fmt.Errorf("smaps line %d: %w: %q", lineNo, ErrMalformed, line)
				}
				*dst = v
				continue
			}
			if c >= 'A' && c <= 'Z' {
				continue
			}
		}
		if c >= '0' && c <= '9' || c >= 'a' && c <= 'f' {
			if cur != nil {
				out.Totals.add(cur)
			}
			if len(vmas) < max {
				vmas = append(vmas, VMA{})
				cur = &vmas[len(vmas)-1]
			} else {
				out.Truncated++
				skipped = VMA{}
				cur = &skipped
			}
			if err := parseHeader(line, cur); err != nil {
				s.vmas = vmas
				return Smaps{}, fmt.Errorf("smaps line %d: %w", lineNo, err)
			}
			if cur != &skipped {
				var ok bool
				if vmas, ok = resolveTorn(vmas, &out); !ok {
					s.vmas = vmas
					return Smaps{}, fmt.Errorf("smaps line %d: %w: mappings out of order", lineNo, ErrMalformed)
				}
				cur = &vmas[len(vmas)-1]
			}
			if rest, ok := s.block.skipBlock(b, cur); ok {
				lineNo += s.block.lines
				b = rest
				continue
			}
			if s.block.lines == 0 && s.block.learn != -1 {
				s.block.learn = 0
				s.block.seen = [nFields]int8{-1, -1, -1, -1, -1}
			}
			continue
		}
		if cur == nil {
			s.vmas = vmas
			return Smaps{}, fmt.Errorf("smaps line %d: %w: field before any mapping", lineNo, ErrMalformed)
		}
		dst := fieldOf(cur, line)
		if dst == nil {
			continue
		}
		v, ok := kB(line)
		if !ok {
			s.vmas = vmas
			return Smaps{}, fmt.Errorf("smaps line %d: %w: %q", lineNo, ErrMalformed, line)
		}
		*dst = v
	}
	if cur != nil {
		out.Totals.add(cur)
	}
	s.vmas = vmas
	out.VMAs = vmas
	return out, nil
}

// resolveTorn checks the mapping just appended (the last of vmas) against the ones before it.
// A read of smaps is not atomic: each read(2) takes mmap_lock anew and resumes at the first
// mapping that ends past the address it stopped at (torvalds/linux fs/proc/task_mmu.c,
// m_start and proc_get_vma, since the maple-tree rework of v6.1; earlier kernels resume
// with find_vma from m->version the same way). If the process merged or grew a mapping in
// between, that mapping is printed again from its new start, overlapping what was already
// printed and ending past it. The later record is the fresher one: the overlapped records
// are dropped from the list and the totals, and the file counted as torn. A mapping that
// overlaps without ending past its predecessor cannot come from that race: false.
func resolveTorn(vmas []VMA, out *Smaps) ([]VMA, bool) {
	n := len(vmas)
	if n < 2 || vmas[n-2].End <= vmas[n-1].Start {
		return vmas, true
	}
	last := vmas[n-1]
	if last.End <= vmas[n-2].End {
		return vmas, false
	}
	keep := n - 1
	for keep > 0 && vmas[keep-1].End > last.Start {
		out.Totals.sub(&vmas[keep-1])
		keep--
	}
	out.Torn++
	vmas = append(vmas[:keep], last)
	return vmas, true
}

func (t *Totals) sub(v *VMA) {
	t.VMAs--
	t.Rss -= v.Rss
	t.Pss -= v.Pss
	t.PrivateDirty -= v.PrivateDirty
	t.Anonymous -= v.Anonymous
	t.Swap -= v.Swap
}

func (t *Totals) add(v *VMA) {
	t.VMAs++
	t.Rss += v.Rss
	t.Pss += v.Pss
	t.PrivateDirty += v.PrivateDirty
	t.Anonymous += v.Anonymous
	t.Swap += v.Swap
}
