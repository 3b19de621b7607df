// Command cpuloop is a Wasm guest that never yields the CPU: the first attack vector on Wasm
// hosts (an infinite loop pinning a host core). Build with GOOS=wasip1 GOARCH=wasm.
package main

var sink uint64

func main() {
	x := uint64(1)
	for {
		x = x*6364136223846793005 + 1442695040888963407
		sink = x
	}
}
