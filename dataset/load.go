package dataset

import (
	"embed"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/hourglass-ml/hourglass/internal/safeio"
)

// sampleFS holds the first 4000 training and 1000 test Fashion-MNIST samples
// (scripts/make-sample.sh), so the toolkit and its tests work offline.
//
//go:embed sample/*.gz
var sampleFS embed.FS

// Splits is a loaded source: a training set and, when the source has one, a
// test set (nil otherwise, e.g. for CSV).
type Splits struct{ Train, Test *Dataset }

// EnvDataDir names the environment variable searched first for named sources.
const EnvDataDir = "HOURGLASS_DATA"

// Sources lists the named sources Load accepts besides directories and .csv
// files.
func Sources() []string { return []string{"sample", "fashion-mnist", "mnist"} }

// SearchPaths lists, in order, the directories Load searches for a named
// IDX source: $HOURGLASS_DATA/<name> (when set), ./data/<name>,
// /usr/share/datasets/<name>.
func SearchPaths(name string) []string {
	var p []string
	if env := os.Getenv(EnvDataDir); env != "" {
		p = append(p, filepath.Join(env, name))
	}
	return append(p, filepath.Join("data", name), filepath.Join("/usr/share/datasets", name))
}

func classesFor(name string) []string {
	switch name {
	case "sample", "fashion-mnist":
		return FashionMNISTClasses()
	case "mnist":
		return MNISTClasses()
	}
	return nil
}

// Load resolves source and reads it:
//   - "sample": the embedded Fashion-MNIST sample (4000 train, 1000 test);
//   - "fashion-mnist", "mnist": IDX files found in SearchPaths(name);
//   - a directory holding train-images-idx3-ubyte[.gz] and optionally
//     train-labels-idx1-ubyte[.gz], t10k-images-idx3-ubyte[.gz],
//     t10k-labels-idx1-ubyte[.gz] (gzip is detected from content);
//   - a .csv file: LoadCSV with the column named "label", if the header has
//     one, as labels; Test is nil.
//
// Named sources take precedence over same-named directories; write ./mnist
// to mean the directory.
func Load(source string) (*Splits, error) {
	switch source {
	case "sample":
		return loadSample()
	case "fashion-mnist", "mnist":
		return loadNamed(source, SearchPaths(source))
	case "":
		return nil, fmt.Errorf("dataset: empty source; use one of %q, a directory of IDX files or a .csv file", Sources())
	}
	st, err := os.Stat(source)
	if err != nil {
		return nil, fmt.Errorf("dataset: source %q is not one of %q and cannot be read as a directory or .csv file: %w", source, Sources(), err)
	}
	if st.IsDir() {
		// A directory named like a known dataset gets its class names.
		kind := filepath.Base(filepath.Clean(source))
		if kind != "fashion-mnist" && kind != "mnist" {
			kind = ""
		}
		return loadIDXSplits(os.DirFS(source), source, source, kind)
	}
	if strings.EqualFold(filepath.Ext(source), ".csv") {
		label, err := csvLabelColumn(source)
		if err != nil {
			return nil, err
		}
		d, err := LoadCSV(source, CSVOptions{LabelColumn: label})
		if err != nil {
			return nil, err
		}
		return &Splits{Train: d}, nil
	}
	return nil, fmt.Errorf("dataset: source %q is a file but not .csv; pass a directory of IDX files, a .csv file or one of %q", source, Sources())
}

func loadSample() (*Splits, error) {
	sub, err := fs.Sub(sampleFS, "sample")
	if err != nil {
		return nil, fmt.Errorf("embedded sample: %w", err)
	}
	s, err := loadIDXSplits(sub, "sample", "sample", "sample")
	if err != nil {
		return nil, fmt.Errorf("embedded sample is broken (regenerate with scripts/make-sample.sh): %w", err)
	}
	return s, nil
}

func loadNamed(name string, paths []string) (*Splits, error) {
	var notes []string
	for _, dir := range paths {
		st, err := os.Stat(dir)
		if err != nil {
			notes = append(notes, fmt.Sprintf("  %s: not found", dir))
			continue
		}
		if !st.IsDir() {
			notes = append(notes, fmt.Sprintf("  %s: not a directory", dir))
			continue
		}
		if _, ok := findIDX(os.DirFS(dir), "train-images-idx3-ubyte"); !ok {
			notes = append(notes, fmt.Sprintf("  %s: no train-images-idx3-ubyte[.gz]", dir))
			continue
		}
		// Found: a broken copy is an error, not a reason to look further.
		return loadIDXSplits(os.DirFS(dir), dir, name, name)
	}
	hint := "run scripts/get-data.sh " + name + " (downloads into ./data/" + name + ")"
	if name == "fashion-mnist" {
		hint = "install Debian's package `dataset-fashion-mnist` (apt-get install dataset-fashion-mnist) or " + hint
	} else {
		hint += ", or copy the four IDX files into one of those directories"
	}
	return nil, fmt.Errorf("dataset %q not found; searched:\n%s\nTo get it, %s. Or set %s to a directory holding %s/, or use source \"sample\" (embedded, offline)",
		name, strings.Join(notes, "\n"), hint, EnvDataDir, name)
}

// findIDX finds base, base.gz or the original MNIST spelling with a dot
// (train-images.idx3-ubyte) in fsys.
func findIDX(fsys fs.FS, base string) (string, bool) {
	dotted := strings.Replace(base, "-idx", ".idx", 1)
	for _, n := range []string{base + ".gz", base, dotted + ".gz", dotted} {
		if st, err := fs.Stat(fsys, n); err == nil && st.Mode().IsRegular() {
			return n, true
		}
	}
	return "", false
}

// loadIDXSplits reads train (required) and t10k (optional) images and labels
// from fsys. where prefixes file names in errors; name becomes Dataset.Name;
// kind picks class names.
func loadIDXSplits(fsys fs.FS, where, name, kind string) (*Splits, error) {
	train, err := loadIDXPart(fsys, where, name, kind, "train", true)
	if err != nil {
		return nil, err
	}
	test, err := loadIDXPart(fsys, where, name, kind, "t10k", false)
	if err != nil {
		return nil, err
	}
	if test != nil && test.Dim() != train.Dim() {
		return nil, fmt.Errorf("dataset %q: test images are %d×%d but training images %d×%d", name, test.H, test.W, train.H, train.W)
	}
	return &Splits{Train: train, Test: test}, nil
}

func loadIDXPart(fsys fs.FS, where, name, kind, part string, required bool) (*Dataset, error) {
	imgName, ok := findIDX(fsys, part+"-images-idx3-ubyte")
	if !ok {
		if required {
			return nil, fmt.Errorf("dataset %q: %s holds no %s-images-idx3-ubyte[.gz]; a dataset directory needs at least the training images", name, where, part)
		}
		if _, hasLabels := findIDX(fsys, part+"-labels-idx1-ubyte"); hasLabels {
			return nil, fmt.Errorf("dataset %q: %s has %s labels but no %s-images-idx3-ubyte[.gz]", name, where, part, part)
		}
		return nil, nil
	}
	imgPath := filepath.Join(where, imgName)
	dims, data, err := readIDXFS(fsys, imgName, imgPath)
	if err != nil {
		return nil, fmt.Errorf("dataset %q: loading images: %w", name, err)
	}
	d, err := imagesFromIDX(imgPath, dims, data)
	if err != nil {
		return nil, fmt.Errorf("dataset %q: %w", name, err)
	}
	d.Name = name
	if lblName, ok := findIDX(fsys, part+"-labels-idx1-ubyte"); ok {
		lblPath := filepath.Join(where, lblName)
		dims, data, err := readIDXFS(fsys, lblName, lblPath)
		if err != nil {
			return nil, fmt.Errorf("dataset %q: loading labels: %w", name, err)
		}
		labels, err := labelsFromIDX(lblPath, dims, data)
		if err != nil {
			return nil, fmt.Errorf("dataset %q: %w", name, err)
		}
		classes := classesFor(kind)
		if err := checkLabels(lblPath, labels, len(classes)); err != nil {
			return nil, fmt.Errorf("dataset %q: %w", name, err)
		}
		if len(labels) != d.N {
			return nil, fmt.Errorf("dataset %q: %s has %d labels but %s has %d images; the files do not belong together", name, lblPath, len(labels), imgPath, d.N)
		}
		d.Labels = labels
		d.Classes = classes
	}
	if err := d.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", imgPath, err)
	}
	return d, nil
}

func readIDXFS(fsys fs.FS, name, display string) ([]int, []byte, error) {
	// Stat before opening: opening a FIFO would block until a writer comes.
	st, err := fs.Stat(fsys, name)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", display, err)
	}
	if !st.Mode().IsRegular() {
		return nil, nil, fmt.Errorf("%s: %w: pass a directory of regular IDX files", display, safeio.ErrNotRegular)
	}
	f, err := fsys.Open(name)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", display, err)
	}
	defer f.Close()
	dims, data, err := ReadIDX(f)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", display, err)
	}
	return dims, data, nil
}

// csvLabelColumn returns "label" if the CSV's header row has that column.
func csvLabelColumn(path string) (string, error) {
	f, fi, err := safeio.Open(path)
	if err != nil {
		return "", fmt.Errorf("loading CSV %s: %w", path, err)
	}
	defer f.Close()
	d, err := readCSVHeader(io.LimitReader(f, fi.Size()))
	if err != nil {
		return "", fmt.Errorf("loading CSV %s: %w", path, err)
	}
	for _, h := range d {
		if h == "label" {
			return "label", nil
		}
	}
	return "", nil
}
