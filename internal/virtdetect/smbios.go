package virtdetect

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"strings"
)

// SMBIOSBit is a tri-state: the firmware said yes, said no, or could not be read.
type SMBIOSBit int

// SMBIOS bit states.
const (
	SMBIOSUnknown SMBIOSBit = iota
	SMBIOSSet
	SMBIOSUnset
)

// ParseSMBIOSVMBit reads the "system is a virtual machine" bit (bit 4 of BIOS characteristics
// extension byte 2, offset 0x13 of the type 0 structure, DMTF DSP0134 2.1.2.2), as systemd's
// detect_vm_smbios (systemd/systemd src/basic/virt.c at 0099e5589762f2ef72d9c69b7e7032138d410979).
// A table too short to hold that byte says nothing; QEMU's SeaBIOS leaves the bit clear, so
// "unset" only decides where systemd uses it too (Amazon EC2).
func ParseSMBIOSVMBit(raw []byte) SMBIOSBit {
	if len(raw) < 20 || raw[1] < 20 {
		return SMBIOSUnknown
	}
	if raw[19]&(1<<4) != 0 {
		return SMBIOSSet
	}
	return SMBIOSUnset
}

// ReadSMBIOSVMBit reads /sys/firmware/dmi/entries/0-0/raw (readable by root only).
func ReadSMBIOSVMBit(f FS) SMBIOSBit {
	const raw = "/sys/firmware/dmi/entries/0-0/raw"
	f.rec.add(raw, accessRead)
	fh, err := os.Open(f.Path(raw))
	if err != nil {
		return SMBIOSUnknown
	}
	defer fh.Close()
	b, _ := io.ReadAll(io.LimitReader(fh, 4096))
	return ParseSMBIOSVMBit(b)
}

// ParseSysInfoControlProgram returns the first word of s390's "VM00 Control Program:" line in
// /proc/sysinfo ("z/VM" under z/VM, "KVM/Linux" under KVM), "" when absent.
func ParseSysInfoControlProgram(b []byte) string {
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 4096), 64<<10)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VM00 Control Program:"); ok {
			if f := strings.Fields(v); len(f) > 0 {
				return f[0]
			}
			return ""
		}
	}
	return ""
}
