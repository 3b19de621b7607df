package catalog

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
)

// Matcher is a user-defined runtime: configuration of the components that discover instances
// (`runtimes:`), checked before the built-in catalog so that embedders (wazero hosts, custom
// VMMs) are discovered too.
type Matcher struct {
	Name string `mapstructure:"name"`
	Kind string `mapstructure:"kind"`
	// Comm, Exe and Cmdline are regular expressions; a process matches when every one that is
	// set matches.
	Comm    string `mapstructure:"comm"`
	Exe     string `mapstructure:"exe"`
	Cmdline string `mapstructure:"cmdline"`
	// Attributes extract resource attributes from the command line (its arguments joined by
	// spaces): attribute name to a regular expression whose first capture group is the value,
	// e.g. wasm_runtime.wasm.module: '([^ /]+\.wasm)'.
	Attributes map[string]string `mapstructure:"attributes"`
}

// ValidateMatchers checks configured runtimes; field is their key ("runtimes") and every error
// names the offending field and the fix.
func ValidateMatchers(field string, ms []Matcher) []error {
	var errs []error
	seen := map[string]bool{}
	for i, m := range ms {
		f := fmt.Sprintf("%s[%d]", field, i)
		if m.Name == "" {
			errs = append(errs, fmt.Errorf("%s.name: must not be empty", f))
		} else if seen[m.Name] {
			errs = append(errs, fmt.Errorf("%s.name: %q is defined twice; runtime names must be unique", f, m.Name))
		}
		seen[m.Name] = true
		if !slices.Contains(Kinds, m.Kind) {
			errs = append(errs, fmt.Errorf("%s.kind: %q is not one of %s", f, m.Kind, strings.Join(Kinds, ", ")))
		}
		if m.Comm == "" && m.Exe == "" && m.Cmdline == "" {
			errs = append(errs, fmt.Errorf("%s: set at least one of comm, exe or cmdline to match processes", f))
		}
		for _, kv := range [...][2]string{{"comm", m.Comm}, {"exe", m.Exe}, {"cmdline", m.Cmdline}} {
			if kv[1] == "" {
				continue
			}
			if _, err := regexp.Compile(kv[1]); err != nil {
				errs = append(errs, fmt.Errorf("%s.%s: invalid regular expression: %w", f, kv[0], err))
			}
		}
		for _, attr := range slices.Sorted(maps.Keys(m.Attributes)) {
			re, err := regexp.Compile(m.Attributes[attr])
			switch {
			case err != nil:
				errs = append(errs, fmt.Errorf("%s.attributes.%s: invalid regular expression: %w", f, attr, err))
			case re.NumSubexp() < 1:
				errs = append(errs, fmt.Errorf("%s.attributes.%s: the expression needs a capture group for the value, e.g. '--name=(\\S+)'", f, attr))
			}
		}
	}
	return errs
}

func (m Matcher) compile() *Entry {
	e := &Entry{Name: m.Name, Kind: m.Kind, Role: RoleWorkload, user: true, Origin: "configuration"}
	if m.Comm != "" {
		e.comm = regexp.MustCompile(m.Comm)
	}
	if m.Exe != "" {
		e.exe = regexp.MustCompile(m.Exe)
	}
	if m.Cmdline != "" {
		e.cmdline = regexp.MustCompile(m.Cmdline)
	}
	if len(m.Attributes) > 0 {
		e.attrs = make(map[string]*regexp.Regexp, len(m.Attributes))
		for k, v := range m.Attributes {
			e.attrs[k] = regexp.MustCompile(v)
		}
	}
	if m.Kind == KindVM || m.Kind == KindMicroVM {
		e.VMM = m.Name
	}
	return e
}
