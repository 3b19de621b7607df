// Package vmmargs finds the API socket or metrics file a VMM's command line names, parsing
// the arguments as the VMM itself does, and opens what it names inside the VMM's own root
// directory. A command line is written by whoever started the VMM and can be rewritten by the
// VMM (a guest may have taken it over): it is bounded, and what it names is never followed
// outside the VMM's root.
package vmmargs

import (
	"bytes"
	"errors"
	"fmt"
	"path"
	"strconv"
	"strings"

	"github.com/otelcol-virt/otelcol-virt/internal/linuxfs"
)

// Bounds on what is taken from a command line.
const (
	// MaxCmdline bounds /proc/<pid>/cmdline: a VMM's runs to a few KiB; the kernel allows
	// ARG_MAX (a quarter of the stack limit).
	MaxCmdline = 128 << 10
	maxArgs    = 4096
	// maxPath is PATH_MAX (include/uapi/linux/limits.h).
	maxPath = 4096
)

// DescriptorError is returned when the VMM was given an open descriptor instead of a path
// (--api-socket fd=<n>): the socket is found through the VMM's /proc/<pid>/fd/<n> (see
// UnixSocketPath). It is ErrNotNamed for errors.Is.
type DescriptorError struct {
	Arg string
	FD  int
}

func (e *DescriptorError) Error() string {
	return fmt.Sprintf("%s fd=%d: a descriptor, not a path", e.Arg, e.FD)
}

// Is makes a DescriptorError ErrNotNamed.
func (e *DescriptorError) Is(target error) bool { return target == ErrNotNamed }

// ErrNotNamed is returned when the command line does not name the path (the VMM was given
// it through its API or a config file, or a descriptor instead of a path).
var ErrNotNamed = errors.New("not named on the command line")

func malformed(format string, a ...any) error {
	return fmt.Errorf("%w: %s", linuxfs.ErrMalformed, fmt.Sprintf(format, a...))
}

// split returns the arguments after argv[0] of a NUL-separated command line.
func split(cmdline []byte) ([]string, error) {
	if len(cmdline) > MaxCmdline {
		return nil, malformed("command line of %d bytes, more than %d", len(cmdline), MaxCmdline)
	}
	cmdline = bytes.TrimSuffix(cmdline, []byte{0})
	if len(cmdline) == 0 {
		return nil, nil
	}
	if n := bytes.Count(cmdline, []byte{0}) + 1; n > maxArgs {
		return nil, malformed("%d arguments, more than %d", n, maxArgs)
	}
	args := strings.Split(string(cmdline), "\x00")
	return args[1:], nil
}

// checkPath accepts a path of at most PATH_MAX bytes, cleaned. A relative path is relative to
// the VMM's working directory (Root.Open resolves it beneath that directory).
func checkPath(arg, p string) (string, error) {
	switch {
	case p == "":
		return "", malformed("%s: empty path", arg)
	case len(p) > maxPath:
		return "", malformed("%s: path of %d bytes, more than %d", arg, len(p), maxPath)
	case strings.IndexByte(p, 0) >= 0:
		return "", malformed("%s: path with a NUL byte", arg)
	}
	return path.Clean(p), nil
}

// FirecrackerMetricsPath returns the value of --metrics-path, parsed as Firecracker's
// argument parser does (firecracker-microvm/firecracker src/utils/src/arg_parser.rs and
// src/firecracker/src/main.rs, commit 81b38b9dad6056d7a48073e95ac5a9aed51cb2ab): arguments
// end at the first "--" (what follows is extra arguments), a name is "--" and the name, its
// value is the next argument and may not begin with "--" (no "--name=value" form), and an
// argument given twice is refused. A metrics path set by the API (PUT /metrics) is not on the
// command line, and GET /vm/config does not report it (src/vmm/src/resources.rs leaves metrics
// out): ErrNotNamed. One set in --config-file is found with FirecrackerConfigFile and
// ParseFirecrackerConfig.
func FirecrackerMetricsPath(cmdline []byte) (string, error) {
	return firecrackerPath(cmdline, "--metrics-path")
}

// FirecrackerConfigFile returns the value of --config-file (see FirecrackerMetricsPath), the
// JSON file Firecracker configures the VM from at start (main.rs: fs::read_to_string of the
// path, relative to its working directory).
func FirecrackerConfigFile(cmdline []byte) (string, error) {
	return firecrackerPath(cmdline, "--config-file")
}

// FirecrackerConfigFileOf is FirecrackerConfigFile of an argument vector (argv[0] first).
func FirecrackerConfigFileOf(argv []string) (string, error) {
	if len(argv) > maxArgs {
		return "", malformed("%d arguments, more than %d", len(argv), maxArgs)
	}
	if len(argv) == 0 {
		return "", ErrNotNamed
	}
	return firecrackerArg(argv[1:], "--config-file")
}

// FirecrackerDefaultAPISocket is DEFAULT_API_SOCK_PATH of src/firecracker/src/main.rs (commit
// 81b38b9d): the socket of a Firecracker started without --api-sock, inside its root (a jailed
// one's chroot).
const FirecrackerDefaultAPISocket = "/run/firecracker.socket"

// ErrNoAPI is returned for a Firecracker started with --no-api: it serves no socket.
var ErrNoAPI = fmt.Errorf("--no-api: %w", ErrNotNamed)

// FirecrackerAPISocket returns the socket Firecracker serves its API on (see
// FirecrackerMetricsPath for how its arguments parse): --api-sock, else the default, and
// ErrNoAPI when --no-api is given (main.rs: api_enabled = !flag_present("no-api")).
func FirecrackerAPISocket(cmdline []byte) (string, error) {
	args, err := split(cmdline)
	if err != nil {
		return "", err
	}
	for _, a := range args {
		if a == "--" {
			break
		}
		if a == "--no-api" {
			return "", ErrNoAPI
		}
	}
	p, err := firecrackerArg(args, "--api-sock")
	if errors.Is(err, ErrNotNamed) {
		return FirecrackerDefaultAPISocket, nil
	}
	return p, err
}

func firecrackerPath(cmdline []byte, name string) (string, error) {
	args, err := split(cmdline)
	if err != nil {
		return "", err
	}
	return firecrackerArg(args, name)
}

// firecrackerArg finds the path argument name in args (argv[0] left out).
func firecrackerArg(args []string, name string) (string, error) {
	val, found := "", false
	for i := 0; i < len(args) && args[i] != "--"; i++ {
		if args[i] != name {
			continue
		}
		if found {
			return "", malformed("%s given twice (Firecracker refuses it)", name)
		}
		if i+1 >= len(args) || strings.HasPrefix(args[i+1], "--") {
			return "", malformed("%s without a value", name)
		}
		val, found = args[i+1], true
		i++
	}
	if !found {
		return "", ErrNotNamed
	}
	return checkPath(name, val)
}

// CloudHypervisorAPISocket returns the API socket path of --api-socket, parsed as Cloud
// Hypervisor does (cloud-hypervisor/cloud-hypervisor cloud-hypervisor/src/main.rs
// parse_api_socket and option_parser/src/lib.rs, commit
// ae44c2971c83dd2b1bd704fa81102ec0dec4e7d4): the value follows "--api-socket" or "=" (clap),
// the option may be given once, and it is "path=<path>", "fd=<fd>" (a descriptor the
// launcher passed: ErrNotNamed) or, when neither option parses, the value itself as a bare
// path.
func CloudHypervisorAPISocket(cmdline []byte) (string, error) {
	const name = "--api-socket"
	args, err := split(cmdline)
	if err != nil {
		return "", err
	}
	val, found := "", false
	for i := 0; i < len(args) && args[i] != "--"; i++ {
		var v string
		switch a := args[i]; {
		case a == name:
			if i+1 >= len(args) || strings.HasPrefix(args[i+1], "-") {
				return "", malformed("%s without a value", name)
			}
			v = args[i+1]
			i++
		case strings.HasPrefix(a, name+"="):
			v = a[len(name)+1:]
		default:
			continue
		}
		if found {
			return "", malformed("%s given twice (Cloud Hypervisor refuses it)", name)
		}
		val, found = v, true
	}
	if !found {
		return "", ErrNotNamed
	}
	opts := parseOptions(val, "path", "fd")
	if v := opts["fd"]; v != "" {
		// parse_api_socket: fd.parse::<RawFd>(), an i32.
		fd, err := strconv.ParseInt(v, 10, 32)
		if err != nil || fd < 0 {
			return "", malformed("%s fd=%s: not a descriptor number", name, v)
		}
		return "", &DescriptorError{Arg: name, FD: int(fd)}
	}
	if p := opts["path"]; p != "" {
		return checkPath(name, p)
	}
	return checkPath(name, val)
}

// parseOptions is Cloud Hypervisor's OptionParser.parse for options that all require a value,
// with its error ignored as parse_api_socket does (unwrap_or_default): the options set before
// the first bad one are kept. Values are trimmed and dequoted as OptionParser.get does; an
// empty value counts as unset.
func parseOptions(input string, names ...string) map[string]string {
	out := map[string]string{}
	if strings.TrimSpace(input) == "" {
		return out
	}
	list, ok := splitCommas(input)
	if !ok {
		return out
	}
	for _, opt := range list {
		k, v, hasValue := strings.Cut(opt, "=")
		known := false
		for _, n := range names {
			known = known || n == k
		}
		if !known || !hasValue {
			return out // UnknownOption or InvalidSyntax: parsing stops here
		}
		out[k] = dequote(strings.TrimSpace(v))
	}
	return out
}

// splitCommas is option_parser's split_commas: commas split the trimmed input except inside
// double quotes or brackets; unbalanced quotes or brackets fail.
func splitCommas(s string) ([]string, bool) {
	var list []string
	var cur strings.Builder
	brackets, quoted := 0, false
	for _, c := range strings.TrimSpace(s) {
		switch {
		case c == '"':
			quoted = !quoted
		case quoted:
		case c == '[':
			brackets++
		case c == ']':
			if brackets < 1 {
				return nil, false
			}
			brackets--
		case c == ',' && brackets == 0:
			list = append(list, cur.String())
			cur.Reset()
			continue
		}
		cur.WriteRune(c)
	}
	list = append(list, cur.String())
	return list, !quoted && brackets == 0
}

// dequote is option_parser's dequote: double quotes are removed, and "" outside quotes stands
// for one literal quote.
func dequote(s string) string {
	var out strings.Builder
	prev, quoted := byte(0), false
	for i := 0; i < len(s); i++ {
		b := s[i]
		if b == '"' {
			if prev == '"' && !quoted {
				out.WriteByte('"')
			}
			quoted = !quoted
		} else {
			out.WriteByte(b)
		}
		prev = b
	}
	return out.String()
}
