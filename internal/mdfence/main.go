// Command mdfence checks the code fences of Markdown files: every fenced
// block must be closed, and a line that would close a block must hold
// nothing but the fence (CommonMark does not take "``` text" as a closing
// fence, so the rest of the file renders as code).
//
//	go run ./internal/mdfence [DIR or FILE.md ...]   (default: the current directory)
//
// It walks directories for *.md files, skipping .git, prints one line per
// problem as FILE:LINE: message, and exits 1 if there is any (2 when a file
// cannot be read). .ci/run runs it on the repository.
package main

import (
	"bufio"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run checks the paths in args (default ".") and returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		args = []string{"."}
	}
	files, err := markdownFiles(args)
	if err != nil {
		fmt.Fprintln(stderr, "mdfence:", err)
		return 2
	}
	bad := 0
	for _, path := range files {
		f, err := os.Open(path)
		if err != nil {
			fmt.Fprintln(stderr, "mdfence:", err)
			return 2
		}
		problems, err := Check(f)
		f.Close()
		if err != nil {
			fmt.Fprintf(stderr, "mdfence: %s: %v\n", path, err)
			return 2
		}
		for _, p := range problems {
			fmt.Fprintf(stdout, "%s:%d: %s\n", path, p.Line, p.Message)
		}
		bad += len(problems)
	}
	if bad > 0 {
		fmt.Fprintf(stderr, "mdfence: %d problem(s) in code fences\n", bad)
		return 1
	}
	return 0
}

// markdownFiles lists the .md files of paths: files as given, directories
// walked (skipping .git).
func markdownFiles(paths []string) ([]string, error) {
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
			if d.IsDir() && d.Name() == ".git" {
				return filepath.SkipDir
			}
			if !d.IsDir() && strings.EqualFold(filepath.Ext(path), ".md") {
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

// Problem is a broken fence at a line (1-based).
type Problem struct {
	Line    int
	Message string
}

// Check reads a Markdown document and reports its broken code fences: a
// block never closed, and a line inside a block that starts like its
// closing fence but carries text after it.
func Check(r io.Reader) ([]Problem, error) {
	var problems []Problem
	var open fence // the block being read; open.n == 0 outside any block
	openLine := 0
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	n := 0
	for sc.Scan() {
		n++
		f, rest, ok := parseFence(sc.Text())
		if !ok {
			continue
		}
		if open.n == 0 {
			// A backtick fence's info string cannot hold a backtick
			// (CommonMark): "```a```" is inline code, not a fence.
			if f.char == '`' && strings.ContainsRune(rest, '`') {
				continue
			}
			open, openLine = f, n
			continue
		}
		if f.char != open.char || f.n < open.n {
			continue // a shorter or other fence is content of the block
		}
		if strings.TrimSpace(rest) != "" {
			problems = append(problems, Problem{n, fmt.Sprintf(
				"text after a closing fence (%q): CommonMark does not close the block opened at line %d here; put the text on its own line",
				strings.TrimSpace(rest), openLine)})
			// Read on as the author meant it (the block ends here), so that
			// one mistake is reported once, not at every later fence.
		}
		open = fence{}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if open.n != 0 {
		problems = append(problems, Problem{openLine, "code fence opened here is never closed"})
	}
	return problems, nil
}

// fence is a run of at least three backticks or tildes.
type fence struct {
	char byte
	n    int
}

// parseFence reports whether line starts (after indentation) with a fence,
// and returns it and the text after it.
func parseFence(line string) (fence, string, bool) {
	s := strings.TrimLeft(line, " \t")
	if s == "" || (s[0] != '`' && s[0] != '~') {
		return fence{}, "", false
	}
	c := s[0]
	i := 0
	for i < len(s) && s[i] == c {
		i++
	}
	if i < 3 {
		return fence{}, "", false
	}
	return fence{char: c, n: i}, s[i:], true
}
