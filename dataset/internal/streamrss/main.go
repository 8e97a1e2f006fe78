// Command streamrss measures the peak resident memory of streaming a
// sharded data set through dataset.Stream: it writes -shards .npy (or CSV)
// shards of -rows×-dim float32 values in total, then reads -epochs epochs
// of batches through a shuffle buffer of -buffer samples and prints the
// data's size, the buffer's size and the process's peak RSS (VmHWM, Linux).
// The figures are recorded in docs/streaming.md.
//
//	go run ./dataset/internal/streamrss -rows 400000 -dim 64 -buffer 10000
package main

import (
	"bufio"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/hourglass-ml/hourglass/dataset"
)

func main() {
	rows := flag.Int("rows", 400000, "samples in total")
	dim := flag.Int("dim", 64, "values per sample")
	shards := flag.Int("shards", 16, "number of shards")
	format := flag.String("format", "npy", "shard format: npy or csv")
	buffer := flag.Int("buffer", 10000, "shuffle buffer in samples")
	batch := flag.Int("batch", 64, "batch size")
	epochs := flag.Int("epochs", 2, "epochs to read")
	dir := flag.String("dir", "", "directory for the shards (default: a temporary one, removed after)")
	whole := flag.Bool("whole", false, "for comparison: load every shard into memory instead of streaming")
	flag.Parse()
	if err := run(*rows, *dim, *shards, *format, *buffer, *batch, *epochs, *dir, *whole); err != nil {
		fmt.Fprintln(os.Stderr, "streamrss:", err)
		os.Exit(1)
	}
}

func run(rows, dim, shards int, format string, buffer, batch, epochs int, dir string, whole bool) error {
	if dir == "" {
		d, err := os.MkdirTemp("", "streamrss")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	var onDisk int64
	for s := range shards {
		n := rows / shards
		if s < rows%shards {
			n++
		}
		size, err := writeShard(filepath.Join(dir, fmt.Sprintf("part-%05d.%s", s, format)), s, n, dim, format)
		if err != nil {
			return err
		}
		onDisk += size
	}
	before := peakRSS()
	start := time.Now()
	mib := func(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }
	if whole {
		x, err := loadWhole(dir)
		if err != nil {
			return err
		}
		fmt.Printf("loaded %d values whole in %.1fs; peak RSS: %s after writing the shards, %s after loading\n",
			len(x), time.Since(start).Seconds(), mib(before), mib(peakRSS()))
		return nil
	}
	st, err := dataset.OpenStream(dir, dataset.StreamOptions{BatchSize: batch, Buffer: buffer, Seed: 1})
	if err != nil {
		return err
	}
	defer st.Close()
	buf := make([]float32, batch*dim)
	var sum float64
	for e := 1; e <= epochs; e++ {
		if err := st.StartEpoch(e, 0); err != nil {
			return err
		}
		for {
			err := st.Next(buf)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return err
			}
			sum += float64(buf[0])
		}
	}
	fmt.Printf("data: %d samples × %d float32 = %s in memory (%s on disk as %d %s shards)\n",
		rows, dim, mib(int64(rows)*int64(dim)*4), mib(onDisk), shards, format)
	fmt.Printf("shuffle buffer: %d samples = %s (%.1f× smaller than the data)\n",
		buffer, mib(int64(buffer)*int64(dim)*4), float64(rows)/float64(buffer))
	fmt.Printf("read: 1 checking pass + %d epochs of %d batches of %d in %.1fs (checksum %.3g)\n",
		epochs, st.NumBatches(), batch, time.Since(start).Seconds(), sum)
	fmt.Printf("peak RSS: %s after writing the shards, %s after streaming\n", mib(before), mib(peakRSS()))
	return nil
}

// loadWhole reads every shard into one slice, as loading a data set whole
// does.
func loadWhole(dir string) ([]float32, error) {
	paths, err := dataset.ShardPaths(dir)
	if err != nil {
		return nil, err
	}
	var x []float32
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			return nil, err
		}
		r, err := dataset.OpenShard(f, p, "")
		if err != nil {
			f.Close()
			return nil, err
		}
		row := make([]float32, r.Dim())
		for {
			if _, err := r.Next(row); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				f.Close()
				return nil, err
			}
			x = append(x, row...)
		}
		f.Close()
	}
	return x, nil
}

// writeShard writes n samples, row r of shard s being sin-based values.
func writeShard(path string, s, n, dim int, format string) (int64, error) {
	f, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	w := bufio.NewWriterSize(f, 1<<16)
	if format == "npy" {
		dict := fmt.Sprintf("{'descr': '<f4', 'fortran_order': False, 'shape': (%d, %d), }", n, dim)
		dict += strings.Repeat(" ", (64-(10+len(dict)+1)%64)%64) + "\n"
		w.WriteString("\x93NUMPY\x01\x00")
		binary.Write(w, binary.LittleEndian, uint16(len(dict)))
		w.WriteString(dict)
	}
	var b [4]byte
	var line []byte
	for r := range n {
		line = line[:0]
		for j := range dim {
			v := float32(math.Sin(float64(s*1000003+r*dim+j) * 0.001))
			if format == "npy" {
				binary.LittleEndian.PutUint32(b[:], math.Float32bits(v))
				w.Write(b[:])
				continue
			}
			if j > 0 {
				line = append(line, ',')
			}
			line = strconv.AppendFloat(line, float64(v), 'g', -1, 32)
		}
		if format != "npy" {
			w.Write(append(line, '\n'))
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return 0, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return 0, err
	}
	return st.Size(), f.Close()
}

// peakRSS is the process's peak resident set (VmHWM), or 0 off Linux.
func peakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}
