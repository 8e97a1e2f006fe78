// Command makesample writes the embedded sample: the first -train training
// and first -test test images and labels of an IDX dataset (Fashion-MNIST by
// default) as gzipped IDX files. It deliberately does not import package
// dataset, which embeds its output and would not compile without it.
//
// Run via scripts/make-sample.sh.
package main

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

func main() {
	src := flag.String("src", "/usr/share/datasets/fashion-mnist", "directory with the four *-ubyte.gz IDX files")
	out := flag.String("out", "dataset/sample", "output directory")
	nTrain := flag.Int("train", 4000, "number of training samples to keep (from the start)")
	nTest := flag.Int("test", 1000, "number of test samples to keep (from the start)")
	flag.Parse()
	if err := run(*src, *out, *nTrain, *nTest); err != nil {
		fmt.Fprintln(os.Stderr, "makesample:", err)
		os.Exit(1)
	}
}

func run(src, out string, nTrain, nTest int) error {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	jobs := []struct {
		name string
		n    int
	}{
		{"train-images-idx3-ubyte.gz", nTrain},
		{"train-labels-idx1-ubyte.gz", nTrain},
		{"t10k-images-idx3-ubyte.gz", nTest},
		{"t10k-labels-idx1-ubyte.gz", nTest},
	}
	for _, j := range jobs {
		if err := head(filepath.Join(src, j.name), filepath.Join(out, j.name), j.n); err != nil {
			return fmt.Errorf("%s: %w (install the data with `apt-get install dataset-fashion-mnist` or pass -src)", j.name, err)
		}
	}
	return nil
}

// head copies the first n items of a gzipped ubyte IDX file into a new
// gzipped IDX file with the first dimension set to n.
func head(in, out string, n int) error {
	f, err := os.Open(in)
	if err != nil {
		return err
	}
	defer f.Close()
	zr, err := gzip.NewReader(bufio.NewReader(f))
	if err != nil {
		return fmt.Errorf("%s: %w", in, err)
	}
	var magic [4]byte
	if _, err := io.ReadFull(zr, magic[:]); err != nil {
		return fmt.Errorf("%s: magic: %w", in, err)
	}
	if magic[0] != 0 || magic[1] != 0 || magic[2] != 0x08 || magic[3] < 1 {
		return fmt.Errorf("%s: not a ubyte IDX file (magic % x)", in, magic)
	}
	dims := make([]uint32, magic[3])
	if err := binary.Read(zr, binary.BigEndian, dims); err != nil {
		return fmt.Errorf("%s: dims: %w", in, err)
	}
	if n <= 0 || uint32(n) > dims[0] {
		return fmt.Errorf("%s: want %d items, file has %d", in, n, dims[0])
	}
	item := 1
	for _, d := range dims[1:] {
		item *= int(d)
	}
	data := make([]byte, n*item)
	if _, err := io.ReadFull(zr, data); err != nil {
		return fmt.Errorf("%s: data: %w", in, err)
	}
	dims[0] = uint32(n)

	tmp := out + ".tmp"
	g, err := os.Create(tmp)
	if err != nil {
		return err
	}
	// No name or mod time in the gzip header, so output is reproducible.
	zw, _ := gzip.NewWriterLevel(g, gzip.BestCompression)
	werr := binary.Write(zw, binary.BigEndian, magic)
	if werr == nil {
		werr = binary.Write(zw, binary.BigEndian, dims)
	}
	if werr == nil {
		_, werr = zw.Write(data)
	}
	if err := zw.Close(); werr == nil {
		werr = err
	}
	if err := g.Close(); werr == nil {
		werr = err
	}
	if werr != nil {
		os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", out, werr)
	}
	return os.Rename(tmp, out)
}
