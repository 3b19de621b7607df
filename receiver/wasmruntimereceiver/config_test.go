package wasmruntimereceiver

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/otelcol-virt/otelcol-virt/internal/catalog"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"
)

func TestLoadConfig(t *testing.T) {
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)

	tests := []struct {
		id      component.ID
		check   func(t *testing.T, cfg *Config)
		wantErr string
	}{
		{
			id: component.NewID(Type),
			check: func(t *testing.T, cfg *Config) {
				assert.Equal(t, 10*time.Second, cfg.CollectionInterval)
				assert.Empty(t, cfg.RootPath)
				assert.Equal(t, 16384, cfg.MaxOpenFiles)
			},
		},
		{
			id: component.NewIDWithName(Type, "custom"),
			check: func(t *testing.T, cfg *Config) {
				assert.Equal(t, 30*time.Second, cfg.CollectionInterval)
				assert.Equal(t, "/hostfs", cfg.RootPath)
				assert.Equal(t, 512, cfg.MaxOpenFiles)
				require.Len(t, cfg.Runtimes, 1)
				assert.Equal(t, catalog.Matcher{Name: "wazero", Kind: catalog.KindWasm, Comm: "^wazero$",
					Attributes: map[string]string{"wasm_runtime.wasm.module": `([^ /]+\.wasm)`}}, cfg.Runtimes[0])
				assert.Equal(t, Filter{Kinds: []string{catalog.KindWasm, catalog.KindMicroVM}}, cfg.Include)
				assert.Equal(t, Filter{Runtimes: []string{"spin"}}, cfg.Exclude)
				assert.True(t, cfg.Metrics.WasmRuntimeConnectionCount.Enabled, "enabled by the user")
				assert.False(t, cfg.Metrics.WasmRuntimePagingFaults.Enabled, "disabled by the user")
				assert.True(t, cfg.Metrics.ContainerCPUTime.Enabled, "default kept")
				assert.False(t, cfg.Metrics.WasmRuntimePressureStallTime.Enabled, "default kept")
				assert.False(t, cfg.ResourceAttributes.ProcessPID.Enabled)
				assert.True(t, cfg.ResourceAttributes.ContainerID.Enabled)
			},
		},
		{
			id: component.NewIDWithName(Type, "vm"),
			check: func(t *testing.T, cfg *Config) {
				assert.True(t, cfg.VM.Enabled, "default kept")
				assert.Equal(t, 200, cfg.VM.MaxVMs)
				assert.Equal(t, KVMDebugfsConfig{Enabled: true, Path: "/sys/kernel/debug/kvm"}, cfg.VM.KVMDebugfs)
				assert.Equal(t, []FirecrackerSource{{MetricsPath: "/run/firecracker/fc1/metrics.fifo", VMID: "fc1", MaxLineBytes: 65536, APISocket: "/run/firecracker/fc1/api.sock", Timeout: 500 * time.Millisecond}}, cfg.VM.Firecracker)
				assert.Equal(t, []CloudHypervisorSource{{APISocket: "/run/cloud-hypervisor/ch1.sock", Timeout: time.Second}}, cfg.VM.CloudHypervisor)
				assert.Equal(t, []QEMUQMPSource{{Socket: "/var/run/qemu-server/104.qmp", Timeout: time.Second}, {VMID: "105"}}, cfg.VM.QEMUQMP)
				assert.Equal(t, LibvirtConfig{Enabled: true}, cfg.VM.Libvirt)
				assert.Equal(t, XenConfig{Enabled: true, XLPath: "/usr/sbin/xl"}, cfg.VM.Xen)
			},
		},
		{
			id: component.NewIDWithName(Type, "vm_off"),
			check: func(t *testing.T, cfg *Config) {
				assert.False(t, cfg.VM.Enabled)
				assert.False(t, cfg.VM.KVMDebugfs.Enabled, "opt-in source off by default")
				assert.Empty(t, cfg.VM.Firecracker)
			},
		},
		{id: component.NewIDWithName(Type, "vm_bad_firecracker"), wantErr: `vm.firecracker[0].metrics_path: must be an absolute path, got "run/fc/metrics"`},
		{
			id: component.NewIDWithName(Type, "vm_discovery"), // no path: found on the VMMs' command lines
			check: func(t *testing.T, cfg *Config) {
				assert.Equal(t, []FirecrackerSource{{MaxLineBytes: 65536, NoAPI: true}}, cfg.VM.Firecracker)
				assert.Equal(t, []CloudHypervisorSource{{VMID: "ch1", Timeout: time.Second}}, cfg.VM.CloudHypervisor)
			},
		},
		{id: component.NewIDWithName(Type, "vm_fc_api_conflict"), wantErr: `vm.firecracker[0]: no_api is set and api_socket "/run/fc/api.sock" too; drop one`},
		{id: component.NewIDWithName(Type, "vm_qmp_bad_line"), wantErr: "vm.qemu_qmp[0].max_line_bytes: must be between 0 (1 MiB) and"},
		{id: component.NewIDWithName(Type, "vm_fc_relative_api"), wantErr: `vm.firecracker[0].api_socket: must be an absolute path, got "fc.sock"`},
		{id: component.NewIDWithName(Type, "vm_duplicate_discovery"), wantErr: `vm.cloud_hypervisor[1]: vm.cloud_hypervisor[0], like it, has no api_socket and the same vm_id ""`},
		{id: component.NewIDWithName(Type, "vm_slow_socket"), wantErr: "vm.cloud_hypervisor[0].timeout: 10s is not shorter than collection_interval 10s"},
		{id: component.NewIDWithName(Type, "vm_duplicate"), wantErr: `vm.firecracker[1].metrics_path: "/run/fc/metrics" is already read by vm.firecracker[0].metrics_path`},
		{id: component.NewIDWithName(Type, "vm_bad_max"), wantErr: "vm.max_vms: must be 0 (1024) or positive, got -1"},
		{id: component.NewIDWithName(Type, "vm_bad_xl"), wantErr: "vm.xen.xl_path: must be a command name looked up in PATH or an absolute path"},
		{id: component.NewIDWithName(Type, "vm_unknown_key"), wantErr: "firecraker"},
		{id: component.NewIDWithName(Type, "bad_interval"), wantErr: "collection_interval"},
		{id: component.NewIDWithName(Type, "bad_root"), wantErr: "root_path"},
		{id: component.NewIDWithName(Type, "bad_kind"), wantErr: "runtimes[0].kind"},
		{id: component.NewIDWithName(Type, "bad_regex"), wantErr: "runtimes[0].cmdline"},
		{id: component.NewIDWithName(Type, "bad_metric"), wantErr: "container.cpu.tme"},
		{id: component.NewIDWithName(Type, "inventory_and_root"), wantErr: "root_path: the instances come from extension instance_inventory"},
		{id: component.NewIDWithName(Type, "bad_attribute_regex"), wantErr: "runtimes[0].attributes.wasm_runtime.vm.name: the expression needs a capture group"},
		{id: component.NewIDWithName(Type, "bad_filter_kind"), wantErr: "include.kinds[0]"},
		{id: component.NewIDWithName(Type, "bad_max_open_files"), wantErr: "max_open_files: must be 0"},
	}
	for _, tt := range tests {
		t.Run(tt.id.String(), func(t *testing.T) {
			cfg := NewFactory().CreateDefaultConfig()
			sub, err := cm.Sub(tt.id.String())
			require.NoError(t, err)
			// An unknown key (a misspelt metric) fails when unmarshalling, as in every
			// mdatagen-built receiver; the rest in Validate.
			if err = sub.Unmarshal(cfg); err == nil {
				err = confmap.Validate(cfg)
			}
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				return
			}
			require.NoError(t, err)
			tt.check(t, cfg.(*Config))
		})
	}
}
