package edgeprofileextension

import (
	"net"
	"os"
	"runtime"
	"time"
)

// autoLoop evaluates the environment periodically; it only acts in auto mode.
func (e *edgeProfile) autoLoop() {
	defer e.wg.Done()
	t := time.NewTicker(e.cfg.Auto.Interval)
	defer t.Stop()
	for {
		select {
		case <-e.stop:
			return
		case <-t.C:
			e.mu.Lock()
			isAuto := e.requested == ProfileAuto
			e.mu.Unlock()
			if isAuto {
				e.probeUplink()
				e.evaluateAuto(time.Now())
			}
		}
	}
}

func (e *edgeProfile) evaluateAuto(now time.Time) {
	env := e.senseEnv()
	proposal, why := Decide(env)
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.requested != ProfileAuto {
		return
	}
	a := e.active.Load()
	ok, wait := e.hyst.observe(now, a.Preset, a.Since, proposal)
	e.autoStatus = autoStatus{Proposal: proposal, Reason: why, Evaluated: now, Decision: wait}
	if ok {
		e.autoStatus.Decision = "switched"
		e.applyLocked(proposal, SourceAuto, why)
	}
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
	conn, err := net.DialTimeout("tcp", target, 3*time.Second)
	if err == nil {
		_ = conn.Close()
	}
	e.uplinkMu.Lock()
	e.uplink = append(e.uplink, err != nil)
	if len(e.uplink) > 5 {
		e.uplink = e.uplink[len(e.uplink)-5:]
	}
	e.uplinkMu.Unlock()
}
