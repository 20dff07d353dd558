package astreinte_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/astreinte/astreinte"

// One owner, no probing: no code of the module asks at run time whether a
// value also implements one of the module's own interfaces (x.(tickets.X),
// or x.(localInterface)), as tickets.FileCut once asked its store whether
// it could file a cut call. What a dependency must do belongs in the
// interface it is given. Assertions to other modules' interfaces
// (io.Seeker, context.Context) and to concrete types are not probes.
func TestNoProbingForOwnInterfaces(t *testing.T) {
	fset := token.NewFileSet()
	type file struct {
		dir  string
		name string
		ast  *ast.File
	}
	var files []file
	interfaces := map[string]bool{} // import path + "." + name
	err := filepath.WalkDir(".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != "." && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || d.Name() == "e2e" || d.Name() == "bench") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, p, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		dir := path.Join(module, filepath.ToSlash(filepath.Dir(p)))
		if filepath.Dir(p) == "." {
			dir = module
		}
		files = append(files, file{dir: dir, name: p, ast: f})
		for _, decl := range f.Decls {
			if g, ok := decl.(*ast.GenDecl); ok && g.Tok == token.TYPE {
				for _, spec := range g.Specs {
					if ts := spec.(*ast.TypeSpec); isInterface(ts.Type) {
						interfaces[dir+"."+ts.Name.Name] = true
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(interfaces) == 0 {
		t.Fatal("found no interface in the module: the walk is broken")
	}
	for _, f := range files {
		imports := map[string]string{}
		for _, im := range f.ast.Imports {
			p, _ := strconv.Unquote(im.Path.Value)
			name := path.Base(p)
			if im.Name != nil {
				name = im.Name.Name
			}
			imports[name] = p
		}
		ast.Inspect(f.ast, func(n ast.Node) bool {
			ta, ok := n.(*ast.TypeAssertExpr)
			if !ok || ta.Type == nil { // x.(type) in a type switch
				return true
			}
			var key string
			switch ty := ta.Type.(type) {
			case *ast.Ident:
				key = f.dir + "." + ty.Name
			case *ast.SelectorExpr:
				if pkg, ok := ty.X.(*ast.Ident); ok {
					key = imports[pkg.Name] + "." + ty.Sel.Name
				}
			}
			if interfaces[key] {
				t.Errorf("%s: type assertion to the module's interface %s: put the method in the interface the value is given as", fset.Position(ta.Pos()), key)
			}
			return true
		})
	}
}

// isInterface reports whether a type expression declares an interface.
func isInterface(e ast.Expr) bool {
	_, ok := e.(*ast.InterfaceType)
	return ok
}
