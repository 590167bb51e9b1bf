package main

import (
	"errors"
	"strings"
	"testing"
)

func TestDevLoggerRedactsTokens(t *testing.T) {
	var out strings.Builder
	log := newDevLogger(&out)
	token := "ghu_" + strings.Repeat("A1b2", 9)
	log.Info("refreshed "+token, "token", token, "err", errors.New("exchange "+token+" failed"))
	if strings.Contains(out.String(), token) {
		t.Fatalf("a token reached the log: %s", out.String())
	}
	if !strings.Contains(out.String(), "REDACTED") {
		t.Fatalf("the log does not show the redaction: %s", out.String())
	}
}
