package wasmruntimereceiver

import (
	"fmt"
	"testing"
	"time"

	"github.com/otelcol-virt/otelcol-virt/internal/linuxfs"
)

// BenchmarkScrapeVsFloor runs a scrape and both floors (the same traced file operations,
// replayed with pread on files kept open, and with open+read+close) one after the other in
// every iteration, so a machine whose load changes during the run slows all three alike: the
// ratios it reports are what the README quotes.
//
//	go test ./receiver/wasmruntimereceiver -run '^$' -bench ScrapeVsFloor -benchtime 200x -count 6
func BenchmarkScrapeVsFloor(b *testing.B) {
	for _, n := range []int{10, 100, 1000} {
		root := benchRoot(b, n)
		b.Run(fmt.Sprintf("instances=%d", n), func(b *testing.B) {
			s := benchScraper(b, root, nil)
			// The scraper's reads are replayed through the scraper's own descriptor cache,
			// the walk's through a reader of their own: a second copy of every open file
			// would not fit the descriptor limit of a host like this one (20,000) at 1,000
			// instances. Either way each replayed read is one pread of a file held open.
			var walkOps, scrapeOps []linuxfs.TraceOp
			s.inv.SetTrace(&walkOps)
			s.r.Trace = &scrapeOps
			scrapeOnce(b, s)
			s.inv.SetTrace(nil)
			s.r.Trace = nil
			ops := append(append([]linuxfs.TraceOp(nil), walkOps...), scrapeOps...)
			if got := len(s.inv.Current().Instances); got != n {
				b.Fatalf("%d instances discovered, want %d", got, n)
			}
			pread, reopen := linuxfs.New(1<<20), linuxfs.New(0)
			b.Cleanup(pread.CloseAll)
			replay(pread, walkOps) // opens every file once, as the inventory's cache did
			var scrape, floorPread, floorReopen time.Duration
			for b.Loop() {
				t0 := time.Now()
				if _, err := scrapeFresh(s); err != nil {
					b.Fatal(err)
				}
				t1 := time.Now()
				replay(pread, walkOps)
				replay(s.r, scrapeOps)
				t2 := time.Now()
				replay(reopen, ops)
				t3 := time.Now()
				scrape += t1.Sub(t0)
				floorPread += t2.Sub(t1)
				floorReopen += t3.Sub(t2)
			}
			per := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / float64(b.N) / float64(n) }
			b.ReportMetric(per(scrape), "scrape-ns/instance")
			b.ReportMetric(per(floorPread), "pread-floor-ns/instance")
			b.ReportMetric(per(floorReopen), "reopen-floor-ns/instance")
			b.ReportMetric(float64(scrape)/float64(floorPread), "x-pread-floor")
			b.ReportMetric(float64(scrape)/float64(floorReopen), "x-reopen-floor")
			b.ReportMetric(0, "ns/op")
		})
	}
}
