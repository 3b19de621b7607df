package wasmruntimereceiver

import (
	"reflect"
	"testing"

	"github.com/stretchr/testify/assert"
	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/otelcol-virt/otelcol-virt/internal/inventory"
)

// TestCachedResourceFollowsIdentity: the per-instance resource kept between scrapes is built
// again whenever anything it is made of changes, the user-extracted attributes included, and
// equals a resource built from scratch.
func TestCachedResourceFollowsIdentity(t *testing.T) {
	s := newTestScraper(t, testConfig())
	s.snap = &inventory.Snapshot{}
	in := inventory.Instance{Key: "/kubepods/pod1/c1", Grouping: inventory.ByCgroup, Procs: []inventory.Process{{PID: 42, Comm: "wasmtime-shim"}}}
	in.Identity.Runtime = "wasmtime"
	st := &instState{}

	attr := func(r pcommon.Resource, k string) string {
		v, ok := r.Attributes().Get(k)
		if !ok {
			return ""
		}
		return v.AsString()
	}
	fresh := func() map[string]any { return s.resource(&in, s.rb).Attributes().AsRaw() }
	check := func(step string) {
		t.Helper()
		assert.Equal(t, fresh(), s.cachedResource(&in, st).Attributes().AsRaw(), step)
	}

	check("first scrape")
	check("unchanged")
	assert.Equal(t, "wasmtime-shim", attr(s.cachedResource(&in, st), "process.executable.name"))

	in.Procs[0].Exe = "/usr/local/bin/containerd-shim-wasmtime-v1"
	check("exe became readable")
	assert.Equal(t, "containerd-shim-wasmtime-v1", attr(s.cachedResource(&in, st), "process.executable.name"))

	in.Identity.Extra = map[string]string{"app": "a"}
	check("extra attribute added")
	in.Identity.Extra["app"] = "b" // the same map changed in place
	check("extra attribute changed")
	assert.Equal(t, "b", attr(s.cachedResource(&in, st), "app"))

	in.Cgroup.PodUID = "0c3e4f1e-9a7b-5a1f-3f8f-2c1100000001"
	check("pod uid")
	in.Procs[0].PID = 43
	check("pid")

	// Every field of the identities and of the main process, one at a time: a field the
	// resource comes to read but the cache key does not would leave a stale resource here.
	for _, v := range []reflect.Value{reflect.ValueOf(&in.Identity).Elem(), reflect.ValueOf(&in.Cgroup).Elem(), reflect.ValueOf(in.Main()).Elem()} {
		for i := range v.NumField() {
			f, name := v.Field(i), v.Type().Name()+"."+v.Type().Field(i).Name
			switch f.Kind() {
			case reflect.String:
				f.SetString(f.String() + "x")
			case reflect.Int, reflect.Int32, reflect.Int64:
				f.SetInt(f.Int() + 7)
			case reflect.Bool:
				f.SetBool(!f.Bool())
			default:
				continue
			}
			check(name)
		}
	}
}
