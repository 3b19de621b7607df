package virtdetect

import "strings"

// Cmdline is the kernel command line (/proc/cmdline) as ordered key[=value] parameters; anything
// after a lone "--" belongs to init and is kept apart.
type Cmdline struct {
	Params []CmdlineParam
	Init   []string
}

// CmdlineParam is one kernel parameter; Value is "" for a bare flag.
type CmdlineParam struct{ Key, Value string }

// ParseCmdline splits a kernel command line, honouring double quotes around values.
func ParseCmdline(s string) Cmdline {
	var c Cmdline
	fields := splitQuoted(s)
	for i, f := range fields {
		if f == "--" {
			c.Init = fields[i+1:]
			break
		}
		k, v, _ := strings.Cut(f, "=")
		c.Params = append(c.Params, CmdlineParam{Key: k, Value: strings.Trim(v, `"`)})
	}
	return c
}

// Has reports whether a parameter with key is present.
func (c Cmdline) Has(key string) bool {
	for _, p := range c.Params {
		if p.Key == key {
			return true
		}
	}
	return false
}

// HasPrefix reports whether a parameter key starts with prefix.
func (c Cmdline) HasPrefix(prefix string) bool {
	for _, p := range c.Params {
		if strings.HasPrefix(p.Key, prefix) {
			return true
		}
	}
	return false
}

// Value returns the value of the last parameter with key.
func (c Cmdline) Value(key string) (string, bool) {
	v, ok := "", false
	for _, p := range c.Params {
		if p.Key == key {
			v, ok = p.Value, true
		}
	}
	return v, ok
}

func splitQuoted(s string) []string {
	var out []string
	var b strings.Builder
	inQuote, inField := false, false
	for _, r := range s {
		switch {
		case r == '"':
			inQuote = !inQuote
			inField = true
			b.WriteRune(r)
		case !inQuote && (r == ' ' || r == '\t' || r == '\n'):
			if inField {
				out = append(out, b.String())
				b.Reset()
				inField = false
			}
		default:
			inField = true
			b.WriteRune(r)
		}
	}
	if inField {
		out = append(out, b.String())
	}
	return out
}
