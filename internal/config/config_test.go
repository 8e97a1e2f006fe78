package config

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func flags() *flag.FlagSet {
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.Int("epochs", 20, "")
	fs.Float64("lr", 1e-3, "")
	fs.String("model", "deep", "")
	fs.Bool("nesterov", false, "")
	fs.Uint64("seed", 1, "")
	fs.String("config", "", "")
	return fs
}

func TestRoundTrip(t *testing.T) {
	fs := flags()
	require.NoError(t, fs.Parse([]string{"-epochs", "3", "-lr", "1e-8", "-model", "123", "-nesterov"}))
	data, err := Marshal(fs, "written by a test", "config")
	require.NoError(t, err)
	assert.Contains(t, string(data), "# written by a test\n")
	assert.Contains(t, string(data), "epochs: 3\n")
	assert.Contains(t, string(data), `model: "123"`, "a numeric-looking string stays a string")
	assert.NotContains(t, string(data), "config:")

	back := flags()
	v, err := Parse("run.yaml", data, back, "config")
	require.NoError(t, err)
	require.NoError(t, v.Apply(back, nil))
	fs.VisitAll(func(fl *flag.Flag) {
		assert.Equal(t, fl.Value.String(), back.Lookup(fl.Name).Value.String(), fl.Name)
	})
}

func TestJSONAndOverrides(t *testing.T) {
	path := filepath.Join(t.TempDir(), "run.json")
	require.NoError(t, os.WriteFile(path, []byte(`{"epochs": 7, "lr": 0.5, "model": "basic"}`), 0o644))
	fs := flags()
	require.NoError(t, fs.Parse([]string{"-epochs", "2"}))
	v, err := Read(path, fs)
	require.NoError(t, err)
	require.NoError(t, v.Apply(fs, map[string]bool{"epochs": true}))
	assert.Equal(t, "2", fs.Lookup("epochs").Value.String(), "the command line wins")
	assert.Equal(t, "0.5", fs.Lookup("lr").Value.String())
	assert.Equal(t, "basic", fs.Lookup("model").Value.String())
}

func TestErrors(t *testing.T) {
	for _, tc := range []struct {
		name, text, want string
	}{
		{"unknown key", "epochs: 3\nepoch: 4\n", `run.yaml:2: unknown key "epoch": did you mean "epochs"?`},
		{"far unknown key", "zzzzzzzz: 1\n", `unknown key "zzzzzzzz" (valid keys: epochs, lr, model, nesterov, seed)`},
		{"excluded key", "config: x.yaml\n", `unknown key "config"`},
		{"wrong type int", "epochs: ten\n", `run.yaml:1: key "epochs": "ten" is not a valid integer`},
		{"float for int", "epochs: 2.5\n", `"2.5" is not a valid integer`},
		{"wrong type float", "lr: fast\n", `key "lr": "fast" is not a valid number`},
		{"wrong type bool", "nesterov: 3\n", `"3" is not a valid boolean`},
		{"negative seed", "seed: -1\n", `not a valid non-negative integer`},
		{"list", "epochs: [1, 2]\n", `key "epochs": want a single integer value`},
		{"null", "epochs:\n", `key "epochs": want a single integer value`},
		{"not a mapping", "- epochs\n", "want a mapping of flag names"},
		{"duplicate", "lr: 1\nlr: 2\n", "set twice"},
		{"bad yaml", "epochs: [\n", "not valid YAML or JSON"},
		{"json wrong type", `{"epochs": "x"}`, `"x" is not a valid integer`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("run.yaml", []byte(tc.text), flags(), "config")
			assert.ErrorContains(t, err, tc.want)
		})
	}
	_, err := Read(filepath.Join(t.TempDir(), "missing.yaml"), flags())
	assert.ErrorContains(t, err, "missing.yaml")
}

func TestEmptyFileSetsNothing(t *testing.T) {
	fs := flags()
	v, err := Parse("empty.yaml", nil, fs)
	require.NoError(t, err)
	require.NoError(t, v.Apply(fs, nil))
	assert.Equal(t, "20", fs.Lookup("epochs").Value.String())
}

func TestApplyLeavesDefaultsUnset(t *testing.T) {
	fs := flags()
	v, err := Parse("run.yaml", []byte("epochs: 20\nlr: 0.0010\nmodel: basic\n"), fs)
	require.NoError(t, err)
	require.NoError(t, v.Apply(fs, nil))
	var given []string
	fs.Visit(func(fl *flag.Flag) { given = append(given, fl.Name) })
	assert.Equal(t, []string{"model"}, given, "values equal to the defaults are not marked as given")
}
