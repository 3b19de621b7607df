package vmmargs

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/otelcol-virt/otelcol-virt/internal/linuxfs"
)

func cmdline(args ...string) []byte { return []byte(strings.Join(args, "\x00") + "\x00") }

type argCase struct {
	name string
	cl   []byte
	want string
	err  error // ErrNotNamed, linuxfs.ErrMalformed or nil
}

func checkCases(t *testing.T, parse func([]byte) (string, error), cases []argCase) {
	t.Helper()
	for _, c := range cases {
		got, err := parse(c.cl)
		if c.err != nil {
			assert.ErrorIs(t, err, c.err, c.name)
			assert.Empty(t, got, c.name)
			continue
		}
		if assert.NoError(t, err, c.name) {
			assert.Equal(t, c.want, got, c.name)
		}
	}
}

// Command lines as Cloud Hypervisor's docs start it (docs/api.md: --api-socket path=/tmp/...;
// the bare path parse_api_socket falls back to, fd= of main.rs's help) and as clap accepts
// them (--api-socket=<value>).
func TestCloudHypervisorAPISocket(t *testing.T) {
	ch := func(args ...string) []byte { return cmdline(append([]string{"cloud-hypervisor"}, args...)...) }
	checkCases(t, CloudHypervisorAPISocket, []argCase{
		{"bare path", ch("--api-socket", "/tmp/cloud-hypervisor.sock", "--kernel", "vmlinux"), "/tmp/cloud-hypervisor.sock", nil},
		{"path=", ch("--cpus", "boot=4", "--api-socket", "path=/run/ch/vm1.sock"), "/run/ch/vm1.sock", nil},
		{"--api-socket=path=", ch("--api-socket=path=/run/ch/vm1.sock"), "/run/ch/vm1.sock", nil},
		{"--api-socket=bare", ch("--api-socket=/run/ch/vm1.sock"), "/run/ch/vm1.sock", nil},
		{"quoted path with a comma", ch("--api-socket", `path="/run/ch/a,b.sock"`), "/run/ch/a,b.sock", nil},
		{"bare path with a comma is the whole value", ch("--api-socket", "/run/ch/a,b.sock"), "/run/ch/a,b.sock", nil},
		{"cleaned", ch("--api-socket", "path=/run//ch/../ch/vm.sock"), "/run/ch/vm.sock", nil},
		{"fd wins over path", ch("--api-socket", "path=/run/x.sock,fd=3"), "", ErrNotNamed},
		{"fd", ch("--api-socket", "fd=3"), "", ErrNotNamed},
		{"absent", ch("--kernel", "vmlinux", "--cpus", "boot=2"), "", ErrNotNamed},
		{"after --", ch("--kernel", "vmlinux", "--", "--api-socket", "/tmp/x.sock"), "", ErrNotNamed},
		{"no arguments", cmdline("cloud-hypervisor"), "", ErrNotNamed},
		{"empty cmdline (a kernel thread, a zombie)", nil, "", ErrNotNamed},
		{"twice", ch("--api-socket", "/a.sock", "--api-socket=/b.sock"), "", linuxfs.ErrMalformed},
		{"no value", ch("--api-socket"), "", linuxfs.ErrMalformed},
		{"option as value", ch("--api-socket", "--kernel", "vmlinux"), "", linuxfs.ErrMalformed},
		{"relative: the VMM's working directory", ch("--api-socket", "path=./run/ch.sock"), "run/ch.sock", nil},
		{"fd not a number", ch("--api-socket", "fd=three"), "", linuxfs.ErrMalformed},
		{"fd negative", ch("--api-socket", "fd=-1"), "", linuxfs.ErrMalformed},
		// parse_api_socket: OptionParser::get takes an empty value for none, and the whole
		// value is then the path: a socket named "path=" in the working directory.
		{"empty path= is the bare, relative path", ch("--api-socket", "path="), "path=", nil},
		{"too long", ch("--api-socket", "/"+strings.Repeat("a", maxPath)), "", linuxfs.ErrMalformed},
		{"oversized command line", ch("--api-socket", "/a.sock", strings.Repeat("x", MaxCmdline)), "", linuxfs.ErrMalformed},
		{"too many arguments", ch(append([]string{"--api-socket", "/a.sock"}, strings.Split(strings.Repeat("x,", maxArgs), ",")...)...), "", linuxfs.ErrMalformed},
	})
}

// Command lines as Firecracker's docs start it (docs/getting-started.md:
// firecracker --api-sock /tmp/firecracker.socket) and as the jailer execs it inside its chroot
// (src/jailer/src/env.rs: --id, --start-time-us, --start-time-cpu-us, --parent-cpu-time-us,
// then the arguments given to the jailer after "--").
func TestFirecrackerMetricsPath(t *testing.T) {
	fc := func(args ...string) []byte { return cmdline(append([]string{"/usr/bin/firecracker"}, args...)...) }
	checkCases(t, FirecrackerMetricsPath, []argCase{
		{"metrics path", fc("--api-sock", "/tmp/firecracker.socket", "--metrics-path", "/tmp/fc-metrics.fifo"), "/tmp/fc-metrics.fifo", nil},
		{"jailed", fc("--id", "551e7604", "--start-time-us", "1", "--start-time-cpu-us", "2", "--parent-cpu-time-us", "3", "--metrics-path", "/metrics.fifo", "--level", "Info"), "/metrics.fifo", nil},
		{"no metrics path: set by PUT /metrics", fc("--api-sock", "/tmp/firecracker.socket"), "", ErrNotNamed},
		{"after --", fc("--api-sock", "/s", "--", "--metrics-path", "/m"), "", ErrNotNamed},
		{"a name=value form is not Firecracker's", fc("--metrics-path=/m"), "", ErrNotNamed},
		{"twice", fc("--metrics-path", "/a", "--metrics-path", "/b"), "", linuxfs.ErrMalformed},
		{"no value", fc("--metrics-path"), "", linuxfs.ErrMalformed},
		{"option as value", fc("--metrics-path", "--no-api"), "", linuxfs.ErrMalformed},
		{"relative: the VMM's working directory (the jailer's chroot)", fc("--metrics-path", "metrics.fifo"), "metrics.fifo", nil},
	})
}

func TestFirecrackerAPISocket(t *testing.T) {
	fc := func(args ...string) []byte { return cmdline(append([]string{"/usr/bin/firecracker"}, args...)...) }
	checkCases(t, FirecrackerAPISocket, []argCase{
		{"given", fc("--api-sock", "/tmp/firecracker.socket", "--metrics-path", "/m"), "/tmp/firecracker.socket", nil},
		{"jailed, none given: the default inside the chroot", fc("--id", "551e7604", "--start-time-us", "1", "--level", "Info"), "/run/firecracker.socket", nil},
		{"--no-api", fc("--no-api", "--config-file", "/vm.json"), "", ErrNoAPI},
		{"--no-api after -- is an extra argument", fc("--api-sock", "/s", "--", "--no-api"), "/s", nil},
		{"twice", fc("--api-sock", "/a", "--api-sock", "/b"), "", linuxfs.ErrMalformed},
		{"no value", fc("--api-sock"), "", linuxfs.ErrMalformed},
		{"relative", fc("--api-sock", "api.sock"), "api.sock", nil},
	})
}

func TestErrorsAreClassified(t *testing.T) {
	_, err := FirecrackerMetricsPath(cmdline("firecracker", "--metrics-path", "/a", "--metrics-path", "/b"))
	assert.Equal(t, linuxfs.Malformed, linuxfs.Classify(err))
	assert.False(t, errors.Is(err, ErrNotNamed))
}

func FuzzCommandLines(f *testing.F) {
	f.Add(cmdline("cloud-hypervisor", "--api-socket", `path="/a,b",fd=`))
	f.Add(cmdline("firecracker", "--metrics-path", "/m", "--"))
	f.Fuzz(func(t *testing.T, cl []byte) {
		for _, parse := range []func([]byte) (string, error){CloudHypervisorAPISocket, FirecrackerMetricsPath, FirecrackerAPISocket, QEMUQMPSocket} {
			p, err := parse(cl)
			if err == nil && (p == "" || strings.IndexByte(p, 0) >= 0 || len(p) > maxPath) {
				t.Fatalf("accepted %q", p)
			}
		}
	})
}

func TestCloudHypervisorAPISocketDescriptor(t *testing.T) {
	_, err := CloudHypervisorAPISocket(cmdline("cloud-hypervisor", "--api-socket", "fd=7", "--kernel", "vmlinux"))
	var d *DescriptorError
	if assert.ErrorAs(t, err, &d) {
		assert.Equal(t, 7, d.FD)
		assert.Equal(t, "--api-socket", d.Arg)
	}
	assert.ErrorIs(t, err, ErrNotNamed, "a descriptor names no path")
}

// Firecracker as the jailer docs pair it with a configuration file (docs/jailer.md: the path
// "must be valid relative to a jailed Firecracker").
func TestFirecrackerConfigFile(t *testing.T) {
	fc := func(args ...string) []byte { return cmdline(append([]string{"/firecracker"}, args...)...) }
	checkCases(t, FirecrackerConfigFile, []argCase{
		{"jailed, relative", fc("--id", "vm1", "--start-time-us", "1", "--config-file", "vm_config.json"), "vm_config.json", nil},
		{"absolute", fc("--api-sock", "/tmp/fc.sock", "--config-file", "/etc/fc/vm.json"), "/etc/fc/vm.json", nil},
		{"absent", fc("--api-sock", "/tmp/fc.sock"), "", ErrNotNamed},
		{"twice", fc("--config-file", "a", "--config-file", "b"), "", linuxfs.ErrMalformed},
		{"no value", fc("--config-file"), "", linuxfs.ErrMalformed},
	})
	got, err := FirecrackerConfigFileOf([]string{"/firecracker", "--no-api", "--config-file", "vm.json"})
	assert.NoError(t, err)
	assert.Equal(t, "vm.json", got)
	_, err = FirecrackerConfigFileOf(nil)
	assert.ErrorIs(t, err, ErrNotNamed)
}

func TestQEMUQMPSocket(t *testing.T) {
	q := func(args ...string) []byte {
		return cmdline(append([]string{"/usr/bin/qemu-system-x86_64"}, args...)...)
	}
	checkCases(t, QEMUQMPSocket, []argCase{
		{"-qmp unix, server", q("-qmp", "unix:/run/vm1.qmp,server=on,wait=off"), "/run/vm1.qmp", nil},
		{"legacy flags", q("-qmp", "unix:/run/vm1.qmp,server,nowait"), "/run/vm1.qmp", nil},
		{"--qmp-pretty", q("--qmp-pretty", "unix:/run/p.qmp,server=on"), "/run/p.qmp", nil},
		{"a client socket is not served", q("-qmp", "unix:/run/vm1.qmp"), "", ErrNotNamed},
		// Proxmox VE (qemu-server PVE/QemuServer.pm): the control monitor on a listening
		// chardev, and a second one that connects out to qmeventd.
		{"Proxmox", q("-id", "104", "-chardev", "socket,id=qmp,path=/var/run/qemu-server/104.qmp,server=on,wait=off", "-mon", "chardev=qmp,mode=control",
			"-chardev", "socket,id=qmp-event,path=/var/run/qmeventd.sock,reconnect=5", "-mon", "chardev=qmp-event,mode=control"), "/var/run/qemu-server/104.qmp", nil},
		{"-mon with chardev implied", q("-chardev", "socket,path=/run/m.sock,server=on,id=m", "-mon", "m,mode=control"), "/run/m.sock", nil},
		{"-qmp chardev:", q("-chardev", "socket,id=c,path=/run/c.sock,server=on", "-qmp", "chardev:c"), "/run/c.sock", nil},
		{"an HMP monitor is not QMP", q("-chardev", "socket,id=h,path=/run/h.sock,server=on", "-mon", "chardev=h"), "", ErrNotNamed},
		// libvirt: the monitor is a descriptor libvirtd passed and holds.
		{"libvirt", q("-chardev", "socket,id=charmonitor,fd=31,server=on,wait=off", "-mon", "chardev=charmonitor,id=monitor,mode=control"), "", ErrNotNamed},
		{"libvirt before fd passing", q("-chardev", "socket,id=charmonitor,path=/var/lib/libvirt/qemu/domain-1-web/monitor.sock,server=on,wait=off", "-mon", "chardev=charmonitor,id=monitor,mode=control"), "", ErrNotNamed},
		{"a comma in the path", q("-qmp", "unix:/run/a,,b.qmp,server=on"), "/run/a,b.qmp", nil},
		{"tcp", q("-qmp", "tcp:127.0.0.1:4444,server=on"), "", ErrNotNamed},
		{"none", q("-smp", "2"), "", ErrNotNamed},
	})
}
