package train

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/hourglass-ml/hourglass/eval"
	"github.com/hourglass-ml/hourglass/internal/safeio"
	"github.com/hourglass-ml/hourglass/models"
)

// Files a run writes into its directory besides the checkpoints.
const (
	MetricsJSONL = "metrics.jsonl"
	MetricsCSV   = "metrics.csv"
	LossPlot     = "loss.png"
)

// fixedCols are the columns every epoch has; the kind's own parts (KL, ...)
// follow them, then seconds.
var fixedCols = []string{"epoch", "step", "lr", "train_loss", "val_loss"}

// partColumn is the column of a part of the validation objective: val_kl,
// val_recon, ... The prefix says that, like val_loss, it is measured on the
// validation set.
func partColumn(part string) string {
	if part == "loss" {
		return "val_part_loss" // val_loss is the whole objective
	}
	return "val_" + part
}

// columnPart is the part a metrics.jsonl key names: the inverse of
// partColumn, and the key itself for files written before the val_ prefix.
func columnPart(key string) string {
	if key == "val_part_loss" {
		return "loss"
	}
	return strings.TrimPrefix(key, "val_")
}

// MarshalJSON writes one flat object: epoch, step, lr, train_loss,
// val_loss, the kind's parts by name, seconds. A loss that is not a number
// (no validation set) is written as null.
func (s EpochStats) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteString("{")
	for i, c := range s.columns() {
		if i > 0 {
			b.WriteString(",")
		}
		k, _ := json.Marshal(c.name)
		b.Write(k)
		b.WriteString(":")
		b.WriteString(c.json())
	}
	b.WriteString("}")
	return b.Bytes(), nil
}

// UnmarshalJSON reads what MarshalJSON writes; unknown keys become parts
// (val_kl is part kl; so is kl in files written before the prefix).
func (s *EpochStats) UnmarshalJSON(data []byte) error {
	var raw map[string]*float64
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	num := func(k string) float64 {
		if v := raw[k]; v != nil {
			return *v
		}
		return math.NaN()
	}
	// Counts must be whole and in range: int() of NaN or 1e300 is not.
	for _, k := range []string{"epoch", "step"} {
		if v := num(k); !(v >= 0 && v <= 1<<53 && v == math.Trunc(v)) {
			return fmt.Errorf("%s %v is not a count", k, v)
		}
	}
	*s = EpochStats{Epoch: int(num("epoch")), Step: int(num("step")), LR: num("lr"),
		TrainLoss: num("train_loss"), ValLoss: num("val_loss"), Seconds: num("seconds")}
	for k := range raw {
		if !contains(fixedCols, k) && k != "seconds" {
			if s.Parts == nil {
				s.Parts = map[string]float64{}
			}
			s.Parts[columnPart(k)] = num(k)
		}
	}
	return nil
}

type column struct {
	name string
	v    float64
	int  bool
}

func (c column) json() string {
	switch {
	case math.IsNaN(c.v) || math.IsInf(c.v, 0):
		return "null"
	case c.int:
		return strconv.FormatInt(int64(c.v), 10)
	}
	return strconv.FormatFloat(c.v, 'g', -1, 64)
}

func (c column) csv() string {
	if c.int {
		return strconv.FormatInt(int64(c.v), 10)
	}
	return strconv.FormatFloat(c.v, 'g', -1, 64)
}

func (s EpochStats) columns() []column {
	cols := []column{{"epoch", float64(s.Epoch), true}, {"step", float64(s.Step), true},
		{"lr", s.LR, false}, {"train_loss", s.TrainLoss, false}, {"val_loss", s.ValLoss, false}}
	for _, k := range sortedKeys(s.Parts) {
		cols = append(cols, column{name: partColumn(k), v: s.Parts[k]})
	}
	return append(cols, column{"seconds", s.Seconds, false})
}

// metricsWriter appends one JSON object per epoch to metrics.jsonl, synced
// after each line so that a crash loses at most the epoch in progress, and
// rewrites metrics.csv and loss.png from the whole history.
type metricsWriter struct {
	dir string
	f   *os.File
	// unit labels the loss plot's y axis (LossName).
	unit string
	// Warnings are one-line notes about lines of an existing metrics.jsonl
	// that could not be read and were skipped on resume; the caller shows
	// them (the original file is kept beside it, see openMetrics).
	Warnings []string
}

// maxMetricsFile bounds the metrics.jsonl read on resume: a row is about
// 200 bytes, so this is over a million epochs.
const maxMetricsFile = 256 << 20

// openMetrics starts the metrics of a run in dir. A fresh run (keep < 0)
// truncates metrics.jsonl; a resumed run keeps its epochs 1..keep, drops
// any epoch logged after the checkpoint it resumes from, and returns them.
//
// A line that cannot be read (a torn write, a disk error, an edit) does
// not block the resume: it is skipped with a warning, and since the file
// is then rewritten without it, the original file is first copied to
// metrics.jsonl.corrupt-* so that nothing that was in it is lost.
func openMetrics(dir string, keep int) (*metricsWriter, []EpochStats, error) {
	path := filepath.Join(dir, MetricsJSONL)
	var history []EpochStats
	var warnings []string
	if keep >= 0 {
		var raw []byte
		var err error
		if history, warnings, raw, err = readMetrics(path); err != nil {
			return nil, nil, err
		}
		if len(warnings) > 0 {
			kept, err := keepCopy(dir, raw)
			if err != nil {
				return nil, nil, fmt.Errorf("%s has unreadable lines and a copy could not be kept before rewriting it: %w", path, err)
			}
			warnings = append(warnings, fmt.Sprintf("%s: skipped %d unreadable line(s); the original file is kept as %s", path, len(warnings), kept))
		}
		history = slices.DeleteFunc(history, func(h EpochStats) bool { return h.Epoch < 1 || h.Epoch > keep })
		if len(history) > keep {
			history = history[:keep]
		}
	}
	var b bytes.Buffer
	for _, h := range history {
		line, _ := h.MarshalJSON()
		b.Write(append(line, '\n'))
	}
	if err := writeAtomic(dir, MetricsJSONL, b.Bytes()); err != nil {
		return nil, nil, fmt.Errorf("writing metrics file: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, nil, fmt.Errorf("opening metrics file: %w", err)
	}
	return &metricsWriter{dir: dir, f: f, Warnings: warnings}, history, nil
}

// writeAtomic writes data to dir/name through a uniquely named temporary
// file (never following a planted link) and a rename.
func writeAtomic(dir, name string, data []byte) error {
	tmp, err := os.CreateTemp(dir, "."+name+".tmp-*")
	if err != nil {
		return err
	}
	_, err = tmp.Write(data)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), filepath.Join(dir, name))
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
	}
	return err
}

// keepCopy writes data to a new metrics.jsonl.corrupt-* file in dir and
// returns its path.
func keepCopy(dir string, data []byte) (string, error) {
	f, err := os.CreateTemp(dir, MetricsJSONL+".corrupt-*")
	if err != nil {
		return "", err
	}
	_, err = f.Write(data)
	if serr := f.Sync(); err == nil {
		err = serr
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}

// readMetrics reads metrics.jsonl: the rows it could read, a warning for
// each line it could not (skipped), and the file's bytes. A missing file is
// an empty history; a torn last line (a crash mid-write) is dropped
// silently, as it only ever holds the epoch that was in progress. Only a
// regular file is read, and at most maxMetricsFile bytes.
func readMetrics(path string) ([]EpochStats, []string, []byte, error) {
	data, err := safeio.ReadFile(path, maxMetricsFile)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil, nil, nil
	}
	if err != nil {
		return nil, nil, nil, fmt.Errorf("reading metrics %s: %w", path, err)
	}
	var out []EpochStats
	var warnings []string
	lines := bytes.Split(data, []byte("\n"))
	for i, line := range lines {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var st EpochStats
		if err := json.Unmarshal(line, &st); err != nil {
			if i == len(lines)-1 {
				break // torn last line, no newline yet
			}
			warnings = append(warnings, fmt.Sprintf("%s line %d: not a metrics row (%v); skipped", path, i+1, err))
			continue
		}
		out = append(out, st)
	}
	return out, warnings, data, nil
}

// Write appends st to metrics.jsonl and redraws metrics.csv and loss.png
// from history (which ends with st).
func (w *metricsWriter) Write(st EpochStats, history []EpochStats) error {
	b, _ := st.MarshalJSON()
	if _, err := w.f.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("writing %s: %w", w.f.Name(), err)
	}
	if err := w.f.Sync(); err != nil {
		return fmt.Errorf("writing %s: %w", w.f.Name(), err)
	}
	if err := writeCSV(filepath.Join(w.dir, MetricsCSV), history); err != nil {
		return err
	}
	return plotLoss(filepath.Join(w.dir, LossPlot), w.unit, history)
}

func (w *metricsWriter) Close() error { return w.f.Close() }

// writeCSV writes history with one column per key; parts missing from an
// epoch are left empty.
func writeCSV(path string, history []EpochStats) error {
	var header []string
	seen := map[string]bool{}
	for _, h := range history {
		for _, c := range h.columns() {
			if !seen[c.name] && c.name != "seconds" {
				seen[c.name] = true
				header = append(header, c.name)
			}
		}
	}
	header = append(header, "seconds")
	var b bytes.Buffer
	cw := csv.NewWriter(&b)
	_ = cw.Write(header)
	for _, h := range history {
		vals := map[string]string{}
		for _, c := range h.columns() {
			vals[c.name] = c.csv()
		}
		row := make([]string, len(header))
		for i, k := range header {
			row[i] = vals[k]
		}
		_ = cw.Write(row)
	}
	cw.Flush()
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		return fmt.Errorf("writing metrics: %w", err)
	}
	return nil
}

// LossName is the name and unit of spec's training objective, for axis
// labels and tables: the plain kinds average over values, the variational
// kinds sum over the values of an image.
func LossName(spec models.Spec) string {
	variational := spec.Kind == "vae" || spec.Kind == "convvae"
	switch {
	case variational && spec.Loss == "bce":
		return "negative ELBO (nats per image)"
	case variational:
		return "negative ELBO: squared error + β·KL (per image)"
	case spec.Sparsity != nil && spec.Loss == "bce":
		return "BCE (nats per value) + sparsity penalty"
	case spec.Sparsity != nil:
		return "MSE (per value) + sparsity penalty"
	case spec.Loss == "bce":
		return "BCE (nats per value)"
	}
	return "MSE (per value)"
}

// partNames are the legend names of the kinds' parts on the loss plot.
var partNames = map[string]string{"kl": "validation KL", "recon": "validation reconstruction", "penalty": "validation penalty"}

// plotLoss draws the train and validation loss per epoch and, for kinds
// whose objective has parts (the VAE's reconstruction and KL), each part.
func plotLoss(path, ylabel string, history []EpochStats) error {
	if ylabel == "" {
		ylabel = "loss"
	}
	// Falling loss curves leave the top right free, also when small parts
	// (the VAE's KL) pull the average down.
	top := true
	if err := eval.SaveLinePlotWith(path, eval.PlotOptions{Title: "training loss per epoch", XLabel: "epoch", YLabel: ylabel, LegendTop: &top}, lossSeries(history)...); err != nil {
		return fmt.Errorf("drawing loss curve: %w", err)
	}
	return nil
}

// lossSeries are the curves of the loss plot.
func lossSeries(history []EpochStats) []eval.Series {
	x := make([]float64, len(history))
	tr := make([]float64, len(history))
	val := make([]float64, len(history))
	parts := map[string][]float64{}
	for i, h := range history {
		x[i], tr[i], val[i] = float64(h.Epoch), h.TrainLoss, h.ValLoss
		for k := range h.Parts {
			if parts[k] == nil {
				parts[k] = make([]float64, len(history))
				for j := range parts[k] {
					parts[k][j] = math.NaN()
				}
			}
			parts[k][i] = h.Parts[k]
		}
	}
	series := []eval.Series{{Name: "train", X: x, Y: tr}, {Name: "validation", X: x, Y: val}}
	for _, k := range sortedKeys(parts) {
		name := partNames[k]
		if name == "" {
			name = "validation " + k
		}
		series = append(series, eval.Series{Name: name, X: x, Y: parts[k]})
	}
	return series
}
