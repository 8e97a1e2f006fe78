package evalcli

import (
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// readScores reads scores.csv into its score and anomaly columns.
func readScores(t *testing.T, path, col string) (scores []float64, flags []bool) {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	require.NoError(t, err)
	head := rows[0]
	si, fi := -1, -1
	for i, h := range head {
		switch h {
		case col:
			si = i
		case "anomaly":
			fi = i
		}
	}
	require.True(t, si >= 0 && fi >= 0, "columns %v", head)
	for _, r := range rows[1:] {
		s, err := strconv.ParseFloat(r[si], 64)
		require.NoError(t, err)
		scores, flags = append(scores, s), append(flags, r[fi] == "1")
	}
	return scores, flags
}

// A directory of CSV shards is scored streaming, row for row as eval scores
// the same rows from one file; what needs the rows in memory is refused;
// a bad shard names itself and its line and leaves no scores.csv.
func TestStreamedShardsMatchOneFile(t *testing.T) {
	dir := t.TempDir()
	table := filepath.Join(dir, "table.csv")
	const n, outliers = 600, 20
	writeCSV(t, table, n, outliers, 5)
	ck := trainTable(t, table, filepath.Join(dir, "run"))

	// The same rows in three shards, each with the header.
	b, err := os.ReadFile(table)
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	shards := filepath.Join(dir, "shards")
	require.NoError(t, os.Mkdir(shards, 0o755))
	body := lines[1:]
	for i, part := range [][]string{body[:250], body[250:500], body[500:]} {
		p := filepath.Join(shards, "part-"+strconv.Itoa(i)+".csv")
		require.NoError(t, os.WriteFile(p, []byte(lines[0]+"\n"+strings.Join(part, "\n")+"\n"), 0o644))
	}

	whole := runJSON(t, "-checkpoint", ck, "-data", table, "-task", "anomaly", "-top-k", "0", "-out", filepath.Join(dir, "whole"))
	code, stdout, stderr := runCmd("-checkpoint", ck, "-data", shards, "-task", "anomaly", "-out", filepath.Join(dir, "streamed"), "-json")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stderr, "scoring 620 rows of 3 shards")
	assert.Contains(t, stdout, `"n":620`)

	want, wantFlags := readScores(t, filepath.Join(dir, "whole", "scores.csv"), "recon_error")
	got, gotFlags := readScores(t, filepath.Join(dir, "streamed", "scores.csv"), "recon_error")
	require.Len(t, got, n+outliers)
	assert.InDeltaSlice(t, want, got, 1e-6)
	assert.Equal(t, wantFlags, gotFlags)
	count := func(f []bool) (k int) {
		for _, v := range f {
			if v {
				k++
			}
		}
		return k
	}
	// The stored threshold (99th percentile of the training rows) flags the
	// off-plane rows far more often than the rest.
	assert.GreaterOrEqual(t, count(gotFlags[n:]), outliers/4)
	assert.LessOrEqual(t, count(gotFlags[:n]), n/50)
	var streamed map[string]any
	require.NoError(t, json.Unmarshal([]byte(stdout), &streamed))
	require.NotNil(t, whole["threshold"])
	assert.Equal(t, whole["threshold"], streamed["threshold"])
	assert.EqualValues(t, count(gotFlags), streamed["flagged"])

	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"task in memory", []string{"-task", "features"}, "task features needs the data in memory"},
		{"contamination", []string{"-task", "anomaly", "-contamination", "0.05"}, "-contamination needs the scores of all rows"},
		{"labels", []string{"-task", "anomaly", "-anomaly-label", "1"}, "labels are not read when streaming"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runCmd(append([]string{"-checkpoint", ck, "-data", shards, "-out", filepath.Join(dir, tc.name)}, tc.args...)...)
			assert.Equal(t, 1, code)
			assert.Contains(t, stderr, tc.want)
			assert.NoFileExists(t, filepath.Join(dir, tc.name, "scores.csv"))
		})
	}

	// A row one value short in the last shard: its name and line, exit 1, no scores.csv.
	bad := filepath.Join(shards, "part-2.csv")
	f, err := os.OpenFile(bad, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteString("1,2,3,4,5,6,7,0\n")
	require.NoError(t, err)
	require.NoError(t, f.Close())
	out := filepath.Join(dir, "bad")
	code, _, stderr = runCmd("-checkpoint", ck, "-data", shards, "-task", "anomaly", "-out", out)
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "part-2.csv")
	assert.Contains(t, stderr, "line 122")
	assert.NoFileExists(t, filepath.Join(out, "scores.csv"))
}
