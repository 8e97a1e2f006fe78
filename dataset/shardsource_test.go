package dataset

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestIsShardSource(t *testing.T) {
	dir := t.TempDir()
	shards, idx := filepath.Join(dir, "shards"), filepath.Join(dir, "idx")
	require.NoError(t, os.Mkdir(shards, 0o755))
	require.NoError(t, os.Mkdir(idx, 0o755))
	for _, f := range []string{filepath.Join(idx, "train-images-idx3-ubyte.gz"), filepath.Join(dir, "one.csv"), filepath.Join(dir, "one.npy")} {
		require.NoError(t, os.WriteFile(f, nil, 0o644))
	}
	for _, tc := range []struct {
		source string
		want   bool
	}{
		{"sample", false},
		{"fashion-mnist", false},
		{filepath.Join(dir, "one.csv"), false},
		{idx, false},
		{shards, true},
		{filepath.Join(dir, "one.npy"), true},
		{filepath.Join(shards, "part-*.csv"), true},
		{filepath.Join(dir, "missing.csv"), false},
	} {
		assert.Equal(t, tc.want, IsShardSource(tc.source), tc.source)
	}
}
