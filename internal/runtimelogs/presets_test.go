package runtimelogs

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"
)

func TestPresetWasmtime(t *testing.T) {
	recs := readFixture(t, PresetWasmtime, "wasmtime.log", 8)

	oob := recs[0]
	assert.Equal(t, plog.SeverityNumberError, oob.Severity)
	assert.Equal(t, "ERROR", oob.SeverityText)
	assert.Equal(t, "memory_out_of_bounds", oob.Attributes[AttrTrapCode])
	assert.Equal(t, "out of bounds memory access", oob.Attributes[AttrExceptionMessage])
	assert.Equal(t, "           0:  0xa09 - <unknown>!<wasm function 10>\n           1:  0x905 - <unknown>!<wasm function 7>\n"+
		"           2: 0x144b - <unknown>!<wasm function 14>\n           3: 0x13c5 - <unknown>!<wasm function 13>",
		oob.Attributes[AttrExceptionStacktrace])
	assert.Contains(t, oob.Body, "3: wasm trap: out of bounds memory access", "the whole error chain is one record")
	assert.Equal(t, "wasmtime", oob.Resource["wasm_runtime.runtime"])

	old := recs[1]
	assert.Equal(t, "memory_out_of_bounds", old.Attributes[AttrTrapCode], "', source location' is cut from the trap")
	assert.Contains(t, old.Attributes[AttrExceptionStacktrace], "4: <unknown>!<wasm function 67>")

	imp := recs[2]
	assert.Equal(t, plog.SeverityNumberError, imp.Severity)
	assert.NotContains(t, imp.Attributes, AttrTrapCode, "an import error is not a trap")

	guest := recs[3]
	assert.Equal(t, "Hello, world!", guest.Body)
	assert.Equal(t, plog.SeverityNumberUnspecified, guest.Severity)

	wiggle := recs[4]
	assert.Equal(t, plog.SeverityNumberTrace, wiggle.Severity)
	assert.Equal(t, "wasmtime_wasi::preview1::wasi_snapshot_preview1", wiggle.Attributes[AttrLogTarget])

	envLogger := recs[5]
	assert.Equal(t, plog.SeverityNumberTrace, envLogger.Severity)
	assert.Equal(t, "wasi_common::hostcalls_impl::fs", envLogger.Attributes[AttrLogTarget])

	full := recs[6]
	assert.Equal(t, plog.SeverityNumberInfo, full.Severity)
	assert.Equal(t, time.Date(2022, 2, 15, 18, 40, 14, 289898000, time.UTC), full.Timestamp.UTC())
	assert.Equal(t, "fmt", full.Attributes[AttrLogTarget])

	unreachable := recs[7]
	assert.Equal(t, "unreachable_code_reached", unreachable.Attributes[AttrTrapCode])
	assert.Equal(t, "wasm `unreachable` instruction executed", unreachable.Attributes[AttrExceptionMessage])

	for _, r := range recs {
		for k := range r.Attributes {
			assert.NotRegexp(t, "^"+tempPrefix, k, "temporary attribute left on %q", r.Body)
		}
	}
}

func TestPresetWasmEdge(t *testing.T) {
	recs := readFixture(t, PresetWasmEdge, "wasmedge.log", 3)
	first := recs[0]
	assert.Equal(t, plog.SeverityNumberError, first.Severity)
	assert.Equal(t, "memory_out_of_bounds", first.Attributes[AttrTrapCode])
	assert.Equal(t, "0x408", first.Attributes[AttrErrorCode])
	assert.Equal(t, "to_test", first.Attributes[AttrWasmFunction])
	assert.Equal(t, time.Date(2024, 1, 16, 2, 54, 19, 844000000, time.Local), first.Timestamp.In(time.Local))
	assert.Contains(t, first.Body, "Bytecode offset: 0x0000019c")

	second := recs[1]
	assert.Equal(t, "main", second.Attributes[AttrWasmFunction])
	assert.Contains(t, second.Body, "calling stack:0", "calling stack lines belong to the error")

	old := recs[2]
	assert.Equal(t, "0x88", old.Attributes[AttrErrorCode])
	assert.Equal(t, plog.SeverityNumberError, old.Severity)
}

func TestPresetWazero(t *testing.T) {
	recs := readFixture(t, PresetWazero, "wazero.log", 4)
	assert.Equal(t, plog.SeverityNumberUnspecified, recs[0].Severity, "guest line %q", recs[0].Body)
	oob := recs[1]
	assert.Equal(t, plog.SeverityNumberError, oob.Severity)
	assert.Equal(t, "memory_out_of_bounds", oob.Attributes[AttrTrapCode])
	assert.Equal(t, "_start", oob.Attributes[AttrWasmFunction])
	assert.Equal(t, "\t.main.load(i32) i32\n\t.main.main(i32) i32\n\t.runtime.main(i32) i32\n\t.wasm_pc_f_loop()\n\t._rt0_wasm_wasip1()",
		oob.Attributes[AttrExceptionStacktrace])
	assert.Equal(t, "unreachable_code_reached", recs[3].Attributes[AttrTrapCode])
}

func TestPresetFirecracker(t *testing.T) {
	recs := readFixture(t, PresetFirecracker, "firecracker.log", 5)
	assert.Equal(t, plog.SeverityNumberUnspecified, recs[0].Severity)
	api := recs[1]
	assert.Equal(t, plog.SeverityNumberInfo, api.Severity)
	assert.Equal(t, "fc_api", api.Attributes[AttrThreadName])
	assert.Equal(t, "anonymous-instance", api.Attributes[AttrVMID])
	assert.Equal(t, "src/api_server/src/parsed_request.rs", api.Attributes[AttrCodeFilePath])
	assert.Equal(t, int64(216), api.Attributes[AttrCodeLineNumber])
	assert.Equal(t, time.Date(2023, 2, 5, 21, 54, 15, 632444828, time.Local), api.Timestamp.In(time.Local))
	assert.Equal(t, plog.SeverityNumberDebug, recs[3].Severity)
	old := recs[4]
	assert.Equal(t, plog.SeverityNumberError, old.Severity)
	assert.Equal(t, "vmm/src/lib.rs", old.Attributes[AttrCodeFilePath])
	assert.NotContains(t, old.Attributes, AttrVMID, "an empty instance id is not an attribute")
	assert.NotContains(t, old.Attributes, AttrThreadName)
}

func TestPresetQEMU(t *testing.T) {
	recs := readFixture(t, PresetQEMU, "qemu.log", 4)
	first := recs[0]
	assert.Equal(t, plog.SeverityNumberError, first.Severity)
	assert.Equal(t, time.Date(2026, 11, 27, 21, 2, 54, 415920000, time.UTC), first.Timestamp.UTC())
	for _, r := range recs[1:] {
		assert.Equal(t, plog.SeverityNumberError, r.Severity, r.Body)
	}
}

func TestPresetGeneric(t *testing.T) {
	recs := readFixture(t, PresetGeneric, "generic.log", 2)
	assert.Equal(t, plog.SeverityNumberError, recs[0].Severity, "daemon.err comes first in the line")
	assert.Equal(t, plog.SeverityNumberUnspecified, recs[1].Severity)
}

func TestTrapCodesCoverRuntimeMessages(t *testing.T) {
	// Each runtime's trap texts (see TrapCodes) must map to a known code.
	for msg, code := range TrapCodes {
		require.NotEqual(t, "other", code, msg)
		require.Equal(t, code, trapCode(msg))
	}
	require.Equal(t, "other", trapCode("something new"))
	require.Equal(t, "unreachable_code_reached", trapCode("unreachable"))
}
