package config

import (
	"bytes"
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite docs/configuration.md from the configuration's types")

// fieldComments reads the comments of the struct fields in the packages
// the configuration's types come from: "calendar.Config.TimeZone" → text.
func fieldComments(t *testing.T) map[string]string {
	out := map[string]string{}
	for _, dir := range []string{".", "../calendar", "../oncall"} {
		fset := token.NewFileSet()
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			af, err := parser.ParseFile(fset, f, nil, parser.ParseComments)
			if err != nil {
				t.Fatal(err)
			}
			ast.Inspect(af, func(n ast.Node) bool {
				ts, ok := n.(*ast.TypeSpec)
				if !ok {
					return true
				}
				st, ok := ts.Type.(*ast.StructType)
				if !ok {
					return true
				}
				for _, fl := range st.Fields.List {
					text := strings.TrimSpace(fl.Doc.Text() + " " + fl.Comment.Text())
					for _, name := range fl.Names {
						out[af.Name.Name+"."+ts.Name.Name+"."+name.Name] = strings.Join(strings.Fields(text), " ")
					}
				}
				return true
			})
		}
	}
	return out
}

var trailingRef = regexp.MustCompile(`\s*\((?:config/)?[a-z_]+\.go\)|\s*\(?(?:config/)?[a-z_]+\.go\)?$|\s*: see [a-z_]+\.go`)

// writeReference writes docs/configuration.md from Keys and the fields'
// comments.
func writeReference(t *testing.T) []byte {
	comments := fieldComments(t)
	var b bytes.Buffer
	b.WriteString("# Configuration reference\n\n<!-- Generated from the configuration's types (config.Keys, the ones `config check` walks) by TestConfigurationReferenceIsCurrent: go test ./config -run ConfigurationReference -update. Do not edit. -->\n\n")
	b.WriteString("Every key is optional. `astreinte config example` prints the commented default, `astreinte config check FILE` checks a file against these keys, `astreinte config show --effective` prints every value in force. NAME stands for a name of your own (a contract); `[]` for each item of a list.\n")
	section := ""
	for _, k := range Keys() {
		top, _, _ := strings.Cut(k.Path, ".")
		top, _, _ = strings.Cut(top, "[")
		if top != section {
			section = top
			fmt.Fprintf(&b, "\n## %s\n\n| key | value | default | meaning |\n|---|---|---|---|\n", section)
		}
		pkg := k.Owner[strings.LastIndexByte(k.Owner, '/')+1:]
		c := trailingRef.ReplaceAllString(comments[pkg+"."+k.Type+"."+k.Field], "")
		if c == "" {
			c = exampleComment(k.Path)
		}
		def := k.Default
		if def != "" {
			def = "`" + def + "`"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", k.Path, k.Expected, def, strings.ReplaceAll(c, "|", "\\|"))
	}
	return b.Bytes()
}

// sectionsOf splits the example by top-level section ("trunks", commented
// out, included).
func sectionsOf(example string) map[string]string {
	sections := map[string]string{}
	cur := ""
	top := regexp.MustCompile(`^(?:# )?([a-z_]+):(\s|$)`)
	for line := range strings.SplitSeq(example, "\n") {
		if m := top.FindStringSubmatch(line); m != nil {
			cur = m[1]
		}
		sections[cur] += line + "\n"
	}
	return sections
}

func topAndLeaf(path string) (string, string) {
	top, _, _ := strings.Cut(path, ".")
	top, _, _ = strings.Cut(top, "[")
	return top, path[strings.LastIndexAny(path, ".]")+1:]
}

// exampleComment is the comment beside the key in the example, if any.
func exampleComment(path string) string {
	top, leaf := topAndLeaf(path)
	re := regexp.MustCompile(`(?:^|[\s{,#-])` + regexp.QuoteMeta(leaf) + `:[^#\n]*#\s*(.*)`)
	if m := re.FindStringSubmatch(sectionsOf(string(defaultYAML))[top]); m != nil {
		return strings.TrimSpace(m[1])
	}
	return ""
}

// docs/configuration.md is generated from the configuration's types: this
// test rewrites it with -update and fails when it is stale.
func TestConfigurationReferenceIsCurrent(t *testing.T) {
	want := writeReference(t)
	path := filepath.Join("..", "docs", "configuration.md")
	if *update {
		if err := os.WriteFile(path, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("docs/configuration.md is stale: run go test ./config -run ConfigurationReference -update")
	}
}

// Every key the check knows is in the commented example, set or commented
// out, in its section.
func TestExampleHasEveryKey(t *testing.T) {
	sections := sectionsOf(string(defaultYAML))
	for _, k := range Keys() {
		top, leaf := topAndLeaf(k.Path)
		if leaf == "NAME" || leaf == "" {
			continue
		}
		if !regexp.MustCompile(`(^|[\s{,#-])` + regexp.QuoteMeta(leaf) + `:`).MatchString(sections[top]) {
			t.Errorf("%s is not in the example's %s section (config/default.yaml)", k.Path, top)
		}
	}
}
