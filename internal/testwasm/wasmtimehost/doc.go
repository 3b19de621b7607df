// Package wasmtimehost is a test host that runs the WASI guests of internal/testwasm on the real
// wasmtime engine (github.com/bytecodealliance/wasmtime-go, cgo with the static library the
// module ships), several instances per process, each in a store of its own, the way Spin,
// wasmCloud and other embedders do. Tests start it as a separate process (Main, or the command
// in cmd/wasmtimehost) and read its /proc files from outside.
//
// Every file but this one needs cgo: the distribution builds with CGO_ENABLED=0 and never
// imports this package.
package wasmtimehost
