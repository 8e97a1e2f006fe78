// Command bench times hourglass on the CPU: steady-state training epochs and
// scoring throughput of one model kind, printed as JSON lines that
// scripts/bench.sh gathers into a table beside the PyTorch peer.
//
//	go run ./scripts/bench -model deep -epochs 4
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"slices"
	"syscall"
	"time"

	"github.com/hourglass-ml/hourglass/dataset"
	"github.com/hourglass-ml/hourglass/models"
	"github.com/hourglass-ml/hourglass/train"
)

type record struct {
	Build        string    `json:"build"`
	Model        string    `json:"model"`
	Task         string    `json:"task"`
	Seconds      float64   `json:"seconds"`
	ImagesPerS   float64   `json:"images_per_s"`
	PeakRSSMB    float64   `json:"peak_rss_mb"`
	EpochSeconds []float64 `json:"epoch_seconds,omitempty"`
	// StepMedianMS is each epoch's median step time: the per-epoch figure a
	// host's stolen time or one preemption barely moves.
	StepMedianMS []float64 `json:"step_median_ms,omitempty"`
	FinalLoss    float64   `json:"final_loss,omitempty"`
	GOMAXPROCS   int       `json:"gomaxprocs"`
	BLASCore     string    `json:"blas_core"`
}

func main() {
	kind := flag.String("model", "deep", "model kind")
	data := flag.String("data", "fashion-mnist", "data source")
	epochs := flag.Int("epochs", 4, "training epochs; the first is a warm-up and not counted")
	batch := flag.Int("batch", 256, "training batch size")
	passes := flag.Int("infer-passes", 3, "scoring passes over the training images")
	build := flag.String("build", "purego", "label of this build")
	flag.Parse()
	if err := run(*kind, *data, *build, *epochs, *batch, *passes); err != nil {
		fmt.Fprintf(os.Stderr, "bench: %v\n", err)
		os.Exit(1)
	}
}

// inferBatch is the scoring batch size the peer uses too.
const inferBatch = 1024

func run(kind, data, build string, epochs, batch, passes int) error {
	if epochs < 2 {
		return fmt.Errorf("-epochs %d: need at least 2 (one warm-up, one timed)", epochs)
	}
	splits, err := dataset.Load(data)
	if err != nil {
		return err
	}
	d := splits.Train
	spec, err := models.DefaultSpec(kind, []int{d.C, d.H, d.W}, 0)
	if err != nil {
		return err
	}
	m, err := models.New(spec)
	if err != nil {
		return err
	}
	// The whole training set is trained on; validation is one small batch so
	// that the timed epoch is the training pass.
	var steps [][]float64 // step durations by epoch
	last := time.Now()
	afterStep := func(epoch, _ int) {
		now := time.Now()
		for len(steps) < epoch {
			steps = append(steps, nil)
		}
		steps[epoch-1] = append(steps[epoch-1], now.Sub(last).Seconds()*1e3)
		last = now
	}
	res, err := train.Fit(context.Background(), m, d, splits.Test.Head(batch), train.Config{Epochs: epochs, Batch: batch, LR: 1e-3, Seed: 1, AfterStep: afterStep})
	if err != nil {
		return err
	}
	var secs []float64
	for _, h := range res.History {
		secs = append(secs, h.Seconds)
	}
	rec := record{Build: build, Model: kind, Task: "train", Seconds: median(secs[1:]), EpochSeconds: secs,
		FinalLoss: res.History[len(res.History)-1].TrainLoss, GOMAXPROCS: runtime.GOMAXPROCS(0), BLASCore: blasCore()}
	for _, st := range steps {
		rec.StepMedianMS = append(rec.StepMedianMS, median(st))
	}
	rec.ImagesPerS = float64(d.N) / rec.Seconds
	rec.PeakRSSMB = peakRSSMB()
	if err := emit(rec); err != nil {
		return err
	}
	var times []float64
	out := make([]float32, len(d.X)) // reused: a scorer keeps its buffer
	for i := 0; i <= passes; i++ {
		start := time.Now()
		if err := models.ReconstructInto(m, out, d.X, d.N, inferBatch); err != nil {
			return err
		}
		if i > 0 { // the first pass warms up
			times = append(times, time.Since(start).Seconds())
		}
	}
	inf := record{Build: build, Model: kind, Task: "infer", Seconds: median(times), GOMAXPROCS: runtime.GOMAXPROCS(0), BLASCore: blasCore()}
	inf.ImagesPerS = float64(d.N) / inf.Seconds
	inf.PeakRSSMB = peakRSSMB()
	return emit(inf)
}

func emit(r record) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	_, err = fmt.Println(string(b))
	return err
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// peakRSSMB is the process's peak resident set size (Linux reports KiB).
func peakRSSMB() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Maxrss) / 1024
}
