package catalog

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// Command lines as the named launchers produce them.
func TestExtractors(t *testing.T) {
	tests := []struct {
		name, origin string
		extract      func([]string, string, *Identity)
		args         []string
		want         Identity
	}{
		{"qemu libvirt", "libvirt 9 qemu command line", extractQEMU,
			strings.Fields("/usr/bin/qemu-system-x86_64 -name guest=web-01,debug-threads=on -m size=2097152k -smp 4,sockets=4,cores=1,threads=1 -uuid c7a5fdbd-cdaf-9455-926a-d65c16db1809"),
			Identity{VMName: "web-01", VMID: "c7a5fdbd-cdaf-9455-926a-d65c16db1809", VCPUs: 4, MemorySize: 2 << 30}},
		{"qemu by hand", "qemu-system-x86_64(1) short forms", extractQEMU,
			strings.Fields("qemu-system-x86_64 -name vm1 -m 64 -smp 2 -nographic"),
			Identity{VMName: "vm1", VCPUs: 2, MemorySize: 64 << 20}},
		{"qemu topology only", "-smp with sockets/cores/threads", extractQEMU,
			strings.Fields("qemu-kvm -smp sockets=2,cores=4,threads=2 -m 4G"),
			Identity{VCPUs: 16, MemorySize: 4 << 30}},
		{"qemu kata", "Kata Containers qemu command line", extractQEMU,
			strings.Fields("/opt/kata/bin/qemu-system-x86_64 -name sandbox-abc -uuid 6f03e56e -machine q35,accel=kvm -m 2048M,slots=10,maxmem=129853M -smp 1,cores=1,threads=1,sockets=12,maxcpus=12"),
			Identity{Runtime: "kata", Kind: KindMicroVM, VMName: "sandbox-abc", VMID: "abc", VCPUs: 1, MemorySize: 2 << 30}},
		{"qemu microvm machine", "qemu docs/system/i386/microvm.rst", extractQEMU,
			strings.Fields("qemu-system-x86_64 -M microvm,x-option-roms=off -m 512m -smp 2"),
			Identity{Kind: KindMicroVM, VCPUs: 2, MemorySize: 512 << 20}},
		{"qemu equals form", "qemu accepts --opt=value", extractQEMU,
			[]string{"qemu-system-aarch64", "--name=guest=edge", "--smp=3", "--m=1G"},
			Identity{VMName: "edge", VCPUs: 3, MemorySize: 1 << 30}},
		{"firecracker", "firecracker as the jailer execs it", extractFirecracker,
			strings.Fields("/firecracker --id 551e7604 --api-sock /run/firecracker.socket"),
			Identity{VMID: "551e7604"}},
		{"cloud-hypervisor under kata", "kata virtcontainers/clh.go: /run/vc/vm/<id>/clh-api.sock", extractCloudHypervisor,
			strings.Fields("cloud-hypervisor --api-socket path=/run/vc/vm/abc/clh-api.sock --cpus boot=2,max=4 --memory size=1024M,shared=on"),
			Identity{Runtime: "kata", VMID: "abc", VCPUs: 2, MemorySize: 1 << 30}},
		{"cloud-hypervisor under kata runtime-rs", "kata runtime-rs ch/utils.rs: /run/kata/<id>/ch-api.sock, bare path", extractCloudHypervisor,
			strings.Fields("cloud-hypervisor --api-socket /run/kata/s1/ch-api.sock -v"),
			Identity{Runtime: "kata", VMID: "s1"}},
		{"cloud-hypervisor elsewhere", "a socket path names no VM: /tmp/ch.sock is not VM \"tmp\"", extractCloudHypervisor,
			strings.Fields("cloud-hypervisor --api-socket path=/tmp/ch.sock --cpus boot=1"),
			Identity{VCPUs: 1}},
		{"cloud-hypervisor fd socket", "cloud-hypervisor src/main.rs parse_api_socket fd=<fd>", extractCloudHypervisor,
			strings.Fields("cloud-hypervisor --api-socket fd=3 --memory size=512M"),
			Identity{MemorySize: 512 << 20}},
		{"firecracker under kata", "kata virtcontainers/fc.go: jail root /run/vc/<vmm>/<id>/root", extractFirecracker,
			strings.Fields("/firecracker --api-sock /run/vc/firecracker/k1/root/run/firecracker.socket --config-file /fcConfig.json"),
			Identity{Runtime: "kata", VMID: "k1"}},
		{"qemu comma escape", "libvirt virQEMUBuildBufferEscapeComma: a comma in a domain name is ,,", extractQEMU,
			strings.Fields("qemu-system-x86_64 -name guest=db,,primary,debug-threads=on -smp 2"),
			Identity{VMName: "db,primary", VCPUs: 2}},
		{"proxmox", "proxmox/qemu-server QemuServer.pm: /usr/bin/kvm -id <vmid> -name <name>, -m <MiB>", extractQEMU,
			strings.Fields("/usr/bin/kvm -id 104 -name web,debug-threads=on -no-shutdown -smp 4,sockets=1,cores=4,maxcpus=4 -m 8192 -uuid 1b2c"),
			Identity{VMName: "web", VMID: "104", VCPUs: 4, MemorySize: 8192 << 20}},
		{"crosvm num-cores", "crosvm cmdline.rs --cpus num-cores=, --mem size=", extractCrosvm,
			strings.Fields("crosvm run --cpus num-cores=2 --mem size=512 vmlinux"),
			Identity{VCPUs: 2, MemorySize: 512 << 20}},
		{"crosvm", "crosvm run --help", extractCrosvm,
			strings.Fields("crosvm run --cpus 4 --mem 2048 --name edge-vm vmlinux"),
			Identity{VMName: "edge-vm", VCPUs: 4, MemorySize: 2 << 30}},
		{"wasmtime", "wasmtime run --help", extractWasmModule,
			strings.Fields("wasmtime run --dir /data -W max-memory-size=134217728 /apps/handler.wasm arg"),
			Identity{WasmModule: "handler.wasm"}},
		{"wasmedge aot", "wasmedge AoT module", extractWasmModule,
			strings.Fields("wasmedge --dir .:. app_aot.cwasm"),
			Identity{WasmModule: "app_aot.cwasm"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got Identity
			tt.extract(tt.args, "", &got)
			assert.Equal(t, tt.want, got, "from %s", tt.origin)
		})
	}
	var id Identity
	extractRunwasi(nil, "/usr/local/bin/containerd-shim-spin-v2", &id)
	assert.Equal(t, "spin", id.Runtime)
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"64": 64 << 20, "512M": 512 << 20, "2G": 2 << 30, "2097152k": 2 << 30, "1GiB": 1 << 30, "100MB": 100 << 20} {
		got, ok := parseSize(in, 1<<20)
		assert.True(t, ok, in)
		assert.Equal(t, want, got, in)
	}
	for _, bad := range []string{"", "G", "-1", "x12", "99999999999999999999T"} {
		_, ok := parseSize(bad, 1<<20)
		assert.False(t, ok, bad)
	}
}

func FuzzExtractors(f *testing.F) {
	for _, s := range []string{
		"qemu-system-x86_64\x00-name\x00guest=a,debug-threads=on\x00-m\x00size=2097152k\x00-smp\x004,sockets=4",
		"cloud-hypervisor\x00--cpus\x00boot=2\x00--memory\x00size=1G\x00--api-socket\x00path=/a/b/c",
		"crosvm\x00run\x00-c\x004\x00-m\x002048",
		"wasmtime\x00run\x00--dir=/x\x00a.wasm",
		"qemu-kvm\x00-smp\x00sockets=9999999999,cores=9999999999\x00-m",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, cmdline string) {
		args := strings.Split(cmdline, "\x00")
		for _, ex := range []func([]string, string, *Identity){extractQEMU, extractFirecracker, extractCloudHypervisor, extractCrosvm, extractWasmModule, extractRunwasi} {
			var id Identity
			ex(args, cmdline, &id)
			if id.MemorySize < 0 {
				t.Errorf("negative memory size from %q", cmdline)
			}
		}
		_, _ = parseSize(cmdline, 1<<20)
	})
}
