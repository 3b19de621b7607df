package e2e

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// SaveCPUProfile fetches a CPU profile of length d from a collector's pprof extension at
// endpoint into the file to (its directory made if missing); read it with
// `go tool pprof -top <binary> <file>`.
func SaveCPUProfile(endpoint string, d time.Duration, to string) error {
	url := fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", endpoint, max(1, int(d.Seconds())))
	client := &http.Client{Timeout: d + 10*time.Second}
	resp, err := client.Get(url)
	if err != nil {
		return fmt.Errorf("cpu profile %s: %w", to, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("cpu profile %s: %s", to, resp.Status)
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		return fmt.Errorf("cpu profile %s: %w", to, err)
	}
	f, err := os.Create(to)
	if err != nil {
		return fmt.Errorf("cpu profile %s: %w", to, err)
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		_ = f.Close()
		return fmt.Errorf("cpu profile %s: %w", to, err)
	}
	return f.Close()
}
