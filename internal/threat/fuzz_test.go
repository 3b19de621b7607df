package threat

import (
	"context"
	"encoding/binary"
	"math"
	"testing"
	"time"

	"go.opentelemetry.io/collector/confmap"
	"go.yaml.in/yaml/v3"
)

// FuzzConfig feeds arbitrary YAML to the `threats:` section: decoding and Validate must not
// panic, and a configuration Validate accepts must build an engine.
func FuzzConfig(f *testing.F) {
	f.Add([]byte("cpu: {threshold: 0.8, consecutive_scrapes: 6}\nlimits: {require: [cpu, memory]}"))
	f.Add([]byte("memory: {threshold: .nan}\n"))
	f.Add([]byte("connections: {threshold: 1e308, consecutive_scrapes: -1}\nenabled: false"))
	f.Add([]byte("limits: {require: [pids, pids, '']}"))
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
		if _, err := NewEngine(cfg, nil); err != nil {
			t.Fatalf("valid configuration rejected by NewEngine: %v", err)
		}
	})
}

// FuzzEngine drives the engine with arbitrary rules and sample sequences and checks the state
// machine's contract: per instance and rule, events alternate firing/cleared starting with
// firing, a firing event only after consecutive_scrapes breaching scrapes, and an empty scrape
// clears everything.
func FuzzEngine(f *testing.F) {
	f.Add([]byte{3, 80, 90, 10, 20, 30, 7, 0, 200, 200, 1, 0, 100, 0, 5, 0, 1, 0})
	f.Add([]byte{1, 1, 1, 1, 1, 1, 0, 1, 255, 255, 255, 255, 255, 255, 0, 0, 0, 0, 255, 0})
	f.Add([]byte{0})
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) < 7 {
			return
		}
		cfg := NewDefaultConfig()
		cfg.CPU.ConsecutiveScrapes = int(data[0]%5) + 1
		cfg.CPU.ClearScrapes = int(data[0]/5%4) + 1
		cfg.Connections.ClearScrapes = int(data[5]%3) + 1
		cfg.CPU.Threshold = float64(data[1]%200+1) / 100
		cfg.Memory.Threshold = float64(data[2]%100+1) / 100
		cfg.FileDescriptors.Threshold = float64(data[3])
		cfg.FileCreation.Threshold = float64(data[4]) + 0.5
		cfg.Connections.Threshold = float64(data[5])
		cfg.Limits.Require = [][]string{{"cpu"}, {"memory"}, {"pids"}, {"cpu", "memory", "pids"}}[data[6]%4]
		if data[6]&8 != 0 {
			cfg.OOMKill.Enabled = false
		}
		e, err := NewEngine(cfg, nil)
		if err != nil {
			t.Fatalf("generated configuration invalid: %v", err)
		}
		type key struct{ inst, rule string }
		last := map[key]string{}
		check := func(evs []Event) {
			for _, ev := range evs {
				k := key{ev.Key, ev.Rule}
				prev := last[k]
				if ev.State == prev || (prev == "" && ev.State != StateFiring) {
					t.Fatalf("%v: %s after %q", k, ev.State, prev)
				}
				if ev.State == StateFiring && math.IsNaN(ev.Value) {
					t.Fatalf("%v fired on an unknown value", k)
				}
				last[k] = ev.State
			}
		}
		now := time.Unix(0, 0)
		rest := data[7:]
		for len(rest) >= 9 {
			step := rest[:9]
			rest = rest[9:]
			var samples []Sample
			for inst := 0; inst < 2; inst++ {
				if step[0]&(1<<inst) == 0 {
					continue // the instance is absent from this scrape
				}
				s := NewSample([]string{"a", "b"}[inst], map[string]any{"wasm_runtime.instance.id": inst})
				v := func(b byte) float64 {
					if b == 255 {
						return Unknown
					}
					return float64(b) / 100
				}
				s.CPUUtilization = v(step[1])
				s.MemoryUtilization = v(step[2])
				s.OOMKills = int64(step[3]) - 1
				s.FileDescriptors = int64(binary.BigEndian.Uint16(step[4:6])) - 1
				s.FileCreationRate = v(step[6]) * 100
				s.TCPConnections = int64(step[7]) * 3
				if step[8] != 255 {
					s.Limits = &Limits{CPU: step[8]&1 != 0, Memory: step[8]&2 != 0, PIDs: step[8]&4 != 0}
				}
				samples = append(samples, s)
			}
			now = now.Add(10 * time.Second)
			logs, evs := e.Evaluate(context.Background(), now, samples)
			if logs.LogRecordCount() != len(evs) {
				t.Fatalf("%d records for %d events", logs.LogRecordCount(), len(evs))
			}
			check(evs)
		}
		_, evs := e.Evaluate(context.Background(), now.Add(time.Second), nil)
		check(evs)
		for k, state := range last {
			if state == StateFiring {
				t.Fatalf("%v still firing after its instance disappeared", k)
			}
		}
	})
}
