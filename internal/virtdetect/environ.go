package virtdetect

import "bytes"

// ParseEnviron parses a NUL-separated /proc/<pid>/environ into a map; entries without "=" are
// skipped, the last duplicate wins.
func ParseEnviron(b []byte) map[string]string {
	env := map[string]string{}
	for _, kv := range bytes.Split(b, []byte{0}) {
		k, v, ok := bytes.Cut(kv, []byte{'='})
		if !ok || len(k) == 0 {
			continue
		}
		env[string(k)] = string(v)
	}
	return env
}
