package apps

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/hourglass-ml/hourglass/eval"
)

// LossCurve puts the training loss curve of the run in runDir into out as
// loss.png: a copy of runDir/loss.png when training drew one, otherwise a
// plot of runDir/metrics.jsonl. It returns "" when the run left neither.
func LossCurve(runDir, out string) (string, error) {
	const name = "loss.png"
	if b, err := os.ReadFile(filepath.Join(runDir, name)); err == nil {
		if filepath.Clean(runDir) == filepath.Clean(out) {
			return name, nil
		}
		if err := ensureDir(out); err != nil {
			return "", err
		}
		if err := os.WriteFile(join(out, name), b, 0o644); err != nil {
			return "", fmt.Errorf("copying the loss curve: %w", err)
		}
		return name, nil
	}
	path := filepath.Join(runDir, "metrics.jsonl")
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("reading the training metrics: %w", err)
	}
	defer f.Close()
	var ep, tr, val []float64
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for line := 1; sc.Scan(); line++ {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		// Only the fields plotted are read, so records with more fields
		// (or from a newer trainer) still plot.
		var st struct {
			Epoch     float64  `json:"epoch"`
			TrainLoss *float64 `json:"train_loss"`
			ValLoss   *float64 `json:"val_loss"`
		}
		if err := json.Unmarshal(sc.Bytes(), &st); err != nil {
			return "", fmt.Errorf("%s line %d: %w", path, line, err)
		}
		if st.TrainLoss == nil {
			continue
		}
		v := nan()
		if st.ValLoss != nil {
			v = *st.ValLoss
		}
		ep, tr, val = append(ep, st.Epoch), append(tr, *st.TrainLoss), append(val, v)
	}
	if err := sc.Err(); err != nil {
		return "", fmt.Errorf("reading %s: %w", path, err)
	}
	if len(ep) == 0 {
		return "", nil
	}
	if err := ensureDir(out); err != nil {
		return "", err
	}
	if err := eval.SaveLinePlot(join(out, name), "training loss", "epoch", "loss",
		eval.Series{Name: "train", X: ep, Y: tr}, eval.Series{Name: "validation", X: ep, Y: val}); err != nil {
		return "", err
	}
	return name, nil
}

// Report writes out/report.html: one section per result, with its figures,
// notes and pictures, after the training loss curve of runDir when found.
func Report(out, title, runDir string, results []*Result) (string, error) {
	var sections []eval.ReportSection
	loss, err := LossCurve(runDir, out)
	if err != nil {
		return "", err
	}
	if loss != "" {
		sections = append(sections, eval.ReportSection{Title: "training", Images: []string{loss},
			Text: "loss per epoch, from " + runDir})
	}
	for _, r := range results {
		figs := map[string]float64{}
		for k, v := range r.Figures {
			figs[k] = v
		}
		sections = append(sections, eval.ReportSection{Title: r.Task, Figures: figs, Images: r.Images, Text: strings.Join(r.Notes, "\n")})
	}
	if err := ensureDir(out); err != nil {
		return "", err
	}
	path := join(out, "report.html")
	if err := eval.WriteReport(path, title, sections); err != nil {
		return "", err
	}
	return path, nil
}
