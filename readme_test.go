package copaslua

import (
	"os"
	"strings"
	"testing"
)

// The README's embedding example is ExampleRuntime_Serve, which go test
// compiles and runs; this keeps the two identical.
func TestREADMEEmbeddingExampleCompiles(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	ex, err := os.ReadFile("example_test.go")
	if err != nil {
		t.Fatal(err)
	}
	text := string(readme)
	i := strings.Index(text, "## Embedding")
	if i < 0 {
		t.Fatal("README has no Embedding section")
	}
	block := text[i:]
	start := strings.Index(block, "```go\n")
	end := strings.Index(block[start+6:], "```")
	if start < 0 || end < 0 {
		t.Fatal("no Go code block in the Embedding section")
	}
	code := strings.TrimSpace(block[start+6 : start+6+end])
	code = strings.TrimSuffix(code, "}")
	if !strings.Contains(string(ex), strings.TrimSpace(code)) {
		t.Fatal("README's embedding code differs from ExampleRuntime_Serve in example_test.go")
	}
}
