// Command bench times hourglass on the CPU: training steps and scoring
// throughput of one model kind, and the GEMM kernel's peak, printed as JSON
// lines that scripts/bench.sh gathers into a table beside the PyTorch peer.
//
//	go run ./scripts/bench -model deep -steps 60      # 60 timed steps per repetition
//	go run ./scripts/bench -model deep -steps 0       # full epochs
//	go run ./scripts/bench -peak                      # the packed GEMM's GFLOP/s
//	go run ./scripts/bench -model vae -batch 128 -steps 200 -epochs 10 -train-only -cpuprofile vae.prof
//	                                                  # what a training step spends its time on
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/hourglass-ml/hourglass/dataset"
	"github.com/hourglass-ml/hourglass/internal/kernels"
	"github.com/hourglass-ml/hourglass/models"
	"github.com/hourglass-ml/hourglass/train"
)

type record struct {
	Build   string  `json:"build"`
	Model   string  `json:"model"`
	Task    string  `json:"task"`
	Seconds float64 `json:"seconds"`
	// Steps and Images are what Seconds timed: Steps training steps of
	// Batch images, or Images scored.
	Steps        int       `json:"steps,omitempty"`
	Batch        int       `json:"batch,omitempty"`
	Images       int       `json:"images"`
	ImagesPerS   float64   `json:"images_per_s"`
	GFLOP        float64   `json:"gflop,omitempty"` // FLOPs of what Seconds timed, counted from the spec
	GFLOPS       float64   `json:"gflop_per_s,omitempty"`
	PeakRSSMB    float64   `json:"peak_rss_mb"`
	EpochSeconds []float64 `json:"epoch_seconds,omitempty"`
	// StepMedianMS is each epoch's median step time: the per-epoch figure a
	// host's stolen time or one preemption barely moves.
	StepMedianMS []float64 `json:"step_median_ms,omitempty"`
	FinalLoss    float64   `json:"final_loss,omitempty"`
	GOMAXPROCS   int       `json:"gomaxprocs"`
	BLASCore     string    `json:"blas_core"`
	CPU          string    `json:"cpu"`
	Commit       string    `json:"commit,omitempty"`
	LoadAvg      string    `json:"loadavg"`
}

type options struct {
	kind, data, build, commit string
	epochs, steps, batch      int
	passes, scoreImages       int
	cpuProfile, hidden        string
	trainOnly                 bool
}

func main() {
	var o options
	flag.StringVar(&o.kind, "model", "deep", "model kind")
	flag.StringVar(&o.data, "data", "fashion-mnist", "data source")
	flag.IntVar(&o.epochs, "epochs", 4, "repetitions: training epochs (of -steps steps, or full epochs with -steps 0); the first is a warm-up and not counted")
	flag.IntVar(&o.steps, "steps", 0, "training steps per repetition (0: full epochs over the training set)")
	flag.IntVar(&o.batch, "batch", 256, "training batch size")
	flag.IntVar(&o.passes, "infer-passes", 3, "timed scoring passes (after one warm-up pass)")
	flag.IntVar(&o.scoreImages, "score-images", 0, "images per scoring pass (0: the whole training set)")
	flag.StringVar(&o.build, "build", "purego", "label of this build")
	flag.StringVar(&o.commit, "commit", "", "commit label to record")
	peak := flag.Bool("peak", false, "measure the GEMM kernel's peak GFLOP/s on a large square product instead")
	flag.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the run from after the data is loaded: training, and scoring unless -train-only")
	flag.StringVar(&o.hidden, "hidden", "", "dense kinds: encoder hidden widths, e.g. 512,256 (default: the kind's; deep: the peer's 128,64)")
	flag.BoolVar(&o.trainOnly, "train-only", false, "stop after training: no scoring passes (for a profile of the training step alone)")
	flag.Parse()
	var err error
	switch {
	case *peak && (o.cpuProfile != "" || o.trainOnly):
		err = fmt.Errorf("-cpuprofile and -train-only profile a model's run; -peak times the GEMM alone")
	case *peak:
		err = runPeak(o)
	default:
		err = run(o)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench: %v\n", err)
		os.Exit(1)
	}
}

// startProfile starts a CPU profile into path and returns what stops it.
func startProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("-cpuprofile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("-cpuprofile %s: %w", path, err)
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

// inferBatch is the scoring batch size the peer uses too.
const inferBatch = 1024

func (o options) record(task string) record {
	return record{Build: o.build, Model: o.kind, Task: task, GOMAXPROCS: runtime.GOMAXPROCS(0),
		BLASCore: blasCore(), CPU: cpuModel(), Commit: o.commit, LoadAvg: loadAvg()}
}

func run(o options) error {
	if o.epochs < 2 {
		return fmt.Errorf("-epochs %d: need at least 2 (one warm-up, one timed)", o.epochs)
	}
	splits, err := dataset.Load(o.data)
	if err != nil {
		return err
	}
	d := splits.Train
	spec, err := models.DefaultSpec(o.kind, []int{d.C, d.H, d.W}, 0)
	if err != nil {
		return err
	}
	switch {
	case o.hidden != "":
		if spec.Hidden, err = models.ParseHidden(o.hidden); err != nil {
			return fmt.Errorf("-hidden: %w", err)
		}
	case o.kind == "deep":
		// The peer's deep net is 784-128-64-32; the kind's default grew to
		// 512-256 for quality, so the race uses the peer's sizes.
		spec.Hidden = []int{128, 64}
	}
	fl, err := countFLOPs(spec)
	if err != nil {
		return err
	}
	m, err := models.New(spec)
	if err != nil {
		return err
	}
	tr := d
	if o.steps > 0 {
		tr = d.Head(o.steps * o.batch)
	}
	// Validation is one small batch so that the timed epoch is the training
	// pass.
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
	if o.cpuProfile != "" { // after loading the data, so the profile is the model's
		stop, err := startProfile(o.cpuProfile)
		if err != nil {
			return err
		}
		defer stop()
	}
	res, err := train.Fit(context.Background(), m, tr, splits.Test.Head(o.batch), train.Config{Epochs: o.epochs, Batch: o.batch, LR: 1e-3, Seed: 1, AfterStep: afterStep})
	if err != nil {
		return err
	}
	var secs []float64
	for _, h := range res.History {
		secs = append(secs, h.Seconds)
	}
	rec := o.record("train")
	rec.Seconds, rec.EpochSeconds = median(secs[1:]), secs
	rec.FinalLoss = res.History[len(res.History)-1].TrainLoss
	rec.Batch, rec.Images = o.batch, tr.N
	rec.Steps = (tr.N + o.batch - 1) / o.batch
	for _, st := range steps {
		rec.StepMedianMS = append(rec.StepMedianMS, median(st))
	}
	// The last step of an epoch may be short; count the images trained on.
	rec.GFLOP = fl.TrainStep(tr.N) / 1e9
	rec.GFLOPS = rec.GFLOP / rec.Seconds
	rec.ImagesPerS = float64(tr.N) / rec.Seconds
	rec.PeakRSSMB = peakRSSMB()
	if err := emit(rec); err != nil {
		return err
	}

	if o.trainOnly {
		return nil
	}
	n := d.N
	if o.scoreImages > 0 {
		n = min(n, o.scoreImages)
	}
	x := d.X[:n*d.C*d.H*d.W]
	var times []float64
	out := make([]float32, len(x)) // reused: a scorer keeps its buffer
	for i := 0; i <= o.passes; i++ {
		start := time.Now()
		if err := models.ReconstructInto(m, out, x, n, inferBatch); err != nil {
			return err
		}
		if i > 0 { // the first pass warms up
			times = append(times, time.Since(start).Seconds())
		}
	}
	inf := o.record("infer")
	inf.Seconds, inf.Images = median(times), n
	inf.ImagesPerS = float64(n) / inf.Seconds
	inf.GFLOP = fl.Score(n) / 1e9
	inf.GFLOPS = inf.GFLOP / inf.Seconds
	inf.PeakRSSMB = peakRSSMB()
	return emit(inf)
}

// runPeak times C = A·B for square 1024 matrices with the build's Sgemm on
// every core (GOMAXPROCS) and on one, best of several repetitions: the
// bound the roofline compares each kind against.
func runPeak(o options) error {
	const n = 1024
	a := make([]float32, n*n)
	b := make([]float32, n*n)
	c := make([]float32, n*n)
	for i := range a {
		a[i] = float32(i%7) * 0.1
		b[i] = float32(i%5) * 0.1
	}
	var ws kernels.Scratch
	flop := 2 * float64(n) * n * n
	best := func() float64 {
		kernels.Sgemm(false, false, n, n, n, a, n, b, n, 0, c, n, &ws) // warm-up: packing buffers
		var top float64
		for range 7 {
			start := time.Now()
			kernels.Sgemm(false, false, n, n, n, a, n, b, n, 0, c, n, &ws)
			top = max(top, flop/time.Since(start).Seconds()/1e9)
		}
		return top
	}
	rec := o.record("peak")
	rec.Model = "sgemm1024"
	rec.GFLOPS = best()
	if err := emit(rec); err != nil {
		return err
	}
	prev := runtime.GOMAXPROCS(1)
	one := o.record("peak1")
	one.Model = "sgemm1024"
	one.GFLOPS = best()
	runtime.GOMAXPROCS(prev)
	return emit(one)
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

// cpuModel is the CPU's model name and core count, from /proc/cpuinfo.
func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return fmt.Sprintf("unknown, %d cores", runtime.NumCPU())
	}
	name := "unknown"
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			name = strings.TrimSpace(v)
			break
		}
	}
	return fmt.Sprintf("%s, %d cores", name, runtime.NumCPU())
}

// loadAvg is the first three fields of /proc/loadavg: how busy the shared
// machine was, to read a measurement by.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	return strings.Join(f[:min(3, len(f))], " ")
}
