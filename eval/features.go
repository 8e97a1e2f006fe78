package eval

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// WriteNPY writes data as a little-endian float32 NumPy array (.npy, format
// 1.0, C order) with the given shape, e.g. []int{n, k} for latent codes.
// The header is written here because npyio only infers 1-D shapes from
// slices; the result reads back with npyio and numpy.load.
func WriteNPY(path string, data []float32, shape []int) error {
	count := 1
	for i, s := range shape {
		if s < 0 {
			return fmt.Errorf("eval: WriteNPY %s: negative dimension %d at axis %d of shape %v", path, s, i, shape)
		}
		count *= s
	}
	if count != len(data) {
		return fmt.Errorf("eval: WriteNPY %s: shape %v holds %d values but data has %d", path, shape, count, len(data))
	}
	return atomicWrite(path, func(w io.Writer) error {
		if _, err := w.Write(npyHeader(shape, "<f4")); err != nil {
			return err
		}
		buf := make([]byte, 4*4096)
		for start := 0; start < len(data); start += 4096 {
			chunk := data[start:min(len(data), start+4096)]
			for i, v := range chunk {
				binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(v))
			}
			if _, err := w.Write(buf[:4*len(chunk)]); err != nil {
				return err
			}
		}
		return nil
	})
}

// WriteLabelsNPY writes labels as a 1-D little-endian int32 NumPy array,
// so numpy.load gives integers that index and compare as class numbers.
func WriteLabelsNPY(path string, labels []int) error {
	for i, l := range labels {
		if l < math.MinInt32 || l > math.MaxInt32 {
			return fmt.Errorf("eval: WriteLabelsNPY %s: label %d of sample %d does not fit in int32", path, l, i)
		}
	}
	return atomicWrite(path, func(w io.Writer) error {
		buf := npyHeader([]int{len(labels)}, "<i4")
		for _, l := range labels {
			buf = binary.LittleEndian.AppendUint32(buf, uint32(int32(l)))
		}
		_, err := w.Write(buf)
		return err
	})
}

// npyHeader builds the magic, version and dict header for data of type
// descr, padded with spaces so the data starts on a 64-byte boundary as
// the format spec asks.
func npyHeader(shape []int, descr string) []byte {
	dims := make([]string, len(shape))
	for i, s := range shape {
		dims[i] = strconv.Itoa(s)
	}
	shp := "(" + strings.Join(dims, ", ")
	if len(shape) == 1 {
		shp += ","
	}
	shp += ")"
	dict := "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shp + ", }"
	const prefix = 10 // magic(6) + version(2) + header length(2)
	total := prefix + len(dict) + 1
	pad := (64 - total%64) % 64
	dict += strings.Repeat(" ", pad) + "\n"
	out := make([]byte, 0, prefix+len(dict))
	out = append(out, "\x93NUMPY"...)
	out = append(out, 1, 0)
	out = binary.LittleEndian.AppendUint16(out, uint16(len(dict)))
	return append(out, dict...)
}

// WriteFeaturesCSV writes n codes of k values as CSV with header
// z0,...,z{k-1} and, when labels is non-nil, a final label column.
func WriteFeaturesCSV(path string, codes []float32, n, k int, labels []int) error {
	if n < 0 || k < 1 {
		return fmt.Errorf("eval: WriteFeaturesCSV %s: need n >= 0 and k >= 1, got n=%d k=%d", path, n, k)
	}
	if len(codes) != n*k {
		return fmt.Errorf("eval: WriteFeaturesCSV %s: codes has %d values, want n*k = %d*%d = %d", path, len(codes), n, k, n*k)
	}
	if labels != nil && len(labels) != n {
		return fmt.Errorf("eval: WriteFeaturesCSV %s: %d labels for %d rows", path, len(labels), n)
	}
	return atomicWrite(path, func(w io.Writer) error {
		var line []byte
		for j := range k {
			if j > 0 {
				line = append(line, ',')
			}
			line = append(line, 'z')
			line = strconv.AppendInt(line, int64(j), 10)
		}
		if labels != nil {
			line = append(line, ",label"...)
		}
		line = append(line, '\n')
		if _, err := w.Write(line); err != nil {
			return err
		}
		for i := range n {
			line = line[:0]
			for j, v := range codes[i*k : (i+1)*k] {
				if j > 0 {
					line = append(line, ',')
				}
				line = strconv.AppendFloat(line, float64(v), 'g', -1, 32)
			}
			if labels != nil {
				line = append(line, ',')
				line = strconv.AppendInt(line, int64(labels[i]), 10)
			}
			line = append(line, '\n')
			if _, err := w.Write(line); err != nil {
				return err
			}
		}
		return nil
	})
}
