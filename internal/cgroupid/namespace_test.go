package cgroupid_test

import (
	"testing"

	"github.com/otelcol-virt/otelcol-virt/internal/cgroup"
	"github.com/otelcol-virt/otelcol-virt/internal/cgroupid"
)

// TestParseResolvedNamespacePaths: a collector in a DaemonSet pod reads other containers'
// cgroups relative to its own (kernfs prints up to the common ancestor, then down). Once mapped
// to the host hierarchy with its namespace root, every path must give the identity the host's
// own view gives, for both kubelet drivers and for CRI-O and Docker.
func TestParseResolvedNamespacePaths(t *testing.T) {
	const cid = "4c2a8b5e1f0d3c6b9a7e8d2f1c0b3a4e5d6c7b8a9f0e1d2c3b4a5f6e7d8c9b0a"
	const own = "1111111111111111111111111111111111111111111111111111111111111111"
	const pod = "7d3d2a49-0c3e-4f1e-9a7b-5a1f3f8f2c11"
	for _, c := range []struct{ root, view, host, pod, runtime string }{
		{
			root: "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod0d1c1b3e_6a7d_4f0e_9c1b_2f3a4b5c6d7e.slice/cri-containerd-" + own + ".scope",
			view: "/../../../kubepods-burstable.slice/kubepods-burstable-pod7d3d2a49_0c3e_4f1e_9a7b_5a1f3f8f2c11.slice/cri-containerd-" + cid + ".scope",
			host: "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod7d3d2a49_0c3e_4f1e_9a7b_5a1f3f8f2c11.slice/cri-containerd-" + cid + ".scope",
			pod:  pod, runtime: cgroupid.RuntimeContainerd,
		},
		{
			root: "/kubepods/besteffort/pod0d1c1b3e-6a7d-4f0e-9c1b-2f3a4b5c6d7e/" + own,
			view: "/../../../burstable/pod7d3d2a49-0c3e-4f1e-9a7b-5a1f3f8f2c11/" + cid,
			host: "/kubepods/burstable/pod7d3d2a49-0c3e-4f1e-9a7b-5a1f3f8f2c11/" + cid,
			pod:  pod,
		},
		{
			root: "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod0d1c1b3e_6a7d_4f0e_9c1b_2f3a4b5c6d7e.slice/crio-" + own + ".scope",
			view: "/../crio-" + cid + ".scope",
			host: "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod0d1c1b3e_6a7d_4f0e_9c1b_2f3a4b5c6d7e.slice/crio-" + cid + ".scope",
			pod:  "0d1c1b3e-6a7d-4f0e-9c1b-2f3a4b5c6d7e", runtime: cgroupid.RuntimeCRIO,
		},
		{
			root:    "/system.slice/docker-" + own + ".scope",
			view:    "/../docker-" + cid + ".scope",
			host:    "/system.slice/docker-" + cid + ".scope",
			runtime: cgroupid.RuntimeDocker,
		},
	} {
		got, ok := cgroup.JoinNamespacePath(c.root, c.view)
		if !ok || got != c.host {
			t.Errorf("%s from %s: resolved to %q, %v; want %q", c.view, c.root, got, ok, c.host)
			continue
		}
		id := cgroupid.Parse(got)
		if id.ContainerID != cid || id.PodUID != c.pod || (c.runtime != "" && id.Runtime != c.runtime) {
			t.Errorf("%s: identity %+v, want container %s, pod %q, runtime %q", got, id, cid, c.pod, c.runtime)
		}
	}
}
