package virtualizationattributesprocessor

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestKernelReleaseIn(t *testing.T) {
	for desc, want := range map[string]string{
		"Linux 6.1.0-18-amd64": "6.1.0-18-amd64",
		"Linux 4.4.0":          "4.4.0",
		"Linux myhost 5.15.153.1-microsoft-standard-WSL2 #1 SMP": "5.15.153.1-microsoft-standard-WSL2",
		"Ubuntu 22.04.4 LTS":                         "",
		"Microsoft Windows [Version 10.0.18363.778]": "",
		"Linux":     "",
		"Linux 6.1": "",
	} {
		assert.Equal(t, want, kernelReleaseIn(desc), desc)
	}
}

func TestKernelReleaseHeuristic(t *testing.T) {
	// The kvm-qemu fixture's kernel is 5.15.0-101-generic.
	resources := []map[string]any{
		{"os.description": "Linux 5.15.0-101-generic"}, // same kernel as the node: a container or process
		{"os.description": "Linux 6.1.62"},             // its own kernel: a VM (Kata, Firecracker...)
		{"os.description": "Linux 4.4.0"},              // gVisor's kernel
		{"os.description": "Ubuntu 22.04.4 LTS"},       // no kernel named: nothing inferred
	}
	want := []string{"", "vm", "sandbox", ""}

	p, _ := fixtureProcessor(t, "kvm-qemu", func(c *Config) { c.Association.KernelReleaseHeuristic = true })
	td, err := p.processTraces(context.Background(), tracesWith(resources...))
	assert.NoError(t, err)
	for i, w := range want {
		assert.Equal(t, w, strAttr(t, td.ResourceSpans().At(i).Resource().Attributes(), attrIsolationLevel), "%v", resources[i])
	}
	assert.Equal(t, "gvisor", strAttr(t, td.ResourceSpans().At(2).Resource().Attributes(), attrRuntimeName))

	off, _ := fixtureProcessor(t, "kvm-qemu", nil)
	td, _ = off.processTraces(context.Background(), tracesWith(resources...))
	_, ok := td.ResourceSpans().At(1).Resource().Attributes().Get(attrIsolationLevel)
	assert.False(t, ok, "the heuristic is off by default")
}

func FuzzKernelReleaseIn(f *testing.F) {
	f.Add("Linux 6.1.0-18-amd64")
	f.Fuzz(func(t *testing.T, desc string) {
		if r := kernelReleaseIn(desc); r != "" && (r[0] < '0' || r[0] > '9') {
			t.Fatalf("release %q does not start with a digit", r)
		}
	})
}
