package train

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	row1 = `{"epoch":1,"step":10,"lr":0.001,"train_loss":0.5,"val_loss":0.4,"seconds":1}`
	row2 = `{"epoch":2,"step":20,"lr":0.001,"train_loss":0.3,"val_loss":0.25,"seconds":1}`
	row3 = `{"epoch":3,"step":30,"lr":0.001,"train_loss":0.2,"val_loss":null,"kl":2.5,"seconds":1}`
)

// TestOpenMetricsSkipsCorruptLines: a resume reads past unreadable lines,
// warns about each, keeps the original file and rewrites only good rows
// up to the checkpoint's epoch.
func TestOpenMetricsSkipsCorruptLines(t *testing.T) {
	cases := []struct {
		name     string
		content  string
		keep     int
		epochs   []int
		warnings int // skipped lines; a kept copy adds one more warning
	}{
		{"clean", row1 + "\n" + row2 + "\n", 2, []int{1, 2}, 0},
		{"later epochs dropped", row1 + "\n" + row2 + "\n" + row3 + "\n", 2, []int{1, 2}, 0},
		{"torn last line", row1 + "\n" + row2[:20], 2, []int{1}, 0},
		{"garbage in the middle", row1 + "\n{garbage\n" + row2 + "\n", 2, []int{1, 2}, 1},
		{"binary junk", row1 + "\n\x00\xff\xfe\n" + row2 + "\n", 2, []int{1, 2}, 1},
		{"negative epoch", `{"epoch":-3,"step":1}` + "\n" + row1 + "\n", 2, []int{1}, 1},
		{"huge epoch", `{"epoch":1e300,"step":1}` + "\n" + row1 + "\n", 2, []int{1}, 1},
		{"not an object", "[1,2]\n" + row1 + "\n" + "null\n", 2, []int{1}, 2},
		{"duplicate epoch capped", row1 + "\n" + row1 + "\n" + row2 + "\n", 2, []int{1, 1}, 0},
		{"fresh run ignores file", "{garbage\n", -1, nil, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, MetricsJSONL)
			require.NoError(t, os.WriteFile(path, []byte(tc.content), 0o644))
			w, history, err := openMetrics(dir, tc.keep)
			require.NoError(t, err)
			defer w.Close()
			var epochs []int
			for _, h := range history {
				epochs = append(epochs, h.Epoch)
			}
			assert.Equal(t, tc.epochs, epochs)
			kept, err := filepath.Glob(filepath.Join(dir, MetricsJSONL+".corrupt-*"))
			require.NoError(t, err)
			if tc.warnings == 0 {
				assert.Empty(t, w.Warnings)
				assert.Empty(t, kept)
			} else {
				require.Len(t, w.Warnings, tc.warnings+1)
				for _, msg := range w.Warnings {
					assert.Contains(t, msg, path)
					assert.NotContains(t, msg, "\n")
				}
				require.Len(t, kept, 1)
				assert.Contains(t, w.Warnings[tc.warnings], kept[0])
				orig, err := os.ReadFile(kept[0])
				require.NoError(t, err)
				assert.Equal(t, tc.content, string(orig), "the original file must be kept byte for byte")
			}
			now, err := os.ReadFile(path)
			require.NoError(t, err)
			assert.Equal(t, len(tc.epochs), strings.Count(string(now), "\n"))
			left, err := filepath.Glob(filepath.Join(dir, "*.tmp*"))
			require.NoError(t, err)
			assert.Empty(t, left)
		})
	}
}

func TestReadMetricsRefusesSpecialFiles(t *testing.T) {
	for _, p := range []string{"/dev/zero", "/dev/urandom"} {
		if _, err := os.Stat(p); err != nil {
			continue
		}
		_, _, _, err := readMetrics(p)
		require.Error(t, err)
		assert.Contains(t, err.Error(), p)
		assert.Contains(t, err.Error(), "character device")
	}
}

// FuzzReadMetrics: any metrics.jsonl reads without a panic, every row read
// has sane counts and writes back to a line that reads the same.
func FuzzReadMetrics(f *testing.F) {
	f.Add([]byte(row1 + "\n" + row2 + "\n" + row3 + "\n"))
	f.Add([]byte(row1 + "\n{garbage\n" + row2[:30]))
	f.Add([]byte("null\n[]\n{}\n" + `{"epoch":1e300}` + "\n"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, in []byte) {
		path := filepath.Join(t.TempDir(), MetricsJSONL)
		require.NoError(t, os.WriteFile(path, in, 0o644))
		rows, warnings, raw, err := readMetrics(path)
		require.NoError(t, err)
		require.Equal(t, in, raw)
		for _, w := range warnings {
			require.NotContains(t, w, "\n")
		}
		for _, r := range rows {
			require.GreaterOrEqual(t, r.Epoch, 0)
			require.GreaterOrEqual(t, r.Step, 0)
			b, err := r.MarshalJSON()
			require.NoError(t, err)
			var again EpochStats
			require.NoError(t, again.UnmarshalJSON(b), "row %s does not read back", b)
			require.Equal(t, r.Epoch, again.Epoch)
		}
	})
}
