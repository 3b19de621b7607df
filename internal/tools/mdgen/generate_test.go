package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// components are the directories whose internal/metadata this tool writes (the Makefile's
// MDGEN_COMPONENTS).
var components = []string{"receiver/wasmruntimereceiver", "extension/instanceinventoryextension"}

// The committed metadata packages are what metadata.yaml generates today: a metric added to
// metadata.yaml without `make generate`, or a hand edit of a generated file, fails here.
func TestGeneratedMetadataCurrent(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", "..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range components {
		dir := filepath.Join(root, c)
		files, err := Generate(dir)
		if err != nil {
			t.Fatalf("%s: %v", c, err)
		}
		committed, _ := filepath.Glob(filepath.Join(dir, "internal", "metadata", "generated_*.go"))
		if _, ok := files["documentation.md"]; ok {
			committed = append(committed, filepath.Join(dir, "documentation.md"))
		}
		if len(committed) != len(files) {
			t.Errorf("%s: %d generated files committed, mdgen writes %d: run `make generate`", c, len(committed), len(files))
		}
		for name, want := range files {
			path := filepath.Join(dir, "internal", "metadata", name)
			if name == "documentation.md" {
				path = filepath.Join(dir, name)
			}
			got, err := os.ReadFile(path)
			if err != nil || !bytes.Equal(got, want) {
				t.Errorf("%s: %s is stale: run `make generate`", c, path)
			}
		}
	}
}

func TestGoName(t *testing.T) {
	for in, want := range map[string]string{
		"container.cpu.time":            "ContainerCPUTime",
		"wasm_runtime.vm.id":            "WasmRuntimeVMID",
		"k8s.pod.uid":                   "K8sPodUID",
		"wasm_runtime.memory.oom.kills": "WasmRuntimeMemoryOOMKills",
	} {
		if got := goName(in); got != want {
			t.Errorf("goName(%q) = %q, want %q", in, got, want)
		}
	}
	if got := lowerName("cpu.mode"); got != "cpuMode" {
		t.Errorf("lowerName = %q", got)
	}
}

// A metadata.yaml with a mistake is refused with the field named.
func TestLoadRejects(t *testing.T) {
	for name, yaml := range map[string]string{
		"both sum and gauge": "type: x\nmetrics:\n  a.b:\n    description: d\n    unit: s\n    enabled: true\n    sum: {value_type: int, monotonic: true}\n    gauge: {value_type: int}\n",
		"unknown attribute":  "type: x\nmetrics:\n  a.b:\n    description: d\n    unit: s\n    enabled: true\n    gauge: {value_type: int}\n    attributes: [nope]\n",
		"unknown key":        "type: x\nmetrcs: {}\n",
		"bad value type":     "type: x\nmetrics:\n  a.b:\n    description: d\n    unit: s\n    enabled: true\n    gauge: {value_type: float}\n",
	} {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "metadata.yaml"), []byte(yaml), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := load(dir); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
