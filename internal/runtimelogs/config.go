// Package runtimelogs collects the logs Wasm runtimes and VMMs write (wasmtime, WasmEdge, wazero,
// Firecracker, QEMU) with the stanza file input and parser operators, and attaches every record to
// the resource of the instance that wrote it. The wasm_runtime receiver embeds Config under `logs:`.
package runtimelogs

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"go.opentelemetry.io/collector/component"
)

// Start positions of a newly discovered file.
const (
	StartAtBeginning = "beginning"
	StartAtEnd       = "end"
)

// Formats of the lines in a file before the runtime's own format.
const (
	// FormatRaw is a file the runtime writes itself (--log-path, -D, a redirected stderr).
	FormatRaw = ""
	// FormatContainer is a Kubernetes pod log file (CRI-O/containerd "<time> <stream> <P|F> <line>"
	// or Docker JSON lines); the k8s.* resource attributes are taken from its path.
	FormatContainer = "container"
)

// Config is the `logs:` section of the wasm_runtime receiver.
type Config struct {
	// Storage is the id of a storage extension (file_storage) in which file offsets are kept, so
	// that a restart resumes where it stopped instead of re-reading or skipping lines.
	Storage *component.ID `mapstructure:"storage"`

	// Sources are the runtime log files to follow.
	Sources []SourceConfig `mapstructure:"sources"`

	_ struct{}
}

// SourceConfig describes where one runtime writes its logs and how to parse them.
type SourceConfig struct {
	// Name identifies the source; it scopes the checkpoints, so renaming a source re-reads its
	// files from start_at. Defaults to the runtime name.
	Name string `mapstructure:"name"`
	// Runtime is the product writing the files (wasmtime, wasmedge, wazero, firecracker, qemu, or
	// any name); it becomes the wasm_runtime.runtime resource attribute of unresolved records.
	Runtime string `mapstructure:"runtime"`
	// Preset is the parser preset; defaults to the runtime's own preset, or generic.
	Preset string `mapstructure:"preset"`
	// Include and Exclude are file globs (doublestar ** allowed).
	Include []string `mapstructure:"include"`
	Exclude []string `mapstructure:"exclude"`
	// StartAt is where to start reading a file seen for the first time: end (default) or beginning.
	StartAt string `mapstructure:"start_at"`
	// PollInterval is how often the globs are re-evaluated and files read (default 200ms).
	PollInterval time.Duration `mapstructure:"poll_interval"`
	// Format is "" for files the runtime writes itself, or "container" for Kubernetes pod logs.
	Format string `mapstructure:"format"`
	// PIDFromPath is a regular expression with a named group "pid" that extracts the process id of
	// the writer from the file path (e.g. '/(?P<pid>\d+)\.log$' for per-process stderr files).
	PIDFromPath string `mapstructure:"pid_from_path"`
	// Resource attributes added to every record of the source (instance attributes win).
	Resource map[string]string `mapstructure:"resource"`
	// MultilineFlushPeriod is how long an incomplete multi-line record (a trap and its backtrace)
	// waits for more lines before it is sent (default 1s).
	MultilineFlushPeriod time.Duration `mapstructure:"multiline_flush_period"`
}

// NewDefaultConfig returns a configuration without sources: logs are opt-in because their paths
// depend on how the runtimes are launched.
func NewDefaultConfig() Config { return Config{} }

// withDefaults returns the source with its defaults applied.
func (s SourceConfig) withDefaults() SourceConfig {
	if s.Name == "" {
		s.Name = s.Runtime
	}
	if s.Preset == "" {
		if _, ok := presets[s.Runtime]; ok {
			s.Preset = s.Runtime
		} else if p, ok := presetAliases[s.Runtime]; ok {
			s.Preset = p
		} else {
			s.Preset = PresetGeneric
		}
	}
	if s.StartAt == "" {
		s.StartAt = StartAtEnd
	}
	if s.PollInterval == 0 {
		s.PollInterval = 200 * time.Millisecond
	}
	if s.MultilineFlushPeriod == 0 {
		s.MultilineFlushPeriod = time.Second
	}
	return s
}

var sourceNameRE = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// Validate checks the configuration; every error names the field and how to fix it.
func (cfg *Config) Validate() error {
	var errs []error
	seen := map[string]int{}
	for i, raw := range cfg.Sources {
		field := fmt.Sprintf("logs.sources[%d]", i)
		if raw.Runtime == "" {
			errs = append(errs, fmt.Errorf("%s.runtime: must be set (e.g. runtime: wasmtime); it names the product writing the files", field))
		}
		s := raw.withDefaults()
		if s.Name != "" && !sourceNameRE.MatchString(s.Name) {
			errs = append(errs, fmt.Errorf("%s.name: %q must be lower case letters, digits and _ starting with a letter (e.g. name: wasmtime_edge)", field, s.Name))
		}
		if j, dup := seen[s.Name]; dup && s.Name != "" {
			errs = append(errs, fmt.Errorf("%s.name: %q is also the name of logs.sources[%d]; give each source its own name", field, s.Name, j))
		} else {
			seen[s.Name] = i
		}
		if _, ok := presets[s.Preset]; !ok {
			errs = append(errs, fmt.Errorf("%s.preset: unknown preset %q; use one of %s", field, s.Preset, strings.Join(PresetNames(), ", ")))
		}
		if len(s.Include) == 0 {
			errs = append(errs, fmt.Errorf("%s.include: at least one file glob is needed (e.g. include: [/var/log/wasmtime/*.log])", field))
		}
		for k, g := range append(append([]string{}, s.Include...), s.Exclude...) {
			if strings.TrimSpace(g) == "" {
				errs = append(errs, fmt.Errorf("%s: glob #%d of include/exclude is empty; remove it", field, k))
			}
		}
		if s.StartAt != StartAtBeginning && s.StartAt != StartAtEnd {
			errs = append(errs, fmt.Errorf("%s.start_at: %q is not beginning or end", field, s.StartAt))
		}
		if s.PollInterval < 0 {
			errs = append(errs, fmt.Errorf("%s.poll_interval: must be positive, got %s (e.g. poll_interval: 200ms)", field, s.PollInterval))
		}
		if s.MultilineFlushPeriod < 0 {
			errs = append(errs, fmt.Errorf("%s.multiline_flush_period: must be positive, got %s (e.g. multiline_flush_period: 1s)", field, s.MultilineFlushPeriod))
		}
		if s.Format != FormatRaw && s.Format != FormatContainer {
			errs = append(errs, fmt.Errorf("%s.format: %q is not supported; leave it empty for files the runtime writes or use container for Kubernetes pod logs", field, s.Format))
		}
		if s.PIDFromPath != "" {
			re, err := regexp.Compile(s.PIDFromPath)
			switch {
			case err != nil:
				errs = append(errs, fmt.Errorf("%s.pid_from_path: invalid regular expression: %w", field, err))
			case re.SubexpIndex("pid") < 0:
				errs = append(errs, fmt.Errorf("%s.pid_from_path: needs a named group pid, e.g. '/(?P<pid>\\d+)\\.log$'", field))
			}
		}
		for k := range s.Resource {
			if k == "" {
				errs = append(errs, fmt.Errorf("%s.resource: attribute names must not be empty", field))
			}
		}
	}
	return errors.Join(errs...)
}

// PresetNames lists the parser presets, sorted.
func PresetNames() []string {
	names := make([]string, 0, len(presets))
	for n := range presets {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
