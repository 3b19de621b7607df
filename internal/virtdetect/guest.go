package virtdetect

import "strings"

// Guest kernels and sandboxes: a kernel (or user-space kernel) that exists for the workload,
// between the hypervisor and the containers. Detected before containers because they carry them
// and explain some of the signals a container would otherwise leave (an overlay root, a new pid
// namespace).

func wslKernel(o Observations) bool {
	return containsFold(o.OSRelease, "microsoft") || containsFold(o.ProcVersion, "microsoft")
}

func wsl2(o Observations) bool {
	return wslKernel(o) && (containsFold(o.OSRelease, "WSL2") || strings.Contains(o.OSRelease, "microsoft-standard"))
}

// wslLayer: WSL2 is a Linux guest of a Hyper-V utility VM; WSL1 translates Linux system calls in
// the NT kernel, a sandbox with no VM.
func wslLayer(o Observations) (Layer, bool) {
	if !wslKernel(o) {
		return Layer{}, false
	}
	l := Layer{Kind: KindGuest, Name: GuestWSL, Evidence: []string{"osrelease=" + o.OSRelease}, Confidence: ConfidenceMedium}
	if !wsl2(o) {
		l.Kind = KindSandbox
	}
	if o.WSLInterop {
		l.Evidence = append(l.Evidence, "binfmt_misc=WSLInterop")
		l.Confidence = ConfidenceHigh
	}
	return l, true
}

func kataGuest(o Observations) (Layer, bool) {
	l := Layer{Kind: KindGuest, Name: GuestKata}
	s := 0
	if v, ok := o.Cmdline.Value("systemd.unit"); ok && strings.HasPrefix(v, "kata-containers") {
		l.Evidence = append(l.Evidence, "cmdline=systemd.unit="+v)
		s++
	}
	if o.Cmdline.HasPrefix("agent.") {
		l.Evidence = append(l.Evidence, "cmdline=agent.*")
		s++
	}
	for _, m := range o.Mounts {
		if m.Source == "kataShared" || strings.HasPrefix(m.Target, "/run/kata-containers") {
			l.Evidence = append(l.Evidence, "mount="+m.Source+":"+m.Target)
			s++
			break
		}
	}
	switch {
	case s >= 2:
		l.Confidence = ConfidenceHigh
	case s == 1:
		l.Confidence = ConfidenceMedium
	default:
		return Layer{}, false
	}
	return l, true
}

func gvisorSandbox(o Observations) (Layer, bool) {
	l := Layer{Kind: KindSandbox, Name: SandboxGVisor}
	strong, weak := 0, 0
	if o.GVisorMarker {
		l.Evidence = append(l.Evidence, "proc.gvisor.kernel_is_gvisor")
		strong++
	}
	if strings.Contains(o.ProcVersion, gvisorFakeVersion) {
		l.Evidence = append(l.Evidence, "proc.version=gvisor-2016")
		strong++
	}
	if strong > 0 && !o.ProcModules {
		l.Evidence = append(l.Evidence, "proc.modules=absent")
		weak++
	}
	switch {
	case strong >= 2 || strong == 1 && weak == 1:
		l.Confidence = ConfidenceHigh
	case strong == 1:
		l.Confidence = ConfidenceMedium
	default:
		return Layer{}, false
	}
	return l, true
}

// Edera (krata) zones, from edera-dev/krata crates/zone/src/init.rs at
// a320efad6ba9c7d3897862e0a024bec17782c9f3: the zone is a Xen PV guest booted from krata's
// initrd, whose /init (the krata-zone binary) mounts the OCI image from /dev/xvda at /image and
// the config from /dev/xvdb at /config, builds an overlay "overlayfs:/overlay" with
// lowerdir=/overlay/image on /newroot, chroots into it and forks the workload into the cgroup
// "krata-zone-task" with KRATA_CONTAINER=1 in its environment.
const (
	krataOverlaySource = "overlayfs:/overlay"
	krataLowerDir      = "lowerdir=/overlay/image"
	krataTaskCgroup    = "/krata-zone-task"
	krataEnv           = "KRATA_CONTAINER"
)

// krataSignals lists the zone's traces that a non-zone Xen guest does not have.
func krataSignals(o Observations) []string {
	var ev []string
	if m, ok := o.RootMount(); ok && m.FSType == "overlay" && (m.Source == krataOverlaySource || strings.Contains(m.Options, krataLowerDir)) {
		ev = append(ev, "mount./="+krataOverlaySource)
	}
	for _, m := range o.Mounts {
		if m.Target == "/image" && m.Source == "/dev/xvda" || m.Target == "/config" && m.Source == "/dev/xvdb" {
			ev = append(ev, "mount="+m.Source+":"+m.Target)
			break
		}
	}
	for _, p := range []Process{o.Self, o.Init} {
		if p.Env[krataEnv] == "1" {
			ev = append(ev, "env."+krataEnv+"=1")
			break
		}
	}
	for _, p := range []Process{o.Self, o.Init} {
		if cgroupIn(p.Cgroup, krataTaskCgroup) {
			ev = append(ev, "cgroup="+krataTaskCgroup)
			break
		}
	}
	return ev
}

func cgroupIn(lines []CgroupLine, prefix string) bool {
	for _, l := range lines {
		if l.Path == prefix || strings.HasPrefix(l.Path, prefix+"/") {
			return true
		}
	}
	return false
}

// ederaZone needs the Xen layer (a zone is a Xen domU) and two of the zone's own traces; one
// alone (an image that happens to set KRATA_CONTAINER) gives medium confidence.
func ederaZone(o Observations, hypervisor string) (Layer, bool) {
	if hypervisor != HypervisorXen {
		return Layer{}, false
	}
	ev := krataSignals(o)
	l := Layer{Kind: KindGuest, Name: GuestEdera, Evidence: ev}
	switch {
	case len(ev) >= 2:
		l.Confidence = ConfidenceHigh
	case len(ev) == 1:
		l.Confidence = ConfidenceMedium
	default:
		return Layer{}, false
	}
	if o.Xen.GuestType != "" {
		l.Evidence = append(l.Evidence, "xen.guest_type="+o.Xen.GuestType)
	}
	return l, true
}
