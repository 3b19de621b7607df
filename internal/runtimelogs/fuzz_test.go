package runtimelogs

import (
	"context"
	"strings"
	"sync"
	"testing"

	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/confmap"
	"go.yaml.in/yaml/v3"

	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/stanza/entry"
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/stanza/operator/helper"
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/stanza/pipeline"
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/stanza/testutil"
)

// FuzzPresets feeds arbitrary lines to every preset's operators: nothing may panic, no record
// may come out of nothing, and no temporary group may reach a record.
func FuzzPresets(f *testing.F) {
	for _, file := range []string{"wasmtime.log", "wasmedge.log", "wazero.log", "firecracker.log", "qemu.log", "generic.log"} {
		for _, l := range fixtureLinesF(f, file) {
			f.Add(l + "\n" + l)
		}
	}
	f.Add("Error: x\n\n    1: wasm trap: \n       wasm backtrace:\n\t\n")
	f.Add("[] [error] execution failed: , Code: 0x\nwasm error: \nwasm stack trace:\n")
	f.Add("2023-02-05T21:54:15.632444828 [:fc_api:INFO:a:99999999999999999999] x")
	f.Fuzz(func(t *testing.T, text string) {
		lines := strings.Split(text, "\n")
		if len(lines) > 64 {
			return
		}
		for _, p := range PresetNames() {
			var mu sync.Mutex
			var got []*entry.Entry
			cfg := &Config{Sources: []SourceConfig{{Runtime: p, Include: []string{"/x/*.log"}}}}
			ops, err := cfg.Operators(nil)
			if err != nil {
				t.Fatal(err)
			}
			set := componenttest.NewNopTelemetrySettings()
			emitter := helper.NewSynchronousLogEmitter(set, func(_ context.Context, es []*entry.Entry) {
				mu.Lock()
				got = append(got, es...)
				mu.Unlock()
			})
			pipe, err := pipeline.Config{Operators: ops[1:], DefaultOutput: emitter}.Build(set)
			if err != nil {
				t.Fatal(err)
			}
			if err := pipe.Start(testutil.NewUnscopedMockPersister()); err != nil {
				t.Fatal(err)
			}
			first := pipe.Operators()[0]
			var off int64
			for _, l := range lines {
				e := entry.New()
				e.Body = l
				e.Attributes = map[string]any{"log.file.path": "/x/a.log", recordOffsetAttr: off, sourceAttr: p}
				off += int64(len(l) + 1)
				_ = first.Process(context.Background(), e)
			}
			if err := pipe.Stop(); err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			if len(got) > len(lines) {
				t.Fatalf("%s: %d records from %d lines", p, len(got), len(lines))
			}
			for _, e := range got {
				for k := range e.Attributes {
					if strings.HasPrefix(k, tempPrefix) || k == recordOffsetAttr {
						t.Fatalf("%s: attribute %s left on %q", p, k, e.Body)
					}
				}
			}
			mu.Unlock()
		}
	})
}

// FuzzConfig feeds arbitrary YAML to the logs section: decoding, Validate and building the
// operators of a valid configuration must not panic, and a valid one must build.
func FuzzConfig(f *testing.F) {
	f.Add([]byte("sources: [{runtime: wasmtime, include: [/var/log/*.log], pid_from_path: '(?P<pid>\\d+)'}]"))
	f.Add([]byte("sources: [{runtime: qemu, name: Q, include: ['']}, {runtime: qemu, include: [a]}]"))
	f.Add([]byte("storage: file_storage/x\nsources: [{runtime: x, preset: generic, include: [a], format: container, start_at: beginning, resource: {a: b}}]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var raw map[string]any
		if yaml.Unmarshal(data, &raw) != nil || raw == nil {
			return
		}
		cfg := NewDefaultConfig()
		if confmap.NewFromStringMap(raw).Unmarshal(&cfg) != nil {
			return
		}
		if cfg.Validate() != nil {
			return
		}
		if _, err := cfg.Operators(nil); err != nil {
			t.Fatalf("valid configuration does not build: %v", err)
		}
	})
}

func fixtureLinesF(f *testing.F, file string) []string {
	data, err := readFixtureFile(file)
	if err != nil {
		f.Fatal(err)
	}
	return strings.Split(strings.TrimRight(data, "\n"), "\n")
}
