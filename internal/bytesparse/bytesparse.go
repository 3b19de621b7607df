// Package bytesparse holds the allocation-free number and field scanners shared by the /proc and
// cgroup parsers, which run for every process of the host at every collection interval.
package bytesparse

import "bytes"

// Atou parses an unsigned decimal; it rejects signs, spaces and overflow.
func Atou(b []byte) (uint64, bool) {
	v, end, ok := ScanUint(b, 0)
	return v, ok && end == len(b)
}

// ScanUint parses the run of decimal digits that starts at b[i] and returns its value and
// the index after it. It rejects an empty run and overflow of uint64. 19 digits cannot
// overflow, so only a 20th is checked: the parsers of /proc files call this for every number.
func ScanUint(b []byte, i int) (v uint64, end int, ok bool) {
	j := i
	for j < len(b) && j-i < 19 {
		d := b[j] - '0'
		if d > 9 {
			break
		}
		v = v*10 + uint64(d)
		j++
	}
	if j == i {
		return 0, i, false
	}
	if j < len(b) && b[j]-'0' <= 9 {
		d := uint64(b[j] - '0')
		if v > (1<<64-1-d)/10 || j+1 < len(b) && b[j+1]-'0' <= 9 {
			return 0, i, false // more than 20 digits, or over 2^64-1
		}
		v = v*10 + d
		j++
	}
	return v, j, true
}

// Atoi parses a signed decimal; it rejects spaces and overflow.
func Atoi(b []byte) (int64, bool) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	u, ok := Atou(b)
	if !ok || u > 1<<63 || (!neg && u == 1<<63) {
		return 0, false
	}
	if neg {
		return -int64(u), true
	}
	return int64(u), true
}

// Fields splits b on spaces and tabs into dst (reused), allocating only when dst has no room.
func Fields(dst [][]byte, b []byte) [][]byte {
	dst = dst[:0]
	i := 0
	for i < len(b) {
		for i < len(b) && (b[i] == ' ' || b[i] == '\t') {
			i++
		}
		if i >= len(b) {
			break
		}
		j := i
		for j < len(b) && b[j] != ' ' && b[j] != '\t' {
			j++
		}
		dst = append(dst, b[i:j])
		i = j
	}
	return dst
}

// NextLine returns the first line of b, without its newline, and the rest.
func NextLine(b []byte) (line, rest []byte) {
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		return b[:i], b[i+1:]
	}
	return b, nil
}
