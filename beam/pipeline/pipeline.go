package pipeline

import (
	"bufio"
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/fileio"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/hourglass-ml/hourglass"
	"github.com/hourglass-ml/hourglass/dataset"
	"github.com/hourglass-ml/hourglass/eval"
)

// Beam needs its DoFns and element types registered before a pipeline is
// built or executed on a worker; this is its registry, not ours.
func init() {
	beam.RegisterType(reflect.TypeOf((*Chunk)(nil)).Elem())
	beam.RegisterType(reflect.TypeOf((*Scored)(nil)).Elem())
	register.DoFn3x1[context.Context, fileio.ReadableFile, func(Chunk), error](&readFn{})
	register.Emitter1[Chunk]()
	register.DoFn3x1[context.Context, Chunk, func(int, Scored), error](&scoreFn{})
	register.Emitter2[int, Scored]()
	register.DoFn2x0[[]byte, func(int, bool)](&shardKeysFn{})
	register.Emitter2[int, bool]()
	register.DoFn5x1[context.Context, int, func(*bool) bool, func(*Scored) bool, func(string), error](&writeFn{})
	register.Iter1[bool]()
	register.Iter1[Scored]()
	register.Emitter1[string]()
}

// Options configure a scoring pipeline.
type Options struct {
	// Input is a glob of input shards on any registered Beam file system
	// (a local path, gs://…).
	Input string
	// Format of every input: "csv", "npy", "idx", or "" to tell each by
	// its name (.csv, .npy, *-idx3-ubyte, optionally .gz).
	Format string
	// Checkpoint is the model file (model.safetensors from hourglass train
	// or Model.Save), local or on a Beam file system.
	Checkpoint string
	// Output is the prefix of the output files: Output-scores-SSSSS-of-NNNNN.csv
	// and, with Codes, Output-codes-SSSSS-of-NNNNN.{csv,npy}.
	Output string
	// Shards is the number of output shards (default 4).
	Shards int
	// Codes also writes every row's code: "" (no), "csv" or "npy". Row i of
	// a codes .npy shard belongs to row i of the scores shard of the same
	// number.
	Codes string
	// Chunk is the number of rows scored per call (default 256, the size
	// of the model's bulk inference graph).
	Chunk int
	// Threshold, when set, replaces the checkpoint's anomaly threshold for
	// the flags (a score above it is flagged); a checkpoint without one
	// needs it.
	Threshold *float64
}

// DefaultOptions are Options with every default filled in.
func DefaultOptions() Options {
	return Options{Shards: 4, Chunk: 256}
}

// Chunk is up to Options.Chunk consecutive rows of one input file.
type Chunk struct {
	File string
	Pos  []int64 // CSV: line number (1-based); .npy and IDX: sample index (0-based)
	X    []float32
}

// Scored is a chunk's scores, flags and (when asked) codes.
type Scored struct {
	File   string
	Pos    []int64
	Scores []float64
	Flags  []bool
	Codes  []float32 // len(Pos)×the model's code size, when codes are asked for
}

// Build adds the scoring pipeline to s. It loads the checkpoint once here
// to fail early — a missing file, no threshold — and learns the input width
// every row is checked against. It returns the written file names.
func Build(s beam.Scope, opt Options) (beam.PCollection, error) {
	switch {
	case opt.Input == "" || opt.Output == "" || opt.Checkpoint == "":
		return beam.PCollection{}, errors.New("beam pipeline: input, output and checkpoint are all required")
	case opt.Shards < 1:
		return beam.PCollection{}, fmt.Errorf("beam pipeline: %d output shards: want at least 1", opt.Shards)
	case opt.Chunk < 1:
		return beam.PCollection{}, fmt.Errorf("beam pipeline: chunk of %d rows: want at least 1", opt.Chunk)
	case opt.Codes != "" && opt.Codes != "csv" && opt.Codes != "npy":
		return beam.PCollection{}, fmt.Errorf("beam pipeline: codes format %q: want csv or npy (or empty for none)", opt.Codes)
	case opt.Format != "" && opt.Format != dataset.FormatCSV && opt.Format != dataset.FormatNPY && opt.Format != dataset.FormatIDX:
		return beam.PCollection{}, fmt.Errorf("beam pipeline: input format %q: want csv, npy or idx (or empty to tell by file name)", opt.Format)
	}
	ctx := context.Background()
	m, cleanup, err := loadModel(ctx, opt.Checkpoint)
	if err != nil {
		return beam.PCollection{}, err
	}
	dim, codeDim := m.InputDim(), m.CodeDim()
	_, hasThr := m.Threshold()
	m.Close()
	cleanup()
	if !hasThr && opt.Threshold == nil {
		return beam.PCollection{}, fmt.Errorf("beam pipeline: checkpoint %s has no anomaly threshold: give one (--threshold) or store one with hourglass.Train or Model.FitThreshold", opt.Checkpoint)
	}

	s = s.Scope("hourglass")
	files := fileio.MatchFiles(s, opt.Input, fileio.MatchEmptyDisallow())
	readable := fileio.ReadMatches(s, files, fileio.ReadUncompressed(), fileio.ReadDirectorySkip())
	chunks := beam.ParDo(s, &readFn{Format: opt.Format, Dim: dim, Chunk: opt.Chunk}, readable)
	// One file is read by one worker; the reshuffle spreads its chunks
	// over all workers for scoring, the expensive step.
	chunks = beam.Reshuffle(s, chunks)
	sf := &scoreFn{Checkpoint: opt.Checkpoint, Codes: opt.Codes != "", Shards: opt.Shards}
	if opt.Threshold != nil {
		if math.IsNaN(*opt.Threshold) || math.IsInf(*opt.Threshold, 0) {
			return beam.PCollection{}, fmt.Errorf("beam pipeline: threshold %v is not a finite number", *opt.Threshold)
		}
		sf.Threshold, sf.HasThreshold = *opt.Threshold, true
	}
	scored := beam.ParDo(s, sf, chunks)
	// Every shard number is joined in so that empty shards are written too.
	keys := beam.ParDo(s, &shardKeysFn{Shards: opt.Shards}, beam.Impulse(s))
	grouped := beam.CoGroupByKey(s, keys, scored)
	return beam.ParDo(s, &writeFn{Output: opt.Output, Shards: opt.Shards, Codes: opt.Codes, CodeDim: codeDim}, grouped), nil
}

// loadModel loads a checkpoint, first copying it to a local temporary file
// when it lives on a remote Beam file system (gs://…).
func loadModel(ctx context.Context, path string) (*hourglass.Model, func(), error) {
	if !strings.Contains(path, "://") {
		m, err := hourglass.Load(path)
		if err != nil {
			return nil, nil, fmt.Errorf("beam pipeline: checkpoint: %w", err)
		}
		return m, func() {}, nil
	}
	fs, err := filesystem.New(ctx, path)
	if err != nil {
		return nil, nil, fmt.Errorf("beam pipeline: checkpoint %s: %w", path, err)
	}
	defer fs.Close()
	rc, err := fs.OpenRead(ctx, path)
	if err != nil {
		return nil, nil, fmt.Errorf("beam pipeline: checkpoint %s: %w", path, err)
	}
	defer rc.Close()
	tmp, err := os.CreateTemp("", "hourglass-checkpoint-*.safetensors")
	if err != nil {
		return nil, nil, fmt.Errorf("beam pipeline: staging checkpoint %s: %w", path, err)
	}
	cleanup := func() { _ = os.Remove(tmp.Name()) }
	_, err = io.Copy(tmp, rc)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		cleanup()
		return nil, nil, fmt.Errorf("beam pipeline: staging checkpoint %s: %w", path, err)
	}
	m, err := hourglass.Load(tmp.Name())
	if err != nil {
		cleanup()
		return nil, nil, fmt.Errorf("beam pipeline: checkpoint %s: %w", path, err)
	}
	return m, cleanup, nil
}

// readFn reads one input file into chunks of consecutive rows.
type readFn struct {
	Format string
	Dim    int
	Chunk  int
}

func (f *readFn) ProcessElement(ctx context.Context, file fileio.ReadableFile, emit func(Chunk)) error {
	name := file.Metadata.Path
	rc, err := file.Open(ctx)
	if err != nil {
		return fmt.Errorf("input %s: %w", name, err)
	}
	defer rc.Close()
	r, err := dataset.OpenShard(rc, name, f.Format)
	if err != nil {
		return err
	}
	defer r.Close()
	if r.Dim() != f.Dim {
		c, h, w := r.Shape()
		return fmt.Errorf("input %s: samples of %d values (%d×%d×%d) but the model takes %d", name, r.Dim(), c, h, w, f.Dim)
	}
	ch := Chunk{File: name}
	row := make([]float32, f.Dim)
	for {
		pos, err := r.Next(row)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		ch.Pos = append(ch.Pos, int64(pos))
		ch.X = append(ch.X, row...)
		if len(ch.Pos) == f.Chunk {
			emit(ch)
			ch = Chunk{File: name}
		}
	}
	if len(ch.Pos) > 0 {
		emit(ch)
	}
	return nil
}

// scoreFn scores chunks with a model loaded once per DoFn instance (in
// Setup); a *hourglass.Model is safe for concurrent use, so one instance
// serves every bundle the runner gives it.
type scoreFn struct {
	Checkpoint   string
	Codes        bool
	Threshold    float64 // used when HasThreshold (NaN does not survive Beam's JSON)
	HasThreshold bool
	Shards       int

	model   *hourglass.Model
	thr     float64
	cleanup func()
	rows    beam.Counter
}

func (f *scoreFn) Setup(ctx context.Context) error {
	m, cleanup, err := loadModel(ctx, f.Checkpoint)
	if err != nil {
		return err
	}
	f.model, f.cleanup = m, cleanup
	f.thr = f.Threshold
	if !f.HasThreshold {
		t, ok := m.Threshold()
		if !ok {
			return fmt.Errorf("checkpoint %s has no anomaly threshold: give one (--threshold)", f.Checkpoint)
		}
		f.thr = t.Value
	}
	f.rows = beam.NewCounter("hourglass", "rows_scored")
	return nil
}

func (f *scoreFn) ProcessElement(ctx context.Context, c Chunk, emit func(int, Scored)) error {
	out := Scored{File: c.File, Pos: c.Pos}
	var err error
	if f.Codes { // scores and codes from one pass of the graph
		var o *hourglass.Outputs
		if o, err = f.model.Run(c.X); err == nil {
			out.Scores, out.Codes = o.Scores, o.Codes
		}
	} else {
		out.Scores, err = f.model.Score(c.X)
	}
	if err != nil {
		return fmt.Errorf("scoring %s from row %d: %w", c.File, c.Pos[0], err)
	}
	out.Flags = eval.Flag(out.Scores, f.thr)
	f.rows.Inc(ctx, int64(len(c.Pos)))
	emit(shardOf(c.File, c.Pos[0], f.Shards), out)
	return nil
}

func (f *scoreFn) Teardown() {
	if f.model != nil {
		f.model.Close()
		f.cleanup()
	}
}

// shardOf spreads chunks over output shards by file and position, the same
// way on every worker and every run.
func shardOf(file string, pos int64, shards int) int {
	h := fnv.New64a()
	_, _ = h.Write([]byte(file))
	_ = binary.Write(h, binary.LittleEndian, pos)
	return int(h.Sum64() % uint64(shards))
}

// shardKeysFn emits every shard number once.
type shardKeysFn struct{ Shards int }

func (f *shardKeysFn) ProcessElement(_ []byte, emit func(int, bool)) {
	for i := range f.Shards {
		emit(i, true)
	}
}

// writeFn writes one output shard (and its codes) sorted by file and row.
type writeFn struct {
	Output  string
	Shards  int
	Codes   string
	CodeDim int
}

// ShardName is the name of output shard i of n of the given kind
// ("scores" or "codes") and extension.
func ShardName(prefix, kind string, i, n int, ext string) string {
	return fmt.Sprintf("%s-%s-%05d-of-%05d.%s", prefix, kind, i, n, ext)
}

func (f *writeFn) ProcessElement(ctx context.Context, shard int, _ func(*bool) bool, results func(*Scored) bool, emit func(string)) error {
	var all []Scored
	var r Scored
	for results(&r) {
		all = append(all, r)
		r = Scored{}
	}
	slices.SortFunc(all, func(a, b Scored) int {
		return cmp.Or(strings.Compare(a.File, b.File), cmp.Compare(a.Pos[0], b.Pos[0]))
	})
	name := ShardName(f.Output, "scores", shard, f.Shards, "csv")
	err := writeFile(ctx, name, func(w *bufio.Writer) error {
		_, _ = w.WriteString("file,row,score,flag\n")
		var line []byte
		for _, s := range all {
			for i, p := range s.Pos {
				line = appendCSVField(line[:0], s.File)
				line = strconv.AppendInt(append(line, ','), p, 10)
				line = strconv.AppendFloat(append(line, ','), s.Scores[i], 'g', -1, 64)
				line = append(line, ',', '0', '\n')
				if s.Flags[i] {
					line[len(line)-2] = '1'
				}
				if _, err := w.Write(line); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	emit(name)
	if f.Codes == "" {
		return nil
	}
	name = ShardName(f.Output, "codes", shard, f.Shards, f.Codes)
	if f.Codes == "npy" {
		err = writeFile(ctx, name, func(w *bufio.Writer) error { return writeCodesNPY(w, all, f.CodeDim) })
	} else {
		err = writeFile(ctx, name, func(w *bufio.Writer) error { return writeCodesCSV(w, all, f.CodeDim) })
	}
	if err != nil {
		return err
	}
	emit(name)
	return nil
}

func writeCodesCSV(w *bufio.Writer, all []Scored, k int) error {
	_, _ = w.WriteString("file,row")
	for j := range k {
		fmt.Fprintf(w, ",z%d", j)
	}
	_ = w.WriteByte('\n')
	var line []byte
	for _, s := range all {
		for i, p := range s.Pos {
			line = appendCSVField(line[:0], s.File)
			line = strconv.AppendInt(append(line, ','), p, 10)
			for _, v := range s.Codes[i*k : (i+1)*k] {
				line = strconv.AppendFloat(append(line, ','), float64(v), 'g', -1, 32)
			}
			if _, err := w.Write(append(line, '\n')); err != nil {
				return err
			}
		}
	}
	return nil
}

// writeCodesNPY writes an (n, k) float32 .npy; an empty shard is (0, k).
func writeCodesNPY(w *bufio.Writer, all []Scored, k int) error {
	n := 0
	for _, s := range all {
		n += len(s.Pos)
	}
	dict := fmt.Sprintf("{'descr': '<f4', 'fortran_order': False, 'shape': (%d, %d), }", n, k)
	dict += strings.Repeat(" ", (64-(10+len(dict)+1)%64)%64) + "\n"
	_, _ = w.WriteString("\x93NUMPY\x01\x00")
	_ = binary.Write(w, binary.LittleEndian, uint16(len(dict)))
	_, _ = w.WriteString(dict)
	var b [4]byte
	for _, s := range all {
		for _, v := range s.Codes {
			binary.LittleEndian.PutUint32(b[:], math.Float32bits(v))
			if _, err := w.Write(b[:]); err != nil {
				return err
			}
		}
	}
	return nil
}

func appendCSVField(b []byte, s string) []byte {
	if !strings.ContainsAny(s, ",\"\n\r") {
		return append(b, s...)
	}
	return append(append(b, '"'), strings.ReplaceAll(s, `"`, `""`)+`"`...)
}

// writeFile writes name through Beam's file system for its scheme, to a
// temporary name first where the file system can rename, so a retried
// bundle never leaves a half-written shard under the final name.
func writeFile(ctx context.Context, name string, fill func(*bufio.Writer) error) error {
	fs, err := filesystem.New(ctx, name)
	if err != nil {
		return fmt.Errorf("output %s: %w", name, err)
	}
	defer fs.Close()
	renamer, canRename := fs.(filesystem.Renamer)
	tmp := name
	if canRename {
		tmp = name + ".tmp"
	}
	wc, err := fs.OpenWrite(ctx, tmp)
	if err != nil {
		return fmt.Errorf("output %s: %w", name, err)
	}
	bw := bufio.NewWriterSize(wc, 1<<16)
	err = fill(bw)
	if err == nil {
		err = bw.Flush()
	}
	if cerr := wc.Close(); err == nil {
		err = cerr
	}
	if err == nil && canRename {
		err = renamer.Rename(ctx, tmp, name)
	}
	if err != nil {
		return fmt.Errorf("output %s: %w", name, err)
	}
	return nil
}
