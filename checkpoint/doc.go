// Package checkpoint owns reading and writing model parameters as
// .safetensors files (https://github.com/huggingface/safetensors), with
// crash-safe atomic saves, so a checkpoint on disk is always either the
// previous or the new complete file.
package checkpoint
