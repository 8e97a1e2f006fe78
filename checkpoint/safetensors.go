package checkpoint

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"unicode/utf8"
)

// ErrCorrupt is wrapped by every error Decode and Load return for input that
// is not a valid F32 safetensors file, so callers can tell a bad file from an
// I/O failure with errors.Is.
var ErrCorrupt = errors.New("not a hourglass checkpoint, or the file is corrupted or truncated")

// maxHeaderLen bounds the JSON header; the reference implementation uses the
// same 100 MB limit to refuse absurd lengths before allocating.
const maxHeaderLen = 100 << 20

// metadataKey is the reserved header entry holding string metadata.
const metadataKey = "__metadata__"

// dtypeF32 is the only element type hourglass writes and reads.
const dtypeF32 = "F32"

// Tensor is one named float32 array stored row-major.
type Tensor struct {
	Name  string
	Shape []int
	Data  []float32
}

// File is the content of one checkpoint: tensors plus free-form metadata.
type File struct {
	Tensors  []Tensor
	Metadata map[string]string
}

// Get returns the tensor called name, if present.
func (f *File) Get(name string) (Tensor, bool) {
	if f == nil {
		return Tensor{}, false
	}
	for _, t := range f.Tensors {
		if t.Name == name {
			return t, true
		}
	}
	return Tensor{}, false
}

// headerEntry is one tensor's JSON header record. Pointers let Decode tell a
// missing field from a zero value.
type headerEntry struct {
	Dtype       *string   `json:"dtype"`
	Shape       *[]int    `json:"shape"`
	DataOffsets *[]uint64 `json:"data_offsets"`
}

// numElements returns the product of shape, or an error for negative
// dimensions or overflow.
func numElements(shape []int) (int, error) {
	n := 1
	for i, d := range shape {
		if d < 0 {
			return 0, fmt.Errorf("dimension %d is negative (%d)", i, d)
		}
		if d != 0 && n > math.MaxInt/4/d {
			return 0, fmt.Errorf("shape %v has too many elements", shape)
		}
		n *= d
	}
	return n, nil
}

// sortedTensors validates f and returns its tensors ordered by name, the
// order Encode lays them out in so output bytes are deterministic.
func sortedTensors(f *File) ([]Tensor, error) {
	if f == nil {
		return nil, errors.New("checkpoint: nil File")
	}
	ts := make([]Tensor, len(f.Tensors))
	copy(ts, f.Tensors)
	sort.SliceStable(ts, func(i, j int) bool { return ts[i].Name < ts[j].Name })
	for i, t := range ts {
		if t.Name == "" {
			return nil, errors.New("checkpoint: tensor with empty name; give every tensor a unique name")
		}
		if !utf8.ValidString(t.Name) {
			return nil, fmt.Errorf("checkpoint: tensor name %q is not valid UTF-8; safetensors headers are JSON", t.Name)
		}
		if t.Name == metadataKey {
			return nil, fmt.Errorf("checkpoint: tensor name %q is reserved for metadata; rename the tensor", t.Name)
		}
		if i > 0 && ts[i-1].Name == t.Name {
			return nil, fmt.Errorf("checkpoint: duplicate tensor name %q; tensor names must be unique", t.Name)
		}
		n, err := numElements(t.Shape)
		if err != nil {
			return nil, fmt.Errorf("checkpoint: tensor %q: %w", t.Name, err)
		}
		if n != len(t.Data) {
			return nil, fmt.Errorf("checkpoint: tensor %q: shape %v needs %d values but Data has %d", t.Name, t.Shape, n, len(t.Data))
		}
	}
	return ts, nil
}

// encodeHeader builds the padded JSON header for tensors already sorted.
func encodeHeader(ts []Tensor, meta map[string]string) ([]byte, error) {
	// Build the JSON by hand so tensor keys appear in buffer order; map keys
	// inside __metadata__ are sorted by encoding/json.
	var buf bytes.Buffer
	buf.WriteByte('{')
	if len(meta) > 0 {
		mb, err := json.Marshal(meta)
		if err != nil {
			return nil, fmt.Errorf("checkpoint: encode metadata: %w", err)
		}
		buf.WriteString(`"` + metadataKey + `":`)
		buf.Write(mb)
	}
	var off uint64
	for i, t := range ts {
		if i > 0 || len(meta) > 0 {
			buf.WriteByte(',')
		}
		name, err := json.Marshal(t.Name)
		if err != nil {
			return nil, fmt.Errorf("checkpoint: encode tensor name %q: %w", t.Name, err)
		}
		shape := t.Shape
		if shape == nil {
			shape = []int{}
		}
		sb, err := json.Marshal(shape)
		if err != nil {
			return nil, fmt.Errorf("checkpoint: encode shape of %q: %w", t.Name, err)
		}
		end := off + 4*uint64(len(t.Data))
		buf.Write(name)
		fmt.Fprintf(&buf, `:{"dtype":"%s","shape":%s,"data_offsets":[%d,%d]}`, dtypeF32, sb, off, end)
		off = end
	}
	buf.WriteByte('}')
	// Pad with spaces so the data buffer starts 8-byte aligned, as the
	// reference writer does.
	for (8+buf.Len())%8 != 0 {
		buf.WriteByte(' ')
	}
	if buf.Len() > maxHeaderLen {
		return nil, fmt.Errorf("checkpoint: header is %d bytes, over the %d byte limit; store fewer tensors or less metadata", buf.Len(), maxHeaderLen)
	}
	return buf.Bytes(), nil
}

// Encode writes f to w in safetensors format. Tensors are written sorted by
// name and metadata keys sorted, so equal Files give identical bytes.
func Encode(w io.Writer, f *File) error {
	ts, err := sortedTensors(f)
	if err != nil {
		return err
	}
	for k, v := range f.Metadata {
		if !utf8.ValidString(k) || !utf8.ValidString(v) {
			return fmt.Errorf("checkpoint: metadata %q=%q is not valid UTF-8; safetensors headers are JSON", k, v)
		}
	}
	hdr, err := encodeHeader(ts, f.Metadata)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	var lenBuf [8]byte
	binary.LittleEndian.PutUint64(lenBuf[:], uint64(len(hdr)))
	if _, err := bw.Write(lenBuf[:]); err != nil {
		return fmt.Errorf("checkpoint: write header length: %w", err)
	}
	if _, err := bw.Write(hdr); err != nil {
		return fmt.Errorf("checkpoint: write header: %w", err)
	}
	chunk := make([]byte, 64<<10)
	for _, t := range ts {
		data := t.Data
		for len(data) > 0 {
			n := min(len(data), len(chunk)/4)
			for i, v := range data[:n] {
				binary.LittleEndian.PutUint32(chunk[4*i:], math.Float32bits(v))
			}
			if _, err := bw.Write(chunk[:4*n]); err != nil {
				return fmt.Errorf("checkpoint: write tensor %q: %w", t.Name, err)
			}
			data = data[n:]
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("checkpoint: flush: %w", err)
	}
	return nil
}

// corrupt wraps ErrCorrupt with a specific reason.
func corrupt(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrCorrupt, fmt.Sprintf(format, args...))
}

// Decode parses a complete safetensors file held in data. It checks the
// header length, the JSON, that every tensor is F32 with a byte range that
// matches its shape, and that the ranges tile the data buffer exactly.
// Tensors are returned in buffer order; Metadata is never nil.
func Decode(data []byte) (*File, error) {
	if len(data) < 8 {
		return nil, corrupt("file is %d bytes, shorter than the 8-byte header length", len(data))
	}
	hlen := binary.LittleEndian.Uint64(data[:8])
	if hlen > maxHeaderLen {
		return nil, corrupt("header length %d exceeds the %d byte limit", hlen, maxHeaderLen)
	}
	if hlen > uint64(len(data)-8) {
		return nil, corrupt("header length %d runs past the end of the %d-byte file", hlen, len(data))
	}
	hdr := data[8 : 8+hlen]
	buf := data[8+hlen:]

	var raw map[string]json.RawMessage
	if err := json.Unmarshal(hdr, &raw); err != nil {
		return nil, corrupt("header is not a JSON object: %v", err)
	}
	out := &File{Metadata: map[string]string{}}
	type span struct {
		begin, end uint64
		idx        int
	}
	spans := make([]span, 0, len(raw))
	for name, msg := range raw {
		if name == metadataKey {
			if err := json.Unmarshal(msg, &out.Metadata); err != nil {
				return nil, corrupt("%s must map strings to strings: %v", metadataKey, err)
			}
			if out.Metadata == nil { // "__metadata__": null
				out.Metadata = map[string]string{}
			}
			continue
		}
		var e headerEntry
		dec := json.NewDecoder(bytes.NewReader(msg))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&e); err != nil {
			return nil, corrupt("tensor %q: bad header entry: %v", name, err)
		}
		if e.Dtype == nil || e.Shape == nil || e.DataOffsets == nil {
			return nil, corrupt("tensor %q: header entry needs dtype, shape and data_offsets", name)
		}
		if *e.Dtype != dtypeF32 {
			return nil, corrupt("tensor %q has dtype %s; only F32 is supported (convert the tensor to float32 before saving)", name, *e.Dtype)
		}
		offs := *e.DataOffsets
		if len(offs) != 2 {
			return nil, corrupt("tensor %q: data_offsets must have 2 entries, got %d", name, len(offs))
		}
		begin, end := offs[0], offs[1]
		if begin > end || end > uint64(len(buf)) {
			return nil, corrupt("tensor %q: data_offsets [%d,%d] outside the %d-byte data buffer", name, begin, end, len(buf))
		}
		n, err := numElements(*e.Shape)
		if err != nil {
			return nil, corrupt("tensor %q: %v", name, err)
		}
		if uint64(n)*4 != end-begin {
			return nil, corrupt("tensor %q: shape %v needs %d bytes but data_offsets [%d,%d] span %d", name, *e.Shape, n*4, begin, end, end-begin)
		}
		out.Tensors = append(out.Tensors, Tensor{Name: name, Shape: *e.Shape})
		spans = append(spans, span{begin, end, len(out.Tensors) - 1})
	}
	// Order by offset (name breaks ties between empty tensors) so gaps and
	// overlaps show up between neighbours.
	sort.Slice(spans, func(i, j int) bool {
		if spans[i].begin != spans[j].begin {
			return spans[i].begin < spans[j].begin
		}
		if spans[i].end != spans[j].end {
			return spans[i].end < spans[j].end
		}
		return out.Tensors[spans[i].idx].Name < out.Tensors[spans[j].idx].Name
	})
	// Check that the ranges tile the buffer before allocating anything, so
	// a forged header costs no more than the file's own size.
	var pos uint64
	for _, s := range spans {
		name := out.Tensors[s.idx].Name
		if s.begin < pos {
			return nil, corrupt("tensor %q: data_offsets [%d,%d] overlap the previous tensor ending at %d", name, s.begin, s.end, pos)
		}
		if s.begin > pos {
			return nil, corrupt("gap in data buffer between byte %d and %d (before tensor %q)", pos, s.begin, name)
		}
		pos = s.end
	}
	if pos != uint64(len(buf)) {
		return nil, corrupt("data buffer is %d bytes but tensors cover only %d (trailing bytes)", len(buf), pos)
	}
	// One backing array for all tensors; each slice is capped so an append
	// by a caller cannot run into its neighbour.
	all := make([]float32, len(buf)/4)
	for j := range all {
		all[j] = math.Float32frombits(binary.LittleEndian.Uint32(buf[4*j:]))
	}
	ordered := make([]Tensor, len(spans))
	for i, s := range spans {
		t := out.Tensors[s.idx]
		a, b := s.begin/4, s.end/4
		t.Data = all[a:b:b]
		ordered[i] = t
	}
	out.Tensors = ordered
	return out, nil
}
