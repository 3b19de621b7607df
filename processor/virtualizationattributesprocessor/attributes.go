package virtualizationattributesprocessor

// Resource attribute names. Semantic conventions have nothing for hypervisors or isolation
// (semantic-conventions issues #1084 and #2825) and advise against extending host.*, so they
// live in the virtualization.* namespace.
const (
	// Host layer: where the collector (or, with root_path, the node) runs.
	attrHypervisorName          = "virtualization.hypervisor.name"
	attrHypervisorType          = "virtualization.hypervisor.type"
	attrVMMName                 = "virtualization.vmm.name"
	attrRole                    = "virtualization.role"
	attrLayers                  = "virtualization.layers"
	attrHostIsolationLevel      = "virtualization.host.isolation.level"
	attrHostIsolationTechnology = "virtualization.host.isolation.technology"
	attrContainerRuntime        = "virtualization.container.runtime"
	attrDetectionConfidence     = "virtualization.detection.confidence"
	attrDetectedLayers          = "virtualization.detection.layers"
	attrDetectionEvidence       = "virtualization.detection.evidence"

	// Semantic-conventions cloud attributes, from the firmware (DMI, ACPI) of the machine. They
	// are only ever inserted: a resource detector's value is never replaced, even with override.
	attrCloudProvider = "cloud.provider"
	attrCloudPlatform = "cloud.platform"

	// Workload layer: the local instance that emitted the resource.
	attrIsolationLevel  = "virtualization.isolation.level"
	attrRuntimeName     = "virtualization.runtime.name"
	attrInstanceVMMName = "virtualization.instance.vmm.name"

	// Compatibility attributes of the project's seed (off by default).
	attrCompatType           = "virtualization.type"
	attrCompatIsolationLevel = "isolation.level"
	attrCompatHypervisorType = "hypervisor.type"
)

// ResourceAttributeConfig switches one attribute on or off.
type ResourceAttributeConfig struct {
	Enabled bool `mapstructure:"enabled"`

	_ struct{}
}

// ResourceAttributesConfig has one switch per attribute, as mdatagen generates them.
type ResourceAttributesConfig struct {
	VirtualizationHypervisorName          ResourceAttributeConfig `mapstructure:"virtualization.hypervisor.name"`
	VirtualizationHypervisorType          ResourceAttributeConfig `mapstructure:"virtualization.hypervisor.type"`
	VirtualizationVMMName                 ResourceAttributeConfig `mapstructure:"virtualization.vmm.name"`
	VirtualizationRole                    ResourceAttributeConfig `mapstructure:"virtualization.role"`
	VirtualizationLayers                  ResourceAttributeConfig `mapstructure:"virtualization.layers"`
	VirtualizationHostIsolationLevel      ResourceAttributeConfig `mapstructure:"virtualization.host.isolation.level"`
	VirtualizationHostIsolationTechnology ResourceAttributeConfig `mapstructure:"virtualization.host.isolation.technology"`
	VirtualizationContainerRuntime        ResourceAttributeConfig `mapstructure:"virtualization.container.runtime"`
	VirtualizationDetectionConfidence     ResourceAttributeConfig `mapstructure:"virtualization.detection.confidence"`
	VirtualizationDetectionLayers         ResourceAttributeConfig `mapstructure:"virtualization.detection.layers"`
	VirtualizationDetectionEvidence       ResourceAttributeConfig `mapstructure:"virtualization.detection.evidence"`
	CloudProvider                         ResourceAttributeConfig `mapstructure:"cloud.provider"`
	CloudPlatform                         ResourceAttributeConfig `mapstructure:"cloud.platform"`
	VirtualizationIsolationLevel          ResourceAttributeConfig `mapstructure:"virtualization.isolation.level"`
	VirtualizationRuntimeName             ResourceAttributeConfig `mapstructure:"virtualization.runtime.name"`
	VirtualizationInstanceVMMName         ResourceAttributeConfig `mapstructure:"virtualization.instance.vmm.name"`
	VirtualizationType                    ResourceAttributeConfig `mapstructure:"virtualization.type"`
	IsolationLevel                        ResourceAttributeConfig `mapstructure:"isolation.level"`
	HypervisorType                        ResourceAttributeConfig `mapstructure:"hypervisor.type"`
}

// DefaultResourceAttributesConfig enables every namespaced attribute and the cloud ones, but not
// the per-layer evidence (a few hundred bytes per resource; the start-up log has it) nor the
// seed's un-namespaced compatibility attributes.
func DefaultResourceAttributesConfig() ResourceAttributesConfig {
	on := ResourceAttributeConfig{Enabled: true}
	return ResourceAttributesConfig{
		VirtualizationHypervisorName:          on,
		VirtualizationHypervisorType:          on,
		VirtualizationVMMName:                 on,
		VirtualizationRole:                    on,
		VirtualizationLayers:                  on,
		VirtualizationHostIsolationLevel:      on,
		VirtualizationHostIsolationTechnology: on,
		VirtualizationContainerRuntime:        on,
		VirtualizationDetectionConfidence:     on,
		VirtualizationDetectionLayers:         on,
		CloudProvider:                         on,
		CloudPlatform:                         on,
		VirtualizationIsolationLevel:          on,
		VirtualizationRuntimeName:             on,
		VirtualizationInstanceVMMName:         on,
	}
}

// enabled returns the switch of an attribute by name.
func (c ResourceAttributesConfig) enabled(name string) bool {
	switch name {
	case attrHypervisorName:
		return c.VirtualizationHypervisorName.Enabled
	case attrHypervisorType:
		return c.VirtualizationHypervisorType.Enabled
	case attrVMMName:
		return c.VirtualizationVMMName.Enabled
	case attrRole:
		return c.VirtualizationRole.Enabled
	case attrLayers:
		return c.VirtualizationLayers.Enabled
	case attrHostIsolationLevel:
		return c.VirtualizationHostIsolationLevel.Enabled
	case attrHostIsolationTechnology:
		return c.VirtualizationHostIsolationTechnology.Enabled
	case attrContainerRuntime:
		return c.VirtualizationContainerRuntime.Enabled
	case attrDetectionConfidence:
		return c.VirtualizationDetectionConfidence.Enabled
	case attrDetectedLayers:
		return c.VirtualizationDetectionLayers.Enabled
	case attrDetectionEvidence:
		return c.VirtualizationDetectionEvidence.Enabled
	case attrCloudProvider:
		return c.CloudProvider.Enabled
	case attrCloudPlatform:
		return c.CloudPlatform.Enabled
	case attrIsolationLevel:
		return c.VirtualizationIsolationLevel.Enabled
	case attrRuntimeName:
		return c.VirtualizationRuntimeName.Enabled
	case attrInstanceVMMName:
		return c.VirtualizationInstanceVMMName.Enabled
	case attrCompatType:
		return c.VirtualizationType.Enabled
	case attrCompatIsolationLevel:
		return c.IsolationLevel.Enabled
	case attrCompatHypervisorType:
		return c.HypervisorType.Enabled
	}
	return false
}
