package apps

import (
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"

	"github.com/hourglass-ml/hourglass/dataset"
	"github.com/hourglass-ml/hourglass/models"
)

// Result is what one application computed: named figures (the keys cmd/eval
// prints with -json), non-scalar values, and the files written into the
// output directory.
type Result struct {
	Task    string
	Figures map[string]float64
	// Values holds non-scalar results, e.g. per_class_auroc.
	Values map[string]any
	// Files are paths relative to the output directory; Images are the
	// pictures among them, in the order a report shows them.
	Files  []string
	Images []string
	// Notes are one-line remarks for the reader (what was skipped and why).
	Notes []string
}

func newResult(task string) *Result {
	return &Result{Task: task, Figures: map[string]float64{}, Values: map[string]any{}}
}

func (r *Result) file(name string) { r.Files = append(r.Files, name) }
func (r *Result) image(name string) {
	r.Files, r.Images = append(r.Files, name), append(r.Images, name)
}
func (r *Result) note(format string, a ...any) {
	r.Notes = append(r.Notes, fmt.Sprintf(format, a...))
}

// JSON returns the result as a flat object: figures (non-finite ones as
// null, which encoding/json cannot write as numbers) and values.
func (r *Result) JSON() map[string]any {
	out := map[string]any{}
	for k, v := range r.Figures {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			out[k] = nil
		} else {
			out[k] = v
		}
	}
	maps.Copy(out, r.Values)
	return out
}

// SortedFigures lists the figure names in order, for printing.
func (r *Result) SortedFigures() []string {
	return slices.Sorted(maps.Keys(r.Figures))
}

// CheckShape fails when d's samples are not the C×H×W inputs m was built for.
func CheckShape(m models.Model, d *dataset.Dataset) error {
	s := m.Spec()
	want := s.InputShape
	if len(want) != 3 || want[0] != d.C || want[1] != d.H || want[2] != d.W {
		return fmt.Errorf("the %s model takes inputs of shape %v (C,H,W) but data %s has samples of shape [%d %d %d]; evaluate it on the data it was trained on",
			s.Kind, want, d.Name, d.C, d.H, d.W)
	}
	return nil
}

// IsImage reports whether d's samples are pictures (not rows of a table), so
// that image grids and SSIM make sense.
func IsImage(d *dataset.Dataset) bool { return (d.C == 1 || d.C == 3) && d.H >= 7 && d.W >= 7 }

// IsVariational reports whether m is a VAE kind: its Encode is a posterior
// mean and its prior can be sampled.
func IsVariational(m models.Model) bool {
	_, v := m.(models.Variational)
	_, g := m.(models.Generator)
	return v || g
}

// inUnitRange reports whether every value is in [0,1], where BCE and a PSNR
// with peak 1 are meaningful.
func inUnitRange(x []float32) bool {
	for _, v := range x {
		if v < 0 || v > 1 {
			return false
		}
	}
	return true
}

func ensureDir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("creating output directory: %w", err)
	}
	return nil
}

func join(out, name string) string { return filepath.Join(out, name) }

// rngFor is the random stream of one application, derived from the seed so
// that runs repeat exactly.
func rngFor(seed uint64, salt uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, salt)) }

// head returns the first n samples' values of d (all when n >= N).
func head(d *dataset.Dataset, n int) ([]float32, int) {
	n = min(n, d.N)
	return d.X[:n*d.Dim()], n
}

func nan() float64 { return math.NaN() }
