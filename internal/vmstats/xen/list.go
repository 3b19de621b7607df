// Package xen lists the domains of a Xen host as dom0 sees them: a domain is not a process
// in dom0's /proc, so discovery by process never finds it.
//
// Source: the table `xl list -v` prints, libxl's libxl_dominfo (xen-project/xen
// tools/xl/xl_info.c, list_domains, commit 0e2c886efa9bf9a18a3a413eaa5ead7a1d95eb93): a
// header, then per domain printf("%-40s %5d %5lu %5d     %c%c%c%c%c%c  %8.1f", name, domid,
// (current_memkb + outstanding_memkb) / 1024, vcpu_online, r b p s <reason> d flags,
// cpu_time / 1e9), and with -v " <uuid>", " %8x" shutdown reason or "-", " %16s" security label.
//
// Why this and not the alternatives: `xl list -l` prints the JSON domain configuration
// (printf_info_one_json: {"domid", "config": libxl_domain_config}), which has no CPU time,
// no run state and the configured, not the current, memory; xenstore (/local/domain/<id>/name,
// memory/target, cpu/<n>/availability) has no CPU time either. The hypervisor's own domain
// list (XEN_DOMCTL_getdomaininfo through /dev/xen/privcmd) has it all but its structure
// changes with XEN_DOMCTL_INTERFACE_VERSION at each Xen release, so a pure-Go client would
// break on the next one; the xl table is the stable interface carrying the same figures.
// Time(s) has 0.1 s resolution; at collection intervals of 10 s and more that is 1 %.
package xen

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// Domain is one row of `xl list -v`.
type Domain struct {
	Name     string
	ID       int
	MemMiB   uint64
	VCPUs    int
	State    State
	CPUTimeS float64
	UUID     string // "" without -v
	// ShutdownReason is the hex code, -1 when not shut down.
	ShutdownReason int
	SecurityLabel  string
}

// State holds the six flag columns (r b p s <reason> d).
type State struct {
	Running, Blocked, Paused, Shutdown, Dying bool
	// Reason is the shutdown reason letter ('-' none, r s c w S, '?' unknown).
	Reason byte
}

// maxDomains bounds one listing (Xen's DOMID_FIRST_RESERVED is 0x7FF0).
const maxDomains = 0x7FF0

// ParseList parses the output of `xl list` or `xl list -v`. Names are read as everything
// before the five fixed columns, so a name with spaces survives.
func ParseList(out []byte) ([]Domain, error) {
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 4096), 64<<10)
	if !sc.Scan() || !strings.HasPrefix(sc.Text(), "Name") || !strings.Contains(sc.Text(), "Time(s)") {
		return nil, fmt.Errorf("xl list: no header")
	}
	verbose := strings.Contains(sc.Text(), "UUID")
	var doms []Domain
	for sc.Scan() {
		line := sc.Text()
		if strings.TrimSpace(line) == "" {
			continue
		}
		if len(doms) >= maxDomains {
			return nil, fmt.Errorf("xl list: more than %d domains", maxDomains)
		}
		f := strings.Fields(line)
		extra := 0
		if verbose {
			extra = 3 // uuid, reason, label
		}
		if len(f) < 6+extra {
			return nil, fmt.Errorf("xl list: short line %q", line)
		}
		tail := f[len(f)-5-extra:]
		d := Domain{Name: strings.Join(f[:len(f)-5-extra], " "), ShutdownReason: -1}
		var err error
		if d.ID, err = strconv.Atoi(tail[0]); err != nil || d.ID < 0 || d.ID >= maxDomains {
			return nil, fmt.Errorf("xl list: bad domain id %q", tail[0])
		}
		if d.MemMiB, err = strconv.ParseUint(tail[1], 10, 64); err != nil {
			return nil, fmt.Errorf("xl list: bad memory %q", tail[1])
		}
		if d.VCPUs, err = strconv.Atoi(tail[2]); err != nil || d.VCPUs < 0 || d.VCPUs > 4096 {
			return nil, fmt.Errorf("xl list: bad vcpus %q", tail[2])
		}
		if d.State, err = parseState(tail[3]); err != nil {
			return nil, err
		}
		if d.CPUTimeS, err = strconv.ParseFloat(tail[4], 64); err != nil || d.CPUTimeS < 0 {
			return nil, fmt.Errorf("xl list: bad time %q", tail[4])
		}
		if verbose {
			d.UUID = tail[5]
			if len(d.UUID) != 36 {
				return nil, fmt.Errorf("xl list: bad uuid %q", d.UUID)
			}
			if tail[6] != "-" {
				r, err := strconv.ParseUint(tail[6], 16, 31)
				if err != nil {
					return nil, fmt.Errorf("xl list: bad reason %q", tail[6])
				}
				d.ShutdownReason = int(r)
			}
			d.SecurityLabel = tail[7]
		}
		if d.Name == "" {
			return nil, fmt.Errorf("xl list: no name in %q", line)
		}
		doms = append(doms, d)
	}
	return doms, sc.Err()
}

func parseState(s string) (State, error) {
	if len(s) != 6 {
		return State{}, fmt.Errorf("xl list: bad state %q", s)
	}
	flag := func(i int, c byte) (bool, error) {
		switch s[i] {
		case c:
			return true, nil
		case '-':
			return false, nil
		}
		return false, fmt.Errorf("xl list: bad state %q", s)
	}
	var st State
	var err [5]error
	st.Running, err[0] = flag(0, 'r')
	st.Blocked, err[1] = flag(1, 'b')
	st.Paused, err[2] = flag(2, 'p')
	st.Shutdown, err[3] = flag(3, 's')
	st.Dying, err[4] = flag(5, 'd')
	for _, e := range err {
		if e != nil {
			return State{}, e
		}
	}
	if !strings.ContainsRune("-rscwS?", rune(s[4])) {
		return State{}, fmt.Errorf("xl list: bad state %q", s)
	}
	st.Reason = s[4]
	return st, nil
}

// List runs `xl list -v` (dom0, root) with a timeout and parses it; output past 4 MiB is
// refused.
func List(ctx context.Context, xl string, timeout time.Duration) ([]Domain, error) {
	if xl == "" {
		xl = "xl"
	}
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, xl, "list", "-v")
	var out limitedBuffer
	out.max = 4 << 20
	cmd.Stdout = &out
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%s list -v: %w", xl, err)
	}
	if out.over {
		return nil, fmt.Errorf("%s list -v: output past %d bytes", xl, out.max)
	}
	return ParseList(out.buf.Bytes())
}

type limitedBuffer struct {
	buf  bytes.Buffer
	max  int
	over bool
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if l.buf.Len()+len(p) > l.max {
		l.over = true
		return len(p), nil
	}
	return l.buf.Write(p)
}
