package inventory

// Provider is implemented by the components that own an Inventory for the others of the same
// collector (the instance_inventory extension), found through component.Host.GetExtensions.
type Provider interface {
	Inventory() *Inventory
}
