package virtualizationattributesprocessor

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/processor/processortest"

	"github.com/otelcol-virt/otelcol-virt/internal/catalog/catalogtest"
	"github.com/otelcol-virt/otelcol-virt/internal/inventory"
	"github.com/otelcol-virt/otelcol-virt/internal/virtdetect"
)

// One catalog: for every runtime the catalog knows, the wasm_runtime receiver's discovery (the
// inventory) and this processor's own lookup, reading the same process, give the same
// runtime.name and isolation kind.
func TestReceiverAndProcessorNameProcessesAlike(t *testing.T) {
	writeFile := func(p, content string) {
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	}
	checked := 0
	for i, s := range catalogtest.Samples() {
		if s.Runtime == "" || s.Helper {
			continue
		}
		// Each sample on a host of its own, alone in its cgroup as its runtime puts it.
		root := t.TempDir()
		pid := 1000 + i
		writeFile(filepath.Join(root, "proc", "stat"), "cpu 1 2 3 4\nbtime 1795811167\n")
		writeFile(filepath.Join(root, "sys", "fs", "cgroup", "cgroup.controllers"), "cpu memory pids io\n")
		d := filepath.Join(root, "proc", fmt.Sprint(pid))
		writeFile(filepath.Join(d, "stat"), fmt.Sprintf("%d (%s) S 1 %d %d 0 -1 0 0 0 0 0 1 1 0 0 20 0 1 0 %d 1000 10 0\n", pid, s.Comm, pid, pid, 100+i))
		writeFile(filepath.Join(d, "comm"), s.Comm+"\n")
		writeFile(filepath.Join(d, "cmdline"), strings.Join(s.Args, "\x00")+"\x00")
		writeFile(filepath.Join(d, "cgroup"), "0::"+s.Cgroup+"\n")
		require.NoError(t, os.Symlink(s.Exe, filepath.Join(d, "exe")))
		writeFile(filepath.Join(root, "sys", "fs", "cgroup", s.Cgroup, "cgroup.procs"), fmt.Sprint(pid)+"\n")

		inv := inventory.New(inventory.Config{RootPath: root}, nil)
		require.NoError(t, inv.Start(context.Background()))
		snap, err := inv.Acquire(time.Now(), 0)
		require.NoError(t, err)
		in, ok := snap.ByPID(pid)
		if !assert.True(t, ok, "%s: not in the inventory", s.Name) {
			continue
		}
		cfg := createDefaultConfig().(*Config)
		cfg.RootPath = root
		p, err := newVirtProcessorWithCPUID(cfg, processortest.NewNopSettings(Type), virtdetect.FixedCPUID(""))
		require.NoError(t, err)
		f, ok := p.readProc(pid)
		require.True(t, ok, s.Name)
		info := p.classify(f)
		assert.Equal(t, in.Identity.Runtime, info.runtime, "%s: runtime.name", s.Name)
		assert.Equal(t, in.Identity.Kind, info.kind, "%s: kind", s.Name)
		assert.Equal(t, s.Runtime, info.runtime, "%s: the catalog's name (%s)", s.Name, s.Origin)
		checked++
	}
	assert.Greater(t, checked, 20)
}
