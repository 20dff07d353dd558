package config

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// The schema is the Config type itself: its yaml tags name the keys and
// its field types say what each value must be. checkNode walks a YAML
// document along it, so that an unknown key or a value of the wrong kind is
// reported where it is, in plain words, with every other problem; the key
// reference (keys.go) walks the same type.

var durationType = reflect.TypeFor[time.Duration]()

// field is one key of a YAML mapping: its name and the Go field under it.
type field struct {
	key string
	typ reflect.Type
	idx []int
}

// fieldsOf lists the keys of a struct type, inline structs' keys included,
// in declaration order.
func fieldsOf(t reflect.Type) []field {
	var out []field
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("yaml")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if strings.Contains(opts, "inline") {
			for _, in := range fieldsOf(f.Type) {
				in.idx = append([]int{i}, in.idx...)
				out = append(out, in)
			}
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		out = append(out, field{key: name, typ: f.Type, idx: []int{i}})
	}
	return out
}

// expected says in plain words what a value of type t is.
func expected(t reflect.Type) string {
	if t == durationType {
		return "a duration such as 30s, 5m or 1h30m"
	}
	switch t.Kind() {
	case reflect.Pointer:
		return expected(t.Elem())
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int64, reflect.Int32:
		return "a whole number"
	case reflect.Uint, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number, 0 or more"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a text value"
	case reflect.Slice:
		return "a list ([a, b] or one \"- item\" a line) of " + plural(t.Elem())
	case reflect.Map:
		return "a mapping of names to " + plural(t.Elem())
	case reflect.Struct:
		return "a mapping of keys (key: value)"
	}
	return "a value"
}

func plural(t reflect.Type) string {
	switch e := expected(t); {
	case strings.HasPrefix(e, "a duration"):
		return "durations"
	case e == "a text value":
		return "text values"
	case strings.HasPrefix(e, "a mapping of keys"):
		return "mappings"
	default:
		return strings.TrimPrefix(e, "a ")
	}
}

// kindName says what a YAML node is, for "… is a list, want …".
func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	}
	return fmt.Sprintf("%q", n.Value)
}

// checkNode reports the unknown keys and the values that do not decode
// into t under n, at path.
func checkNode(n *yaml.Node, t reflect.Type, path string, add func(Problem)) {
	if n == nil || n.Kind == 0 {
		return
	}
	if n.Kind == yaml.DocumentNode {
		for _, c := range n.Content {
			checkNode(c, t, path, add)
		}
		return
	}
	if n.Kind == yaml.AliasNode {
		checkNode(n.Alias, t, path, add)
		return
	}
	if n.Kind == yaml.ScalarNode && (n.Tag == "!!null" || n.Tag == "" && n.Value == "") {
		return // an empty value: the default
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	wrong := func() {
		add(Problem{Line: n.Line, Column: n.Column, Path: path, Msg: fmt.Sprintf("%s: want %s", kindName(n), expected(t))})
	}
	switch {
	case t.Kind() == reflect.Struct:
		if n.Kind != yaml.MappingNode {
			wrong()
			return
		}
		fields := fieldsOf(t)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			j := slices.IndexFunc(fields, func(f field) bool { return f.key == k.Value })
			if j < 0 {
				keys := make([]string, len(fields))
				for i, f := range fields {
					keys[i] = f.key
				}
				p := Problem{Line: k.Line, Column: k.Column, Path: join(path, k.Value),
					Msg: fmt.Sprintf("unknown key %q: want one of %s", k.Value, strings.Join(keys, ", "))}
				if s := nearest(k.Value, keys); s != "" {
					p.Hint = fmt.Sprintf("did you mean %q?", s)
				}
				add(p)
				continue
			}
			checkNode(v, fields[j].typ, join(path, k.Value), add)
		}
	case t.Kind() == reflect.Map:
		if n.Kind != yaml.MappingNode {
			wrong()
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			checkNode(n.Content[i+1], t.Elem(), join(path, n.Content[i].Value), add)
		}
	case t.Kind() == reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			wrong()
			return
		}
		for i, c := range n.Content {
			checkNode(c, t.Elem(), fmt.Sprintf("%s[%d]", path, i), add)
		}
	default:
		if n.Kind != yaml.ScalarNode {
			wrong()
			return
		}
		if err := n.Decode(reflect.New(t).Interface()); err != nil {
			wrong()
		}
	}
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// nearest is the key of keys closest to a mistyped one (at most two edits
// away, or one that starts the same), or "".
func nearest(typed string, keys []string) string {
	best, bestD := "", 3
	for _, k := range keys {
		d := editDistance(strings.ToLower(typed), k)
		if d < bestD {
			best, bestD = k, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
