package catalog

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-virt/otelcol-virt/internal/catalog/catalogtest"
	"github.com/otelcol-virt/otelcol-virt/internal/cgroupid"
)

// fakeProcess serves a sample's names as a process would.
type fakeProcess struct {
	s        catalogtest.Sample
	exeReads int
	errs     []error
}

func (f *fakeProcess) Comm() string              { return f.s.Comm }
func (f *fakeProcess) Exe() string               { f.exeReads++; return f.s.Exe }
func (f *fakeProcess) Cmdline() ([]string, bool) { return f.s.Args, len(f.s.Args) > 0 }
func (f *fakeProcess) Cgroup() cgroupid.Identity { return cgroupid.Parse(f.s.Cgroup) }
func (f *fakeProcess) ParseNamedFile(path string, _ int, parse func([]byte) error) {
	if data, ok := f.s.Files[path]; ok {
		f.errs = append(f.errs, parse([]byte(data)))
	}
}

func TestSamples(t *testing.T) {
	c := New(nil)
	used := map[*Entry]bool{}
	for _, s := range catalogtest.Samples() {
		e, id, res := c.Match(&fakeProcess{s: s})
		if s.Runtime == "" {
			assert.Equal(t, NoMatch, res, "%s (%s) must not match, got %+v", s.Name, s.Origin, id)
			continue
		}
		if !assert.Equal(t, Matched, res, "%s (%s)", s.Name, s.Origin) {
			continue
		}
		used[e] = true
		assert.Equal(t, s.Runtime, id.Runtime, "%s: runtime", s.Name)
		assert.Equal(t, s.Kind, id.Kind, "%s: kind", s.Name)
		assert.Equal(t, s.Helper, e.Role == RoleHelper, "%s: helper", s.Name)
	}
	for _, e := range builtin {
		assert.True(t, used[e], "built-in entry %s (%s) has no sample", e.Name, e.Origin)
	}
}

// A command line not there yet (right after execve) is asked for again, never taken as a miss.
func TestMatchRetriesWithoutCmdline(t *testing.T) {
	_, _, res := New(nil).Match(&fakeProcess{s: catalogtest.Sample{Comm: "wasmtime"}})
	assert.Equal(t, Retry, res)
}

// Processes whose comm no entry wants are rejected without reading their exe, except for the
// entries that can only tell by the exe (crosvm renames its main thread).
func TestCommFiltersBeforeExe(t *testing.T) {
	p := &fakeProcess{s: catalogtest.Sample{Comm: "nginx", Exe: "/usr/sbin/nginx", Args: []string{"nginx"}}}
	_, _, res := New(nil).Match(p)
	assert.Equal(t, NoMatch, res)
	assert.LessOrEqual(t, p.exeReads, 1, "one exe read per process at most")
}

func TestUserMatchersFirst(t *testing.T) {
	c := New([]Matcher{{Name: "myhost", Kind: KindWasm, Comm: "^wasmtime$", Attributes: map[string]string{"wasm_runtime.vm.name": `--name=(\S+)`}}})
	_, id, res := c.Match(&fakeProcess{s: catalogtest.Sample{Comm: "wasmtime", Args: []string{"wasmtime", "run", "--name=edge", "x.wasm"}}})
	assert.Equal(t, Matched, res)
	assert.Equal(t, "myhost", id.Runtime)
	assert.Equal(t, "edge", id.VMName)
}

func TestValidateMatchers(t *testing.T) {
	errs := ValidateMatchers("runtimes", []Matcher{
		{Name: "", Kind: "wasm", Comm: "x"},
		{Name: "a", Kind: "unikernel", Comm: "x"},
		{Name: "a", Kind: "wasm"},
		{Name: "b", Kind: "wasm", Cmdline: "(", Attributes: map[string]string{"k": "nocapture"}},
	})
	var msgs []string
	for _, e := range errs {
		msgs = append(msgs, e.Error())
	}
	for _, want := range []string{"runtimes[0].name: must not be empty", "runtimes[1].kind", "runtimes[2].name: \"a\" is defined twice",
		"runtimes[2]: set at least one of comm, exe or cmdline", "runtimes[3].cmdline: invalid regular expression", "runtimes[3].attributes.k: the expression needs a capture group"} {
		found := false
		for _, m := range msgs {
			found = found || strings.Contains(m, want)
		}
		assert.True(t, found, "want an error containing %q in %v", want, msgs)
	}
}

// A Firecracker configured from --config-file (the jailer docs' way, a path relative to the
// jailed VMM): its size comes from the file, which is Firecracker's own integration-test
// configuration (vmmargs testdata, tests/framework/vm_config.json at 81b38b9d).
func TestFirecrackerSizeFromConfigFile(t *testing.T) {
	data, err := os.ReadFile("../vmstats/vmmargs/testdata/firecracker-vm_config.json")
	require.NoError(t, err)
	s := catalogtest.Sample{Comm: "firecracker", Exe: "/srv/jailer/firecracker/vm1/root/firecracker",
		Args:  []string{"/firecracker", "--id", "vm1", "--start-time-us", "1", "--config-file", "vm_config.json"},
		Files: map[string]string{"vm_config.json": string(data)}}
	p := &fakeProcess{s: s}
	_, id, res := New(nil).Match(p)
	require.Equal(t, Matched, res)
	assert.Equal(t, int64(2), id.VCPUs)
	assert.Equal(t, int64(1024<<20), id.MemorySize)
	assert.Equal(t, []error{nil}, p.errs)

	s.Files["vm_config.json"] = `{"machine-config": {"vcpu_count": 0}}`
	p = &fakeProcess{s: s}
	_, id, _ = New(nil).Match(p)
	assert.Zero(t, id.VCPUs, "a value Firecracker refuses is not reported")
	require.Len(t, p.errs, 1)
	assert.ErrorContains(t, p.errs[0], "firecracker --config-file vm_config.json")

	s.Args = s.Args[:5] // configured through the API: no file to read
	p = &fakeProcess{s: s}
	_, id, _ = New(nil).Match(p)
	assert.Zero(t, id.VCPUs)
	assert.Empty(t, p.errs)
}
