// Command memgrow is a Wasm guest that allocates without bound, touching every page so the
// host's resident memory grows: the second attack vector. It allocates step MiB every interval
// until it holds max MiB (argument 1, default 1024), then keeps it. Argument 2 is the interval
// in milliseconds (default 20). After each step it prints "held <bytes>" on stdout, the bytes it
// has touched so far, so a host can compare what it measures with what the guest did.
// Build with GOOS=wasip1 GOARCH=wasm.
package main

import (
	"fmt"
	"os"
	"strconv"
	"time"
)

func main() {
	maxMiB, interval := 1024, 20*time.Millisecond
	if len(os.Args) > 1 {
		if n, err := strconv.Atoi(os.Args[1]); err == nil {
			maxMiB = n
		}
	}
	if len(os.Args) > 2 {
		if n, err := strconv.Atoi(os.Args[2]); err == nil && n >= 0 {
			interval = time.Duration(n) * time.Millisecond
		}
	}
	const step = 4
	var held [][]byte
	for len(held)*step < maxMiB {
		b := make([]byte, step<<20)
		for i := 0; i < len(b); i += 4096 {
			b[i] = byte(i)
		}
		held = append(held, b)
		fmt.Printf("held %d\n", len(held)*step<<20)
		time.Sleep(interval)
	}
	for {
		time.Sleep(time.Hour)
		_ = held
	}
}
