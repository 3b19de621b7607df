// Command memgrow is a Wasm guest that allocates without bound, touching every page so the
// host's resident memory grows: the second attack vector. It allocates step MiB every interval
// until it holds max MiB (argument 1, default 1024), then keeps it.
// Build with GOOS=wasip1 GOARCH=wasm.
package main

import (
	"os"
	"strconv"
	"time"
)

func main() {
	maxMiB := 1024
	if len(os.Args) > 1 {
		if n, err := strconv.Atoi(os.Args[1]); err == nil {
			maxMiB = n
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
		time.Sleep(20 * time.Millisecond)
	}
	for {
		time.Sleep(time.Hour)
		_ = held
	}
}
