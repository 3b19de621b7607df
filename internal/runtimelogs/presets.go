package runtimelogs

import (
	"strconv"
)

// Preset names.
const (
	PresetWasmtime    = "wasmtime"
	PresetWasmEdge    = "wasmedge"
	PresetWazero      = "wazero"
	PresetFirecracker = "firecracker"
	PresetQEMU        = "qemu"
	PresetGeneric     = "generic"
)

// Regular expression groups are named with this prefix; the instance operator renames them to
// their attribute names (see tempAttributes) and drops the rest, so that a group never collides
// with an attribute set by an earlier operator (a container parser's "log", a user's "level").
const tempPrefix = "wrt_"

// Temporary groups and the record attribute each one becomes. Groups absent from this table
// (time, level, message) are consumed by the timestamp and severity parsers, then dropped.
var tempAttributes = map[string]string{
	tempPrefix + "trap":       AttrExceptionMessage,
	tempPrefix + "error":      AttrExceptionMessage,
	tempPrefix + "stack":      AttrExceptionStacktrace,
	tempPrefix + "error_code": AttrErrorCode,
	tempPrefix + "function":   AttrWasmFunction,
	tempPrefix + "target":     AttrLogTarget,
	tempPrefix + "thread":     AttrThreadName,
	tempPrefix + "file":       AttrCodeFilePath,
	tempPrefix + "line":       AttrCodeLineNumber,
	tempPrefix + "vm_id":      AttrVMID,
}

// Attributes of the parsed records: OpenTelemetry semantic conventions where they exist,
// wasm_runtime.* for the rest.
const (
	AttrExceptionMessage    = "exception.message"
	AttrExceptionStacktrace = "exception.stacktrace"
	AttrThreadName          = "thread.name"
	AttrCodeFilePath        = "code.file.path"
	AttrCodeLineNumber      = "code.line.number"
	// AttrTrapCode is the trap normalised across runtimes (see TrapCodes).
	AttrTrapCode = "wasm_runtime.trap.code"
	// AttrErrorCode is the runtime's own error code (WasmEdge "0x408").
	AttrErrorCode = "wasm_runtime.error.code"
	// AttrWasmFunction is the Wasm function that was executing when the trap happened.
	AttrWasmFunction = "wasm_runtime.wasm.function"
	// AttrLogTarget is the emitting module of a tracing-style log line (wasmtime_cli::commands::run).
	AttrLogTarget = "wasm_runtime.log.target"
	// AttrVMID is the instance id a VMM writes in each line (Firecracker --id).
	AttrVMID = "wasm_runtime.vm.id"
	// AttrPID is the process id taken from the file path (pid_from_path).
	AttrPID = "process.pid"
)

// shape is one line layout of a runtime, parsed by a stanza regex_parser. Shapes of a preset are
// tried in order; the first that matches wins.
type shape struct {
	regex string
	// timeLayout is the Go layout of the wrt_time group, empty when the shape has none.
	timeLayout string
	// severity maps severity names to the values of the wrt_level group (stanza's mapping format);
	// nil when the shape has no level.
	severity map[string]any
}

// extract is a regex_parser run on the whole (recombined) record when its body contains marker;
// it pulls out error fields such as a trap message or a backtrace.
type extract struct {
	marker string
	regex  string
}

// preset is how one runtime's log files are parsed.
type preset struct {
	// continuation matches lines that belong to the previous record (backtraces, "Caused by:",
	// indented details); empty when every line is a record.
	continuation string
	shapes       []shape
	extracts     []extract
}

// presetAliases gives runtimes built on another one that one's preset: Spin and Slight embed
// wasmtime and report through the same anyhow chains and tracing-subscriber lines.
var presetAliases = map[string]string{
	"spin":   PresetWasmtime,
	"slight": PresetWasmtime,
}

// Shared pieces.
const (
	iso8601Nano  = `\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?`
	rfc3339Nano  = "2006-01-02T15:04:05.999999999Z07:00"
	localISONano = "2006-01-02T15:04:05.999999999"
	// tracingRest is a tracing-subscriber (or env_logger) line after its time: the level, the
	// spans ("wiggle abi{module=.. function=..}:") and the target, ended by ":" or " >".
	tracingRest = `(?P<wrt_level>TRACE|DEBUG|INFO|WARN|ERROR)\s+(?:(?P<wrt_span>[^\n]*?\})[: ]\s*)?(?P<wrt_target>[A-Za-z_]\w*(?:::\w+)*)(?::|\s*>)\s`
)

var presets = map[string]preset{
	// wasmtime: the CLI prints an anyhow error chain on stderr ("Error: ...", "Caused by:", the
	// numbered causes, the wasm backtrace and "wasm trap: <trap>"); with WASMTIME_LOG/RUST_LOG it
	// also writes tracing-subscriber lines ("<RFC 3339> <LEVEL> <target>: <message>").
	PresetWasmtime: {
		continuation: `^(?:$|Caused by:|Stack backtrace:|\s+(?:\d+:|[a-z]|\[))`,
		shapes: []shape{
			{
				regex:      `^\s*(?P<wrt_time>` + iso8601Nano + `Z)\s+` + tracingRest,
				timeLayout: rfc3339Nano,
				severity:   map[string]any{},
			},
			{
				regex:    `^\s*` + tracingRest,
				severity: map[string]any{},
			},
			{
				regex:    `^(?P<wrt_level>Error|error|warning): `,
				severity: map[string]any{"error": []any{"Error", "error"}, "warn": "warning"},
			},
		},
		extracts: []extract{
			{marker: "wasm trap: ", regex: `wasm trap: (?P<wrt_trap>[^\n,]+)`},
			{marker: "backtrace:", regex: `backtrace:\n(?P<wrt_stack>(?:[ \t]+(?:\d+:[^\n!]*!|at )[^\n]*(?:\n|$))+)`},
		},
	},
	// WasmEdge logs through spdlog: "[<local time>] [<level>] <message>", an execution error
	// spreading over several lines whose message starts with spaces or "calling stack:". Older
	// releases print the same without the time.
	PresetWasmEdge: {
		continuation: `^(?:\[[^\]]*\] )?\[(?:error|warning|info|debug|trace|critical)\] (?:\s|calling stack)`,
		shapes: []shape{
			{
				regex:      `^\[(?P<wrt_time>\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3})\] \[(?P<wrt_level>\w+)\] `,
				timeLayout: "2006-01-02 15:04:05.000",
				severity:   map[string]any{"fatal": "critical"},
			},
			{
				regex:    `^\[(?P<wrt_level>error|warning|info|debug|trace|critical)\] `,
				severity: map[string]any{"fatal": "critical"},
			},
		},
		extracts: []extract{
			{marker: "execution failed: ", regex: `execution failed: (?P<wrt_trap>[^,\n]+), Code: (?P<wrt_error_code>0x[0-9a-fA-F]+)`},
			{marker: " failed: ", regex: `(?:instantiation|validation|loading) failed: (?P<wrt_error>[^,\n]+), Code: (?P<wrt_error_code>0x[0-9a-fA-F]+)`},
			{marker: "function name", regex: `When executing function name: "(?P<wrt_function>[^"\n]*)"`},
		},
	},
	// wazero: the CLI (and embedders printing the returned error) write
	// "module[<name>] function[<export>] failed: wasm error: <trap>" followed by
	// "wasm stack trace:" and one tab-indented frame per line. Go guests add "panic: ..." blocks.
	PresetWazero: {
		continuation: `^(?:\s|$|wasm stack trace:|goroutine \d+ \[|Go runtime stack trace:)`,
		shapes: []shape{
			{
				regex:    `(?P<wrt_level>wasm error): `,
				severity: map[string]any{"error": "wasm error"},
			},
			{
				regex:    `^(?P<wrt_level>panic|fatal error): `,
				severity: map[string]any{"fatal": []any{"panic", "fatal error"}},
			},
			{
				regex:    `^(?P<wrt_level>error) `,
				severity: map[string]any{"error": "error"},
			},
		},
		extracts: []extract{
			{marker: "wasm error: ", regex: `function\[(?P<wrt_function>[^\]\n]*)\] failed: wasm error: (?P<wrt_trap>[^\n]+)`},
			{marker: "wasm error: ", regex: `wasm error: (?P<wrt_trap>[^\n]+)`},
			{marker: "wasm stack trace:", regex: `wasm stack trace:\n(?P<wrt_stack>(?:\t[^\n]*(?:\n|$))+)`},
		},
	},
	// Firecracker (--log-path, --level, --show-level, --show-log-origin):
	// "<local time, ns> [<instance id>:<thread>(:<LEVEL>)(:<file>:<line>)] <message>".
	// Releases before 1.0 wrote "[<instance id>:<LEVEL>:<file>:<line>]" without the thread.
	PresetFirecracker: {
		shapes: []shape{
			{
				regex:      `^(?P<wrt_time>` + iso8601Nano + `) \[(?P<wrt_vm_id>[^:\]]*):(?P<wrt_thread>[^:\]]+):(?P<wrt_level>ERROR|WARN|INFO|DEBUG|TRACE)(?::(?P<wrt_file>[^:\]]+):(?P<wrt_line>\d+))?\] `,
				timeLayout: localISONano,
				severity:   map[string]any{},
			},
			{
				regex:      `^(?P<wrt_time>` + iso8601Nano + `) \[(?P<wrt_vm_id>[^:\]]*):(?P<wrt_level>ERROR|WARN|INFO|DEBUG|TRACE):(?P<wrt_file>[^:\]]+):(?P<wrt_line>\d+)\] `,
				timeLayout: localISONano,
				severity:   map[string]any{},
			},
			{
				regex:      `^(?P<wrt_time>` + iso8601Nano + `) \[(?P<wrt_vm_id>[^:\]]*):(?P<wrt_thread>[^\]]+)\] `,
				timeLayout: localISONano,
			},
		},
	},
	// QEMU reports on stderr (redirected to a file, or libvirt's /var/log/libvirt/qemu/<vm>.log)
	// as "[<time> ]<program>: [warning: |info: ]<message>" (the time with -msg timestamp=on);
	// error_report() has no level word. libvirt adds "<time>: <message>" lines of its own.
	// Files written with -D (-d guest_errors, unimp...) have no prefix and stay unparsed.
	PresetQEMU: {
		shapes: []shape{
			{
				regex:      `^(?P<wrt_time>` + iso8601Nano + `Z) qemu(?:-system-[\w]+|-kvm)?:(?:\S+:\d+:)? (?:(?P<wrt_level>warning|info): )?`,
				timeLayout: rfc3339Nano,
				severity:   map[string]any{"error": ""},
			},
			{
				regex:    `^qemu(?:-system-[\w]+|-kvm)?:(?:\S+:\d+:)? (?:(?P<wrt_level>warning|info): )?`,
				severity: map[string]any{"error": ""},
			},
			{
				regex:      `^(?P<wrt_time>\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}[+-]\d{4}): `,
				timeLayout: "2006-01-02 15:04:05.000-0700",
			},
		},
	},
	// generic: the first severity word of the line; the time is when the line was read.
	PresetGeneric: {
		shapes: []shape{
			{
				regex: `(?i)\b(?P<wrt_level>trace|debug|info|notice|warn|warning|error|err|fatal|critical|crit|panic)\b`,
				severity: map[string]any{
					"info":  "notice",
					"error": "err",
					"fatal": []any{"critical", "crit", "panic"},
				},
			},
		},
	},
}

// TrapCodes maps the trap messages of wasmtime (crates/environ/src/trap_encoding.rs), wazero
// (internal/wasmruntime/errors.go) and WasmEdge (include/common/enum.inc) to one code per cause,
// named after wasmtime's Trap variants in snake case. Unknown messages become "other".
var TrapCodes = map[string]string{
	"call stack exhausted":                          "stack_overflow",
	"stack overflow":                                "stack_overflow",
	"out of bounds memory access":                   "memory_out_of_bounds",
	"unaligned atomic":                              "heap_misaligned",
	"undefined element: out of bounds table access": "table_out_of_bounds",
	"out of bounds table access":                    "table_out_of_bounds",
	"invalid table access":                          "table_out_of_bounds",
	"undefined element":                             "table_out_of_bounds",
	"uninitialized element":                         "indirect_call_to_null",
	"indirect call type mismatch":                   "bad_signature",
	"integer overflow":                              "integer_overflow",
	"integer divide by zero":                        "integer_division_by_zero",
	"invalid conversion to integer":                 "bad_conversion_to_integer",
	"wasm `unreachable` instruction executed":       "unreachable_code_reached",
	"unreachable":                                   "unreachable_code_reached",
	"interrupt":                                     "interrupt",
	"execution interrupted":                         "interrupt",
	"all fuel consumed by WebAssembly":              "out_of_fuel",
	"cost limit exceeded":                           "out_of_fuel",
	"null reference":                                "null_reference",
	"null function reference":                       "null_reference",
	"out of bounds array access":                    "array_out_of_bounds",
	"allocation size too large":                     "allocation_too_large",
	"cast failure":                                  "cast_failure",
	"atomic wait on non-shared memory":              "atomic_wait_non_shared_memory",
	"expected shared memory":                        "atomic_wait_non_shared_memory",
	"host function failed":                          "host_function_error",
}

// trapCode normalises a trap message; wazero appends " (recovered by wazero)" to Go panics.
func trapCode(msg string) string {
	if c, ok := TrapCodes[msg]; ok {
		return c
	}
	return "other"
}

// quoteExpr quotes s as an expr-lang string literal.
func quoteExpr(s string) string { return strconv.Quote(s) }
