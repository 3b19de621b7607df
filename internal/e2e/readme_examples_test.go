package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// completeConfig marks a YAML block that is a whole configuration (with receivers, below).
var completeConfig = regexp.MustCompile(`(?m)^service:`)

// yamlBlock is a fenced YAML block of a Markdown file.
var yamlBlock = regexp.MustCompile("(?s)```yaml\n(.*?)```")

// TestReadmeExamplesValidate runs every complete configuration shown in the components' READMEs
// (a YAML block with receivers and a service section) through the real binary's validate command, so that a
// renamed field or component cannot leave a README example that users copy and that fails.
func TestReadmeExamplesValidate(t *testing.T) {
	skipShort(t)
	bin := CollectorBinary(t)
	readmes, err := filepath.Glob(filepath.Join(RepoRoot(), "*", "*", "README.md"))
	require.NoError(t, err)
	checked := 0
	for _, readme := range readmes {
		data, err := os.ReadFile(readme)
		require.NoError(t, err)
		rel, _ := filepath.Rel(RepoRoot(), readme)
		for i, m := range yamlBlock.FindAllStringSubmatch(string(data), -1) {
			if !completeConfig.MatchString(m[1]) || !regexp.MustCompile(`(?m)^receivers:`).MatchString(m[1]) {
				continue // a fragment shown for one component
			}
			checked++
			t.Run(rel+"#"+strconv.Itoa(i), func(t *testing.T) {
				cfg := filepath.Join(t.TempDir(), "config.yaml")
				require.NoError(t, os.WriteFile(cfg, []byte(m[1]), 0o600))
				out, err := exec.Command(bin, "validate", "--config", cfg).CombinedOutput()
				assert.NoError(t, err, "%s example %d:\n%s\n%s", rel, i, m[1], strings.TrimSpace(string(out)))
			})
		}
	}
	assert.GreaterOrEqual(t, checked, 3, "the component READMEs show complete configurations")
}
