package xen

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseListVerbose(t *testing.T) {
	out, err := os.ReadFile("testdata/xl-list-v.txt")
	require.NoError(t, err)
	doms, err := ParseList(out)
	require.NoError(t, err)
	require.Len(t, doms, 4)
	assert.Equal(t, Domain{Name: "Domain-0", ID: 0, MemMiB: 4096, VCPUs: 4, State: State{Running: true, Reason: '-'}, CPUTimeS: 12873.4,
		UUID: "00000000-0000-0000-0000-000000000000", ShutdownReason: -1, SecurityLabel: "-"}, doms[0])
	assert.True(t, doms[1].State.Blocked)
	assert.Equal(t, "win 2022 build", doms[2].Name, "a name with spaces")
	assert.True(t, doms[2].State.Paused)
	assert.Equal(t, State{Shutdown: true, Reason: 's'}, doms[3].State)
	assert.Equal(t, 0, doms[3].ShutdownReason)
	assert.InDelta(t, 0.6, doms[3].CPUTimeS, 1e-9)
}

func TestParseListPlain(t *testing.T) {
	out, err := os.ReadFile("testdata/xl-list.txt")
	require.NoError(t, err)
	doms, err := ParseList(out)
	require.NoError(t, err)
	require.Len(t, doms, 1)
	assert.Equal(t, "", doms[0].UUID)
	assert.Equal(t, 4, doms[0].VCPUs)
}

func TestParseListRejects(t *testing.T) {
	hdr := "Name                                        ID   Mem VCPUs\tState\tTime(s)\n"
	for _, bad := range []string{"", "garbage\n", hdr + "dom 1 2 3\n", hdr + "d -1 1 1 r----- 1.0\n", hdr + "d 1 x 1 r----- 1.0\n",
		hdr + "d 1 1 1 rx---- 1.0\n", hdr + "d 1 1 1 r----- -1\n", hdr + "d 1 1 99999 r----- 1\n"} {
		_, err := ParseList([]byte(bad))
		assert.Error(t, err, "%q", bad)
	}
}

// List runs the real command; a stand-in xl prints the fixture, as xl on dom0 would.
func TestList(t *testing.T) {
	dir := t.TempDir()
	fake := filepath.Join(dir, "xl")
	require.NoError(t, os.WriteFile(fake, []byte("#!/bin/sh\n[ \"$1 $2\" = \"list -v\" ] || exit 2\ncat "+filepath.Join(mustAbs(t, "testdata"), "xl-list-v.txt")+"\n"), 0o755))
	doms, err := List(context.Background(), fake, time.Second)
	require.NoError(t, err)
	assert.Len(t, doms, 4)

	slow := filepath.Join(dir, "slow")
	require.NoError(t, os.WriteFile(slow, []byte("#!/bin/sh\nexec sleep 5\n"), 0o755))
	start := time.Now()
	_, err = List(context.Background(), slow, 200*time.Millisecond)
	assert.Error(t, err)
	assert.Less(t, time.Since(start), 3*time.Second)

	flood := filepath.Join(dir, "flood")
	require.NoError(t, os.WriteFile(flood, []byte("#!/bin/sh\nhead -c 6000000 /dev/zero\n"), 0o755))
	_, err = List(context.Background(), flood, 5*time.Second)
	assert.ErrorContains(t, err, "past")
}

func mustAbs(t *testing.T, p string) string {
	a, err := filepath.Abs(p)
	require.NoError(t, err)
	return a
}

func FuzzParseList(f *testing.F) {
	out, _ := os.ReadFile("testdata/xl-list-v.txt")
	f.Add(out)
	f.Fuzz(func(t *testing.T, b []byte) {
		doms, err := ParseList(b)
		if err == nil {
			for _, d := range doms {
				if d.Name == "" || strings.TrimSpace(d.Name) != d.Name && !strings.Contains(d.Name, " ") {
					t.Fatalf("bad name %q", d.Name)
				}
			}
		}
	})
}
