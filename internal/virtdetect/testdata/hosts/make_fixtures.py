#!/usr/bin/env python3
"""Writes the fixture roots of internal/virtdetect (one directory per host kind).

Usage:
  python3 make_fixtures.py            # (re)write the reconstructed fixtures below

Fixtures of live machines (live-*) are not written here: `go run ./internal/virtdetect/cmd/virtdetect
-capture DIR` copies exactly the files detection reads, and the live tests of the
virtualization_attributes processor capture them inside each environment they run in.

Each fixture is NAME/root (a tree standing for "/"), NAME/cpuid (the CPUID leaf 0x40000000
vendor string the machine reported; absent when the leaf was not available) and NAME/ORIGIN.md.
Only the files detection reads are kept; values come from the sources named in each ORIGIN.md.
"""
import os, shutil, struct, sys

HERE = os.path.dirname(os.path.abspath(__file__))

X86_FLAGS_VM = ("fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush mmx "
                "fxsr sse sse2 ss ht syscall nx pdpe1gb rdtscp lm constant_tsc rep_good nopl xtopology "
                "nonstop_tsc cpuid tsc_known_freq pni pclmulqdq ssse3 fma cx16 pcid sse4_1 sse4_2 x2apic "
                "movbe popcnt tsc_deadline_timer aes xsave avx f16c rdrand hypervisor lahf_lm abm "
                "3dnowprefetch invpcid_single ssbd ibrs ibpb stibp fsgsbase bmi1 avx2 smep bmi2 erms "
                "invpcid avx512f avx512dq rdseed adx smap clflushopt clwb avx512cd avx512bw avx512vl "
                "xsaveopt xsavec xgetbv1 xsaves arat md_clear arch_capabilities")
X86_FLAGS_METAL = X86_FLAGS_VM.replace(" hypervisor", "").replace("rep_good", "rep_good vmx")


def cpuinfo(model, flags, cpus=2):
    out = []
    for i in range(cpus):
        out.append(f"processor\t: {i}\nvendor_id\t: GenuineIntel\ncpu family\t: 6\nmodel\t\t: 85\n"
                   f"model name\t: {model}\nstepping\t: 7\ncpu MHz\t\t: 2999.998\n"
                   f"flags\t\t: {flags}\nbogomips\t: 5999.99\n\n")
    return "".join(out)


def acpi_header(sig, oem, table_id="", creator="", length=36):
    h = sig.encode().ljust(4, b" ")[:4] + struct.pack("<I", length) + bytes([1, 0])
    h += oem.encode().ljust(6, b" ")[:6] + table_id.encode().ljust(8, b" ")[:8]
    h += struct.pack("<I", 1) + creator.encode().ljust(4, b" ")[:4] + struct.pack("<I", 1)
    return h


class Fixture:
    def __init__(self, name, origin, cpuid=None):
        self.dir = os.path.join(HERE, name)
        self.root = os.path.join(self.dir, "root")
        shutil.rmtree(self.dir, ignore_errors=True)
        os.makedirs(self.root)
        with open(os.path.join(self.dir, "ORIGIN.md"), "w") as f:
            f.write(f"# {name}\n\n{origin.strip()}\n")
        if cpuid is not None:
            with open(os.path.join(self.dir, "cpuid"), "w") as f:
                f.write(cpuid + "\n")

    def file(self, path, content=""):
        p = os.path.join(self.root, path.lstrip("/"))
        os.makedirs(os.path.dirname(p), exist_ok=True)
        mode = "wb" if isinstance(content, bytes) else "w"
        with open(p, mode) as f:
            f.write(content)
        return self

    def link(self, path, target):
        p = os.path.join(self.root, path.lstrip("/"))
        os.makedirs(os.path.dirname(p), exist_ok=True)
        os.symlink(target, p)
        return self

    def kernel(self, release, version=None, cmdline="", modules=True):
        self.file("/proc/sys/kernel/osrelease", release + "\n")
        self.file("/proc/version", (version or f"Linux version {release} (gcc) #1 SMP PREEMPT_DYNAMIC") + "\n")
        self.file("/proc/cmdline", cmdline + "\n")
        if modules is not False:
            self.file("/proc/modules", modules if isinstance(modules, str) else "")
        return self

    def cpu(self, model, flags=X86_FLAGS_VM):
        return self.file("/proc/cpuinfo", cpuinfo(model, flags))

    def clock(self, available, current):
        d = "/sys/devices/system/clocksource/clocksource0/"
        self.file(d + "available_clocksource", available + " \n")
        return self.file(d + "current_clocksource", current + "\n")

    def dmi(self, **kv):
        for k, v in kv.items():
            self.file("/sys/class/dmi/id/" + k, v + "\n")
        return self

    def acpi(self, oem, table_id="", creator="", sigs=("APIC", "DSDT", "FACP")):
        for s in sigs:
            self.file("/sys/firmware/acpi/tables/" + s, acpi_header(s, oem, table_id, creator))
        return self

    def virtio(self, transport, n=3):
        for i in range(n):
            if transport == "pci":
                # A virtio-pci function: vendor 0x1af4, transitional device ids 0x1000 + n (virtio
                # 1.2 spec 4.1.2.1, net, block, balloon...).
                bdf = f"0000:00:0{i+1}.0"
                self.pci_function(bdf, "0x1af4", f"0x{0x1000 + i:04x}")
                target = f"../../../devices/pci0000:00/{bdf}/virtio{i}"
            else:
                target = f"../../../devices/platform/virtio-mmio.{i}/virtio{i}" if transport == "mmio-platform" \
                    else f"../../../devices/LNXSYSTM:00/LNXSYBUS:00/LNRO0005:0{i}/virtio{i}"
                if transport == "mmio":
                    target = f"../../../devices/virtio-mmio-cmdline/virtio-mmio.{i}/virtio{i}"
            self.link(f"/sys/bus/virtio/devices/virtio{i}", target)
        return self

    def pci_function(self, bdf, vendor, device):
        # /sys/bus/pci/devices/<bdf> is a link to the function's directory below /sys/devices,
        # as the kernel lays it out and the live captures show.
        d = f"/sys/devices/pci0000:00/{bdf}/"
        self.file(d + "vendor", vendor + "\n")
        self.file(d + "device", device + "\n")
        return self.link(f"/sys/bus/pci/devices/{bdf}", f"../../../devices/pci0000:00/{bdf}")

    def pci_bridge(self, vendor, device):
        return self.pci_function("0000:00:00.0", vendor, device)

    def init(self, cgroup="0::/\n", env=None):
        # /proc/self is the reading process; in these captures that is PID 1's view.
        self.link("/proc/self", "1")
        self.file("/proc/1/cgroup", cgroup)
        env = env or {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
        return self.file("/proc/1/environ", b"".join(f"{k}={v}".encode() + b"\0" for k, v in env.items()))

    def mounts(self, text):
        return self.file("/proc/1/mounts", text)

    def ns(self, pid=4026531836, cgroup=4026531835):
        # /proc/<pid>/ns links; the initial namespaces have fixed inodes (include/linux/proc_ns.h).
        self.link("/proc/1/ns/pid", f"pid:[{pid}]")
        return self.link("/proc/1/ns/cgroup", f"cgroup:[{cgroup}]")

    def container_root(self, lower="/var/lib/docker/overlay2/l/QK2C7W3Z5J4Y6X2M1N8B9V0C3D"):
        # What runc-based engines give a container: an overlay root from the image layers, their
        # own pid and cgroup namespaces, and bind mounts of /etc/hostname, /etc/hosts, /etc/resolv.conf.
        self.mounts(f"overlay / overlay rw,relatime,lowerdir={lower},upperdir=/u,workdir=/w 0 0\n"
                    "proc /proc proc rw,nosuid,nodev,noexec,relatime 0 0\n"
                    "/dev/sda1 /etc/resolv.conf ext4 rw,relatime 0 0\n/dev/sda1 /etc/hostname ext4 rw,relatime 0 0\n"
                    "/dev/sda1 /etc/hosts ext4 rw,relatime 0 0\n")
        return self.ns(pid=4026532291, cgroup=4026532294)

    def smbios(self, vm_bit):
        # SMBIOS type 0 (BIOS information), DSP0134 7.1: length 0x18 so both characteristics
        # extension bytes are present; byte 0x13 bit 4 is "system is a virtual machine".
        raw = bytearray(0x18)
        raw[0], raw[1] = 0, 0x18
        raw[0x12] = 0x03
        raw[0x13] = 0x18 if vm_bit else 0x08
        return self.file("/sys/firmware/dmi/entries/0-0/raw", bytes(raw) + b"\0\0")


V1_ROOT = "".join(f"{i}:{c}:/\n" for i, c in enumerate(
    ["cpu,cpuacct", "cpuset", "memory", "devices", "freezer", "blkio", "pids", "name=systemd"], 1)) + "0::/\n"
DOCKER_ID = "3f1d2c9be7a04c5e8b1f6e2a9d7c4b3a2f1e0d9c8b7a6f5e4d3c2b1a0f9e8d7c"
POD_UID = "8c2b1f3e-5d4a-4c7b-9e1f-2a3b4c5d6e7f"
VM_ENV = "Values follow the cited sources; nothing else is kept."


def reconstructed(what, sources):
    return (f"Reconstructed, not captured here: {what}. File contents follow these public sources:\n\n"
            + "".join(f"- {s}\n" for s in sources)
            + "\nOnly the files detection reads are present. The CPUID vendor in `cpuid` is what the "
            "hypervisor documents for leaf 0x40000000.\n")


KVM_MODULES = ("kvm_intel 380928 0 - Live 0x0000000000000000\n"
               "kvm 1142784 1 kvm_intel, Live 0x0000000000000000\n"
               "irqbypass 16384 1 kvm, Live 0x0000000000000000\n")
HYPERV_MODULES = ("hv_utils 45056 0 - Live 0x0000000000000000\nhv_netvsc 98304 0 - Live 0x0000000000000000\n"
                  "hv_vmbus 131072 2 hv_utils,hv_netvsc, Live 0x0000000000000000\n")


def build():
    # --- bare metal -----------------------------------------------------------------------------
    (Fixture("baremetal", reconstructed("a Debian 12 laptop, no virtualization, KVM module loaded", [
        "Linux Documentation/ABI (sysfs dmi, clocksource), a Lenovo ThinkPad T14 `dmidecode`",
        "systemd-detect-virt prints `none` on such a machine"]))
     .kernel("6.1.0-18-amd64", modules=KVM_MODULES).cpu("Intel(R) Core(TM) i7-10510U CPU @ 1.80GHz", X86_FLAGS_METAL)
     .clock("tsc hpet acpi_pm", "tsc")
     .dmi(sys_vendor="LENOVO", product_name="20S0002UUS", product_version="ThinkPad T14 Gen 1",
          board_vendor="LENOVO", bios_vendor="LENOVO", bios_version="N2XET36W (1.26 )")
     .acpi("LENOVO", "TP-N2X", "PTEC").init(V1_ROOT.replace("0::/\n", "0::/init.scope\n"))
     .file("/dev/kvm"))

    (Fixture("aws-ec2-metal", reconstructed("an AWS EC2 m5.metal instance (bare metal, Nitro cards, no hypervisor)", [
        "AWS docs: 'Nitro system' and bare-metal instances; `cat /sys/class/dmi/id/sys_vendor` prints 'Amazon EC2'",
        "systemd virt.c: DMI 'Amazon EC2' is only taken as a VM when CPUID shows a hypervisor"]))
     .kernel("6.1.66-91.160.amzn2023.x86_64").cpu("Intel(R) Xeon(R) Platinum 8259CL CPU @ 2.50GHz", X86_FLAGS_METAL)
     .clock("tsc hpet acpi_pm", "tsc")
     .dmi(sys_vendor="Amazon EC2", product_name="m5.metal", board_vendor="Amazon EC2", bios_vendor="Amazon EC2",
          bios_version="1.0").acpi("AMAZON", "AMZNFACP").init(V1_ROOT).file("/dev/kvm"))

    (Fixture("kvm-host", reconstructed("a bare-metal KVM hypervisor host (Proxmox VE 8 node)", [
        "Proxmox VE 8 on a Supermicro X11 board: DMI 'Supermicro', vmx flag, /dev/kvm present"]))
     .kernel("6.5.13-5-pve", modules=KVM_MODULES).cpu("Intel(R) Xeon(R) Silver 4210R CPU @ 2.40GHz", X86_FLAGS_METAL)
     .clock("tsc hpet acpi_pm", "tsc")
     .dmi(sys_vendor="Supermicro", product_name="SYS-5019C-M", board_vendor="Supermicro", bios_vendor="American Megatrends Inc.")
     .acpi("SUPERM", "SMCI--MB").init(V1_ROOT).file("/dev/kvm"))

    # --- full VMs --------------------------------------------------------------------------------
    (Fixture("kvm-qemu", reconstructed("a libvirt/QEMU q35 guest on KVM (Ubuntu 22.04 cloud image)", [
        "QEMU hw/smbios defaults: sys_vendor 'QEMU', product 'Standard PC (Q35 + ICH9, 2009)', bios 'SeaBIOS'",
        "QEMU ACPI tables use OEM id 'BOCHS ' and table id 'BXPC'",
        "KVM: CPUID 0x40000000 'KVMKVMKVM\\0\\0\\0', clocksource kvm-clock; virtio-pci bridge q35 8086:29c0"], ), "KVMKVMKVM")
     .kernel("5.15.0-101-generic", cmdline="BOOT_IMAGE=/boot/vmlinuz-5.15.0-101-generic root=LABEL=cloudimg-rootfs ro console=ttyS0")
     .cpu("Intel Xeon Processor (Cascadelake)").clock("kvm-clock tsc acpi_pm", "kvm-clock")
     .dmi(sys_vendor="QEMU", product_name="Standard PC (Q35 + ICH9, 2009)", product_version="pc-q35-6.2",
          bios_vendor="SeaBIOS", bios_version="1.15.0-1")
     .acpi("BOCHS", "BXPC", "BXPC").virtio("pci").pci_bridge("0x8086", "0x29c0").init(V1_ROOT))

    (Fixture("qemu-tcg", reconstructed("a QEMU guest without KVM (software emulation, `-accel tcg`)", [
        "QEMU target/i386/cpu.c: TCG reports CPUID 0x40000000 'TCGTCGTCGTCG'",
        "no kvm-clock without KVM; DMI and ACPI as any QEMU machine"]), "TCGTCGTCGTCG")
     .kernel("6.1.0-18-amd64").cpu("QEMU Virtual CPU version 2.5+").clock("tsc hpet acpi_pm", "tsc")
     .dmi(sys_vendor="QEMU", product_name="Standard PC (i440FX + PIIX, 1996)", bios_vendor="SeaBIOS")
     .acpi("BOCHS", "BXPC", "BXPC").virtio("pci").pci_bridge("0x8086", "0x1237").init(V1_ROOT))

    (Fixture("xen-hvm-domu", reconstructed("a Xen HVM domU (XCP-ng 8.2 guest)", [
        "Xen: CPUID 'XenVMMXenVMM', /sys/hypervisor/type 'xen', clocksource 'xen'",
        "Xen hvmloader SMBIOS: sys_vendor 'Xen', product 'HVM domU'; ACPI OEM 'Xen'"]), "XenVMMXenVMM")
     .kernel("5.10.0-28-amd64").cpu("Intel(R) Xeon(R) CPU E5-2680 v4 @ 2.40GHz").clock("xen tsc hpet acpi_pm", "xen")
     .dmi(sys_vendor="Xen", product_name="HVM domU", product_version="4.13.5", bios_vendor="Xen")
     .acpi("Xen", "HVM", "HVML").file("/sys/hypervisor/type", "xen\n")
     .file("/sys/hypervisor/guest_type", "HVM\n").file("/sys/hypervisor/properties/features", "00000705\n")
     .file("/proc/xen/capabilities", "").init(V1_ROOT))

    (Fixture("xen-pv-domu", reconstructed("a Xen PV domU (no hardware virtualization, paravirtualized kernel)", [
        "Xen PV guests have no DMI/ACPI and see native CPUID (no hypervisor leaf without forced emulation)",
        "/sys/hypervisor/type 'xen', guest_type 'PV', clocksource 'xen', /proc/xen present"]))
     .kernel("5.10.0-28-amd64", cmdline="root=/dev/xvda1 ro console=hvc0").cpu("Intel(R) Xeon(R) CPU E5-2680 v4 @ 2.40GHz")
     .clock("xen tsc", "xen").file("/sys/hypervisor/type", "xen\n").file("/sys/hypervisor/guest_type", "PV\n")
     .file("/sys/hypervisor/properties/features", "00000705\n").file("/proc/xen/capabilities", "").init(V1_ROOT))

    (Fixture("xen-dom0", reconstructed("Xen dom0 (the control domain of a Xen host on a Dell server)", [
        "XENFEAT_dom0 is bit 11 of /sys/hypervisor/properties/features; /proc/xen/capabilities says 'control_d'",
        "dom0 sees the real hardware's DMI (Dell) and native CPUID"]))
     .kernel("6.1.0-18-amd64").cpu("Intel(R) Xeon(R) Gold 6230 CPU @ 2.10GHz").clock("xen tsc", "xen")
     .dmi(sys_vendor="Dell Inc.", product_name="PowerEdge R640", bios_vendor="Dell Inc.")
     .file("/sys/hypervisor/type", "xen\n").file("/sys/hypervisor/guest_type", "PV\n")
     .file("/sys/hypervisor/properties/features", "00000f05\n").file("/proc/xen/capabilities", "control_d\n").init(V1_ROOT))

    (Fixture("hyperv", reconstructed("a Hyper-V generation 2 VM on Windows Server 2022", [
        "Hyper-V TLFS: CPUID 0x40000000 'Microsoft Hv'; clocksource hyperv_clocksource_tsc_page",
        "SMBIOS: sys_vendor 'Microsoft Corporation', product 'Virtual Machine'; ACPI OEM 'VRTUAL'"]), "Microsoft Hv")
     .kernel("5.15.0-1057-azure", modules=HYPERV_MODULES).cpu("Intel(R) Xeon(R) Platinum 8272CL CPU @ 2.60GHz")
     .clock("hyperv_clocksource_tsc_page acpi_pm", "hyperv_clocksource_tsc_page")
     .dmi(sys_vendor="Microsoft Corporation", product_name="Virtual Machine", product_version="Hyper-V UEFI Release v4.1",
          bios_vendor="Microsoft Corporation").acpi("VRTUAL", "MICROSFT", "MSFT").init(V1_ROOT))

    (Fixture("azure", reconstructed("an Azure VM (Standard_D2s_v5)", [
        "Azure docs 'Detect if running on Azure': chassis asset tag 7783-7084-3265-9085-8269-3286-77",
        "otherwise a Hyper-V guest: 'Microsoft Hv', hyperv clocksource, SMBIOS 'Microsoft Corporation'"]), "Microsoft Hv")
     .kernel("6.5.0-1017-azure", modules=HYPERV_MODULES).cpu("Intel(R) Xeon(R) Platinum 8370C CPU @ 2.80GHz")
     .clock("hyperv_clocksource_tsc_page acpi_pm", "hyperv_clocksource_tsc_page")
     .dmi(sys_vendor="Microsoft Corporation", product_name="Virtual Machine", bios_vendor="Microsoft Corporation",
          chassis_asset_tag="7783-7084-3265-9085-8269-3286-77").acpi("VRTUAL", "MICROSFT", "MSFT").init(V1_ROOT))

    (Fixture("kvm-hyperv-enlightened", reconstructed("a Windows-friendly QEMU/KVM guest with Hyper-V enlightenments (`-cpu host,hv_*`)", [
        "QEMU docs/system/i386/hyperv.rst: with hv_* flags leaf 0x40000000 says 'Microsoft Hv' (KVM moves to 0x40000100)",
        "DMI and ACPI stay QEMU's; clocksource kvm-clock still available"]), "Microsoft Hv")
     .kernel("6.1.0-18-amd64").cpu("Intel Xeon Processor (Icelake)").clock("kvm-clock hyperv_clocksource_tsc_page tsc", "kvm-clock")
     .dmi(sys_vendor="QEMU", product_name="Standard PC (Q35 + ICH9, 2009)", bios_vendor="EFI Development Kit II / OVMF")
     .acpi("BOCHS", "BXPC", "BXPC").virtio("pci").pci_bridge("0x8086", "0x29c0").init(V1_ROOT))

    (Fixture("vmware", reconstructed("a VMware ESXi 8 guest", [
        "VMware KB 1009458: CPUID 0x40000000 'VMwareVMware'",
        "SMBIOS: sys_vendor 'VMware, Inc.', product 'VMware7,1'"]), "VMwareVMware")
     .kernel("5.14.0-362.el9.x86_64", modules="vmw_balloon 28672 0 - Live 0x0000000000000000\nvmw_vmci 102400 1 vmw_balloon, Live 0x0000000000000000\nvmwgfx 425984 1 - Live 0x0000000000000000\n").cpu("Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz").clock("tsc hpet acpi_pm", "tsc")
     .dmi(sys_vendor="VMware, Inc.", product_name="VMware7,1", bios_vendor="VMware, Inc.").acpi("VMWARE", "EFIFACP").init(V1_ROOT))

    (Fixture("virtualbox", reconstructed("a VirtualBox 7 guest with the default (KVM) paravirtualization interface", [
        "VirtualBox manual 10.5: Linux guests get the 'KVM' paravirt provider, so CPUID says 'KVMKVMKVM' and kvm-clock exists",
        "SMBIOS 'innotek GmbH' / 'VirtualBox'; ACPI OEM 'VBOX  '"]), "KVMKVMKVM")
     .kernel("6.5.0-26-generic", modules="vboxguest 49152 2 vboxsf, Live 0x0000000000000000\nvboxsf 40960 1 - Live 0x0000000000000000\n")
     .cpu("Intel(R) Core(TM) i7-8700 CPU @ 3.20GHz").clock("kvm-clock tsc acpi_pm", "kvm-clock")
     .dmi(sys_vendor="innotek GmbH", product_name="VirtualBox", product_version="1.2", bios_vendor="innotek GmbH",
          board_vendor="Oracle Corporation").acpi("VBOX", "VBOXXSDT", "ASL").init(V1_ROOT))

    (Fixture("parallels", reconstructed("a Parallels Desktop 19 guest on an Intel Mac", [
        "Parallels: CPUID 0x40000000 ' lrpepyh  vr'; SMBIOS 'Parallels Software International Inc.'"]), " lrpepyh  vr")
     .kernel("6.5.0-26-generic").cpu("Intel(R) Core(TM) i9-9880H CPU @ 2.30GHz").clock("tsc hpet acpi_pm", "tsc")
     .dmi(sys_vendor="Parallels Software International Inc.", product_name="Parallels Virtual Platform",
          bios_vendor="Parallels Software International Inc.").acpi("PRLS", "PRLS_OEM").init(V1_ROOT))

    (Fixture("bhyve", reconstructed("a bhyve guest on FreeBSD 14", [
        "bhyve: CPUID 'bhyve bhyve ', SMBIOS product_name 'BHYVE', bios_vendor 'BHYVE', ACPI OEM 'BHYVE '"]), "bhyve bhyve ")
     .kernel("6.1.0-18-amd64").cpu("Intel(R) Xeon(R) CPU E5-2630 v3 @ 2.40GHz").clock("tsc hpet acpi_pm", "tsc")
     .dmi(sys_vendor="FreeBSD", product_name="BHYVE", bios_vendor="BHYVE").acpi("BHYVE", "BVFACP")
     .virtio("pci").init(V1_ROOT))

    (Fixture("acrn", reconstructed("an ACRN User VM (embedded/automotive partitioning hypervisor)", [
        "ACRN hypervisor docs: CPUID 0x40000000 'ACRNACRNACRN'; the User VM has no DMI"]), "ACRNACRNACRN")
     .kernel("5.15.71-acrn-service-vm").cpu("Intel(R) Core(TM) i7-8665U CPU @ 1.90GHz").clock("tsc", "tsc")
     .virtio("pci").init(V1_ROOT))

    (Fixture("aws-nitro", reconstructed("an AWS EC2 m6i.large instance (Nitro hypervisor, KVM-based)", [
        "AWS docs 'Identify EC2 Linux instances': sys_vendor 'Amazon EC2'; Nitro reports CPUID 'KVMKVMKVM'",
        "ACPI OEM 'AMAZON'; ENA/NVMe devices, no virtio"]), "KVMKVMKVM")
     .kernel("6.1.66-91.160.amzn2023.x86_64").cpu("Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz")
     .clock("kvm-clock tsc acpi_pm", "kvm-clock")
     .dmi(sys_vendor="Amazon EC2", product_name="m6i.large", board_vendor="Amazon EC2", bios_vendor="Amazon EC2")
     .acpi("AMAZON", "AMZNFACP", "AMZN").init(V1_ROOT))

    (Fixture("gce", reconstructed("a Google Compute Engine n2-standard-2 VM", [
        "GCE docs 'Detect if running in Compute Engine': product_name 'Google Compute Engine', sys_vendor 'Google'",
        "KVM-based: CPUID 'KVMKVMKVM', kvm-clock; ACPI OEM 'Google'; virtio-pci (gVNIC aside)"]), "KVMKVMKVM")
     .kernel("6.1.0-18-cloud-amd64").cpu("Intel(R) Xeon(R) CPU @ 2.80GHz").clock("kvm-clock tsc acpi_pm", "kvm-clock")
     .dmi(sys_vendor="Google", product_name="Google Compute Engine", board_vendor="Google", bios_vendor="Google")
     .acpi("Google", "GOOGFACP", "GOOG").virtio("pci").pci_bridge("0x8086", "0x1237").init(V1_ROOT))

    (Fixture("oracle-cloud", reconstructed("an Oracle Cloud Infrastructure VM.Standard.E4.Flex instance", [
        "OCI docs: chassis_asset_tag 'OracleCloud.com'; the VMM is QEMU on KVM (SMBIOS 'QEMU', ACPI 'BOCHS ')"]), "KVMKVMKVM")
     .kernel("5.15.0-200.131.27.el8uek.x86_64").cpu("AMD EPYC 7J13 64-Core Processor").clock("kvm-clock tsc acpi_pm", "kvm-clock")
     .dmi(sys_vendor="QEMU", product_name="Standard PC (i440FX + PIIX, 1996)", bios_vendor="SeaBIOS",
          chassis_asset_tag="OracleCloud.com").acpi("BOCHS", "BXPC", "BXPC").virtio("pci").pci_bridge("0x8086", "0x1237")
     .init(V1_ROOT))

    (Fixture("apple-vz", reconstructed("an arm64 Linux guest of Apple Virtualization.framework (macOS 14, EFI boot)", [
        "Virtualization.framework: SMBIOS product 'Apple Virtualization Generic Platform', ACPI OEM 'APPLE '",
        "arm64: no CPUID; clocksource arch_sys_counter; virtio-pci devices"]))
     .kernel("6.5.0-26-generic").file("/proc/cpuinfo", "processor\t: 0\nBogoMIPS\t: 48.00\nFeatures\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid\nCPU implementer\t: 0x61\n\n")
     .clock("arch_sys_counter", "arch_sys_counter")
     .dmi(sys_vendor="Apple Inc.", product_name="Apple Virtualization Generic Platform", bios_vendor="Apple Inc.")
     .acpi("APPLE", "Apple00").virtio("pci").init(V1_ROOT))

    # --- micro-VMs ---------------------------------------------------------------------------------
    (Fixture("firecracker-x86-mmio", reconstructed("a Firecracker 1.7 x86_64 guest with virtio-mmio devices (no PCI)", [
        "firecracker src/vmm/src/builder.rs: devices are declared as `virtio_mmio.device=4K@0xd0000000:5` on the kernel command line",
        "firecracker src/acpi-tables: OEM id 'FIRECK'; no SMBIOS/DMI; runs on KVM (CPUID 'KVMKVMKVM', kvm-clock)"]), "KVMKVMKVM")
     .kernel("6.1.102", cmdline="console=ttyS0 reboot=k panic=1 pci=off root=/dev/vda rw virtio_mmio.device=4K@0xd0000000:5 virtio_mmio.device=4K@0xd0001000:6")
     .cpu("Intel(R) Xeon(R) Platinum 8259CL CPU @ 2.50GHz").clock("kvm-clock tsc", "kvm-clock")
     .acpi("FIRECK", "FCVMDSDT", "FCAT").virtio("mmio", 2).init(V1_ROOT))

    (Fixture("firecracker-arm64", reconstructed("a Firecracker arm64 guest (FDT boot)", [
        "firecracker src/vmm/src/arch/aarch64/fdt.rs: root compatible 'linux,dummy-virt', no fw-cfg node, virtio-mmio nodes",
        "arm64: no CPUID leaf; clocksource arch_sys_counter; no DMI/ACPI"]))
     .kernel("6.1.102", cmdline="keep_bootcon console=ttyS0 reboot=k panic=1 pci=off root=/dev/vda rw")
     .file("/proc/cpuinfo", "processor\t: 0\nBogoMIPS\t: 243.75\nFeatures\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics cpuid\nCPU implementer\t: 0x41\n\n")
     .clock("arch_sys_counter", "arch_sys_counter")
     .file("/proc/device-tree/compatible", b"linux,dummy-virt\0").file("/proc/device-tree/virtio_mmio@40000000/compatible", b"virtio,mmio\0")
     .virtio("mmio-platform", 2).init(V1_ROOT))

    (Fixture("qemu-arm64-virt", reconstructed("a QEMU `-M virt` arm64 guest booted from FDT, on KVM", [
        "QEMU hw/arm/virt.c: compatible 'linux,dummy-virt', a 'fw-cfg@9020000' node, /hypervisor absent"]))
     .kernel("6.1.0-18-arm64").file("/proc/cpuinfo", "processor\t: 0\nFeatures\t: fp asimd evtstrm cpuid\n\n")
     .clock("arch_sys_counter", "arch_sys_counter")
     .file("/proc/device-tree/compatible", b"linux,dummy-virt\0").file("/proc/device-tree/fw-cfg@9020000/compatible", b"qemu,fw-cfg-mmio\0")
     .virtio("mmio-platform", 2).init(V1_ROOT))

    (Fixture("cloud-hypervisor", reconstructed("a Cloud Hypervisor v38 guest on KVM", [
        "cloud-hypervisor vmm/src/acpi.rs: OEM id 'CLOUDH'; arch/src/x86_64/smbios.rs: manufacturer 'Cloud Hypervisor', product 'cloud-hypervisor'",
        "pci/src/bus.rs: PCI root 8086:0d57; KVM CPUID 'KVMKVMKVM', kvm-clock"]), "KVMKVMKVM")
     .kernel("6.2.0", cmdline="console=hvc0 root=/dev/vda1 rw").cpu("Intel(R) Xeon(R) Gold 6338 CPU @ 2.00GHz")
     .clock("kvm-clock tsc", "kvm-clock")
     .dmi(sys_vendor="Cloud Hypervisor", product_name="cloud-hypervisor")
     .acpi("CLOUDH", "CHDSDT", "RVAT").virtio("pci").pci_bridge("0x8086", "0x0d57").init(V1_ROOT))

    # --- sandboxes and guest kernels -------------------------------------------------------------------
    (Fixture("gvisor-in-vm", reconstructed("`docker run --runtime=runsc` (gVisor, systrap platform) inside a KVM VM", [
        "gVisor pkg/sentry/fsimpl/proc: /proc/version is 'Linux version 4.4.0 #1 SMP Sun Jan 10 15:06:54 PST 2016'",
        "gVisor exposes /proc/gvisor/kernel_is_gvisor (runsc >= 2023) and has no /proc/modules",
        "gVisor synthesizes /proc/cpuinfo from the host's features (the 'hypervisor' flag passes through) and "
        "emulates CPUID without the hypervisor leaf, so `cpuid` is absent; /sys has no DMI or clock sources",
        "docker still bind-mounts /.dockerenv into the container, and /etc/hostname, /etc/hosts, /etc/resolv.conf "
        "(moby daemon/container_operations_unix.go); gVisor gives every sandbox its own overlay root and namespaces"]))
     .kernel("4.4.0", version="Linux version 4.4.0 #1 SMP Sun Jan 10 15:06:54 PST 2016", modules=False)
     .cpu("Intel(R) Xeon(R) CPU @ 2.20GHz").file("/proc/gvisor/kernel_is_gvisor", "")
     .file("/.dockerenv").init("0::/\n", {"PATH": "/usr/bin:/bin", "HOSTNAME": "3f1d2c9be7a0"})
     .mounts("none / overlay rw 0 0\nnone /etc/hostname 9p rw 0 0\nnone /etc/hosts 9p rw 0 0\nnone /etc/resolv.conf 9p rw 0 0\n")
     .ns(pid=111, cgroup=112))

    (Fixture("kata-in-kvm", reconstructed("a Kubernetes pod with runtimeClassName kata-qemu (Kata Containers 3), node on KVM", [
        "kata-containers src/runtime: guest kernel params `agent.*` and `systemd.unit=kata-containers.target`",
        "kata shares the container rootfs over virtio-fs with tag 'kataShared' mounted under /run/kata-containers/shared",
        "the guest is a QEMU q35 machine on KVM (SMBIOS 'QEMU', CPUID 'KVMKVMKVM', kvm-clock)",
        "the agent bind-mounts the pod's /etc/hostname and /etc/hosts from the shared directory (src/agent/src/mount.rs)"]), "KVMKVMKVM")
     .kernel("6.1.62", cmdline="tsc=reliable no_timer_check rcupdate.rcu_expedited=1 i8042.direct=1 console=hvc0 quiet panic=1 nr_cpus=2 "
             "selinux=0 systemd.unit=kata-containers.target systemd.mask=systemd-networkd.service agent.log=info agent.container_pipe_size=0")
     .cpu("Intel Xeon Processor (Cascadelake)").clock("kvm-clock tsc", "kvm-clock")
     .dmi(sys_vendor="QEMU", product_name="Standard PC (Q35 + ICH9, 2009)", bios_vendor="SeaBIOS")
     .virtio("pci").pci_bridge("0x8086", "0x29c0")
     .init("0::/\n", {"PATH": "/usr/bin:/bin", "KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443"})
     .mounts("kataShared /run/kata-containers/shared/containers virtiofs rw,relatime 0 0\n"
             "none / virtiofs rw,relatime 0 0\nproc /proc proc rw,nosuid,nodev,noexec,relatime 0 0\n"
             "kataShared /etc/hostname virtiofs rw,relatime 0 0\nkataShared /etc/hosts virtiofs rw,relatime 0 0\n")
     .file("/var/run/secrets/kubernetes.io/serviceaccount/namespace", "default\n"))

    (Fixture("wsl2", reconstructed("Ubuntu 22.04 on WSL2 (Windows 11)", [
        "WSL2 kernel release '5.15.153.1-microsoft-standard-WSL2'; binfmt_misc WSLInterop registered",
        "the utility VM runs on Hyper-V: CPUID 'Microsoft Hv', hyperv clocksource, no DMI"]), "Microsoft Hv")
     .kernel("5.15.153.1-microsoft-standard-WSL2", version="Linux version 5.15.153.1-microsoft-standard-WSL2 (root@941d701f84f1) (gcc (GCC) 11.2.0) #1 SMP Fri Mar 29 23:14:13 UTC 2024")
     .cpu("Intel(R) Core(TM) i7-1185G7 @ 3.00GHz").clock("hyperv_clocksource_tsc_page tsc acpi_pm", "tsc")
     .file("/proc/sys/fs/binfmt_misc/WSLInterop", "enabled\ninterpreter /init\n").init("0::/\n"))

    (Fixture("wsl1", reconstructed("Ubuntu 20.04 on WSL1 (Windows 10 19045, no VM: system calls are translated by the NT kernel)", [
        "WSL1 kernel release '4.4.0-19041-Microsoft' and /proc/version '... (Microsoft@Microsoft.com) ...'",
        "no hypervisor layer is visible to Linux; `cpuid` absent"]))
     .kernel("4.4.0-19041-Microsoft", version="Linux version 4.4.0-19041-Microsoft (Microsoft@Microsoft.com) (gcc version 5.4.0 (GCC) ) #3996-Microsoft Thu Jan 18 16:36:00 PST 2024")
     .cpu("Intel(R) Core(TM) i7-8650U CPU @ 1.90GHz", X86_FLAGS_METAL.replace(" vmx", ""))
     .file("/proc/sys/fs/binfmt_misc/WSLInterop", "enabled\n").init("0::/\n"))

    # --- containers on bare metal ---------------------------------------------------------------------
    (Fixture("docker", reconstructed("`docker run` (Docker 24, cgroup v1 cgroupfs driver) on a bare-metal Debian host", [
        "moby daemon/initlayer: /.dockerenv; cgroup v1 paths /docker/<64-hex id>"]))
     .kernel("6.1.0-18-amd64").cpu("AMD Ryzen 7 5800X 8-Core Processor", X86_FLAGS_METAL.replace("vmx", "svm"))
     .clock("tsc hpet acpi_pm", "tsc").file("/.dockerenv").container_root()
     .init("".join(f"{i}:{c}:/docker/{DOCKER_ID}\n" for i, c in enumerate(["cpu,cpuacct", "memory", "pids", "name=systemd"], 1)),
           {"PATH": "/usr/bin:/bin", "HOSTNAME": DOCKER_ID[:12]}))

    (Fixture("podman", reconstructed("rootful `podman run` (Podman 4.9, cgroup v2, systemd driver) on Fedora 39", [
        "containers/common: /run/.containerenv with engine=\"podman-4.9.4\"; PID 1 environment container=podman",
        "cgroup v2 path machine.slice/libpod-<id>.scope"]))
     .kernel("6.7.5-200.fc39.x86_64").cpu("Intel(R) Core(TM) i7-12700H", X86_FLAGS_METAL).clock("tsc hpet acpi_pm", "tsc")
     .file("/run/.containerenv", f'engine="podman-4.9.4"\nname="web"\nid="{DOCKER_ID}"\nimage="docker.io/library/nginx:latest"\nrootless=0\n')
     .container_root("/var/lib/containers/storage/overlay/l/ZJ3K2L4M5N6B7V8C9X0Z1A2S3D")
     .init(f"0::/machine.slice/libpod-{DOCKER_ID}.scope/container\n", {"PATH": "/usr/bin:/bin", "container": "podman"}))

    (Fixture("k8s-containerd", reconstructed("a Kubernetes 1.29 pod on containerd 1.7 (cgroup v1, cgroupfs driver) on a bare-metal node", [
        "kubelet cgroup layout /kubepods/<qos>/pod<uid>/<container id>",
        "every pod gets KUBERNETES_SERVICE_HOST and a service-account token mount"]))
     .kernel("5.15.0-101-generic").cpu("Intel(R) Xeon(R) Silver 4210R CPU @ 2.40GHz", X86_FLAGS_METAL).clock("tsc hpet acpi_pm", "tsc")
     .container_root("/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots/41/fs")
     .init("".join(f"{i}:{c}:/kubepods/burstable/pod{POD_UID}/{DOCKER_ID}\n" for i, c in enumerate(["cpu,cpuacct", "memory", "pids"], 1)),
           {"PATH": "/usr/bin:/bin", "KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443"})
     .file("/var/run/secrets/kubernetes.io/serviceaccount/namespace", "default\n"))

    (Fixture("k8s-crio", reconstructed("an OpenShift 4.15 pod on CRI-O (cgroup v2, systemd driver) on a bare-metal node", [
        "CRI-O names scopes crio-<id>.scope under kubepods-<qos>-pod<uid>.slice"]))
     .kernel("5.14.0-284.el9.x86_64").cpu("Intel(R) Xeon(R) Gold 6338 CPU @ 2.00GHz", X86_FLAGS_METAL).clock("tsc hpet acpi_pm", "tsc")
     .container_root("/var/lib/containers/storage/overlay/l/ZJ3K2L4M5N6B7V8C9X0Z1A2S3D")
     .init(f"0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{POD_UID.replace('-', '_')}.slice/crio-{DOCKER_ID}.scope\n",
           {"PATH": "/usr/bin:/bin", "KUBERNETES_SERVICE_HOST": "172.30.0.1", "container": "oci"})
     .file("/var/run/secrets/kubernetes.io/serviceaccount/namespace", "default\n"))

    (Fixture("lxc", reconstructed("an LXC 5 system container (Incus/LXD style) on a bare-metal host", [
        "lxc sets container=lxc in the init environment; cgroup v2 path /lxc.payload.c1"]))
     .kernel("6.1.0-18-amd64").cpu("AMD EPYC 7302P 16-Core Processor", X86_FLAGS_METAL).clock("tsc hpet acpi_pm", "tsc")
     .init("0::/init.scope\n", {"container": "lxc", "PATH": "/usr/bin:/bin"}))

    (Fixture("systemd-nspawn", reconstructed("a systemd-nspawn container (`machinectl start`) on Arch Linux", [
        "systemd: container=systemd-nspawn in the init environment and /run/systemd/container",
        "cgroup v2 path /machine.slice/systemd-nspawn@c1.service/payload"]))
     .kernel("6.7.9-arch1-1").cpu("AMD Ryzen 9 7950X 16-Core Processor", X86_FLAGS_METAL).clock("tsc hpet acpi_pm", "tsc")
     .file("/run/systemd/container", "systemd-nspawn\n")
     .init("0::/init.scope\n", {"container": "systemd-nspawn", "PATH": "/usr/bin:/bin"}))

    # --- nested ---------------------------------------------------------------------------------------
    (Fixture("docker-in-kvm-vm", reconstructed("`docker run` inside a libvirt QEMU/KVM VM", [
        "the kvm-qemu fixture's VM signals plus Docker's /.dockerenv and /docker/<id> cgroups"]), "KVMKVMKVM")
     .kernel("5.15.0-101-generic").cpu("Intel Xeon Processor (Cascadelake)").clock("kvm-clock tsc acpi_pm", "kvm-clock")
     .dmi(sys_vendor="QEMU", product_name="Standard PC (Q35 + ICH9, 2009)", bios_vendor="SeaBIOS")
     .acpi("BOCHS", "BXPC", "BXPC").virtio("pci").pci_bridge("0x8086", "0x29c0").file("/.dockerenv").container_root()
     .init("".join(f"{i}:{c}:/docker/{DOCKER_ID}\n" for i, c in enumerate(["cpu,cpuacct", "memory", "pids"], 1))))


    (Fixture("docker-desktop-wsl2", reconstructed("a container of Docker Desktop's WSL2 backend on Windows 11", [
        "Docker Desktop runs containers in its docker-desktop WSL2 distribution: the container sees the WSL2 kernel "
        "release '5.15.153.1-microsoft-standard-WSL2', Hyper-V's CPUID 'Microsoft Hv' and hyperv clocksource",
        "Docker's /.dockerenv and /docker/<id> cgroups (cgroup v1 layout of the docker-desktop distribution)"]), "Microsoft Hv")
     .kernel("5.15.153.1-microsoft-standard-WSL2", version="Linux version 5.15.153.1-microsoft-standard-WSL2 (root@941d701f84f1) (gcc (GCC) 11.2.0) #1 SMP Fri Mar 29 23:14:13 UTC 2024")
     .cpu("Intel(R) Core(TM) i7-1185G7 @ 3.00GHz").clock("hyperv_clocksource_tsc_page tsc acpi_pm", "tsc")
     .file("/.dockerenv").container_root()
     .init("".join(f"{i}:{c}:/docker/{DOCKER_ID}\n" for i, c in enumerate(["cpu,cpuacct", "memory", "pids"], 1)),
           {"PATH": "/usr/bin:/bin", "HOSTNAME": DOCKER_ID[:12]}))


    # --- cases where the answer needs more than one family of signals ------------------------------
    (Fixture("aws-graviton", reconstructed("an AWS EC2 m7g.large instance (Graviton3, arm64 Nitro VM)", [
        "AWS docs 'Identify EC2 Linux instances': sys_vendor 'Amazon EC2'; arm64 has no CPUID leaf and no cpuinfo 'hypervisor' flag",
        "systemd src/basic/virt.c detect_vm_smbios: SMBIOS type 0 byte 0x13 bit 4 is set in EC2 VMs (DSP0134 2.1.2.2)",
        "ACPI OEM 'AMAZON' (also on metal); clocksource arch_sys_counter"]))
     .kernel("6.1.66-91.160.amzn2023.aarch64")
     .file("/proc/cpuinfo", "processor\t: 0\nBogoMIPS\t: 2100.00\nFeatures\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm jscvt fcma lrcpc dcpop sha3 sm3 sm4 asimddp sha512 sve asimdfhm dit uscat ilrcpc flagm ssbs paca pacg dcpodp svei8mm svebf16 i8mm bf16 dgh rng\nCPU implementer\t: 0x41\n\n")
     .clock("arch_sys_counter", "arch_sys_counter")
     .dmi(sys_vendor="Amazon EC2", product_name="m7g.large", board_vendor="Amazon EC2", bios_vendor="AWS")
     .smbios(True).acpi("AMAZON", "AMZNFACP", "AMZN").init(V1_ROOT))

    (Fixture("aws-graviton-metal", reconstructed("an AWS EC2 m7g.metal instance (Graviton3 bare metal)", [
        "same DMI vendor as the VMs; SMBIOS type 0 byte 0x13 bit 4 clear on metal (systemd src/basic/virt.c detect_vm_dmi)",
        "product_name ends in '.metal'"]))
     .kernel("6.1.66-91.160.amzn2023.aarch64")
     .file("/proc/cpuinfo", "processor\t: 0\nBogoMIPS\t: 2100.00\nFeatures\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics cpuid\nCPU implementer\t: 0x41\n\n")
     .clock("arch_sys_counter", "arch_sys_counter")
     .dmi(sys_vendor="Amazon EC2", product_name="m7g.metal", board_vendor="Amazon EC2", bios_vendor="AWS")
     .smbios(False).acpi("AMAZON", "AMZNFACP", "AMZN").init(V1_ROOT).file("/dev/kvm"))

    (Fixture("chromebook", reconstructed("a Chromebook (coreboot firmware, Chrome OS Linux / Crostini host kernel)", [
        "coreboot src/mainboard/google/*/Kconfig: MAINBOARD_SMBIOS_MANUFACTURER \"Google\"; bios_vendor 'coreboot'",
        "systemd's DMI table matches 'Google Compute Engine' only, so this is no VM; coreboot ACPI OEM id 'COREv4'"]))
     .kernel("5.15.153-22574-g2a8f4b4dd6c3").cpu("Intel(R) Core(TM) i5-1235U", X86_FLAGS_METAL).clock("tsc hpet acpi_pm", "tsc")
     .dmi(sys_vendor="Google", product_name="Brya", product_version="rev3", bios_vendor="coreboot", board_vendor="Google")
     .acpi("COREv4", "COREBOOT", "CORE").init(V1_ROOT).file("/dev/kvm"))

    (Fixture("crosvm-arm64", reconstructed("a crosvm arm64 guest (Chrome OS / Android virtualization framework style)", [
        "crosvm aarch64/src/fdt.rs: root compatible 'linux,dummy-virt', virtio-mmio or virtio-pci nodes, no fw-cfg, no SMBIOS",
        "the same FDT shape as Firecracker's and kvmtool's: no signal here names the VMM"]))
     .kernel("6.1.55", cmdline="console=ttyS0 panic=-1 root=/dev/vda")
     .file("/proc/cpuinfo", "processor\t: 0\nBogoMIPS\t: 48.00\nFeatures\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics cpuid\nCPU implementer\t: 0x41\n\n")
     .clock("arch_sys_counter", "arch_sys_counter")
     .file("/proc/device-tree/compatible", b"linux,dummy-virt\0").file("/proc/device-tree/virtio_mmio@a000000/compatible", b"virtio,mmio\0")
     .virtio("mmio-platform", 2).init(V1_ROOT))

    (Fixture("xen-dom0-nested-kvm", reconstructed("Xen dom0 (PV) booted inside a QEMU/KVM VM (nested Xen test rig)", [
        "systemd src/basic/virt.c detect_vm: dom0 is not reported as a VM, but 'Xen PV mode does not override CPUID when "
        "nested inside another hypervisor', so CPUID still shows the outer KVM",
        "the outer machine's DMI and ACPI are QEMU's; XENFEAT_dom0 set, /proc/xen/capabilities 'control_d'"]), "KVMKVMKVM")
     .kernel("6.1.0-18-amd64").cpu("Intel Xeon Processor (Cascadelake)").clock("xen tsc", "xen")
     .dmi(sys_vendor="QEMU", product_name="Standard PC (Q35 + ICH9, 2009)", bios_vendor="SeaBIOS")
     .acpi("BOCHS", "BXPC", "BXPC").file("/sys/hypervisor/type", "xen\n").file("/sys/hypervisor/guest_type", "PV\n")
     .file("/sys/hypervisor/properties/features", "00000f05\n").file("/proc/xen/capabilities", "control_d\n").init(V1_ROOT))

    (Fixture("powervm", reconstructed("an IBM Power10 LPAR under PowerVM (HMC-managed), ppc64le", [
        "systemd src/basic/virt.c detect_vm_device_tree: /proc/device-tree/ibm,partition-name and hmc-managed? without "
        "chosen/qemu,graphic-width mean PowerVM; no /hypervisor node, no CPUID, no DMI"]))
     .kernel("5.14.0-362.el9.ppc64le").file("/proc/cpuinfo", "processor\t: 0\ncpu\t\t: POWER10 (architected), altivec supported\nclock\t\t: 3900.000000MHz\n\n")
     .clock("timebase", "timebase")
     .file("/proc/device-tree/compatible", b"IBM,9080-HEX\0").file("/proc/device-tree/ibm,partition-name", b"lpar01\0")
     .file("/proc/device-tree/hmc-managed?", b"").init(V1_ROOT))

    (Fixture("edera-zone", reconstructed("a process inside an Edera (krata) zone: a Xen PV guest booted from krata's zone initrd", [
        "edera-dev/krata crates/zone/src/init.rs at a320efad6ba9c7d3897862e0a024bec17782c9f3: /init mounts /dev/xvda (image) "
        "at /image and /dev/xvdb (config) at /config, an overlay 'overlayfs:/overlay' with lowerdir=/overlay/image on /newroot, "
        "chroots there, mounts proc with hidepid=1 and cgroup2, and forks the workload into cgroup 'krata-zone-task' with "
        "KRATA_CONTAINER=1 in its environment",
        "edera-dev/krata crates/runtime/src/launch.rs: kernel command line 'console=hvc0 quiet'; disks xvda, xvdb; PV domain",
        "Xen PV: /sys/hypervisor/type 'xen', guest_type 'PV', clocksource 'xen', no DMI or ACPI"]))
     .kernel("6.6.32", cmdline="console=hvc0 quiet").cpu("AMD EPYC 7763 64-Core Processor")
     .clock("xen tsc", "xen").file("/sys/hypervisor/type", "xen\n").file("/sys/hypervisor/guest_type", "PV\n")
     .file("/sys/hypervisor/properties/features", "00000705\n").file("/proc/xen/capabilities", "")
     .init("0::/krata-zone-task\n", {"PATH": "/usr/local/bin:/usr/bin:/bin", "KRATA_CONTAINER": "1", "TERM": "xterm"})
     .mounts("overlayfs:/overlay / overlay rw,noatime,lowerdir=/overlay/image,upperdir=/overlay/upper,workdir=/overlay/work 0 0\n"
             "proc /proc proc rw,nosuid,noexec,relatime,hidepid=invisible 0 0\ncgroup2 /sys/fs/cgroup cgroup2 rw,nosuid,noexec,relatime 0 0\n"))

    (Fixture("uml", reconstructed("a User-Mode Linux guest (linux ARCH=um, run as a process on a Linux host)", [
        "linux arch/um/kernel/um_arch.c show_cpuinfo: 'vendor_id\\t: User Mode Linux'; systemd src/basic/virt.c detect_vm_uml"]))
     .kernel("6.1.0", cmdline="ubd0=rootfs.img mem=256M")
     .file("/proc/cpuinfo", "processor\t: 0\nvendor_id\t: User Mode Linux\nmodel name\t: UML\nmode\t\t: skas\nhost\t\t: Linux 6.1.0-18-amd64\nfpu\t\t: yes\nflags\t\t: fpu cmov cx8 mmx fxsr sse sse2\n\n")
     .init(V1_ROOT))

    (Fixture("zvm", reconstructed("a Linux guest of z/VM 7.3 on an IBM z16 (s390x)", [
        "linux arch/s390/kernel/sysinfo.c: /proc/sysinfo 'VM00 Control Program: z/VM    7.3.0'; systemd src/basic/virt.c detect_vm_zvm"]))
     .kernel("5.14.0-362.el9.s390x").file("/proc/cpuinfo", "vendor_id       : IBM/S390\n# processors    : 2\n\n")
     .file("/proc/sysinfo", "Manufacturer:         IBM\nType:                 3931\nVM00 Name:            LINUX01\nVM00 Control Program: z/VM    7.3.0\n")
     .init(V1_ROOT))

    (Fixture("dockerenv-in-kvm-vm", reconstructed("a QEMU/KVM VM whose disk image was built with Docker (`docker export` to a rootfs)", [
        "moby daemon/initlayer writes /.dockerenv into every container's rootfs, so an image exported from one keeps it",
        "systemd src/basic/virt.c detect_container_files checks /.dockerenv last because it 'could inadvertently end up "
        "in a file system image'; here root is ext4 on a block device, PID 1 in the initial namespaces, every cgroup '/'"]), "KVMKVMKVM")
     .kernel("6.1.0-18-amd64").cpu("Intel Xeon Processor (Cascadelake)").clock("kvm-clock tsc acpi_pm", "kvm-clock")
     .dmi(sys_vendor="QEMU", product_name="Standard PC (Q35 + ICH9, 2009)", bios_vendor="SeaBIOS")
     .acpi("BOCHS", "BXPC", "BXPC").virtio("pci").pci_bridge("0x8086", "0x29c0").file("/.dockerenv")
     .mounts("/dev/vda1 / ext4 rw,relatime 0 0\nproc /proc proc rw,nosuid,nodev,noexec,relatime 0 0\n").ns().init(V1_ROOT))

    (Fixture("proot", reconstructed("a process under proot (ptrace-based chroot, e.g. Termux's proot-distro) on an arm64 phone", [
        "systemd src/basic/virt.c detect_container: proot uses no pid namespace; TracerPid in /proc/self/status names a "
        "process whose comm starts with 'proot'"]))
     .kernel("5.10.136-android12-9").file("/proc/cpuinfo", "processor\t: 0\nFeatures\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics cpuid\n\n")
     .init(V1_ROOT).file("/proc/1/status", "Name:\tbash\nPPid:\t0\nTracerPid:\t4242\n")
     .file("/proc/4242/comm", "proot\n"))

    (Fixture("openvz", reconstructed("an OpenVZ 7 container (Virtuozzo kernel)", [
        "systemd src/basic/virt.c detect_container: /proc/vz exists in and outside containers, /proc/bc only outside"]))
     .kernel("3.10.0-1160.99.1.vz7.220.7").cpu("Intel(R) Xeon(R) CPU E5-2650 v4 @ 2.20GHz", X86_FLAGS_METAL)
     .file("/proc/vz/veinfo", "").init(V1_ROOT))

    (Fixture("unnamed-container", reconstructed("a process of a runtime that leaves no marker (e.g. a bare `runc run` or `unshare --pid --fork` into an image)", [
        "runc libcontainer: new pid and cgroup namespaces and an overlay root assembled by the caller; no /.dockerenv, no container="]))
     .kernel("6.1.0-18-amd64").cpu("AMD EPYC 7302P 16-Core Processor", X86_FLAGS_METAL).clock("tsc hpet acpi_pm", "tsc")
     .mounts("overlay / overlay rw,relatime,lowerdir=/l,upperdir=/u,workdir=/w 0 0\n").ns(pid=4026532300, cgroup=4026532301)
     .init("0::/\n"))



if __name__ == "__main__":
    build()
