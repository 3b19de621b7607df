package virtdetect

// DMI holds the SMBIOS strings the kernel exports in /sys/class/dmi/id (readable without root).
type DMI struct {
	SysVendor       string
	ProductName     string
	ProductVersion  string
	BoardVendor     string
	BIOSVendor      string
	BIOSVersion     string
	ChassisAssetTag string
}

// Empty reports whether no DMI data was found (Firecracker and most arm64 guests have none).
func (d DMI) Empty() bool { return d == DMI{} }

// ReadDMI reads /sys/class/dmi/id.
func ReadDMI(f FS) DMI {
	const dir = "/sys/class/dmi/id/"
	return DMI{
		SysVendor:       f.ReadString(dir + "sys_vendor"),
		ProductName:     f.ReadString(dir + "product_name"),
		ProductVersion:  f.ReadString(dir + "product_version"),
		BoardVendor:     f.ReadString(dir + "board_vendor"),
		BIOSVendor:      f.ReadString(dir + "bios_vendor"),
		BIOSVersion:     f.ReadString(dir + "bios_version"),
		ChassisAssetTag: f.ReadString(dir + "chassis_asset_tag"),
	}
}
