// Package virtdetect finds every isolation layer between a process and the hardware: the
// hypervisor and virtual machine monitor of the machine, guest kernels and sandboxes (Kata,
// WSL, gVisor) and container engines, outermost first.
//
// Each file format has one small parser (in the style of prometheus/procfs), and every reader
// takes a root directory so that a captured fixture tree, or a host file system mounted into a
// DaemonSet, can stand in for "/". CPUID is the one signal that is not a file: it comes through
// the CPUID interface so fixtures can supply the vendor string their machine reported.
package virtdetect
