// Command trapmodule is a WASI (GOOS=wasip1 GOARCH=wasm) program that traps on purpose, so that
// tests see a real runtime report a real trap: "oob" loads from an address beyond linear memory
// (out of bounds memory access), "unreachable" executes the Wasm unreachable instruction. An
// optional second argument (a Go duration) makes it wait before announcing the trap, and as
// long again before trapping, so that a collector can discover the instance first.
package main

import (
	"fmt"
	"os"
	"time"
	"unsafe"
)

//go:noinline
func load(p uintptr) byte { return *(*byte)(unsafe.Pointer(p)) }

// unreachable is implemented in assembly as the Wasm unreachable instruction.
func unreachable()

func main() {
	mode := "oob"
	if len(os.Args) > 1 {
		mode = os.Args[1]
	}
	var wait time.Duration
	if len(os.Args) > 2 {
		wait, _ = time.ParseDuration(os.Args[2])
	}
	time.Sleep(wait)
	fmt.Fprintln(os.Stderr, "trapmodule: about to trap:", mode)
	time.Sleep(wait)
	switch mode {
	case "unreachable":
		unreachable()
	default:
		// Linear memory of a Go module is far smaller than 4 GiB.
		fmt.Println(load(0xfffffff0))
	}
}
