package onnx

import (
	"encoding/binary"
	"math"

	"google.golang.org/protobuf/encoding/protowire"
)

// The subset of onnx.proto (proto2) that the exporter writes, with its field
// numbers. Repeated scalars are written unpacked, as proto2 declares them,
// except where onnx.proto asks for packed.

// Versions written: IR 8 is the newest that onnx 1.12's checker accepts, and
// opset 13 has every op used here with axes still as attributes.
const (
	irVersion    = 8
	opsetVersion = 13
)

// TensorProto.DataType values.
const (
	typeFloat int32 = 1
	typeInt64 int32 = 7
)

// AttributeProto.AttributeType values.
const (
	attrFloat int32 = 1
	attrInt   int32 = 2
	attrInts  int32 = 7
)

type modelProto struct {
	producer, version string
	doc               string
	graph             graphProto
	meta              [][2]string // metadata_props, in order
}

type graphProto struct {
	name           string
	doc            string
	nodes          []nodeProto
	initializers   []tensorProto
	inputs, output []valueInfo
}

type nodeProto struct {
	inputs, outputs []string
	name, opType    string
	attrs           []attribute
}

type attribute struct {
	name string
	typ  int32
	i    int64
	f    float32
	ints []int64
}

type tensorProto struct {
	name     string
	dims     []int64
	dataType int32
	raw      []byte // little-endian values
}

// valueInfo is a float32 tensor's name and shape; a dim with a non-empty
// param is symbolic (the batch).
type valueInfo struct {
	name string
	dims []dim
}

type dim struct {
	value int64
	param string
}

func appendString(b []byte, num protowire.Number, s string) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendString(b, s)
}

func appendBytes(b []byte, num protowire.Number, v []byte) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendBytes(b, v)
}

func appendVarint(b []byte, num protowire.Number, v uint64) []byte {
	b = protowire.AppendTag(b, num, protowire.VarintType)
	return protowire.AppendVarint(b, v)
}

// ModelProto: ir_version 1, producer_name 2, producer_version 3,
// doc_string 6, graph 7, opset_import 8, metadata_props 14.
func (m *modelProto) marshal() []byte {
	var b []byte
	b = appendVarint(b, 1, irVersion)
	b = appendString(b, 2, m.producer)
	b = appendString(b, 3, m.version)
	if m.doc != "" {
		b = appendString(b, 6, m.doc)
	}
	b = appendBytes(b, 7, m.graph.marshal())
	// OperatorSetIdProto: domain 1 ("" is the default ai.onnx), version 2.
	b = appendBytes(b, 8, appendVarint(appendString(nil, 1, ""), 2, opsetVersion))
	for _, kv := range m.meta {
		// StringStringEntryProto: key 1, value 2.
		b = appendBytes(b, 14, appendString(appendString(nil, 1, kv[0]), 2, kv[1]))
	}
	return b
}

// GraphProto: node 1, name 2, initializer 5, doc_string 10, input 11,
// output 12.
func (g *graphProto) marshal() []byte {
	var b []byte
	for i := range g.nodes {
		b = appendBytes(b, 1, g.nodes[i].marshal())
	}
	b = appendString(b, 2, g.name)
	for i := range g.initializers {
		b = appendBytes(b, 5, g.initializers[i].marshal())
	}
	if g.doc != "" {
		b = appendString(b, 10, g.doc)
	}
	for i := range g.inputs {
		b = appendBytes(b, 11, g.inputs[i].marshal())
	}
	for i := range g.output {
		b = appendBytes(b, 12, g.output[i].marshal())
	}
	return b
}

// NodeProto: input 1, output 2, name 3, op_type 4, attribute 5.
func (n *nodeProto) marshal() []byte {
	var b []byte
	for _, s := range n.inputs {
		b = appendString(b, 1, s)
	}
	for _, s := range n.outputs {
		b = appendString(b, 2, s)
	}
	b = appendString(b, 3, n.name)
	b = appendString(b, 4, n.opType)
	for i := range n.attrs {
		b = appendBytes(b, 5, n.attrs[i].marshal())
	}
	return b
}

// AttributeProto: name 1, f 2, i 3, ints 8, type 20.
func (a *attribute) marshal() []byte {
	b := appendString(nil, 1, a.name)
	switch a.typ {
	case attrFloat:
		b = protowire.AppendTag(b, 2, protowire.Fixed32Type)
		b = protowire.AppendFixed32(b, math.Float32bits(a.f))
	case attrInt:
		b = appendVarint(b, 3, uint64(a.i))
	case attrInts:
		for _, v := range a.ints {
			b = appendVarint(b, 8, uint64(v))
		}
	}
	return appendVarint(b, 20, uint64(a.typ))
}

// TensorProto: dims 1, data_type 2, name 8, raw_data 9.
func (t *tensorProto) marshal() []byte {
	var b []byte
	for _, d := range t.dims {
		b = appendVarint(b, 1, uint64(d))
	}
	b = appendVarint(b, 2, uint64(t.dataType))
	b = appendString(b, 8, t.name)
	return appendBytes(b, 9, t.raw)
}

// ValueInfoProto: name 1, type 2. TypeProto: tensor_type 1.
// TypeProto.Tensor: elem_type 1, shape 2. TensorShapeProto: dim 1.
// Dimension: dim_value 1, dim_param 2.
func (v *valueInfo) marshal() []byte {
	var shape []byte
	for _, d := range v.dims {
		var e []byte
		if d.param != "" {
			e = appendString(nil, 2, d.param)
		} else {
			e = appendVarint(nil, 1, uint64(d.value))
		}
		shape = appendBytes(shape, 1, e)
	}
	tensor := appendBytes(appendVarint(nil, 1, uint64(typeFloat)), 2, shape)
	return appendBytes(appendString(nil, 1, v.name), 2, appendBytes(nil, 1, tensor))
}

func floatTensor(name string, dims []int, data []float32) tensorProto {
	raw := make([]byte, 4*len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(v))
	}
	return tensorProto{name: name, dims: int64s(dims), dataType: typeFloat, raw: raw}
}

func int64Tensor(name string, dims []int, data []int64) tensorProto {
	raw := make([]byte, 8*len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint64(raw[8*i:], uint64(v))
	}
	return tensorProto{name: name, dims: int64s(dims), dataType: typeInt64, raw: raw}
}

func int64s(xs []int) []int64 {
	out := make([]int64, len(xs))
	for i, x := range xs {
		out[i] = int64(x)
	}
	return out
}
