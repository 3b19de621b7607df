package edgeprofileextension

import (
	"fmt"
	"os"
	"runtime"
	"time"
)

// autoLoop evaluates the environment periodically, and at once when an exporter starts to
// report errors; it only acts in auto mode.
func (e *edgeProfile) autoLoop() {
	defer e.wg.Done()
	t := time.NewTicker(e.cfg.Auto.Interval)
	defer t.Stop()
	for {
		probe := false
		select {
		case <-e.stop:
			return
		case <-t.C:
			probe = true
		case <-e.healthChanged:
		}
		e.mu.Lock()
		isAuto := e.requested == ProfileAuto
		e.mu.Unlock()
		if isAuto {
			if probe {
				e.probeUplink()
			}
			e.evaluateAuto(time.Now())
		}
	}
}

const decisionsKept = 16

func (e *edgeProfile) evaluateAuto(now time.Time) {
	env := e.senseEnv()
	proposal, why := Decide(env)
	failing := e.healthSnapshot(now, env)
	proposal, why, avoided := avoidFailing(proposal, why, e.Presets(), failing)
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.requested != ProfileAuto {
		return
	}
	a := e.active.Load()
	st := autoStatus{Proposal: proposal, Reason: why, Evaluated: now, Inputs: describeInputs(env, failing)}
	activeFailing, isFailing := failing[a.Preset]
	switch {
	case proposal != a.Preset && (avoided || isFailing):
		// A failing exporter is not waited out: what the active preset accepts meanwhile
		// sits in a queue that may give up or be lost in a restart.
		e.hyst.candidate, e.hyst.streak = "", 0
		st.Decision = "switched at once: "
		if isFailing {
			st.Decision += a.Preset + ": " + activeFailing
		} else {
			st.Decision += "the proposal's exporter fails"
		}
		e.applyLocked(proposal, SourceAuto, why)
	default:
		ok, wait := e.hyst.observe(now, a.Preset, a.Since, proposal)
		st.Decision = wait
		if ok {
			st.Decision = "switched"
			e.applyLocked(proposal, SourceAuto, why)
		}
	}
	e.recordDecisionLocked(st)
}

// recordDecisionLocked keeps the last evaluation, and the last distinct ones for /status.
func (e *edgeProfile) recordDecisionLocked(st autoStatus) {
	e.autoStatus = st
	if n := len(e.decisions); n > 0 {
		last := &e.decisions[n-1]
		if last.Proposal == st.Proposal && last.Reason == st.Reason && last.Decision == st.Decision {
			last.Evaluated = st.Evaluated
			return
		}
	}
	e.decisions = append(e.decisions, st)
	if len(e.decisions) > decisionsKept {
		e.decisions = e.decisions[len(e.decisions)-decisionsKept:]
	}
}

// describeInputs lists what an evaluation looked at, for /status.
func describeInputs(env Environment, failing map[string]string) []string {
	in := []string{fmt.Sprintf("resources: %.3g CPUs, %s memory, %s", env.CPUs, formatBytes(env.MemoryBytes), env.Arch)}
	if env.UplinkTarget != "" {
		in = append(in, fmt.Sprintf("uplink probe: %d of the last %d connection attempts to %s failed", env.UplinkFailures, env.UplinkAttempts, env.UplinkTarget))
	}
	if env.Metered {
		in = append(in, "metered uplink: "+env.MeteredWhy)
	}
	if env.Kubernetes {
		in = append(in, "running in Kubernetes")
	}
	for _, p := range sortedKeys(failing) {
		in = append(in, "preset "+p+": "+failing[p])
	}
	return in
}

// sense reads the environment of this process.
func (e *edgeProfile) sense() Environment {
	env := Environment{Arch: runtime.GOARCH, CPUs: float64(runtime.NumCPU())}
	if c, ok := cgroupCPULimit("/"); ok && c < env.CPUs {
		env.CPUs = c
	}
	if m, err := memTotal("/"); err == nil {
		env.MemoryBytes = m
	}
	if m, ok := cgroupMemoryLimit("/"); ok && (env.MemoryBytes == 0 || m < env.MemoryBytes) {
		env.MemoryBytes = m
	}
	env.Kubernetes = os.Getenv("KUBERNETES_SERVICE_HOST") != ""
	if e.cfg.Auto.Metered != nil {
		env.Metered, env.MeteredWhy = *e.cfg.Auto.Metered, "auto.metered in the configuration"
	} else {
		env.Metered, env.MeteredWhy = meteredUplink("/")
	}
	e.uplinkMu.Lock()
	for _, failed := range e.uplink {
		env.UplinkAttempts++
		if failed {
			env.UplinkFailures++
		}
	}
	env.UplinkVia = e.uplinkVia
	e.uplinkMu.Unlock()
	env.UplinkTarget = e.uplinkTarget()
	return env
}

func (e *edgeProfile) uplinkTarget() string {
	if ep := e.cfg.BackendEndpoint(ProtocolGRPC); ep != "" {
		return DialAddress(ep, "4317")
	}
	if ep := e.cfg.BackendEndpoint(ProtocolHTTP); ep != "" {
		return DialAddress(ep, "4318")
	}
	return ""
}

// probeUplink dials the backend once and keeps the last five outcomes: exporters do not
// report failures to extensions, so auto mode measures reachability itself.
func (e *edgeProfile) probeUplink() {
	target := e.uplinkTarget()
	if target == "" {
		return
	}
	via, err := newUplinkProbe(target, e.cfg.uplinkScheme()).run()
	e.uplinkMu.Lock()
	e.uplinkVia = via
	e.uplink = append(e.uplink, err != nil)
	if len(e.uplink) > 5 {
		e.uplink = e.uplink[len(e.uplink)-5:]
	}
	e.uplinkMu.Unlock()
}
