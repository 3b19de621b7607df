package virtdetect

import (
	"strings"
	"testing"
)

// Seed corpora live in testdata/fuzz/<FuzzName>, written from the fixture roots; run e.g.
//
//	go test -run '^$' -fuzz FuzzClassify -fuzztime 60s ./internal/virtdetect

func FuzzParseCmdline(f *testing.F) {
	f.Add(`console=ttyS0 virtio_mmio.device=4K@0xd0000000:5 agent.log="a b" -- --init x`)
	f.Fuzz(func(t *testing.T, s string) {
		c := ParseCmdline(s)
		for _, p := range c.Params {
			if p.Key == "--" {
				t.Fatalf("init separator taken as a parameter: %q", s)
			}
		}
		_ = c.Has("x")
		_, _ = c.Value("agent.log")
	})
}

func FuzzParseCPUInfo(f *testing.F) {
	f.Add([]byte("processor\t: 0\nflags\t\t: fpu hypervisor vmx\n\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		ci := ParseCPUInfo(b)
		if ci.HypervisorFlag && !strings.Contains(string(b), "hypervisor") {
			t.Fatalf("hypervisor flag without the word in %q", b)
		}
	})
}

func FuzzParseProcCgroup(f *testing.F) {
	f.Add([]byte("12:pids:/docker/abc\n0::/system.slice/x.scope\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		lines := ParseProcCgroup(b)
		for _, l := range lines {
			if !strings.HasPrefix(l.Path, "/") {
				t.Fatalf("path %q does not start with /", l.Path)
			}
		}
		if p := PreferredCgroupPath(lines); p != "" && !strings.HasPrefix(p, "/") {
			t.Fatalf("preferred path %q", p)
		}
		for _, l := range lines {
			_ = CgroupEngine(l.Path)
		}
	})
}

func FuzzParseEnviron(f *testing.F) {
	f.Add([]byte("PATH=/bin\x00container=podman\x00noequals\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		for k := range ParseEnviron(b) {
			if k == "" || strings.ContainsAny(k, "=\x00") {
				t.Fatalf("bad key %q", k)
			}
		}
	})
}

func FuzzParseACPIHeader(f *testing.F) {
	f.Add([]byte("DSDTS\x0f\x00\x00\x02wFIRECKFCVMDSDT\x00\x00\x00\x00FCAT\x19\x01$ "))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, ok := ParseACPIHeader(b)
		if ok != (len(b) >= 36) {
			t.Fatalf("ok=%v for %d bytes", ok, len(b))
		}
		if len(h.OEMID) > 6 || len(h.Signature) > 4 {
			t.Fatalf("fields overflow: %+v", h)
		}
	})
}

func FuzzParseMounts(f *testing.F) {
	f.Add([]byte("kataShared /run/kata-containers/shared/containers virtiofs rw 0 0\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, m := range ParseMounts(b) {
			if m.Source == "" || m.Target == "" || m.FSType == "" {
				t.Fatalf("empty field in %+v", m)
			}
		}
	})
}

func FuzzParseDeviceTreeAndXen(f *testing.F) {
	f.Add([]byte("linux,dummy-virt\x00"), "00000f05")
	f.Fuzz(func(t *testing.T, compatible []byte, features string) {
		for _, c := range ParseCompatible(compatible) {
			if c == "" || strings.Contains(c, "\x00") {
				t.Fatalf("bad entry %q", c)
			}
		}
		_ = ParseXenFeatures(features)
		_ = ParseClocksources(features, string(compatible))
	})
}

// layerOrder is the required order of kinds, outermost first.
var layerOrder = map[string]int{KindHypervisor: 0, KindVMM: 1, KindGuest: 2, KindSandbox: 3, KindContainer: 4}

// FuzzClassify drives the whole classification with arbitrary file contents: it must never
// panic, must keep layers in order, and must give every layer evidence and a confidence.
func FuzzClassify(f *testing.F) {
	f.Add("KVMKVMKVM", "QEMU", "console=ttyS0", "flags : hypervisor", "0::/docker/abc", "container=docker\x00", "6.1.0", "kvm-clock")
	f.Fuzz(func(t *testing.T, cpuid, dmiVendor, cmdline, cpuinfo, cgroup, environ, osrelease, clocks string) {
		o := Observations{
			CPUIDVendor:  cpuid,
			CPUIDPresent: cpuid != "",
			DMI:          DMI{SysVendor: dmiVendor, ProductName: dmiVendor},
			Cmdline:      ParseCmdline(cmdline),
			CPUInfo:      ParseCPUInfo([]byte(cpuinfo)),
			Init:         Process{Cgroup: ParseProcCgroup([]byte(cgroup)), Env: ParseEnviron([]byte(environ))},
			OSRelease:    osrelease,
			ProcVersion:  osrelease,
			Clocksources: ParseClocksources(clocks, ""),
			ACPI:         ACPITables{Headers: []ACPIHeader{{OEMID: dmiVendor}}},
		}
		h := Classify(o)
		last := -1
		for _, l := range h.Layers {
			pos, ok := layerOrder[l.Kind]
			if !ok || pos < last {
				t.Fatalf("layers out of order: %v", h.LayerNames())
			}
			last = pos
			if l.Name == "" || l.Confidence == "" || len(l.Evidence) == 0 {
				t.Fatalf("layer without name, confidence or evidence: %+v", l)
			}
		}
		if h.IsolationLevel == "" || h.Role == "" || h.Confidence == "" {
			t.Fatalf("incomplete answer: %+v", h)
		}
	})
}
