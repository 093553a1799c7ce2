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

func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		name string
		doc  string
		want []Problem
	}{
		{"no fences", "# Title\n\ntext `inline` text\n", nil},
		{"closed", "```sh\ngo test ./...\n```\n", nil},
		{"closed, no final newline", "```\nx\n```", nil},
		{"tilde fence", "~~~go\nx := 1\n~~~\n", nil},
		{"longer closing fence", "```\nx\n`````\n", nil},
		{"closing fence with trailing spaces", "```\nx\n```   \n", nil},
		{"indented, in a list", "1. run:\n\n   ```sh\n   go test\n   ```\n", nil},
		{"shorter fence inside is content", "````md\n```go\nx\n```\n````\n", nil},
		{"other character inside is content", "```\n~~~\n```\n", nil},
		{"inline code with three backticks", "say ```a``` here\n", nil},
		{"two blocks", "```\na\n```\ntext\n```go\nb\n```\n", nil},

		{"never closed", "text\n```sh\ngo test\n", []Problem{{2, "code fence opened here is never closed"}}},
		{"text after the closing fence (README line 79)",
			"```sh\ngo run ./cmd/hipopay payment\n``` Other options: `WithBaseURL`\nmore text\n```go\nx\n```\n",
			[]Problem{{3, `text after a closing fence ("Other options: ` + "`WithBaseURL`" + `"): CommonMark does not close the block opened at line 1 here; put the text on its own line`}}},
		{"text after the fence, never closed",
			"```\na\n``` b\n",
			[]Problem{{3, `text after a closing fence ("b"): CommonMark does not close the block opened at line 1 here; put the text on its own line`}}},
		{"reported once, read on as meant",
			"```\na\n``` b\n```\nnever closed\n",
			[]Problem{
				{3, `text after a closing fence ("b"): CommonMark does not close the block opened at line 1 here; put the text on its own line`},
				{4, "code fence opened here is never closed"},
			}},
		{"shorter closing fence does not close", "````\nx\n```\n", []Problem{{1, "code fence opened here is never closed"}}},
		{"tilde does not close backticks", "```\nx\n~~~\n", []Problem{{1, "code fence opened here is never closed"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Check(strings.NewReader(tc.doc))
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestRun(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) {
		t.Helper()
		path := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
	}
	write("good.md", "```\nx\n```\n")
	write("sub/also.md", "~~~\ny\n~~~\n")
	write(".git/broken.md", "```\nnever closed\n") // .git is skipped
	write("notes.txt", "```\nnot markdown\n")

	var stdout, stderr bytes.Buffer
	assert.Equal(t, 0, run([]string{dir}, &stdout, &stderr), stderr.String())
	assert.Empty(t, stdout.String())

	write("sub/bad.md", "# x\n\n```sh\ncmd\n``` trailing\n")
	stdout.Reset()
	stderr.Reset()
	assert.Equal(t, 1, run([]string{dir}, &stdout, &stderr))
	bad := filepath.Join(dir, "sub", "bad.md")
	assert.Equal(t, bad+`:5: text after a closing fence ("trailing"): CommonMark does not close the block opened at line 3 here; put the text on its own line`+"\n", stdout.String())
	assert.Contains(t, stderr.String(), "1 problem(s)")

	// A file given by name is checked even if it is not under a directory.
	stdout.Reset()
	assert.Equal(t, 1, run([]string{bad}, &stdout, &stderr))
	assert.Equal(t, 2, run([]string{filepath.Join(dir, "missing.md")}, &stdout, &stderr))
}

// TestRepositoryFences checks every .md file of the repository, as .ci/run
// does, so that "go test ./..." catches a broken fence too.
func TestRepositoryFences(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run([]string{"../.."}, &stdout, &stderr)
	assert.Equal(t, 0, code, "%s%s", stdout.String(), stderr.String())
}
