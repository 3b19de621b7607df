package vmstats

import "testing"

func BenchmarkParseTaskStat(b *testing.B) {
	data := captured(b, "task/*/stat")
	b.SetBytes(int64(len(data)))
	for i := 0; i < b.N; i++ {
		if _, _, err := ParseTaskStat(data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCalibrateSum(b *testing.B) {
	data := captured(b, "task/*/stat")
	s := 0
	for i := 0; i < b.N; i++ {
		for _, c := range data {
			s += int(c)
		}
	}
	_ = s
}
