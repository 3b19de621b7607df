package virtdetect

import "sort"

// votes collects, per candidate name, the signals that named it. A strong vote is a signal that
// names its product by itself (CPUID leaf, DMI vendor, ACPI OEM id, a file only that product
// writes); a weak one is consistent with it but also seen elsewhere (a paravirtual clock, a
// device layout).
type votes struct {
	strong map[string][]string
	weak   map[string][]string
}

func newVotes() *votes { return &votes{strong: map[string][]string{}, weak: map[string][]string{}} }

func (v *votes) add(name string, strong bool, evidence string) {
	if name == "" {
		return
	}
	if strong {
		v.strong[name] = append(v.strong[name], evidence)
	} else {
		v.weak[name] = append(v.weak[name], evidence)
	}
}

func (v *votes) has(name string) bool { return len(v.strong[name])+len(v.weak[name]) > 0 }

// best returns the name with the most strong votes, ties broken by weak votes then name.
func (v *votes) best() string {
	names := map[string]bool{}
	for n := range v.strong {
		names[n] = true
	}
	for n := range v.weak {
		names[n] = true
	}
	list := make([]string, 0, len(names))
	for n := range names {
		list = append(list, n)
	}
	sort.Slice(list, func(i, j int) bool {
		a, b := list[i], list[j]
		if len(v.strong[a]) != len(v.strong[b]) {
			return len(v.strong[a]) > len(v.strong[b])
		}
		if len(v.weak[a]) != len(v.weak[b]) {
			return len(v.weak[a]) > len(v.weak[b])
		}
		return a < b
	})
	if len(list) == 0 {
		return ""
	}
	return list[0]
}

// confidence: high = two strong signals, or one strong and a supporting one; medium = one
// strong signal or two weak ones; low = a single weak signal.
func (v *votes) confidence(name string) Confidence {
	s, w := len(v.strong[name]), len(v.weak[name])
	switch {
	case s >= 2 || (s == 1 && w >= 1):
		return ConfidenceHigh
	case s == 1 || w >= 2:
		return ConfidenceMedium
	case w == 1:
		return ConfidenceLow
	}
	return ""
}

func (v *votes) evidence(name string) []string {
	out := append(append([]string(nil), v.strong[name]...), v.weak[name]...)
	sort.Strings(out)
	return out
}

func (v *votes) layer(kind, name string) Layer {
	return Layer{Kind: kind, Name: name, Confidence: v.confidence(name), Evidence: v.evidence(name)}
}
