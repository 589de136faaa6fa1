package main

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The sandbox is an example to copy from: its program imports nothing an
// embedder outside this module could not (no internal package).
func TestSandboxImportsOnlyWhatEmbeddersCan(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		parsed, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range parsed.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if strings.HasPrefix(path, "github.com/lendgate/lendgate/") && strings.Contains(path+"/", "/internal/") {
				t.Errorf("%s imports %s, which no embedder can", f, path)
			}
		}
	}
}
