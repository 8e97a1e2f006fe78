package config

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReadRefusesHostileFiles(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo.yaml")
	require.NoError(t, syscall.Mkfifo(fifo, 0o600))
	big := filepath.Join(dir, "big.yaml")
	require.NoError(t, os.WriteFile(big, []byte(strings.Repeat("# padding\n", MaxFileSize/10+1)), 0o644))
	bomb := filepath.Join(dir, "bomb.yaml")
	// Nested aliases that would expand to 9^9 nodes.
	var b strings.Builder
	b.WriteString("a: &a [x,x,x,x,x,x,x,x,x]\n")
	for i := 'b'; i <= 'j'; i++ {
		p := string(i - 1)
		b.WriteString(string(i) + ": &" + string(i) + " [*" + p + ",*" + p + ",*" + p + ",*" + p + ",*" + p + ",*" + p + ",*" + p + ",*" + p + ",*" + p + "]\n")
	}
	require.NoError(t, os.WriteFile(bomb, []byte(b.String()), 0o644))
	cases := []struct {
		name, path, want string
	}{
		{"fifo", fifo, "named pipe"},
		{"dev zero", "/dev/zero", "character device"},
		{"dev urandom", "/dev/urandom", "character device"},
		{"directory", dir, "a directory"},
		{"too big", big, "over the 1048576-byte limit"},
		{"alias bomb", bomb, ""},
		{"missing", filepath.Join(dir, "nope.yaml"), "no such file"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := os.Lstat(tc.path); err != nil && tc.name != "missing" {
				t.Skipf("%s not available: %v", tc.path, err)
			}
			var err error
			var v *Values
			done := make(chan struct{})
			go func() { defer close(done); v, err = Read(tc.path, flags()) }()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Fatalf("Read(%s) blocked", tc.path)
			}
			require.Error(t, err)
			assert.Nil(t, v)
			assert.Contains(t, err.Error(), tc.path)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

// TestWriteFileIgnoresPlantedLink: a link planted where the old fixed
// temporary name was must not be followed.
func TestWriteFileIgnoresPlantedLink(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(dir, "victim")
	require.NoError(t, os.WriteFile(victim, []byte("keep me"), 0o644))
	path := filepath.Join(dir, "config.yaml")
	require.NoError(t, os.Symlink(victim, path+".tmp"))
	fs := flags()
	require.NoError(t, WriteFile(path, fs, "", "config"))
	got, err := os.ReadFile(victim)
	require.NoError(t, err)
	assert.Equal(t, "keep me", string(got))
	written, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Contains(t, string(written), "epochs: 20\n")
	left, err := filepath.Glob(filepath.Join(dir, "config.yaml.tmp-*"))
	require.NoError(t, err)
	assert.Empty(t, left)
}

// FuzzParse: no config text panics; what is accepted applies cleanly and
// survives a Marshal/Parse round trip.
func FuzzParse(f *testing.F) {
	fs := flags()
	require.NoError(f, fs.Parse([]string{"-epochs", "3", "-lr", "1e-8", "-model", "123", "-nesterov"}))
	real, err := Marshal(fs, "written by a test", "config")
	require.NoError(f, err)
	f.Add(real)
	f.Add([]byte(`{"epochs": 5, "lr": 0.1}`))
	f.Add([]byte("epochs: &x 4\nseed: *x\n"))
	f.Add([]byte("epochs: [1, 2]\n"))
	f.Add([]byte("- a\n- b\n"))
	f.Add([]byte("epochs: 1\nepochs: 2\n"))
	f.Add([]byte("a: &a [x,x]\nb: &b [*a,*a]\nc: [*b,*b]\n"))
	f.Add([]byte("\xff\xfe"))
	f.Fuzz(func(t *testing.T, in []byte) {
		fs := flags()
		v, err := Parse("fuzz.yaml", in, fs, "config")
		if err != nil {
			require.Nil(t, v)
			require.Contains(t, err.Error(), "fuzz.yaml")
			return
		}
		require.NoError(t, v.Apply(fs, nil))
		out, err := Marshal(fs, "", "config")
		require.NoError(t, err)
		back := flags()
		v2, err := Parse("again.yaml", out, back, "config")
		require.NoError(t, err)
		require.NoError(t, v2.Apply(back, nil))
		fs.VisitAll(func(fl *flag.Flag) {
			require.Equal(t, fl.Value.String(), back.Lookup(fl.Name).Value.String(), fl.Name)
		})
	})
}
