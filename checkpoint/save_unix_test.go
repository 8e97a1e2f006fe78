//go:build unix

package checkpoint

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSaveHonoursUmask(t *testing.T) {
	old := syscall.Umask(0o027)
	defer syscall.Umask(old)
	dir := t.TempDir()
	path := filepath.Join(dir, "m.safetensors")
	f := &File{Metadata: map[string]string{}, Tensors: []Tensor{{Name: "w", Shape: []int{2}, Data: []float32{1, 2}}}}
	require.NoError(t, Save(path, f))
	fi, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o640), fi.Mode().Perm(), "0666 less the umask 027")

	// A replaced file keeps the mode its owner gave it.
	require.NoError(t, os.Chmod(path, 0o600))
	require.NoError(t, Save(path, f))
	fi, err = os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
}
