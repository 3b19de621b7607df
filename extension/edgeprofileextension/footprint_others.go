//go:build !linux

package edgeprofileextension

// dropExecutableMappings is Linux only; elsewhere only the heap is released.
func dropExecutableMappings() (int, error) { return 0, nil }
