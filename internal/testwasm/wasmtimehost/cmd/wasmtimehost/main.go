//go:build cgo && linux

// Command wasmtimehost runs the WASI guests of internal/testwasm on the real wasmtime engine,
// several instances in one process. See package wasmtimehost.
//
//	wasmtimehost -i memgrow=memgrow.wasm,64 -i cpuloop=cpuloop.wasm
package main

import (
	"fmt"
	"os"

	"github.com/otelcol-virt/otelcol-virt/internal/testwasm/wasmtimehost"
)

func main() {
	if err := wasmtimehost.Main(os.Args[1:], os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "wasmtimehost:", err)
		os.Exit(1)
	}
}
