package vmmargs

import "strings"

// QEMUQMPSocket returns the Unix socket of a QMP monitor that QEMU serves, as its command line
// sets it up (qemu/qemu system/vl.c, commit 00cfbdcbe16dd1af2af8aba0584a2acf2b4d8ce6:
// -qmp and -qmp-pretty go to monitor_parse(optarg, "control"), whose "chardev:<id>" names a
// -chardev and anything else is a chardev in the compat syntax of qemu_chr_parse_compat,
// chardev/char.c, where "unix:<path>,<opts>" is a socket with path implied; -mon takes
// QemuOpts with chardev implied and mode "readline" unless mode=control). Only a listening
// socket (server=on) can be connected to: a monitor that connects out (a client chardev,
// Proxmox's qmeventd) or was handed a descriptor is not, nor libvirt's own monitor, which
// libvirtd holds (by fd= today, by path on older releases). ErrNotNamed when there is none.
func QEMUQMPSocket(cmdline []byte) (string, error) {
	args, err := split(cmdline)
	if err != nil {
		return "", err
	}
	chardevs := map[string]string{} // id -> path, listening unix sockets
	var monitors []string           // chardev ids of control monitors, in order
	var direct string               // the first -qmp unix:<path>,server=on
	for i := 0; i+1 < len(args); i++ {
		opt := args[i]
		if strings.HasPrefix(opt, "--") {
			opt = opt[1:] // QEMU takes -opt and --opt alike
		}
		val := args[i+1]
		switch opt {
		case "-qmp", "-qmp-pretty":
			i++
			if id, ok := strings.CutPrefix(val, "chardev:"); ok {
				monitors = append(monitors, id)
			} else if rest, ok := strings.CutPrefix(val, "unix:"); ok && direct == "" {
				o := qemuOpts(rest, "path")
				if qemuBool(o["server"]) && o["path"] != "" {
					direct = o["path"]
				}
			}
		case "-chardev":
			i++
			o := qemuOpts(val, "backend")
			// libvirt's own monitor (chardev id "charmonitor", qemuBuildMonitorCommandLine of
			// its qemu driver) is libvirtd's, by path on older releases: a second client would
			// wait until libvirtd let go, which it does not.
			if o["backend"] == "socket" && o["id"] != "" && o["id"] != "charmonitor" && o["path"] != "" && qemuBool(o["server"]) {
				chardevs[o["id"]] = o["path"]
			}
		case "-mon":
			i++
			if o := qemuOpts(val, "chardev"); o["mode"] == "control" && o["chardev"] != "" {
				monitors = append(monitors, o["chardev"])
			}
		}
	}
	if direct != "" {
		return checkPath("-qmp", direct)
	}
	for _, id := range monitors {
		if p, ok := chardevs[id]; ok {
			return checkPath("-chardev", p)
		}
	}
	return "", ErrNotNamed
}

// qemuOpts parses a QemuOpts string as util/qemu-option.c does: elements are separated by
// commas, ",," is a literal comma, the first element without '=' is the implied option, a
// later one is a boolean flag ("server" on, "nowait" wait off). The last of a repeated key
// wins, as qemu_opt_get returns the last one set.
func qemuOpts(s, implied string) map[string]string {
	out := map[string]string{}
	first := true
	for len(s) > 0 {
		var elem strings.Builder
		for len(s) > 0 {
			if s[0] == ',' {
				if len(s) > 1 && s[1] == ',' {
					elem.WriteByte(',')
					s = s[2:]
					continue
				}
				s = s[1:]
				break
			}
			elem.WriteByte(s[0])
			s = s[1:]
		}
		e := elem.String()
		if k, v, ok := strings.Cut(e, "="); ok {
			out[k] = v
		} else if first && implied != "" {
			out[implied] = e
		} else if k, ok := strings.CutPrefix(e, "no"); ok && k != "" {
			out[k] = "off"
		} else {
			out[e] = "on"
		}
		first = false
	}
	return out
}

// qemuBool is qapi_bool_parse's true.
func qemuBool(v string) bool { return v == "on" || v == "yes" || v == "true" || v == "y" }
