package dataset

import (
	"errors"
	"fmt"
	"io"
	"os"
)

// ReadShard loads one shard file whole (see OpenShard for the formats and
// the CSV rules), e.g. a shard held out of a stream as validation data.
func ReadShard(path, format string) (*Dataset, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("shard %s: %w", path, err)
	}
	defer f.Close()
	r, err := OpenShard(f, path, format)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	c, h, w := r.Shape()
	d := &Dataset{Name: path, C: c, H: h, W: w}
	if n := r.Rows(); n > 0 {
		d.X = make([]float32, 0, n*r.Dim()) // the header's count, not trusted beyond a hint
	}
	row := make([]float32, r.Dim())
	for {
		if _, err := r.Next(row); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, err
		}
		d.X = append(d.X, row...)
		d.N++
	}
	if d.N == 0 {
		return nil, fmt.Errorf("shard %s: no samples", path)
	}
	return d, nil
}

// sampleSalt separates SampleStream's draws from the epoch orders.
const sampleSalt = 0x57ea3a5a1d5a1d03

// SampleStream draws n samples of s uniformly without replacement in one
// pass of Each (reservoir sampling, Vitter's algorithm R), in an order fixed
// by seed: a bounded stand-in for the whole data where a fit needs rows in
// memory (a threshold percentile, a PCA baseline). With n ≥ Len it holds
// every sample in shard order.
func SampleStream(s *Stream, n int, seed uint64) (*Dataset, error) {
	if n <= 0 {
		return nil, fmt.Errorf("stream %s: sample size %d must be positive", s.name, n)
	}
	dim := s.Dim()
	n = min(n, s.n)
	d := &Dataset{Name: fmt.Sprintf("%s (a sample of %d of %d rows)", s.name, n, s.n), N: n, C: s.c, H: s.h, W: s.w, X: make([]float32, n*dim)}
	r := rng{s: mix(seed^sampleSalt, 0)}
	seen := 0
	err := s.Each(func(x []float32) error {
		if seen < n {
			copy(d.X[seen*dim:], x)
		} else if j := int(r.below(uint64(seen + 1))); j < n {
			copy(d.X[j*dim:(j+1)*dim], x)
		}
		seen++
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sampling %s: %w", s.name, err)
	}
	if seen < n {
		return nil, fmt.Errorf("stream %s: the shards hold %d samples, fewer than the %d when opened; were they changed?", s.name, seen, s.n)
	}
	return d, nil
}

// Scaled is src with sc applied to every batch it hands out, so a model
// trains on scaled streamed data without the data being held, scaled, in
// memory.
func Scaled(src BatchSource, sc *Scaler) BatchSource {
	return &scaledSource{BatchSource: src, sc: sc}
}

type scaledSource struct {
	BatchSource
	sc *Scaler
}

func (s *scaledSource) Next(dst []float32) error {
	if err := s.BatchSource.Next(dst); err != nil {
		return err
	}
	c, h, w := s.Shape()
	if err := s.sc.ApplySlice(dst[:s.BatchSize()*c*h*w]); err != nil {
		return fmt.Errorf("%s: %w", s.Name(), err)
	}
	return nil
}
