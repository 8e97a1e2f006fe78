// Package config reads and writes run configuration files: a YAML (or JSON,
// which is YAML too) mapping whose keys are a command's flag names. It owns
// only the mapping between files and a flag.FlagSet, so every flag is a key
// without the command listing them twice.
package config
