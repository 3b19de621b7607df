// Command trapmodule is a WASI (GOOS=wasip1 GOARCH=wasm) program that traps on purpose, so that
// tests see a real runtime report a real trap: "oob" loads from an address beyond linear memory
// (out of bounds memory access), "unreachable" executes the Wasm unreachable instruction.
package main

import (
	"fmt"
	"os"
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
	fmt.Fprintln(os.Stderr, "trapmodule: about to trap:", mode)
	switch mode {
	case "unreachable":
		unreachable()
	default:
		// Linear memory of a Go module is far smaller than 4 GiB.
		fmt.Println(load(0xfffffff0))
	}
}
