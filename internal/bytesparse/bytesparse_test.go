package bytesparse

import (
	"math"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestAtou(t *testing.T) {
	for in, want := range map[string]uint64{"0": 0, "42": 42, "18446744073709551615": math.MaxUint64} {
		got, ok := Atou([]byte(in))
		assert.True(t, ok, in)
		assert.Equal(t, want, got, in)
	}
	for _, in := range []string{"", "-1", "+1", " 1", "1x", "18446744073709551616", "999999999999999999999"} {
		_, ok := Atou([]byte(in))
		assert.False(t, ok, in)
	}
}

// ScanUint agrees with strconv on every length around the 19-digit fast path and its
// overflow edge, and stops at the first non-digit.
func TestScanUint(t *testing.T) {
	for _, in := range []string{"0", "9", "1844674407370955161", "9999999999999999999", "10000000000000000000",
		"18446744073709551615", "18446744073709551616", "19999999999999999999", "99999999999999999999", "100000000000000000000"} {
		want, err := strconv.ParseUint(in, 10, 64)
		v, end, ok := ScanUint([]byte(in+" 7"), 0)
		if err != nil {
			assert.False(t, ok, in)
			continue
		}
		assert.True(t, ok, in)
		assert.Equal(t, want, v, in)
		assert.Equal(t, len(in), end, in)
	}
	v, end, ok := ScanUint([]byte("ab12cd"), 2)
	assert.True(t, ok)
	assert.Equal(t, uint64(12), v)
	assert.Equal(t, 4, end)
	_, _, ok = ScanUint([]byte("x"), 0)
	assert.False(t, ok, "no digit")
	_, _, ok = ScanUint([]byte("1"), 1)
	assert.False(t, ok, "at the end")
}

func TestAtoi(t *testing.T) {
	for in, want := range map[string]int64{"0": 0, "-1": -1, "9223372036854775807": math.MaxInt64, "-9223372036854775808": math.MinInt64} {
		got, ok := Atoi([]byte(in))
		assert.True(t, ok, in)
		assert.Equal(t, want, got, in)
	}
	for _, in := range []string{"", "-", "9223372036854775808", "--1", "1.5"} {
		_, ok := Atoi([]byte(in))
		assert.False(t, ok, in)
	}
}

func TestFieldsAndNextLine(t *testing.T) {
	var dst [][]byte
	dst = Fields(dst, []byte("  a\tbb  ccc "))
	assert.Equal(t, []string{"a", "bb", "ccc"}, strs(dst))
	assert.Empty(t, Fields(dst, []byte(" \t ")))

	line, rest := NextLine([]byte("one\ntwo\n"))
	assert.Equal(t, "one", string(line))
	line, rest = NextLine(rest)
	assert.Equal(t, "two", string(line))
	assert.Empty(t, rest)
	line, rest = NextLine([]byte("last"))
	assert.Equal(t, "last", string(line))
	assert.Nil(t, rest)
}

func strs(b [][]byte) []string {
	out := make([]string, len(b))
	for i := range b {
		out[i] = string(b[i])
	}
	return out
}

// Atou agrees with strconv on every input up to 20 digits and never panics.
func FuzzAtou(f *testing.F) {
	for _, s := range []string{"0", "123", "18446744073709551615", "18446744073709551616", "-5", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := Atou([]byte(s))
		want, err := strconv.ParseUint(s, 10, 64)
		if len(s) > 20 && !ok {
			return // longer than any uint64 the kernel prints: refused even with leading zeros
		}
		if (err == nil) != ok || (ok && got != want) {
			t.Fatalf("Atou(%q) = %d, %v; strconv: %d, %v", s, got, ok, want, err)
		}
	})
}
