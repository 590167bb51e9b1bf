package tokens_test

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/sbalswa/ai3-mvp/internal/tokens"
)

func TestRedact(t *testing.T) {
	hex40 := "0123456789abcdef0123456789abcdef01234567"
	cases := []struct {
		name, in, secret string
	}{
		{"user-to-server", "token ghu_" + strings.Repeat("A1b2", 9), "ghu_"},
		{"fine-grained PAT", "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz", "github_pat_"},
		{"older format after token", "Authorization: token " + hex40, hex40},
		{"older format after Bearer", `header "Bearer ` + hex40 + `"`, hex40},
		{"older format after lower-case bearer", "bearer " + strings.ToUpper(hex40), strings.ToUpper(hex40)},
		{"older format after token=", "url?access_token=" + hex40 + "&x=1", hex40},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := tokens.Redact(c.in)
			if strings.Contains(got, c.secret) || !strings.Contains(got, "[REDACTED]") {
				t.Fatalf("Redact(%q) = %q", c.in, got)
			}
		})
	}
	for _, keep := range []string{
		"commit " + hex40, // a commit SHA is not a token
		"delivery 757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17", // nor a 64-hex digest
		"token expired",
	} {
		if got := tokens.Redact(keep); got != keep {
			t.Errorf("Redact(%q) = %q, want it unchanged", keep, got)
		}
	}
}

func TestRedactingHandlerOlderTokens(t *testing.T) {
	var out bytes.Buffer
	log := slog.New(tokens.RedactingHandler(slog.NewJSONHandler(&out, nil)))
	hex40 := "fedcba9876543210fedcba9876543210fedcba98"
	log.Info("call failed", "err", errors.New("GET /user with Authorization: token "+hex40+": 401"))
	if strings.Contains(out.String(), hex40) {
		t.Fatalf("an older-format token reached the log: %s", out.String())
	}
}
