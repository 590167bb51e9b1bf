package jsonata

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// FuzzCompileEval feeds arbitrary text to Compile and, when it compiles,
// evaluates it: neither may panic, and every failure must be an *Error (or
// ErrUndefined), never anything else. Seeds are the differential corpus.
func FuzzCompileEval(f *testing.F) {
	b, err := os.ReadFile(filepath.Join("testdata", "differential.txt"))
	if err != nil {
		f.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if _, expr, ok := strings.Cut(line, "\t"); ok && !strings.HasPrefix(line, "#") {
			f.Add(expr)
		}
	}
	in, _ := loadFixture(f, "library")
	f.Fuzz(func(t *testing.T, expr string) {
		e, err := Compile(expr)
		if err != nil {
			var jerr *Error
			if !errors.As(err, &jerr) {
				t.Fatalf("Compile(%q) returned %T %v, want *Error", expr, err, err)
			}
			if jerr.Code == internalErrorCode {
				t.Fatalf("Compile(%q) hit a parser bug: %v", expr, jerr)
			}
			return
		}
		_, err = e.EvalAt(time.Unix(0, 0), in, nil)
		var jerr *Error
		if err != nil && !errors.Is(err, ErrUndefined) && !errors.As(err, &jerr) {
			t.Fatalf("Eval(%q) returned %T %v", expr, err, err)
		}
		if jerr != nil && jerr.Code == internalErrorCode {
			t.Fatalf("Eval(%q) hit an evaluator bug: %v", expr, jerr)
		}
	})
}
