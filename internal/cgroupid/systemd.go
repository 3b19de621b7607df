package cgroupid

import (
	"strconv"
	"strings"
)

// scopeUnit handles the name of a systemd scope unit without its ".scope" suffix.
func scopeUnit(id *Identity, unit string) bool {
	type scopePrefix struct {
		prefix, runtime string
		monitor         bool
	}
	for _, p := range [...]scopePrefix{
		{"cri-containerd-", RuntimeContainerd, false},
		{"crio-conmon-", RuntimeCRIO, true},
		{"crio-", RuntimeCRIO, false},
		{"docker-", RuntimeDocker, false},
		{"libpod-conmon-", RuntimePodman, true},
		{"libpod-", RuntimePodman, false},
		{"containerd-", RuntimeContainerd, false},
	} {
		if cid, ok := strings.CutPrefix(unit, p.prefix); ok && isHexID(cid) {
			id.Runtime, id.ContainerID, id.Monitor = p.runtime, cid, p.monitor
			if id.Driver == "" || id.PodUID != "" {
				id.Driver = DriverSystemd
			}
			return true
		}
	}
	if rest, ok := strings.CutPrefix(unit, "machine-"); ok && rest != "" {
		return machineScope(id, unescapeSystemd(rest))
	}
	return false
}

// machineScope parses what systemd-machined registers: libvirt "qemu-<id>-<name>" or
// "lxc-<pid>-<name>", nspawn "<name>".
func machineScope(id *Identity, name string) bool {
	for _, drv := range [...]string{"qemu-", "lxc-", "libxl-", "ch-"} {
		rest, ok := strings.CutPrefix(name, drv)
		if !ok {
			continue
		}
		num, vmName, ok := strings.Cut(rest, "-")
		if !ok || num == "" || vmName == "" {
			continue
		}
		if _, err := strconv.ParseUint(num, 10, 32); err != nil {
			continue
		}
		id.Runtime, id.VMID, id.VMName, id.Driver = RuntimeLibvirt, num, vmName, DriverSystemd
		id.Machine = strings.TrimSuffix(drv, "-")
		return true
	}
	// libvirt before its machine names carried the domain id registered "qemu-<name>"
	// (virSystemdMakeScopeName with legacy=true).
	if rest, ok := strings.CutPrefix(name, "qemu-"); ok && rest != "" {
		id.Runtime, id.VMName, id.Driver, id.Machine = RuntimeLibvirt, rest, DriverSystemd, "qemu"
		return true
	}
	id.Runtime, id.ContainerID, id.Driver = RuntimeNspawn, name, DriverSystemd
	return true
}

// kubeSlice handles the systemd kubelet slices: kubepods.slice, kubepods-<qos>.slice and
// kubepods-<qos>-pod<uid_with_underscores>.slice (with an optional kubelet-cgroup-root prefix
// such as "kubelet-kubepods-...").
func kubeSlice(id *Identity, elem string, kube *bool) bool {
	name := strings.TrimSuffix(elem, ".slice")
	i := strings.Index(name, "kubepods")
	if i < 0 {
		return false
	}
	*kube = true
	id.Driver = DriverSystemd
	rest := name[i+len("kubepods"):]
	if rest == "" {
		id.QoS = QoSGuaranteed
		return false
	}
	rest = strings.TrimPrefix(rest, "-")
	for _, q := range [...]string{QoSBurstable, QoSBestEffort} {
		if r, ok := strings.CutPrefix(rest, q); ok {
			id.QoS = q
			rest = strings.TrimPrefix(r, "-")
		}
	}
	if uid, ok := strings.CutPrefix(rest, "pod"); ok {
		uid = strings.ReplaceAll(uid, "_", "-")
		if looksLikeUID(uid) {
			id.PodUID = uid
			return true
		}
	}
	return false
}

// unescapeSystemd reverses systemd's unit name escaping ("\x2d" for '-', any "\xNN").
func unescapeSystemd(s string) string {
	if !strings.Contains(s, `\x`) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) && s[i+1] == 'x' {
			if v, err := strconv.ParseUint(s[i+2:i+4], 16, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
