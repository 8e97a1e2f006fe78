package serve

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// loadRun has clients each send up to perClient score requests of 1–8
// random fixture rows (JSON or CSV) for at most dur, and checks every
// answer with check. It returns the requests sent; every failure is
// reported through t.
func loadRun(t *testing.T, url string, clients, perClient int, dur time.Duration, rowsX []float32, check func(idx []int, got []float64) error) int64 {
	t.Helper()
	n := len(rowsX) / dim
	tr := &http.Transport{MaxIdleConnsPerHost: clients}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	deadline := time.Now().Add(dur)
	var sent, failed atomic.Int64
	var mu sync.Mutex
	var firstErr error
	fail := func(err error) {
		failed.Add(1)
		mu.Lock()
		if firstErr == nil {
			firstErr = err
		}
		mu.Unlock()
	}
	var wg sync.WaitGroup
	for cl := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(cl), 1))
			for i := 0; i < perClient && time.Now().Before(deadline); i++ {
				k := 1 + r.IntN(8)
				idx := make([]int, k)
				x := make([]float32, 0, k*dim)
				for j := range idx {
					idx[j] = r.IntN(n)
					x = append(x, rowsX[idx[j]*dim:(idx[j]+1)*dim]...)
				}
				ctype, body := "application/json", jsonRows(x, dim)
				if i%2 == 1 {
					ctype, body = "text/csv", csvRows(x, dim, false)
				}
				sent.Add(1)
				resp, err := c.Post(url+"?top_k=0", ctype, strings.NewReader(string(body)))
				if err != nil {
					fail(err)
					continue
				}
				b, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil || resp.StatusCode != http.StatusOK {
					fail(fmt.Errorf("status %d: %s (%v)", resp.StatusCode, b, err))
					continue
				}
				var got ScoreResponse
				if err := json.Unmarshal(b, &got); err != nil {
					fail(err)
					continue
				}
				if err := check(idx, got.Scores); err != nil {
					fail(err)
				}
			}
		}()
	}
	wg.Wait()
	assert.Zero(t, failed.Load(), "failed requests of %d; first: %v", sent.Load(), firstErr)
	return sent.Load()
}

func equalRows(want []float64) func(idx []int, got []float64) error {
	return func(idx []int, got []float64) error {
		if len(got) != len(idx) {
			return fmt.Errorf("%d scores for %d rows", len(got), len(idx))
		}
		for j, i := range idx {
			if got[j] != want[i] {
				return fmt.Errorf("row %d: score %v, offline %v", i, got[j], want[i])
			}
		}
		return nil
	}
}

// TestLoad: 32 concurrent clients for at most 2 s (or 150 requests each)
// over loopback; zero errors, every score equal to the offline one, and
// the requests were in fact batched together.
func TestLoad(t *testing.T) {
	s, ts, f := newServer(t, Options{})
	_, want := offline(t, f.deep, f.rows)
	sent := loadRun(t, ts.URL+"/v1/models/deep/score", 32, 150, 2*time.Second, f.rows, equalRows(want))
	require.Positive(t, sent)
	batches := &dtoHistogram{}
	require.NoError(t, batches.read(s, "deep"))
	assert.Less(t, batches.count, uint64(sent), "some requests shared a batch")
	t.Logf("%d requests in %d batches (%.1f rows per batch)", sent, batches.count, batches.sum/float64(batches.count))
}

// TestReloadUnderLoad swaps the checkpoint between two models and reloads
// it ten times while 16 clients score: no request fails, and each answer
// comes whole from one of the two models.
func TestReloadUnderLoad(t *testing.T) {
	f := getFixtures(t)
	path := t.TempDir() + "/live.safetensors"
	require.NoError(t, copyFile(f.deep, path))
	s, err := New([]Source{{"live", path}}, Options{})
	require.NoError(t, err)
	ts := httptest.NewServer(s)
	t.Cleanup(func() { ts.Close(); s.Close() })
	_, a := offline(t, f.deep, f.rows)
	_, b := offline(t, f.other, f.rows)
	fromA, fromB := equalRows(a), equalRows(b)
	var seenA, seenB atomic.Int64
	check := func(idx []int, got []float64) error {
		if fromA(idx, got) == nil {
			seenA.Add(1)
			return nil
		}
		if err := fromB(idx, got); err != nil {
			return fmt.Errorf("scores from neither model: %w", err)
		}
		seenB.Add(1)
		return nil
	}
	done := make(chan error, 1)
	go func() {
		defer close(done)
		for i := range 10 {
			time.Sleep(60 * time.Millisecond)
			src := f.other
			if i%2 == 1 {
				src = f.deep
			}
			if err := copyFile(src, path); err != nil {
				done <- err
				return
			}
			if err := s.Reload("live"); err != nil {
				done <- err
				return
			}
		}
	}()
	loadRun(t, ts.URL+"/v1/models/live/score", 16, 100, 1500*time.Millisecond, f.rows, check)
	require.NoError(t, <-done)
	assert.Positive(t, seenA.Load())
	assert.Positive(t, seenB.Load())
}
