// Command doclen measures the doc comments of exported names: funcs,
// methods, types, consts and vars (a grouped declaration's own comment and
// each spec's), struct fields and interface methods aside. A doc comment
// over the limit (15 lines, STYLE.md) is a problem.
//
//	go run ./internal/doclen [-max 15] [-top N] [DIR ...]   (default: the current directory)
//
// It walks directories for non-test .go files, skipping .git, testdata,
// directories starting with "." or "_", and nested modules (a go.mod below
// a given directory). It prints one line per problem as
// FILE:LINE: NAME: message and exits 1 if there is any (2 when a file
// cannot be read or parsed); -top N also prints the N longest doc comments.
// Its test runs it over the module, so "go test ./..." fails on a long one.
package main

import (
	"cmp"
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run measures the paths in args (default ".") and returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	fset := flag.NewFlagSet("doclen", flag.ContinueOnError)
	fset.SetOutput(stderr)
	maxLines := fset.Int("max", 15, "longest doc comment allowed, in lines")
	top := fset.Int("top", 0, "also print the `N` longest doc comments")
	if err := fset.Parse(args); err != nil {
		return 2
	}
	paths := fset.Args()
	if len(paths) == 0 {
		paths = []string{"."}
	}
	files, err := goFiles(paths)
	if err != nil {
		fmt.Fprintln(stderr, "doclen:", err)
		return 2
	}
	var all []Doc
	for _, path := range files {
		src, err := os.ReadFile(path)
		if err != nil {
			fmt.Fprintln(stderr, "doclen:", err)
			return 2
		}
		docs, err := Measure(path, src)
		if err != nil {
			fmt.Fprintln(stderr, "doclen:", err)
			return 2
		}
		all = append(all, docs...)
	}
	bad := 0
	for _, d := range all {
		if d.Lines > *maxLines {
			fmt.Fprintf(stdout, "%s:%d: %s: doc comment of %d lines (at most %d)\n", d.File, d.Line, d.Name, d.Lines, *maxLines)
			bad++
		}
	}
	if *top > 0 {
		slices.SortStableFunc(all, func(a, b Doc) int { return cmp.Compare(b.Lines, a.Lines) })
		for _, d := range all[:min(*top, len(all))] {
			fmt.Fprintf(stdout, "%3d %s:%d: %s\n", d.Lines, d.File, d.Line, d.Name)
		}
	}
	if bad > 0 {
		fmt.Fprintf(stderr, "doclen: %d doc comment(s) over %d lines\n", bad, *maxLines)
		return 1
	}
	return 0
}

// goFiles lists the non-test .go files of paths: files as given,
// directories walked (skipping .git, testdata, hidden and "_" directories,
// and nested modules).
func goFiles(paths []string) ([]string, error) {
	var files []string
	for _, root := range paths {
		st, err := os.Stat(root)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			files = append(files, root)
			continue
		}
		err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				if path == root {
					return nil
				}
				name := d.Name()
				if name == "testdata" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") {
					return filepath.SkipDir
				}
				if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil {
					return filepath.SkipDir // another module
				}
				return nil
			}
			if strings.HasSuffix(path, ".go") && !strings.HasSuffix(path, "_test.go") {
				files = append(files, path)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return files, nil
}

// Doc is the doc comment of an exported name: where it is declared and
// how many source lines its comment spans.
type Doc struct {
	File  string
	Line  int    // the line of the declaration
	Name  string // "Func", "Type.Method", "Type", "Const"
	Lines int
}

// Measure parses one Go source file and returns the doc comment of every
// exported name that has one.
func Measure(filename string, src []byte) ([]Doc, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, filename, src, parser.ParseComments|parser.SkipObjectResolution)
	if err != nil {
		return nil, err
	}
	var docs []Doc
	add := func(name string, at token.Pos, doc *ast.CommentGroup) {
		if doc == nil || len(doc.List) == 0 {
			return
		}
		lines := fset.Position(doc.End()).Line - fset.Position(doc.Pos()).Line + 1
		docs = append(docs, Doc{File: filename, Line: fset.Position(at).Line, Name: name, Lines: lines})
	}
	for _, decl := range f.Decls {
		switch decl := decl.(type) {
		case *ast.FuncDecl:
			if !decl.Name.IsExported() {
				continue
			}
			name := decl.Name.Name
			if decl.Recv != nil && len(decl.Recv.List) == 1 {
				name = receiverName(decl.Recv.List[0].Type) + "." + name
			}
			add(name, decl.Pos(), decl.Doc)
		case *ast.GenDecl:
			var exported []string
			for _, spec := range decl.Specs {
				names := specNames(spec)
				if len(names) == 0 {
					continue
				}
				exported = append(exported, names...)
				if decl.Lparen.IsValid() {
					add(strings.Join(names, ", "), spec.Pos(), specDoc(spec))
				}
			}
			if len(exported) > 0 {
				name := strings.Join(exported, ", ")
				if decl.Lparen.IsValid() {
					name = "(" + name + ")"
				}
				add(name, decl.Pos(), decl.Doc)
			}
		}
	}
	return docs, nil
}

// specNames returns the exported names a type, const or var spec declares.
func specNames(spec ast.Spec) []string {
	var idents []*ast.Ident
	switch s := spec.(type) {
	case *ast.TypeSpec:
		idents = []*ast.Ident{s.Name}
	case *ast.ValueSpec:
		idents = s.Names
	}
	var names []string
	for _, id := range idents {
		if id.IsExported() {
			names = append(names, id.Name)
		}
	}
	return names
}

// specDoc returns the comment above a spec inside a grouped declaration.
func specDoc(spec ast.Spec) *ast.CommentGroup {
	switch s := spec.(type) {
	case *ast.TypeSpec:
		return s.Doc
	case *ast.ValueSpec:
		return s.Doc
	}
	return nil
}

// receiverName names a method's receiver type: "T" for T, *T, T[K] or *T[K].
func receiverName(x ast.Expr) string {
	for {
		switch t := x.(type) {
		case *ast.StarExpr:
			x = t.X
		case *ast.IndexExpr:
			x = t.X
		case *ast.IndexListExpr:
			x = t.X
		case *ast.ParenExpr:
			x = t.X
		case *ast.Ident:
			return t.Name
		default:
			return "?"
		}
	}
}
