package onnx

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// The expected bytes are worked out by hand from onnx.proto's field
// numbers: tag = field<<3 | wire type (0 varint, 2 bytes, 5 fixed32).
func TestMarshalMatchesOnnxProto(t *testing.T) {
	tests := []struct {
		name string
		got  []byte
		want []byte
	}{
		{"int attribute", (&attribute{name: "axis", typ: attrInt, i: 2}).marshal(),
			[]byte{0x0a, 4, 'a', 'x', 'i', 's', 0x18, 2, 0xa0, 0x01, 2}},
		{"ints attribute, unpacked as proto2", (&attribute{name: "p", typ: attrInts, ints: []int64{1, -1}}).marshal(),
			append([]byte{0x0a, 1, 'p', 0x40, 1, 0x40}, append([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, 0xa0, 0x01, 7)...)},
		{"float attribute", (&attribute{name: "a", typ: attrFloat, f: 1}).marshal(),
			[]byte{0x0a, 1, 'a', 0x15, 0x00, 0x00, 0x80, 0x3f, 0xa0, 0x01, 1}},
		{"float tensor", func() []byte { tp := floatTensor("w", []int{2}, []float32{1, -2}); return tp.marshal() }(),
			[]byte{0x08, 2, 0x10, 1, 0x42, 1, 'w', 0x4a, 8, 0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0xc0}},
		{"int64 tensor", func() []byte { tp := int64Tensor("s", []int{1}, []int64{-1}); return tp.marshal() }(),
			[]byte{0x08, 1, 0x10, 7, 0x42, 1, 's', 0x4a, 8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}},
		{"value info with a symbolic batch", (&valueInfo{name: "x", dims: []dim{{param: "b"}, {value: 3}}}).marshal(),
			// name; type{tensor_type{elem_type FLOAT; shape{dim{param "b"}, dim{value 3}}}}
			[]byte{0x0a, 1, 'x', 0x12, 15, 0x0a, 13, 0x08, 1, 0x12, 9, 0x0a, 3, 0x12, 1, 'b', 0x0a, 2, 0x08, 3}},
		{"node", (&nodeProto{inputs: []string{"a"}, outputs: []string{"b"}, name: "n", opType: "Relu"}).marshal(),
			[]byte{0x0a, 1, 'a', 0x12, 1, 'b', 0x1a, 1, 'n', 0x22, 4, 'R', 'e', 'l', 'u'}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, tc.got)
		})
	}
}

func TestModelHeader(t *testing.T) {
	m := modelProto{producer: "h", version: "1", graph: graphProto{name: "g"}}
	want := []byte{
		0x08, irVersion, // ir_version
		0x12, 1, 'h', // producer_name
		0x1a, 1, '1', // producer_version
		0x3a, 3, 0x12, 1, 'g', // graph{name}
		0x42, 4, 0x0a, 0, 0x10, opsetVersion, // opset_import{domain "", version}
	}
	require.Equal(t, want, m.marshal())
}
