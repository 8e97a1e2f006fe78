// Package cli holds what the hourglass commands share: exit codes, the
// grouped help text, the version line. The commands themselves live in
// traincli and evalcli (one package per subcommand, so their flags and
// tests stay apart) and are wired into cmd/hourglass, cmd/train and
// cmd/eval, which hold nothing but that wiring.
//
// The commands keep Go's standard flag package rather than a CLI framework:
// single-dash long flags (-epochs 20) are what the README, config files and
// stored run configurations use, and cmd/hourglass only needs to pick a
// subcommand by its first argument.
package cli
