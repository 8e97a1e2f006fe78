package servecli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hourglass-ml/hourglass"
)

// checkpoint trains a tiny model of the given kind on 4 features.
func checkpoint(t *testing.T, dir, kind string) string {
	t.Helper()
	x := make([]float32, 0, 256*4)
	for i := range 256 {
		a := float32(i%17) / 17
		x = append(x, a, 2*a, 1-a, a*a)
	}
	d, err := hourglass.NewDataset("t", x, 4)
	require.NoError(t, err)
	cfg := hourglass.Config{Kind: kind, Epochs: 2, Latent: 2}
	if kind != "vae" {
		cfg.Hidden = []int{8}
	}
	m, _, err := hourglass.Train(context.Background(), d, cfg)
	require.NoError(t, err)
	path := filepath.Join(dir, kind+".safetensors")
	require.NoError(t, m.Save(path))
	return path
}

func TestUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		code int
		err  string
	}{
		{"no model", nil, 2, "hourglass serve: no model: give -model [NAME=]CHECKPOINT (repeatable)\n"},
		{"bad name", []string{"-model", "a b=x.safetensors"}, 2,
			`hourglass serve: invalid value "a b=x.safetensors" for flag -model: model "a b=x.safetensors": name "a b" must be letters, digits, '.', '_' or '-' (give name=path to choose one) (see hourglass serve -h)` + "\n"},
		{"bad positional", []string{"x="}, 2, `hourglass serve: model "x=": no checkpoint path: give name=path or a path` + "\n"},
		{"unknown flag", []string{"-bogus"}, 2, "hourglass serve: flag provided but not defined: -bogus (see hourglass serve -h)\n"},
		{"negative rows", []string{"-max-rows", "-1", "m.safetensors"}, 2, "hourglass serve: -max-body, -max-rows and -batch-rows must be positive\n"},
		{"negative wait", []string{"-batch-wait", "-1ms", "m.safetensors"}, 2,
			"hourglass serve: -batch-wait, -workers and -top-k must not be negative, -shutdown-timeout must be positive\n"},
		{"missing file", []string{"-model", "m=/nonexistent/m.safetensors"}, 1, "hourglass serve: model m: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run("hourglass serve", tc.args, &out, &errb, nil)
			assert.Equal(t, tc.code, code)
			assert.True(t, strings.HasPrefix(errb.String(), tc.err), errb.String())
			assert.Equal(t, 1, strings.Count(errb.String(), "\n"), errb.String())
			assert.Empty(t, out.String())
		})
	}
	var out bytes.Buffer
	assert.Equal(t, 0, run("hourglass serve", []string{"-h"}, &out, io.Discard, nil))
	assert.Contains(t, out.String(), "SIGHUP reloads every model")
}

// syncBuffer is a bytes.Buffer safe to read while run writes it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitFor polls cond every 5ms for up to 10s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return
		}
	}
	require.FailNow(t, "timed out waiting for "+what)
}

// TestServeReloadShutdown runs the command on a free port: it answers,
// reloads on SIGHUP, and on SIGTERM finishes a request that is waiting in
// a (deliberately long) batch window before exiting 0.
func TestServeReloadShutdown(t *testing.T) {
	dir := t.TempDir()
	deep, vae := checkpoint(t, dir, "deep"), checkpoint(t, dir, "vae")
	live := filepath.Join(dir, "live.safetensors")
	b, err := os.ReadFile(deep)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(live, b, 0o644))

	sigs := make(chan os.Signal, 1)
	var out, errb syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run("hourglass serve", []string{"-addr", "127.0.0.1:0", "-batch-wait", "300ms", "-model", live, "-model", "d=" + deep}, &out, &errb, sigs)
	}()
	addr := regexp.MustCompile(`serving d, live on (http://127\.0\.0\.1:\d+)\n`)
	waitFor(t, "the address", func() bool { return addr.MatchString(out.String()) })
	base := addr.FindStringSubmatch(out.String())[1]

	kind := func() string {
		resp, err := http.Get(base + "/v1/models")
		require.NoError(t, err)
		defer resp.Body.Close()
		var list struct {
			Models []struct {
				Name string
				Spec hourglass.Spec
			}
		}
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&list))
		require.Len(t, list.Models, 2)
		require.Equal(t, "live", list.Models[1].Name)
		return list.Models[1].Spec.Kind
	}
	assert.Equal(t, "deep", kind())
	require.NoError(t, os.WriteFile(live+".tmp", mustRead(t, vae), 0o644))
	require.NoError(t, os.Rename(live+".tmp", live))
	sigs <- syscall.SIGHUP
	waitFor(t, "the reload", func() bool { return kind() == "vae" })

	// A request waits 300ms for company; SIGTERM arrives meanwhile.
	m, err := hourglass.Load(vae)
	require.NoError(t, err)
	row := []float32{0.5, 1, 0.5, 0.25}
	want, err := m.Score(row)
	require.NoError(t, err)
	type answer struct {
		code int
		body string
	}
	got := make(chan answer, 1)
	go func() {
		resp, err := http.Post(base+"/v1/models/live/score", "text/csv", strings.NewReader("0.5,1,0.5,0.25\n"))
		if err != nil {
			got <- answer{0, err.Error()}
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		got <- answer{resp.StatusCode, string(b)}
	}()
	waitFor(t, "the request in flight", func() bool {
		resp, err := http.Get(base + "/metrics")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return strings.Contains(string(b), "hourglass_serve_requests_in_flight 2\n")
	})
	sigs <- syscall.SIGTERM
	a := <-got
	require.Equal(t, 200, a.code, a.body)
	var sr struct{ Scores []float64 }
	require.NoError(t, json.Unmarshal([]byte(a.body), &sr))
	assert.Equal(t, want, sr.Scores)
	select {
	case code := <-done:
		assert.Equal(t, 0, code, errb.String())
	case <-time.After(10 * time.Second):
		require.FailNow(t, "serve did not stop after SIGTERM")
	}
	assert.Contains(t, errb.String(), "SIGHUP: every model reloaded")
	assert.Contains(t, errb.String(), fmt.Sprintf("shutting down: finishing requests in flight\" signal=%s", syscall.SIGTERM))
	_, err = http.Get(base + "/healthz")
	assert.Error(t, err, "the listener is closed")
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return b
}
