package virtualizationattributesprocessor

import (
	"strings"

	"github.com/otelcol-virt/otelcol-virt/internal/virtdetect"
)

// kv is one string attribute to insert.
type kv struct{ key, value string }

// hostAttrs is the host layer, built once per detection and shared read-only by every batch.
type hostAttrs struct {
	host     virtdetect.Host
	strs     []kv
	layers   []string // nil when disabled or empty
	detected []string // detected layers kept as evidence when declared values replace them
	evidence []string // per layer: "kind:name(confidence): signal, signal"
	// insertOnly are set only where absent, whatever override says (cloud.*: a resource
	// detector that asked the cloud's metadata service knows better than the firmware).
	insertOnly []kv
	compat     []kv
}

// layerEvidence renders each layer with the signals that voted for it, then what was set aside.
func layerEvidence(h virtdetect.Host) []string {
	out := make([]string, 0, len(h.Layers)+len(h.SetAside)+1)
	for _, l := range h.Layers {
		out = append(out, l.String()+"("+string(l.Confidence)+"): "+strings.Join(l.Evidence, ", "))
	}
	if len(h.RoleEvidence) > 0 {
		out = append(out, "role:"+h.Role+": "+strings.Join(h.RoleEvidence, ", "))
	}
	for _, s := range h.SetAside {
		out = append(out, "set aside: "+s)
	}
	return out
}

// compatIsolationLevel maps our levels onto the seed's vocabulary ("hardware" for VMs).
func compatIsolationLevel(level string) string {
	switch level {
	case "vm", "microvm":
		return "hardware"
	}
	return level
}

func buildHostAttrs(h virtdetect.Host, d DeclaredConfig, ra ResourceAttributesConfig) *hostAttrs {
	ha := &hostAttrs{host: h}
	hypName, hypType, vmm := h.HypervisorName, h.HypervisorType, h.VMMName
	level, tech := h.IsolationLevel, h.IsolationTechnology
	layers := h.LayerNames()
	if d.isSet() {
		if d.HypervisorName != "" {
			hypName = d.HypervisorName
			if d.HypervisorType == "" {
				hypType = virtdetect.HypervisorType(hypName)
			}
		}
		if d.HypervisorType != "" {
			hypType = d.HypervisorType
		}
		if d.VMMName != "" {
			vmm = d.VMMName
		}
		if d.IsolationLevel != "" {
			level = d.IsolationLevel
		}
		if d.IsolationTechnology != "" {
			tech = d.IsolationTechnology
		}
		if len(d.Layers) > 0 {
			if ra.enabled(attrDetectedLayers) && len(layers) > 0 {
				ha.detected = layers
			}
			layers = append([]string(nil), d.Layers...)
		}
	}
	add := func(k, v string) {
		if v != "" && ra.enabled(k) {
			ha.strs = append(ha.strs, kv{k, v})
		}
	}
	add(attrHypervisorName, hypName)
	add(attrHypervisorType, hypType)
	add(attrVMMName, vmm)
	add(attrRole, h.Role)
	add(attrHostIsolationLevel, level)
	add(attrHostIsolationTechnology, tech)
	add(attrContainerRuntime, h.ContainerRuntime)
	add(attrDetectionConfidence, string(h.Confidence))
	if ra.enabled(attrLayers) && len(layers) > 0 {
		ha.layers = layers
	}
	if ra.enabled(attrDetectionEvidence) {
		ha.evidence = layerEvidence(h)
	}
	if h.CloudProvider != "" && ra.enabled(attrCloudProvider) {
		ha.insertOnly = append(ha.insertOnly, kv{attrCloudProvider, h.CloudProvider})
	}
	if h.CloudPlatform != "" && ra.enabled(attrCloudPlatform) {
		ha.insertOnly = append(ha.insertOnly, kv{attrCloudPlatform, h.CloudPlatform})
	}
	if ra.enabled(attrCompatType) && tech != "" {
		ha.compat = append(ha.compat, kv{attrCompatType, tech})
	}
	if ra.enabled(attrCompatIsolationLevel) && level != "" {
		ha.compat = append(ha.compat, kv{attrCompatIsolationLevel, compatIsolationLevel(level)})
	}
	if ra.enabled(attrCompatHypervisorType) && hypType != "" {
		ha.compat = append(ha.compat, kv{attrCompatHypervisorType, hypType})
	}
	return ha
}

// summary is a one-line description for the log.
func (ha *hostAttrs) summary() string {
	if len(ha.layers) == 0 {
		return "no isolation layer"
	}
	return strings.Join(ha.layers, " > ")
}
