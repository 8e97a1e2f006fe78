package dataset

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// BatchSource hands out training batches epoch by epoch, from memory
// (MemorySource) or streamed from shards on disk (Stream), so a training
// loop need not hold the data set. Orders depend only on (seed, epoch), so a
// resumed run sees the batches an uninterrupted one would.
type BatchSource interface {
	// Name names the data in messages.
	Name() string
	// Shape is one sample's shape (C, H, W).
	Shape() (c, h, w int)
	// Len is the number of samples in one epoch.
	Len() int
	// BatchSize is the number of samples in each batch.
	BatchSize() int
	// NumBatches is the number of full batches in an epoch (Len/BatchSize;
	// the remainder of the epoch's order is dropped).
	NumBatches() int
	// StartEpoch positions the source at batch skip of the given epoch's
	// order (skip > 0 resumes mid-epoch).
	StartEpoch(epoch, skip int) error
	// Next fills dst[:BatchSize()*C*H*W] with the next batch; it returns
	// io.EOF after NumBatches batches, and an error naming the shard and
	// row when the data is bad.
	Next(dst []float32) error
	// Close releases open files.
	Close() error
}

// MemorySource is a BatchSource over a Dataset in memory. Its batches are
// exactly Batcher's (Permutation(N, seed, epoch) order, full batches only),
// so a loop moved from Batcher to BatchSource trains identically.
type MemorySource struct {
	d   *Dataset
	b   *Batcher
	pos int
}

// NewMemorySource makes a shuffling source of full batches over d.
func NewMemorySource(d *Dataset, batchSize int, seed uint64) (*MemorySource, error) {
	b, err := NewBatcher(d, batchSize, true, seed)
	if err != nil {
		return nil, err
	}
	if d.N < batchSize {
		return nil, fmt.Errorf("dataset %q: batch size %d is larger than its %d samples; use a batch of %d or less", d.Name, batchSize, d.N, d.N)
	}
	return &MemorySource{d: d, b: b}, nil
}

// Name is the dataset's name.
func (m *MemorySource) Name() string { return m.d.Name }

// Shape is the dataset's sample shape.
func (m *MemorySource) Shape() (c, h, w int) { return m.d.C, m.d.H, m.d.W }

// Len is the dataset's N.
func (m *MemorySource) Len() int { return m.d.N }

// BatchSize is the batch size.
func (m *MemorySource) BatchSize() int { return m.b.BatchSize() }

// NumBatches is floor(N/batch).
func (m *MemorySource) NumBatches() int { return m.b.NumFullBatches() }

// StartEpoch sets the epoch's permutation and skips skip batches.
func (m *MemorySource) StartEpoch(epoch, skip int) error {
	if skip < 0 || skip > m.NumBatches() {
		return fmt.Errorf("dataset %q: cannot resume at batch %d of %d", m.d.Name, skip, m.NumBatches())
	}
	m.b.SetEpoch(epoch)
	m.pos = skip
	return nil
}

// Next copies the next batch into dst.
func (m *MemorySource) Next(dst []float32) error {
	if m.pos >= m.NumBatches() {
		return io.EOF
	}
	if _, err := m.b.BatchChecked(m.pos, dst, nil); err != nil {
		return err
	}
	m.pos++
	return nil
}

// Close does nothing; the dataset stays in memory.
func (m *MemorySource) Close() error { return nil }

// StreamOptions controls OpenStream.
type StreamOptions struct {
	// BatchSize is the number of samples per batch (required).
	BatchSize int
	// Buffer is the shuffle buffer's capacity in samples (default 10000):
	// memory is bounded by Buffer×C×H×W×4 bytes plus one read buffer per
	// open shard, whatever the shards' total size.
	Buffer int
	// Seed fixes the order of shards and samples in every epoch.
	Seed uint64
	// NoShuffle reads shards in name order and samples in file order.
	NoShuffle bool
	// Format of every shard: FormatCSV, FormatNPY, FormatIDX or "" to
	// guess each from its name.
	Format string
}

// Salts separate a stream's shard and sample orders from Batcher's.
const (
	streamShardSalt  = 0x57ea3a5a1d5a1d01
	streamSampleSalt = 0x57ea3a5a1d5a1d02
)

// Stream is a BatchSource reading shards (CSV, .npy or IDX files) from
// disk every epoch through a bounded shuffle buffer: each epoch visits the
// shards in an order drawn from (seed, epoch) and hands out samples drawn
// at random from a buffer that the shards refill — the scheme of
// tf.data's shuffle and PyTorch's IterableDataset shufflers. Samples from
// shards far apart in the order mix only as far as the buffer reaches.
type Stream struct {
	name    string
	opt     StreamOptions
	shards  []string
	rows    []int
	n       int
	c, h, w int

	// Per-epoch state.
	order []int // shard order
	next  int   // next shard in order
	cur   *ShardReader
	file  *os.File
	buf   []float32 // Buffer×dim samples; the first fill are valid
	fill  int
	rng   rng
	done  int // batches handed out this epoch
}

// ShardPaths expands source into shard files: a directory's files whose
// names ShardFormat recognises, or a glob's matches, sorted by name.
func ShardPaths(source string) ([]string, error) {
	if st, err := os.Stat(source); err == nil && st.IsDir() {
		ents, err := os.ReadDir(source)
		if err != nil {
			return nil, fmt.Errorf("shards %s: %w", source, err)
		}
		var out []string
		for _, e := range ents {
			if e.Type().IsRegular() && ShardFormat(e.Name()) != "" {
				out = append(out, filepath.Join(source, e.Name()))
			}
		}
		if len(out) == 0 {
			return nil, fmt.Errorf("shards %s: the directory holds no .csv, .npy or IDX files", source)
		}
		return out, nil
	}
	out, err := filepath.Glob(source)
	if err != nil {
		return nil, fmt.Errorf("shards %s: bad pattern: %w", source, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("shards %s: no file matches; pass a directory or a glob like data/part-*.csv", source)
	}
	slices.Sort(out)
	return out, nil
}

// OpenStream opens the shards of source (a directory or glob, see
// ShardPaths). It reads every shard once to count and check its rows — so a
// truncated shard, a row of the wrong width or a NaN fails here, naming the
// shard and row, not in the middle of training — keeping no more than one
// row in memory.
func OpenStream(source string, opt StreamOptions) (*Stream, error) {
	paths, err := ShardPaths(source)
	if err != nil {
		return nil, err
	}
	return OpenStreamPaths(source, paths, opt)
}

// OpenStreamPaths is OpenStream over the shard files paths (in that
// order, which Each keeps), named source in messages: for a caller that
// holds some shards of a source out, as a validation set.
func OpenStreamPaths(source string, paths []string, opt StreamOptions) (*Stream, error) {
	if opt.BatchSize <= 0 {
		return nil, fmt.Errorf("stream %s: batch size %d must be positive", source, opt.BatchSize)
	}
	if opt.Buffer == 0 {
		opt.Buffer = 10000
	}
	if opt.Buffer < 0 {
		return nil, fmt.Errorf("stream %s: shuffle buffer %d must be positive (or 0 for the default)", source, opt.Buffer)
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("stream %s: no shards", source)
	}
	s := &Stream{name: source, opt: opt, shards: slices.Clone(paths), rows: make([]int, len(paths))}
	for i, p := range paths {
		c, h, w, n, first, err := scanShard(p, opt.Format)
		if err != nil {
			return nil, err
		}
		if i == 0 {
			s.c, s.h, s.w = c, h, w
		} else if c*h*w != s.c*s.h*s.w {
			return nil, fmt.Errorf("shard %s: %s: %d values per sample (%d×%d×%d) but the samples of %s hold %d (%d×%d×%d); all shards must share one width", p, first, c*h*w, c, h, w, paths[0], s.Dim(), s.c, s.h, s.w)
		}
		s.rows[i] = n
		s.n += n
	}
	if s.n < opt.BatchSize {
		return nil, fmt.Errorf("stream %s: batch size %d is larger than its %d samples; use a batch of %d or less", source, opt.BatchSize, s.n, s.n)
	}
	s.buf = make([]float32, min(opt.Buffer, s.n)*s.Dim())
	return s, s.StartEpoch(0, 0)
}

// scanShard reads a whole shard, checking every row, and counts them;
// first names its first row ("line 2" of a CSV file, "row 0" otherwise).
func scanShard(path, format string) (c, h, w, n int, first string, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, 0, 0, "", fmt.Errorf("shard %s: %w", path, err)
	}
	defer f.Close()
	r, err := OpenShard(f, path, format)
	if err != nil {
		return 0, 0, 0, 0, "", err
	}
	defer r.Close()
	row := make([]float32, r.Dim())
	for {
		pos, err := r.Next(row)
		if errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return 0, 0, 0, 0, "", err
		}
		if n == 0 {
			first = rowName(r, pos)
		}
		n++
	}
	if n == 0 {
		return 0, 0, 0, 0, "", fmt.Errorf("shard %s: no samples; remove the empty shard", path)
	}
	c, h, w = r.Shape()
	return c, h, w, n, first, nil
}

// rowName names the row at pos as r's errors do: CSV by line, the others
// by 0-based sample index.
func rowName(r *ShardReader, pos int) string {
	if r.Rows() < 0 {
		return fmt.Sprintf("line %d", pos)
	}
	return fmt.Sprintf("row %d", pos)
}

// Name is the source given to OpenStream.
func (s *Stream) Name() string { return s.name }

// Shards lists the shard files in name order.
func (s *Stream) Shards() []string { return slices.Clone(s.shards) }

// Shape is one sample's shape.
func (s *Stream) Shape() (c, h, w int) { return s.c, s.h, s.w }

// Dim is the number of values in one sample.
func (s *Stream) Dim() int { return s.c * s.h * s.w }

// Len is the number of samples over all shards.
func (s *Stream) Len() int { return s.n }

// BatchSize is the batch size.
func (s *Stream) BatchSize() int { return s.opt.BatchSize }

// NumBatches is floor(Len/BatchSize).
func (s *Stream) NumBatches() int { return s.n / s.opt.BatchSize }

// SetBatchSize changes the batch size (for a caller that learns it from the
// data's size, which opening tells) and restarts epoch 0.
func (s *Stream) SetBatchSize(n int) error {
	if n <= 0 || n > s.n {
		return fmt.Errorf("stream %s: batch size %d must be between 1 and its %d samples", s.name, n, s.n)
	}
	s.opt.BatchSize = n
	return s.StartEpoch(0, 0)
}

// StartEpoch restarts reading with the epoch's shard and sample order and
// skips skip batches (reading through them: resuming costs a partial pass).
func (s *Stream) StartEpoch(epoch, skip int) error {
	if skip < 0 || skip > s.NumBatches() {
		return fmt.Errorf("stream %s: cannot resume at batch %d of %d", s.name, skip, s.NumBatches())
	}
	if err := s.closeShard(); err != nil {
		return err
	}
	s.order = make([]int, len(s.shards))
	if s.opt.NoShuffle {
		for i := range s.order {
			s.order[i] = i
		}
	} else {
		shuffleInto(s.order, mix(s.opt.Seed^streamShardSalt, epoch))
	}
	s.next, s.fill, s.done = 0, 0, 0
	s.rng = rng{s: mix(s.opt.Seed^streamSampleSalt, epoch)}
	scratch := make([]float32, s.opt.BatchSize*s.Dim())
	for range skip {
		if err := s.Next(scratch); err != nil {
			return fmt.Errorf("stream %s: resuming epoch %d at batch %d: %w", s.name, epoch, skip, err)
		}
	}
	return nil
}

// Next fills dst with the next batch of the epoch.
func (s *Stream) Next(dst []float32) error {
	dim, bs := s.Dim(), s.opt.BatchSize
	if len(dst) < bs*dim {
		return fmt.Errorf("stream %s: batch buffer has %d values, want batchSize*dim = %d*%d = %d", s.name, len(dst), bs, dim, bs*dim)
	}
	if s.done >= s.NumBatches() {
		return io.EOF
	}
	for i := range bs {
		if err := s.draw(dst[i*dim : (i+1)*dim]); err != nil {
			return err
		}
	}
	s.done++
	return nil
}

// draw moves one sample into dst: without shuffling the next row read;
// with it, a random buffered row whose slot the next row read refills.
func (s *Stream) draw(dst []float32) error {
	if s.opt.NoShuffle {
		ok, err := s.readRow(dst)
		if err == nil && !ok {
			err = fmt.Errorf("stream %s: the shards hold fewer samples than when opened; were they changed during training?", s.name)
		}
		return err
	}
	dim, capRows := s.Dim(), len(s.buf)/s.Dim()
	for s.fill < capRows {
		ok, err := s.readRow(s.buf[s.fill*dim : (s.fill+1)*dim])
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		s.fill++
	}
	if s.fill == 0 {
		return fmt.Errorf("stream %s: the shards hold fewer samples than when opened; were they changed during training?", s.name)
	}
	j := int(s.rng.below(uint64(s.fill)))
	slot := s.buf[j*dim : (j+1)*dim]
	copy(dst, slot)
	ok, err := s.readRow(slot)
	if err != nil {
		return err
	}
	if !ok { // drained: move the last buffered row into the hole
		s.fill--
		copy(slot, s.buf[s.fill*dim:(s.fill+1)*dim])
	}
	return nil
}

// readRow reads the next row of the epoch's shard order into dst; ok is
// false when every shard is done.
func (s *Stream) readRow(dst []float32) (ok bool, err error) {
	for {
		if s.cur == nil {
			if s.next >= len(s.order) {
				return false, nil
			}
			p := s.shards[s.order[s.next]]
			s.next++
			if s.file, err = os.Open(p); err != nil {
				return false, fmt.Errorf("shard %s: %w", p, err)
			}
			if s.cur, err = OpenShard(s.file, p, s.opt.Format); err != nil {
				s.file.Close()
				s.file = nil
				return false, err
			}
			if s.cur.Dim() != s.Dim() {
				err := fmt.Errorf("shard %s: samples now hold %d values, not %d as when opened; was it changed during training?", p, s.cur.Dim(), s.Dim())
				return false, errors.Join(err, s.closeShard())
			}
		}
		_, err := s.cur.Next(dst)
		if err == nil {
			return true, nil
		}
		if !errors.Is(err, io.EOF) {
			return false, err
		}
		if err := s.closeShard(); err != nil {
			return false, err
		}
	}
}

func (s *Stream) closeShard() error {
	if s.cur == nil {
		return nil
	}
	err := errors.Join(s.cur.Close(), s.file.Close())
	s.cur, s.file = nil, nil
	if err != nil {
		return fmt.Errorf("stream %s: closing shard: %w", s.name, err)
	}
	return nil
}

// Each calls fn with every sample, in shard-name and file order (x is
// reused: copy what you keep), for passes that need all the data in a fixed
// order — fitting a scaler, scoring, evaluation. It does not disturb the
// epoch position of Next.
func (s *Stream) Each(fn func(x []float32) error) error {
	row := make([]float32, s.Dim())
	for _, p := range s.shards {
		err := func() error {
			f, err := os.Open(p)
			if err != nil {
				return fmt.Errorf("shard %s: %w", p, err)
			}
			defer f.Close()
			r, err := OpenShard(f, p, s.opt.Format)
			if err != nil {
				return err
			}
			defer r.Close()
			if r.Dim() != s.Dim() {
				return fmt.Errorf("shard %s: samples now hold %d values, not %d as when opened; was it changed?", p, r.Dim(), s.Dim())
			}
			for {
				if _, err := r.Next(row); errors.Is(err, io.EOF) {
					return nil
				} else if err != nil {
					return err
				}
				if err := fn(row); err != nil {
					return err
				}
			}
		}()
		if err != nil {
			return err
		}
	}
	return nil
}

// FitScalerStream fits a scaler like FitScaler on every sample of s, in
// one pass (minmax) or two (standard) over the shards, so the result equals
// FitScaler's on the shards loaded whole in name order.
func FitScalerStream(kind string, s *Stream) (*Scaler, error) {
	switch kind {
	case "none":
		return &Scaler{Kind: "none"}, nil
	case "minmax", "standard":
	default:
		return nil, fmt.Errorf("scaler: unknown kind %q; use one of %q", kind, ScalerKinds())
	}
	dim := s.Dim()
	sc := &Scaler{Kind: kind, A: make([]float32, dim), B: make([]float32, dim)}
	n := 0
	if kind == "minmax" {
		lo, hi := make([]float32, dim), make([]float32, dim)
		err := s.Each(func(x []float32) error {
			if n == 0 {
				copy(lo, x)
				copy(hi, x)
			}
			for j, v := range x {
				lo[j], hi[j] = min(lo[j], v), max(hi[j], v)
			}
			n++
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("scaler %s on %s: %w", kind, s.name, err)
		}
		for j := range dim {
			sc.A[j], sc.B[j] = lo[j], 1
			if r := float64(hi[j]) - float64(lo[j]); r > 0 {
				sc.B[j] = float32(1 / r)
			}
		}
	} else {
		mean, vari := make([]float64, dim), make([]float64, dim)
		err := s.Each(func(x []float32) error {
			for j, v := range x {
				mean[j] += float64(v)
			}
			n++
			return nil
		})
		if err == nil {
			for j := range mean {
				mean[j] /= float64(n)
			}
			err = s.Each(func(x []float32) error {
				for j, v := range x {
					dv := float64(v) - mean[j]
					vari[j] += dv * dv
				}
				return nil
			})
		}
		if err != nil {
			return nil, fmt.Errorf("scaler %s on %s: %w", kind, s.name, err)
		}
		for j := range dim {
			sc.A[j], sc.B[j] = float32(mean[j]), 1
			if sd := math.Sqrt(vari[j] / float64(n)); sd > 0 {
				sc.B[j] = float32(1 / sd)
			}
		}
	}
	if err := sc.Validate(); err != nil {
		return nil, fmt.Errorf("scaler %s fitted on %s: %w", kind, s.name, err)
	}
	return sc, nil
}

// Close closes the open shard.
func (s *Stream) Close() error { return s.closeShard() }

// String describes the stream for logs.
func (s *Stream) String() string {
	return fmt.Sprintf("%s: %d samples of %d×%d×%d in %d shards (%s…), shuffle buffer %d",
		s.name, s.n, s.c, s.h, s.w, len(s.shards), strings.TrimSpace(filepath.Base(s.shards[0])), len(s.buf)/max(1, s.Dim()))
}

var (
	_ BatchSource = (*MemorySource)(nil)
	_ BatchSource = (*Stream)(nil)
)
