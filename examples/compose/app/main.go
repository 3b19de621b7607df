//go:build wasip1

// Command app is the demo workload of the Compose example: a WASI module, run by the wazero
// CLI, that burns a little CPU, holds a small buffer and prints a line every interval, so the
// wasm_runtime receiver has a real, bounded Wasm instance to report. -work and -hold raise
// its CPU and memory use to try the alerting rules.
//
//	GOOS=wasip1 GOARCH=wasm go build -o app.wasm . && wazero run app.wasm -interval=1s
package main

import (
	"flag"
	"fmt"
	"os"
	"time"
)

func main() {
	interval := flag.Duration("interval", time.Second, "time between two ticks")
	work := flag.Duration("work", 10*time.Millisecond, "CPU time to burn at each tick")
	hold := flag.Int("hold", 4<<20, "bytes of memory to keep allocated")
	flag.Parse()
	if *interval <= 0 || *work < 0 || *hold < 0 {
		fmt.Fprintln(os.Stderr, "app: -interval must be positive, -work and -hold not negative")
		os.Exit(2)
	}

	buf := make([]byte, max(*hold, 1))
	for i := range buf {
		buf[i] = byte(i) // touch every page so the memory is resident
	}
	var sum uint64
	for tick := 0; ; tick++ {
		start := time.Now()
		for time.Since(start) < *work {
			for i := tick % 4096; i < len(buf); i += 4096 {
				sum += uint64(buf[i])
			}
		}
		fmt.Printf("tick %d checksum %d\n", tick, sum)
		time.Sleep(*interval)
	}
}
