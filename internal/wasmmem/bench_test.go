package wasmmem

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// The benchmark's baseline is a plain read of the same smaps file (the 1,000-instance capture
// written back to disk) through FileBuffer, measured in the same run: parsing and classifying
// must stay within 3x of it (issue acceptance), allocation-free after warm-up.
//
//	go test -run '^$' -bench Smaps1000 -benchmem ./internal/wasmmem
func BenchmarkSmaps1000(b *testing.B) {
	c := loadCapture(b, "wasmtime-1000")
	path := filepath.Join(b.TempDir(), "smaps")
	if err := os.WriteFile(path, c.smaps, 0o644); err != nil {
		b.Fatal(err)
	}
	var fb FileBuffer
	read := func() []byte {
		data, err := fb.Read(path)
		if err != nil || len(data) != len(c.smaps) {
			b.Fatalf("read: %v (%d bytes)", err, len(data))
		}
		return data
	}
	tr := NewTracker(Wasmtime)
	update := func(data []byte) {
		rep, err := tr.Update(data)
		if err != nil || len(rep.Memories) != 1000 {
			b.Fatalf("update: %v (%d memories)", err, len(rep.Memories))
		}
	}
	b.Run("read", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(c.smaps)))
		for b.Loop() {
			read()
		}
	})
	b.Run("parse", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(c.smaps)))
		update(c.smaps)
		for b.Loop() {
			update(c.smaps)
		}
	})
	// Both in one loop, so the ratio is of the same moment of a shared machine.
	b.Run("ratio", func(b *testing.B) {
		update(read())
		var tRead, tParse time.Duration
		for b.Loop() {
			t0 := time.Now()
			data := read()
			t1 := time.Now()
			update(data)
			tParse += time.Since(t1)
			tRead += t1.Sub(t0)
		}
		b.ReportMetric(float64(tParse)/float64(tRead), "parse/read")
	})
}
