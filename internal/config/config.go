package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"sort"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/hourglass-ml/hourglass/internal/safeio"
)

// MaxFileSize bounds a config file: a config of every flag is a few
// kilobytes, so a file of a megabyte is not one.
const MaxFileSize = 1 << 20

// Values are a config file's settings by flag name, as the text each
// value has in the file, with the line it is on.
type Values struct {
	// Source names the file (or other origin) in errors.
	Source string
	Keys   []string // in file order
	Text   map[string]string
	Line   map[string]int
}

// Read parses the YAML or JSON file at path and checks every key against
// fs: an unknown key, or a value that is a list or mapping, is an error
// that names the file and line. exclude lists flags that may not appear.
func Read(path string, fs *flag.FlagSet, exclude ...string) (*Values, error) {
	// Only a regular file, never blocking on a FIFO, and at most MaxFileSize.
	data, err := safeio.ReadFile(path, MaxFileSize)
	if err != nil {
		return nil, fmt.Errorf("config file %s: %w", path, err)
	}
	return Parse(path, data, fs, exclude...)
}

// Parse is Read of data, naming it source in errors.
func Parse(source string, data []byte, fs *flag.FlagSet, exclude ...string) (*Values, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: not valid YAML or JSON: %w", source, err)
	}
	v := &Values{Source: source, Text: map[string]string{}, Line: map[string]int{}}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return v, nil // empty file: nothing set
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s:%d: want a mapping of flag names to values (like \"epochs: 10\")", source, root.Line)
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, val := root.Content[i], root.Content[i+1]
		name := k.Value
		fl := fs.Lookup(name)
		if fl == nil || contains(exclude, name) {
			return nil, fmt.Errorf("%s:%d: unknown key %q%s", source, k.Line, name, suggest(name, fs, exclude))
		}
		if _, dup := v.Text[name]; dup {
			return nil, fmt.Errorf("%s:%d: key %q is set twice (first on line %d)", source, k.Line, name, v.Line[name])
		}
		if val.Kind == yaml.AliasNode {
			val = val.Alias
		}
		if val.Kind != yaml.ScalarNode || val.Tag == "!!null" {
			return nil, fmt.Errorf("%s:%d: key %q: want a single %s value", source, val.Line, name, typeOf(fl))
		}
		// Check the type now, on a scratch copy, so the error names the line.
		if err := checkValue(fl, val.Value); err != nil {
			return nil, fmt.Errorf("%s:%d: key %q: %q is not a valid %s: %w", source, val.Line, name, val.Value, typeOf(fl), err)
		}
		v.Keys = append(v.Keys, name)
		v.Text[name], v.Line[name] = val.Value, val.Line
	}
	return v, nil
}

// Apply sets every value on fs except those whose flag is in skip (for
// example flags given on the command line, which override the file). A
// value equal to the flag's current value is left alone, so the flag still
// reads as not given (flag.FlagSet.Visit): flags whose meaning depends on
// being given stay quiet when a written config repeats their defaults.
func (v *Values) Apply(fs *flag.FlagSet, skip map[string]bool) error {
	for _, k := range v.Keys {
		fl := fs.Lookup(k)
		if skip[k] || fl == nil {
			continue
		}
		if norm, ok := normalize(fl, v.Text[k]); ok && norm == fl.Value.String() {
			continue
		}
		if err := fs.Set(k, v.Text[k]); err != nil {
			return fmt.Errorf("%s:%d: key %q: %w", v.Source, v.Line[k], k, err)
		}
	}
	return nil
}

// Marshal writes the current value of every flag of fs except exclude as a
// YAML mapping in name order, typed (numbers, booleans, strings) so that
// Parse reads it back to the same settings. header becomes a comment.
func Marshal(fs *flag.FlagSet, header string, exclude ...string) ([]byte, error) {
	root := &yaml.Node{Kind: yaml.MappingNode}
	var err error
	fs.VisitAll(func(fl *flag.Flag) {
		if err != nil || contains(exclude, fl.Name) {
			return
		}
		var val yaml.Node
		var x any = fl.Value.String()
		if g, ok := fl.Value.(flag.Getter); ok {
			x = g.Get()
		}
		if e := val.Encode(x); e != nil {
			err = fmt.Errorf("encoding flag -%s: %w", fl.Name, e)
			return
		}
		root.Content = append(root.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: fl.Name}, &val)
	})
	if err != nil {
		return nil, err
	}
	if header != "" {
		root.HeadComment = header
	}
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(&yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{root}}); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// WriteFile is Marshal written to path atomically: a new temporary file
// beside it (created exclusively, so a planted link is never followed, and
// with the umask applied), then a rename.
func WriteFile(path string, fs *flag.FlagSet, header string, exclude ...string) error {
	data, err := Marshal(fs, header, exclude...)
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	var tmp *os.File
	for range 100 {
		name := fmt.Sprintf("%s.tmp-%d", path, rand.Uint64())
		if tmp, err = os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644); !errors.Is(err, os.ErrExist) {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	_, err = tmp.Write(data)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// checkValue parses s as fl's type without changing fl.
func checkValue(fl *flag.Flag, s string) error {
	_, err := parseAs(fl, s)
	return err
}

// normalize is s as fl would print it once set, and whether that is known.
func normalize(fl *flag.Flag, s string) (string, bool) {
	scratch, err := parseAs(fl, s)
	if err != nil || scratch == nil {
		return "", false
	}
	return scratch.Value.String(), true
}

// parseAs sets s on a scratch flag of fl's type; nil when the type is not
// one of the standard ones.
func parseAs(fl *flag.Flag, s string) (*flag.Flag, error) {
	g, ok := fl.Value.(flag.Getter)
	if !ok {
		return nil, nil // a custom flag type: fs.Set in Apply will judge it
	}
	scratch := flag.NewFlagSet("", flag.ContinueOnError)
	scratch.SetOutput(discard{})
	switch g.Get().(type) {
	case bool:
		scratch.Bool("x", false, "")
	case int:
		scratch.Int("x", 0, "")
	case int64:
		scratch.Int64("x", 0, "")
	case uint:
		scratch.Uint("x", 0, "")
	case uint64:
		scratch.Uint64("x", 0, "")
	case float64:
		scratch.Float64("x", 0, "")
	case time.Duration:
		scratch.Duration("x", 0, "")
	case string:
		scratch.String("x", "", "")
	default:
		return nil, nil
	}
	if err := scratch.Set("x", s); err != nil {
		return nil, err
	}
	return scratch.Lookup("x"), nil
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// typeOf names the type of fl's values for error messages.
func typeOf(fl *flag.Flag) string {
	g, ok := fl.Value.(flag.Getter)
	if !ok {
		return "value"
	}
	switch g.Get().(type) {
	case bool:
		return "boolean (true or false)"
	case int, int64:
		return "integer"
	case uint, uint64:
		return "non-negative integer"
	case float64:
		return "number"
	case string:
		return "string"
	}
	return "value"
}

// suggest names the closest known key, if one is close.
func suggest(name string, fs *flag.FlagSet, exclude []string) string {
	best, bestD := "", 3
	var names []string
	fs.VisitAll(func(fl *flag.Flag) {
		if contains(exclude, fl.Name) {
			return
		}
		names = append(names, fl.Name)
		if d := distance(name, fl.Name); d < bestD {
			best, bestD = fl.Name, d
		}
	})
	sort.Strings(names)
	if best != "" {
		return fmt.Sprintf(": did you mean %q?", best)
	}
	return fmt.Sprintf(" (valid keys: %s)", strings.Join(names, ", "))
}

// distance is the Levenshtein distance of a and b.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// MarshalJSON is the effective configuration of fs as one JSON object
// (flag name → value), for checkpoint metadata, which is JSON throughout;
// Parse reads it back like the YAML file.
func MarshalJSON(fs *flag.FlagSet, exclude ...string) ([]byte, error) {
	m := map[string]any{}
	fs.VisitAll(func(fl *flag.Flag) {
		if contains(exclude, fl.Name) {
			return
		}
		var x any = fl.Value.String()
		if g, ok := fl.Value.(flag.Getter); ok {
			x = g.Get()
		}
		m[fl.Name] = x
	})
	b, err := json.Marshal(m) // map keys come out sorted
	if err != nil {
		return nil, fmt.Errorf("encoding the configuration: %w", err)
	}
	return b, nil
}
