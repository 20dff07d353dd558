package config

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
)

// Key is one key of the configuration, as the check knows it: its path
// (lines[].record.silence; NAME for a name of one's own), what its value
// must be, in plain words, and its default.
type Key struct {
	Path     string
	Expected string
	Default  string
	// Owner and Field name the Go field behind the key (package path, type
	// name, field name), for the reference to take its comment.
	Owner, Type, Field string
}

// Keys lists every key of the configuration in the order of the types,
// from the Config type the check walks.
func Keys() []Key {
	def := &Config{}
	def.applyDefaults()
	_ = def.validate() // some defaults are set beside their check
	var out []Key
	keys(reflect.TypeFor[Config](), reflect.ValueOf(def).Elem(), "", &out)
	return out
}

func keys(t reflect.Type, v reflect.Value, path string, out *[]Key) {
	for _, f := range fieldsOf(t) {
		ft := f.typ
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		p := join(path, f.key)
		owner := t
		sf := t.FieldByIndex(f.idx)
		if len(f.idx) > 1 { // an inline struct's field: its own type owns it
			owner = t.FieldByIndex(f.idx[:len(f.idx)-1]).Type
		}
		var fv reflect.Value
		if v.IsValid() {
			fv = v.FieldByIndex(f.idx)
		}
		k := Key{Path: p, Expected: expected(f.typ), Default: show(fv), Owner: owner.PkgPath(), Type: owner.Name(), Field: sf.Name}
		switch {
		case ft.Kind() == reflect.Struct && ft != durationType:
			keys(ft, deref(fv), p, out)
			continue
		case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct:
			*out = append(*out, Key{Path: p, Expected: "a list of mappings", Owner: k.Owner, Type: k.Type, Field: k.Field})
			var ev reflect.Value
			if fv.IsValid() && fv.Len() > 0 {
				ev = fv.Index(0)
			}
			keys(ft.Elem(), ev, p+"[]", out)
			continue
		case ft.Kind() == reflect.Map && ft.Elem().Kind() == reflect.Struct:
			*out = append(*out, Key{Path: p, Expected: "a mapping of names to mappings", Owner: k.Owner, Type: k.Type, Field: k.Field})
			keys(ft.Elem(), reflect.Value{}, p+".NAME", out)
			continue
		}
		*out = append(*out, k)
	}
}

func deref(v reflect.Value) reflect.Value {
	for v.IsValid() && v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return reflect.Value{}
		}
		v = v.Elem()
	}
	return v
}

// show writes a default value as YAML would ("" for none).
func show(v reflect.Value) string {
	v = deref(v)
	if !v.IsValid() || v.IsZero() && v.Kind() != reflect.Bool {
		return ""
	}
	switch {
	case v.Type() == durationType:
		d := fmt.Sprint(v.Interface())
		if strings.HasSuffix(d, "h0m0s") {
			return strings.TrimSuffix(d, "0m0s")
		}
		if strings.HasSuffix(d, "m0s") {
			return strings.TrimSuffix(d, "0s")
		}
		return d
	case v.Kind() == reflect.String:
		return fmt.Sprintf("%q", v.String())
	case v.Kind() == reflect.Slice:
		var parts []string
		for i := range v.Len() {
			if s := show(v.Index(i)); s != "" {
				parts = append(parts, s)
			}
		}
		if len(parts) == 0 {
			return ""
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case v.Kind() == reflect.Map:
		ks := v.MapKeys()
		sort.Slice(ks, func(i, j int) bool { return ks[i].String() < ks[j].String() })
		var parts []string
		for _, k := range ks {
			parts = append(parts, k.String()+": "+show(v.MapIndex(k)))
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case v.Kind() == reflect.Struct:
		return ""
	}
	return fmt.Sprint(v.Interface())
}
