package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// comment returns a // doc comment of n lines.
func comment(n int) string {
	return strings.Repeat("// line\n", n)
}

func TestMeasure(t *testing.T) {
	src := "// Package p is measured but not counted.\npackage p\n\n" +
		comment(3) + "func Exported() {}\n\n" +
		comment(20) + "func unexported() {}\n\n" +
		"type T struct {\n" + comment(20) + "\tField int // struct fields do not count\n}\n\n" +
		comment(2) + "func (t *T) Method() {}\n\n" +
		comment(4) + "func (t G[K]) Generic() {}\n\n" +
		"/*\nblock\ncomment\n*/\ntype Block int\n\n" +
		comment(1) + "const (\n" + comment(5) + "\tA, b = 1, 2\n\tc = 3\n" + comment(7) + "\tD = 4\n)\n\n" +
		comment(9) + "var (\n" + comment(20) + "\tunexported2 = 1\n)\n\n" +
		comment(6) + "var V = 1\n\n" +
		comment(16) + "type I interface {\n" + comment(30) + "\tM() // interface methods do not count\n}\n\n" +
		"func NoDoc() {}\n"
	docs, err := Measure("p.go", []byte(src))
	require.NoError(t, err)
	got := map[string]int{}
	for _, d := range docs {
		got[d.Name] = d.Lines
	}
	assert.Equal(t, map[string]int{
		"Exported":  3,
		"T.Method":  2,
		"G.Generic": 4,
		"Block":     4,
		"A":         5,
		"D":         7,
		"(A, D)":    1,
		"V":         6,
		"I":         16,
	}, got)
}

func TestMeasureSyntaxError(t *testing.T) {
	_, err := Measure("bad.go", []byte("package p\nfunc {"))
	assert.Error(t, err)
}

func TestRun(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) {
		t.Helper()
		path := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
	}
	write("p.go", "package p\n\n"+comment(15)+"func Fifteen() {}\n")
	write("p_test.go", "package p\n\n"+comment(40)+"func ExampleLong() {}\n") // tests are skipped
	write("testdata/x.go", "package x\n\n"+comment(40)+"func Long() {}\n")    // testdata is skipped
	write("nested/go.mod", "module nested\n")                                 // another module
	write("nested/n.go", "package nested\n\n"+comment(40)+"func Long() {}\n") // is skipped
	write(".hidden/h.go", "package h\n\n"+comment(40)+"func Long() {}\n")     // hidden is skipped
	write("sub/s.go", "package s\n\n"+comment(10)+"type Ten int\n")

	var stdout, stderr bytes.Buffer
	assert.Equal(t, 0, run([]string{dir}, &stdout, &stderr), stdout.String()+stderr.String())
	assert.Empty(t, stdout.String())

	stdout.Reset()
	assert.Equal(t, 0, run([]string{"-top", "1", dir}, &stdout, &stderr))
	assert.Equal(t, " 15 "+filepath.Join(dir, "p.go")+":18: Fifteen\n", stdout.String())

	write("sub/long.go", "package s\n\n"+comment(16)+"type Sixteen int\n")
	stdout.Reset()
	stderr.Reset()
	assert.Equal(t, 1, run([]string{dir}, &stdout, &stderr))
	assert.Equal(t, filepath.Join(dir, "sub", "long.go")+":19: Sixteen: doc comment of 16 lines (at most 15)\n", stdout.String())
	assert.Contains(t, stderr.String(), "1 doc comment(s) over 15 lines")

	stdout.Reset()
	assert.Equal(t, 0, run([]string{"-max", "16", dir}, &stdout, &stderr))

	write("broken/b.go", "package b\nfunc {")
	assert.Equal(t, 2, run([]string{dir}, &stdout, &stderr))
	assert.Equal(t, 2, run([]string{filepath.Join(dir, "missing")}, &stdout, &stderr))
}

// TestModuleDocComments measures every package of the module (the root,
// hipopaytest, sqlstore, cmd/hipopay, examples, internal), so that
// "go test ./..." fails on a doc comment of an exported name over 15 lines.
func TestModuleDocComments(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run([]string{"-top", "3", "../.."}, &stdout, &stderr)
	assert.Equal(t, 0, code, "%s%s", stdout.String(), stderr.String())
	t.Logf("longest doc comments:\n%s", stdout.String())

	// The walk reaches every package named above.
	files, err := goFiles([]string{"../.."})
	require.NoError(t, err)
	dirs := map[string]bool{}
	for _, f := range files {
		dirs[filepath.ToSlash(filepath.Dir(f))] = true
	}
	for _, d := range []string{"../..", "../../hipopaytest", "../../sqlstore", "../../cmd/hipopay",
		"../../examples/quickstart", "../../examples/notify-server"} {
		assert.True(t, dirs[d], "%s not measured", d)
	}
}
