package e2e

import (
	"context"
	"os/exec"
	"time"
)

// runTool runs a command with a timeout and returns its combined output, for callers that
// must not fail the test from another goroutine (Telemetrygen calls Fatal).
func runTool(timeout time.Duration, bin string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput()
	return string(out), err
}
