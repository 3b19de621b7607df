package virtdetect

import (
	"sort"
	"strings"
)

// Container detection. A container manager declares itself in a few places (container= in PID
// 1's environment, /run/systemd/container, /run/host/container-manager), which systemd reads
// first and trusts (systemd/systemd src/basic/virt.c at 0099e5589762f2ef72d9c69b7e7032138d410979,
// detect_container). Marker files (/.dockerenv, /run/.containerenv) are weaker: an image built
// by Docker keeps /.dockerenv wherever it is booted, which is why systemd checks them last. Here
// a marker counts only with a corroborating sign that a runtime really set this root up: an
// overlay root, an engine's cgroup, a pid or cgroup namespace of its own, a runtime process as
// PID 1 or ancestor, Kubernetes' service environment.

// containerNames maps the values of container= and /run/systemd/container.
var containerNames = map[string]string{
	"docker": ContainerDocker, "podman": ContainerPodman, "lxc": ContainerLXC, "lxc-libvirt": ContainerLXC,
	"systemd-nspawn": ContainerNspawn, "crio": ContainerCRIO, "cri-o": ContainerCRIO,
	"containerd": ContainerContainerd, "proot": ContainerProot, "openvz": ContainerOpenVZ,
}

// runtimeProcesses maps the comm of a process that only a container runtime starts to the engine
// (a container's PID 1 under `docker run --init` is docker-init, podman's is catatonit; their
// parents, where visible, are the shims).
var runtimeProcesses = map[string]string{
	"docker-init": ContainerDocker, "catatonit": ContainerPodman, "conmon": ContainerPodman,
	"containerd-shim": ContainerContainerd, "containerd-shim-runc-v2": ContainerContainerd,
	"crun": "", "runc": "", "runc:[2:INIT]": "",
}

// CgroupEngine names the container engine a cgroup path belongs to, "" when none.
func CgroupEngine(path string) string {
	switch {
	case strings.Contains(path, "/docker/") || strings.Contains(path, "docker-") && strings.Contains(path, ".scope"):
		return ContainerDocker
	case strings.Contains(path, "libpod-") || strings.Contains(path, "/libpod_parent/"):
		return ContainerPodman
	case strings.Contains(path, "crio-"):
		return ContainerCRIO
	case strings.Contains(path, "cri-containerd-") || strings.Contains(path, "/kubepods") || strings.Contains(path, "kubepods.slice"):
		return ContainerContainerd
	case strings.Contains(path, "lxc.payload") || strings.HasPrefix(path, "/lxc/"):
		return ContainerLXC
	case strings.Contains(path, "machine.slice/machine-") || strings.Contains(path, "/systemd-nspawn"):
		return ContainerNspawn
	}
	return ""
}

var engineBindMounts = map[string]bool{"/etc/hostname": true, "/etc/hosts": true, "/etc/resolv.conf": true}

// overlayRoots are the root file systems container engines assemble from image layers.
var overlayRoots = map[string]bool{"overlay": true, "fuse-overlayfs": true, "aufs": true}

// explained says which corroborating signals a detected guest or sandbox already accounts for:
// gVisor gives every sandbox an overlay root and its own namespaces; an Edera zone's root is
// krata's overlay.
type explained struct {
	overlayRoot, namespaces bool
}

type containerEvidence struct {
	declared []string // manager declarations: engine names
	markers  []string // marker files: engine names
	engines  []string // engine names from cgroups, runtime processes, Kubernetes
	ev       []string // every signal, for the layer's evidence
	corrob   int      // corroborating signals
}

func (c *containerEvidence) note(ev string) { c.ev = append(c.ev, ev) }

func gatherContainer(o Observations, ex explained) (c containerEvidence, orch string) {
	translate := func(v string) string {
		if n, ok := containerNames[v]; ok {
			return n
		}
		return ContainerOther // systemd: container-other ("oci" included: it names no engine)
	}
	if v := o.Init.Env["container"]; v != "" {
		c.declared = append(c.declared, translate(v))
		c.note("env.container=" + v)
	}
	if v := o.SystemdContainer; v != "" {
		c.declared = append(c.declared, translate(v))
		c.note("run.systemd.container=" + v)
	}
	if v := o.HostContainerManager; v != "" {
		c.declared = append(c.declared, translate(v))
		c.note("run.host.container-manager=" + v)
	}
	if strings.HasPrefix(o.TracerComm, "proot") {
		c.declared = append(c.declared, ContainerProot)
		c.note("tracer=" + o.TracerComm)
	}
	if o.ProcVZ && !o.ProcBC {
		c.declared = append(c.declared, ContainerOpenVZ)
		c.note("proc.vz")
	}

	if o.ContainerEnvFile {
		n := ContainerPodman
		for _, line := range strings.Split(o.ContainerEnv, "\n") {
			if eng, ok := strings.CutPrefix(line, "engine="); ok && containsFold(eng, "cri-o") {
				n = ContainerCRIO
			}
		}
		c.markers = append(c.markers, n)
		c.note("run.containerenv")
	}
	if o.DockerEnv {
		c.markers = append(c.markers, ContainerDocker)
		c.note("dockerenv")
	}

	// Corroboration.
	cgroupDone := false
	for _, p := range []Process{o.Init, o.Self} {
		for _, l := range p.Cgroup {
			if e := CgroupEngine(l.Path); e != "" && !cgroupDone {
				c.engines = append(c.engines, e)
				c.note("cgroup=" + l.Path)
				c.corrob++
				cgroupDone = true
			}
		}
	}
	if m, ok := o.RootMount(); ok && overlayRoots[m.FSType] && !ex.overlayRoot {
		c.note("mount./=" + m.FSType)
		c.corrob++
	}
	for _, m := range o.Mounts {
		if engineBindMounts[m.Target] {
			// Engines bind-mount the files they generate for the container (moby
			// daemon/container_operations_unix.go, containers/common, the Kata agent); a machine
			// booted from an image has them on its root file system.
			c.note("mount=" + m.Target)
			c.corrob++
			break
		}
	}
	if !ex.namespaces {
		if o.PIDNamespace != 0 && o.PIDNamespace != initialPIDNamespace {
			c.note("pid_namespace=non-initial")
			c.corrob++
		}
		if o.CgroupNamespace != 0 && o.CgroupNamespace != initialCgroupNamespace || o.CgroupNSHint {
			c.note("cgroup_namespace")
			c.corrob++
		}
	}
	procs := append([]string{o.Init.Comm}, o.Ancestors...)
	for _, comm := range procs {
		if e, ok := runtimeProcesses[comm]; ok || strings.HasPrefix(comm, "containerd-shim") {
			if strings.HasPrefix(comm, "containerd-shim") {
				e = ContainerContainerd
			}
			if e != "" {
				c.engines = append(c.engines, e)
			}
			c.note("process=" + comm)
			c.corrob++
			break
		}
	}
	_, k8sEnv := o.Init.Env["KUBERNETES_SERVICE_HOST"]
	if _, ok := o.Self.Env["KUBERNETES_SERVICE_HOST"]; ok {
		k8sEnv = true
	}
	if k8sEnv || o.K8sServiceAccount {
		orch = "kubernetes"
		c.note("kubernetes")
		c.corrob++
	}
	sort.Strings(c.ev)
	return c, orch
}

// containerLayer decides. It returns the layer, the orchestrator, and, when signals were seen
// but did not make a container, why they were set aside.
func containerLayer(o Observations, ex explained) (Layer, string, string, bool) {
	c, orch := gatherContainer(o, ex)
	first := func(list []string) string {
		for _, n := range list {
			if n != ContainerOther {
				return n
			}
		}
		if len(list) > 0 {
			return list[0]
		}
		return ""
	}
	name := ""
	strong := len(c.declared)
	switch {
	case len(c.declared) > 0:
		name = first(c.declared)
		if name == ContainerOther {
			// container=oci and the like name no engine: an engine's own trace may.
			if e := first(append(append([]string{}, c.engines...), c.markers...)); e != "" {
				name = e
			}
		}
	case len(c.markers) > 0 && c.corrob >= 1:
		name = first(append(append([]string{}, c.engines...), c.markers...))
	case c.corrob >= 2:
		name = first(c.engines)
		if name == "" {
			name = ContainerOther
		}
	default:
		why := ""
		if len(c.ev) > 0 {
			why = "container: " + strings.Join(c.ev, ",") + " without corroboration (no overlay root, engine cgroup, own pid or cgroup namespace, runtime process)"
		}
		return Layer{}, orch, why, false
	}
	if name == ContainerOther && orch != "" {
		name = ContainerContainerd // a pod whose runtime left no trace of its own: Kubernetes' default
	}
	conf := ConfidenceLow
	switch {
	case strong >= 2, strong > 0 && c.corrob > 0, len(c.markers) > 0 && c.corrob >= 2:
		conf = ConfidenceHigh
	case strong > 0, len(c.markers) > 0, c.corrob >= 3:
		conf = ConfidenceMedium
	}
	return Layer{Kind: KindContainer, Name: name, Confidence: conf, Evidence: c.ev}, orch, "", true
}
