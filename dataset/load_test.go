package dataset

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLoadSample(t *testing.T) {
	s, err := Load("sample")
	require.NoError(t, err)
	for _, c := range []struct {
		d *Dataset
		n int
	}{{s.Train, 4000}, {s.Test, 1000}} {
		d := c.d
		require.NotNil(t, d)
		require.NoError(t, d.Validate())
		assert.Equal(t, "sample", d.Name)
		assert.Equal(t, [4]int{c.n, 1, 28, 28}, [4]int{d.N, d.C, d.H, d.W})
		assert.Len(t, d.X, c.n*784)
		assert.Equal(t, FashionMNISTClasses(), d.Classes)
		lo, hi := d.X[0], d.X[0]
		for _, v := range d.X {
			lo, hi = min(lo, v), max(hi, v)
		}
		assert.Equal(t, float32(0), lo)
		assert.Equal(t, float32(1), hi)
		seen := map[int]int{}
		for _, l := range d.Labels {
			seen[l]++
		}
		assert.Len(t, seen, 10, "all ten classes present")
		for l := range seen {
			assert.True(t, l >= 0 && l <= 9, "label %d", l)
		}
	}
	// Fashion-MNIST's first training image is an ankle boot, the first test
	// image too.
	assert.Equal(t, 9, s.Train.Labels[0])
	assert.Equal(t, 9, s.Test.Labels[0])
	assert.Equal(t, "Ankle boot", s.Train.Classes[9])
	assert.Equal(t, "T-shirt/top", s.Train.Classes[0])
}

// The embedded sample must be exactly the head of the real data.
func TestSampleMatchesInstalledFashionMNIST(t *testing.T) {
	dir := "/usr/share/datasets/fashion-mnist"
	if _, err := os.Stat(dir); err != nil || testing.Short() {
		t.Skip("needs " + dir + " and not -short")
	}
	full, err := Load(dir)
	require.NoError(t, err)
	assert.Equal(t, FashionMNISTClasses(), full.Train.Classes, "dir named fashion-mnist gets class names")
	assert.Equal(t, 60000, full.Train.N)
	assert.Equal(t, 10000, full.Test.N)
	s, err := Load("sample")
	require.NoError(t, err)
	assert.Equal(t, full.Train.Head(4000).X, s.Train.X)
	assert.Equal(t, full.Train.Labels[:4000], s.Train.Labels)
	assert.Equal(t, full.Test.Head(1000).X, s.Test.X)
	assert.Equal(t, full.Test.Labels[:1000], s.Test.Labels)
}

func TestLoadDir(t *testing.T) {
	for _, gz := range []bool{false, true} {
		dir := t.TempDir()
		writeIDXDir(t, dir, 12, 12, 5, 5, 3, 4, gz)
		s, err := Load(dir)
		require.NoError(t, err)
		assert.Equal(t, dir, s.Train.Name)
		assert.Equal(t, [4]int{12, 1, 3, 4}, [4]int{s.Train.N, s.Train.C, s.Train.H, s.Train.W})
		assert.Equal(t, 5, s.Test.N)
		assert.Equal(t, []int{0, 1, 2, 3, 4}, s.Test.Labels)
		assert.Equal(t, float32(7)/255, s.Train.X[1])
		assert.Nil(t, s.Train.Classes, "unknown directory name: no class names")
	}
}

func TestLoadDirGzipDetectedByContent(t *testing.T) {
	// A gzipped file without .gz suffix and a plain file with one.
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "train-images-idx3-ubyte"), idxBytes(t, []int{2, 2, 2}, seq(8, 1), true))
	writeFile(t, filepath.Join(dir, "train-labels-idx1-ubyte.gz"), idxBytes(t, []int{2}, []byte{1, 0}, false))
	s, err := Load(dir)
	require.NoError(t, err)
	assert.Equal(t, []int{1, 0}, s.Train.Labels)
	assert.Nil(t, s.Test)
}

func TestLoadDirLabelsOptional(t *testing.T) {
	dir := t.TempDir()
	writeIDXDir(t, dir, 6, 0, 2, 0, 2, 2, true)
	s, err := Load(dir)
	require.NoError(t, err)
	assert.Nil(t, s.Train.Labels)
	assert.Nil(t, s.Test.Labels)
	assert.Equal(t, 6, s.Train.N)
}

func TestLoadDirErrors(t *testing.T) {
	cases := []struct {
		name                       string
		train, trainL, test, testL int
		want                       []string
	}{
		{"train label count mismatch", 10, 9, 0, 0, []string{"train-labels-idx1-ubyte.gz has 9 labels", "train-images-idx3-ubyte.gz has 10 images"}},
		{"test label count mismatch", 10, 10, 4, 5, []string{"t10k-labels-idx1-ubyte.gz has 5 labels", "t10k-images-idx3-ubyte.gz has 4 images"}},
		{"no train images", 0, 3, 0, 0, []string{"no train-images-idx3-ubyte[.gz]"}},
		{"test labels without images", 3, 3, 0, 2, []string{"t10k labels but no t10k-images"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			writeIDXDir(t, dir, c.train, c.trainL, c.test, c.testL, 2, 2, true)
			_, err := Load(dir)
			require.Error(t, err)
			for _, w := range c.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

func TestLoadDirCorruptFileNamesPath(t *testing.T) {
	dir := t.TempDir()
	writeIDXDir(t, dir, 4, 4, 0, 0, 2, 2, false)
	p := filepath.Join(dir, "train-images-idx3-ubyte")
	raw, err := os.ReadFile(p)
	require.NoError(t, err)
	writeFile(t, p, raw[:len(raw)-3])
	_, err = Load(dir)
	require.Error(t, err)
	assert.Contains(t, err.Error(), p)
	assert.Contains(t, err.Error(), "truncated: want 16 bytes of data, got 13")
}

func TestLoadLabelOutOfClassRange(t *testing.T) {
	// A directory named mnist gets 10 class names; label 12 must be rejected.
	dir := filepath.Join(t.TempDir(), "mnist")
	writeFile(t, filepath.Join(dir, "train-images-idx3-ubyte"), idxBytes(t, []int{2, 1, 1}, []byte{0, 1}, false))
	writeFile(t, filepath.Join(dir, "train-labels-idx1-ubyte"), idxBytes(t, []int{2}, []byte{3, 12}, false))
	_, err := Load(dir)
	require.Error(t, err)
	assert.Contains(t, err.Error(), filepath.Join(dir, "train-labels-idx1-ubyte")+": label 12 at index 1 is outside [0,10) for a 10-class set")
}

func TestLoadMNISTFromEnv(t *testing.T) {
	root := t.TempDir()
	writeIDXDir(t, filepath.Join(root, "mnist"), 20, 20, 10, 10, 28, 28, true)
	t.Setenv(EnvDataDir, root)
	s, err := Load("mnist")
	require.NoError(t, err)
	assert.Equal(t, "mnist", s.Train.Name)
	assert.Equal(t, "mnist", s.Test.Name)
	assert.Equal(t, MNISTClasses(), s.Train.Classes)
	assert.Equal(t, [4]int{20, 1, 28, 28}, [4]int{s.Train.N, s.Train.C, s.Train.H, s.Train.W})
	assert.Equal(t, 10, s.Test.N)
}

func TestLoadNamedSearchOrder(t *testing.T) {
	root := t.TempDir()
	t.Chdir(root)
	t.Setenv(EnvDataDir, filepath.Join(root, "env"))
	// ./data/mnist has 3 samples; $HOURGLASS_DATA/mnist (searched first) 5.
	writeIDXDir(t, filepath.Join(root, "data", "mnist"), 3, 3, 0, 0, 2, 2, false)
	s, err := Load("mnist")
	require.NoError(t, err)
	assert.Equal(t, 3, s.Train.N)
	writeIDXDir(t, filepath.Join(root, "env", "mnist"), 5, 5, 0, 0, 2, 2, false)
	s, err = Load("mnist")
	require.NoError(t, err)
	assert.Equal(t, 5, s.Train.N)
	assert.Equal(t, []string{filepath.Join(root, "env", "mnist"), filepath.Join("data", "mnist"), "/usr/share/datasets/mnist"}, SearchPaths("mnist"))
}

func TestLoadNamedMissing(t *testing.T) {
	root := t.TempDir()
	empty := filepath.Join(root, "empty")
	require.NoError(t, os.MkdirAll(empty, 0o755))
	paths := []string{filepath.Join(root, "nope"), empty}

	_, err := loadNamed("fashion-mnist", paths)
	require.Error(t, err)
	msg := err.Error()
	assert.Contains(t, msg, paths[0]+": not found")
	assert.Contains(t, msg, empty+": no train-images-idx3-ubyte[.gz]")
	assert.Contains(t, msg, "apt-get install dataset-fashion-mnist")
	assert.Contains(t, msg, "scripts/get-data.sh fashion-mnist")

	_, err = loadNamed("mnist", paths)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "scripts/get-data.sh mnist")

	// Through Load: the real search path, with nothing installed.
	if _, err := os.Stat("/usr/share/datasets/mnist"); err == nil {
		t.Skip("mnist is installed here")
	}
	t.Chdir(root)
	t.Setenv(EnvDataDir, filepath.Join(root, "env"))
	_, err = Load("mnist")
	require.Error(t, err)
	for _, p := range SearchPaths("mnist") {
		assert.Contains(t, err.Error(), p)
	}
}

func TestLoadBadSources(t *testing.T) {
	_, err := Load("")
	assert.ErrorContains(t, err, "empty source")

	missing := filepath.Join(t.TempDir(), "does-not-exist")
	_, err = Load(missing)
	require.Error(t, err)
	assert.Contains(t, err.Error(), missing)
	assert.Contains(t, err.Error(), `"sample" "fashion-mnist" "mnist"`)
	assert.ErrorIs(t, err, os.ErrNotExist)

	txt := filepath.Join(t.TempDir(), "x.txt")
	writeFile(t, txt, []byte("1,2\n"))
	_, err = Load(txt)
	assert.ErrorContains(t, err, "not .csv")

	assert.Equal(t, []string{"sample", "fashion-mnist", "mnist"}, Sources())
}

func TestLoadCSVSource(t *testing.T) {
	p := filepath.Join(t.TempDir(), "d.csv")
	writeFile(t, p, []byte("a,label,b\n1,0,2\n3,1,4\n"))
	s, err := Load(p)
	require.NoError(t, err)
	assert.Nil(t, s.Test)
	assert.Equal(t, []int{0, 1}, s.Train.Labels)
	assert.Equal(t, []float32{1, 2, 3, 4}, s.Train.X)

	p2 := filepath.Join(t.TempDir(), "nolabel.csv")
	writeFile(t, p2, []byte("a,b\n1,2\n"))
	s, err = Load(p2)
	require.NoError(t, err)
	assert.Nil(t, s.Train.Labels)
	assert.Equal(t, 2, s.Train.W)
}
