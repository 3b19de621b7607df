package virtdetect

// Layer is one isolation layer around the process.
type Layer struct {
	Kind       string
	Name       string
	Confidence Confidence
	// Evidence lists the signals that named this layer, as "source=value".
	Evidence []string
}

// String renders the layer as "kind:name", the form used in virtualization.layers.
func (l Layer) String() string { return l.Kind + ":" + l.Name }

// Host is the answer for the machine (or container) the detection ran in.
type Host struct {
	// Layers are ordered outermost (hypervisor) to innermost (container).
	Layers []Layer

	HypervisorName string
	HypervisorType string
	VMMName        string
	Role           string
	// RoleEvidence says why the role is host or dom0, or why a machine with a cloud's firmware
	// is bare metal (the hypervisor layer's evidence covers "guest").
	RoleEvidence []string
	// CloudProvider and CloudPlatform are the semantic-conventions cloud.provider and
	// cloud.platform the firmware names (aws/aws_ec2, gcp/gcp_compute_engine, azure/azure.vm,
	// oracle_cloud/oracle_cloud_compute), "" when none.
	CloudProvider string
	CloudPlatform string
	// IsolationLevel is the strongest boundary around the process: microvm or vm if any
	// hardware-virtualised layer exists, else sandbox, else container, else none.
	IsolationLevel      string
	IsolationTechnology string
	ContainerRuntime    string
	Orchestrator        string
	// KernelRelease is the running kernel's release.
	KernelRelease string
	// Confidence is the weakest confidence of the layers (high when there are none and the CPU
	// flags could be read, medium otherwise).
	Confidence Confidence
	// SetAside lists signals that were seen but did not make a layer, and why (a /.dockerenv
	// left in an image, with nothing else of a container around it).
	SetAside []string
}

// LayerNames returns the layers as "kind:name" strings.
func (h Host) LayerNames() []string {
	out := make([]string, len(h.Layers))
	for i, l := range h.Layers {
		out[i] = l.String()
	}
	return out
}

// Detect observes the root of f and classifies it.
func Detect(f FS, cpu CPUID) Host { return Classify(Observe(f, cpu)) }

// Classify turns observations into layers, outermost first: the hypervisor (hypervisor.go), its
// VMM (vmm.go), guest kernels and sandboxes (guest.go), containers (container.go), then the
// isolation level (isolation.go). It is pure and total: any input gives an answer.
func Classify(o Observations) Host {
	var h Host
	vmm := newVotes()
	vmmSignals(o, vmm)
	hv := classifyHypervisor(o, vmm)
	h.Role, h.RoleEvidence = hv.role, hv.roleEvidence
	h.CloudProvider = hv.cloud
	h.CloudPlatform = cloudPlatform(hv.cloud)
	if hv.name != "" {
		h.HypervisorName = hv.name
		h.HypervisorType = HypervisorType(hv.name)
		h.Layers = append(h.Layers, hv.votes.layer(KindHypervisor, hv.name))
	}
	vl, microVM, ok := vmmLayer(o, hv.name, vmm)
	if ok {
		h.VMMName = vl.Name
		h.Layers = append(h.Layers, vl)
	}

	var ex explained
	if l, ok := kataGuest(o); ok {
		h.Layers = append(h.Layers, l)
	}
	if l, ok := ederaZone(o, hv.name); ok {
		h.Layers = append(h.Layers, l)
		ex.overlayRoot = true
	}
	if l, ok := wslLayer(o); ok {
		h.Layers = append(h.Layers, l)
	}
	if l, ok := gvisorSandbox(o); ok {
		h.Layers = append(h.Layers, l)
		ex.overlayRoot, ex.namespaces = true, true
	}
	l, orch, why, ok := containerLayer(o, ex)
	if ok {
		h.Layers = append(h.Layers, l)
		h.ContainerRuntime = l.Name
	}
	if why != "" {
		h.SetAside = append(h.SetAside, why)
	}
	h.Orchestrator = orch

	h.KernelRelease = o.KernelRelease()
	h.IsolationLevel, h.IsolationTechnology = isolationOf(h, microVM)
	h.Confidence = ConfidenceHigh
	if !o.CPUInfo.Present && !o.CPUIDPresent && len(h.Layers) == 0 {
		h.Confidence = ConfidenceMedium
	}
	for _, l := range h.Layers {
		if l.Confidence.rank() < h.Confidence.rank() {
			h.Confidence = l.Confidence
		}
	}
	boundEvidence(&h)
	return h
}
