// Command serve-bench measures hourglass serve on this machine: rows/s and
// p50/p99 request latency with concurrent clients over loopback HTTP,
// beside the offline scoring rate of Model.Score on the same rows.
//
//	go run ./scripts/serve-bench                        # deep model on the embedded sample
//	go run ./scripts/serve-bench -model m.safetensors -clients 32 -rows 1,16,128 -dur 5s
//
// Without -model it trains a deep autoencoder for one epoch on 1024 sample
// images (784 features; the weights do not matter for speed). Figures go
// to docs/serving.md.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hourglass-ml/hourglass"
	"github.com/hourglass-ml/hourglass/serve"
)

func main() {
	model := flag.String("model", "", "checkpoint to serve (default: train a deep model on the sample)")
	clients := flag.Int("clients", 32, "concurrent clients")
	rowsList := flag.String("rows", "1,16,128", "rows per request, comma-separated: one run each")
	dur := flag.Duration("dur", 5*time.Second, "length of each run")
	wait := flag.Duration("batch-wait", 2*time.Millisecond, "server's micro-batch wait (0: none)")
	prof := flag.String("cpuprofile", "", "write a CPU profile of the HTTP runs to this file")
	flag.Parse()
	cpuprofile = *prof
	if err := run(*model, *clients, *rowsList, *dur, *wait); err != nil {
		fmt.Fprintf(os.Stderr, "serve-bench: %v\n", err)
		os.Exit(1)
	}
}

func run(path string, clients int, rowsList string, dur, wait time.Duration) error {
	train, test, err := hourglass.LoadData("sample")
	if err != nil {
		return err
	}
	if path == "" {
		dir, err := os.MkdirTemp("", "serve-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		m, _, err := hourglass.Train(context.Background(), train.Head(1024), hourglass.Config{Epochs: 1})
		if err != nil {
			return err
		}
		path = filepath.Join(dir, "deep.safetensors")
		if err := m.Save(path); err != nil {
			return err
		}
	}
	m, err := hourglass.Load(path)
	if err != nil {
		return err
	}
	dim := m.InputDim()
	if test.Dim() != dim {
		return fmt.Errorf("model takes %d features, the sample has %d", dim, test.Dim())
	}
	rows := test.Head(1024).X
	n := len(rows) / dim
	fmt.Printf("model %s (%s, %d features), %d test rows, GOMAXPROCS %d, %s\n", path, m.Spec().Kind, dim, n, runtime.GOMAXPROCS(0), runtime.Version())

	// Offline: Model.Score on all rows in one call, and row by row.
	bulk := rate(dur/2, func() int { must(m.Score(rows)); return n })
	one := rate(dur/2, func() int {
		for i := range 64 {
			must(m.Score(rows[i*dim : (i+1)*dim]))
		}
		return 64
	})
	fmt.Printf("offline Model.Score: %.0f rows/s in one call of %d rows; %.0f rows/s row by row (one goroutine)\n", bulk, n, one)

	bw := wait
	if bw == 0 {
		bw = -1
	}
	s, err := serve.New([]serve.Source{{Name: "m", Path: path}}, serve.Options{BatchWait: bw, TopK: -1})
	if err != nil {
		return err
	}
	defer s.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: s}
	go hs.Serve(ln)
	defer hs.Close()
	url := "http://" + ln.Addr().String() + "/v1/models/m/score"

	if cpuprofile != "" {
		f, err := os.Create(cpuprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	fmt.Printf("\n| clients | rows/request | requests | rows/s | p50 ms | p99 ms | errors | rows/batch | vs offline bulk |\n|---|---|---|---|---|---|---|---|---|\n")
	metricsURL := "http://" + ln.Addr().String() + "/metrics"
	for _, f := range strings.Split(rowsList, ",") {
		k, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || k <= 0 || k > n {
			return fmt.Errorf("-rows %q: want whole numbers in 1..%d", f, n)
		}
		sum0, n0 := batches(metricsURL)
		res := load(url, clients, k, dim, rows, dur)
		sum1, n1 := batches(metricsURL)
		fmt.Printf("| %d | %d | %d | %.0f | %.2f | %.2f | %d | %.1f | %.0f%% |\n", clients, k, len(res.lat), res.rowsPerS,
			ms(res.pct(50)), ms(res.pct(99)), res.errors, (sum1-sum0)/(n1-n0), 100*res.rowsPerS/bulk)
	}
	return nil
}

var cpuprofile string

// batches reads the server's batch-size histogram: total rows and batches.
func batches(url string) (sum, count float64) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, 0
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(b), "\n") {
		name, val, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		v, _ := strconv.ParseFloat(val, 64)
		switch {
		case strings.HasPrefix(name, "hourglass_serve_batch_rows_sum{"):
			sum = v
		case strings.HasPrefix(name, "hourglass_serve_batch_rows_count{"):
			count = v
		}
	}
	return sum, count
}

func must(_ []float64, err error) {
	if err != nil {
		fmt.Fprintf(os.Stderr, "serve-bench: %v\n", err)
		os.Exit(1)
	}
}

// rate calls f (which returns rows done) for d after one warm-up call.
func rate(d time.Duration, f func() int) float64 {
	f()
	start, done := time.Now(), 0
	for time.Since(start) < d {
		done += f()
	}
	return float64(done) / time.Since(start).Seconds()
}

type result struct {
	lat      []time.Duration
	rowsPerS float64
	errors   int
}

func (r result) pct(p float64) time.Duration {
	if len(r.lat) == 0 {
		return 0
	}
	return r.lat[min(len(r.lat)-1, int(float64(len(r.lat))*p/100))]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// load has clients post requests of k rows (JSON) back to back for d.
func load(url string, clients, k, dim int, rows []float32, d time.Duration) result {
	n := len(rows) / dim
	bodies := make([][]byte, 0, 16)
	for b := range 16 {
		var buf bytes.Buffer
		buf.WriteString(`{"rows":[`)
		for i := range k {
			if i > 0 {
				buf.WriteByte(',')
			}
			r := (b*k + i) % n
			buf.WriteByte('[')
			for j, v := range rows[r*dim : (r+1)*dim] {
				if j > 0 {
					buf.WriteByte(',')
				}
				buf.WriteString(strconv.FormatFloat(float64(v), 'g', -1, 32))
			}
			buf.WriteByte(']')
		}
		buf.WriteString("]}")
		bodies = append(bodies, buf.Bytes())
	}
	c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	var mu sync.Mutex
	var all result
	var wg sync.WaitGroup
	start := time.Now()
	end := start.Add(d)
	for cl := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var lat []time.Duration
			errs := 0
			for i := cl; time.Now().Before(end); i++ {
				t0 := time.Now()
				resp, err := c.Post(url, "application/json", bytes.NewReader(bodies[i%len(bodies)]))
				if err == nil {
					_, err = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						err = fmt.Errorf("status %d", resp.StatusCode)
					}
				}
				if err != nil {
					errs++
					continue
				}
				lat = append(lat, time.Since(t0))
			}
			mu.Lock()
			all.lat = append(all.lat, lat...)
			all.errors += errs
			mu.Unlock()
		}()
	}
	wg.Wait()
	all.rowsPerS = float64(len(all.lat)*k) / time.Since(start).Seconds()
	slices.Sort(all.lat)
	return all
}
