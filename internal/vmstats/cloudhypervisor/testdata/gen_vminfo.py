#!/usr/bin/env python3
"""Writes the vm.info fixtures (see ORIGIN): GET /api/v1/vm.info answers as Cloud Hypervisor's
serde_json writes them, field by field from the structs of cloud-hypervisor/cloud-hypervisor at
commit ae44c2971c83dd2b1bd704fa81102ec0dec4e7d4 (vmm/src/vm_config.rs, vmm/src/api/mod.rs,
vmm/src/device_tree.rs): declaration order, #[serde(flatten)] members inlined, None omitted where
the struct is #[serde_with::skip_serializing_none] (VmConfig, CpusConfig, MemoryConfig,
MemoryZoneConfig, PayloadConfig, PciDeviceCommonConfig, CommonConsoleConfig,
DebugConsoleConfig, DeviceNode, VmInfoResponse), PciDeviceCommonConfig.iommu omitted when false,
#[serde(skip)] fields absent, cfg-gated fields of a default x86_64 build only. Run it in this
folder: python3 gen_vminfo.py"""
import json

G = 1 << 30
M = 1 << 20


def pci_common():
    return {"pci_segment": 0}  # id and pci_device_id None, iommu false: omitted


def cpus(boot, maximum):
    return {"boot_vcpus": boot, "max_vcpus": maximum, "kvm_hyperv": False, "max_phys_bits": 46,
            "features": {"amx": False}, "nested": True, "core_scheduling": "Vm", "profile": "Host"}


def memory(size, hotplugged=None, hotplug_size=None, zones=None):
    m = {"size": size, "mergeable": False, "hotplug_method": "VirtioMem"}
    if hotplug_size is not None:
        m["hotplug_size"] = hotplug_size
    if hotplugged is not None:
        m["hotplugged_size"] = hotplugged
    m.update({"shared": True, "hugepages": False, "prefault": False, "reserve": False})
    if zones is not None:
        m["zones"] = zones
    m["thp"] = True
    return m


def zone(i, size, hotplugged=None):
    z = {"id": f"mem{i}", "size": size, "shared": False, "hugepages": False}
    if hotplugged is not None:
        z["hotplug_size"] = hotplugged
        z["hotplugged_size"] = hotplugged
    z.update({"prefault": False, "reserve": False, "mergeable": False})
    return z


def config(cpu, mem, balloon=None):
    c = {"cpus": cpu, "memory": mem,
         # Kata's guest kernel and command line (its configuration-clh.toml defaults).
         "payload": {"kernel": "/opt/kata/share/kata-containers/vmlinux.container",
                     "cmdline": "console=hvc0 root=/dev/pmem0p1 rootflags=dax,data=ordered,errors=remount-ro ro rootfstype=ext4"},
         "rng": {**pci_common(), "src": "/dev/urandom"}}
    if balloon is not None:
        c["balloon"] = {**pci_common(), "size": balloon, "deflate_on_oom": False, "free_page_reporting": False}
    c.update({"serial": {"mode": "Null"}, "console": {"mode": "Tty", **pci_common()},
              "debug_console": {"mode": "Off", "iobase": 0xe9},
              "pvpanic": False, "iommu": False, "watchdog": False, "landlock_enable": False})
    return c


def tree(*ids):
    # DeviceTree(HashMap<String, DeviceNode>); parent and pci_bdf None here, resources left
    # empty (nothing reads them).
    return {i: {"id": i, "resources": [], "children": []} for i in ids}


def write(name, doc):
    with open(name, "w") as f:
        f.write(json.dumps(doc, separators=(",", ":")))


# Resized by vm.resize to 2 of 4 vCPUs; 2 GiB booted + 512 MiB plugged by virtio-mem; a 256 MiB
# balloon inflated: memory_actual_size = total - hotplugged - balloon + virtio-mem plugged.
running = {"config": config(cpus(2, 4), memory(2 * G, hotplugged=G // 2, hotplug_size=G), balloon=G // 4),
           "state": "Running", "memory_actual_size": 2 * G - G // 4 + G // 2,
           "device_tree": tree("__rng", "__console", "__balloon")}
write("vm.info.json", running)
b = json.dumps(running, separators=(",", ":"))
with open("vm.info.truncated", "w") as f:
    f.write(b[:len(b) // 2])

# --memory size=0 with two 1 GiB --memory-zone, the second grown by 512 MiB; paused.
zones = {"config": config(cpus(1, 1), memory(0, zones=[zone(0, G), zone(1, G, hotplugged=G // 2)])),
         "state": "Paused", "memory_actual_size": 2 * G + G // 2, "device_tree": tree("__rng", "__console")}
write("vm.info.zones.json", zones)

# The VM of vm.info.json created and not booted: VmOwnership::None, no device tree,
# memory_actual_size the configured memory without what was hot-plugged.
created = dict(running, state="Created", memory_actual_size=2 * G)
del created["device_tree"]
write("vm.info.created.json", created)
