package cli

import (
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"
)

// Exit codes of every hourglass command.
const (
	ExitOK          = 0   // success
	ExitFail        = 1   // the work failed (bad data, a failed write, a NaN loss)
	ExitUsage       = 2   // bad flags or arguments; nothing was done
	ExitInterrupted = 130 // SIGINT or SIGTERM: a checkpoint was saved to resume from
)

// ExitCodesHelp documents the exit codes for help texts.
const ExitCodesHelp = `Exit codes:
  0    success
  1    the work failed (bad data, an unreadable checkpoint, a failed write, a NaN loss)
  2    bad flags or arguments; nothing was done
  130  interrupted by SIGINT or SIGTERM (train: a checkpoint was saved; resume it with -resume)`

// Group is a titled set of flags in a help text.
type Group struct {
	Title string
	Flags []string
}

// Help describes a command for its -h text.
type Help struct {
	Usage    string // one line: "hourglass train [flags]"
	Summary  string // what the command does, a sentence or two
	Groups   []Group
	Examples []string
}

// Write prints h with the flags of fs under their groups; flags no group
// names are listed last under "Other", so a new flag is never hidden.
func (h Help) Write(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprintf(w, "Usage: %s\n\n%s\n", h.Usage, h.Summary)
	seen := map[string]bool{}
	section := func(title string, names []string) {
		var lines []string
		for _, n := range names {
			f := fs.Lookup(n)
			if f == nil || seen[n] {
				continue
			}
			seen[n] = true
			lines = append(lines, flagLine(f))
		}
		if len(lines) > 0 {
			fmt.Fprintf(w, "\n%s:\n%s", title, strings.Join(lines, ""))
		}
	}
	for _, g := range h.Groups {
		section(g.Title, g.Flags)
	}
	var rest []string
	fs.VisitAll(func(f *flag.Flag) { rest = append(rest, f.Name) })
	section("Other", rest)
	if len(h.Examples) > 0 {
		fmt.Fprintf(w, "\nExamples:\n")
		for _, e := range h.Examples {
			fmt.Fprintf(w, "  %s\n", e)
		}
	}
	fmt.Fprintf(w, "\n%s\n", ExitCodesHelp)
}

func flagLine(f *flag.Flag) string {
	name, usage := flag.UnquoteUsage(f)
	head := "  -" + f.Name
	if name != "" {
		head += " " + name
	}
	def := ""
	if f.DefValue != "" && f.DefValue != "0" && f.DefValue != "false" {
		def = fmt.Sprintf(" (default %s)", f.DefValue)
	}
	return fmt.Sprintf("%-26s %s%s\n", head, usage, def)
}

// Parse parses args into fs without the flag package's own error and
// usage output: -h and -help print help to stdout and return flag.ErrHelp;
// a bad flag returns one error with a hint to -h, so the caller prints a
// single line instead of the whole usage twice.
func Parse(fs *flag.FlagSet, args []string, h Help, prog string, stdout io.Writer) error {
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	err := fs.Parse(args)
	if err == flag.ErrHelp {
		h.Write(stdout, fs)
		return err
	}
	if err != nil {
		return fmt.Errorf("%w (see %s -h)", err, prog)
	}
	return nil
}

// Version is the module version and VCS revision the binary was built
// from, as the Go toolchain recorded them ("devel" when unknown).
func Version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "hourglass devel"
	}
	v := bi.Main.Version
	if v == "" || v == "(devel)" {
		v = "devel"
	}
	rev, dirty := "", ""
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "+dirty"
			}
		}
	}
	out := "hourglass " + v
	if rev != "" {
		out += fmt.Sprintf(" (commit %.12s%s)", rev, dirty)
	}
	return out + " " + bi.GoVersion
}

// GCPercent is the collector's heap-growth target the commands run with
// unless GOGC is set: their live heap is mostly large pointer-free arrays
// (images, activations) that are cheap to collect, while Go's default of
// 100% let a scoring pass over Fashion-MNIST's 60,000 training images peak
// at about twice its live set (`hourglass eval -task anomaly` of a convvae:
// 724 MB of RSS at GOGC=100, 514 MB at 25, the same wall time).
const GCPercent = 25

// TuneGC applies GCPercent unless the user set GOGC. Only a command's main
// calls it: it changes the whole process.
func TuneGC() {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(GCPercent)
	}
}
