package lambdaenv

import (
	"context"
	"strings"
	"testing"
)

// TestLoadShared: the step Lambdas start without what only the comment
// Lambda reads, still name every shared variable missing, and still refuse
// a bad App id when one is given.
func TestLoadShared(t *testing.T) {
	shared := complete()
	for _, k := range []string{"MARKS_TABLE", "GITHUB_ORG", "GITHUB_APP_ID", "STATE_MACHINES"} {
		delete(shared, k)
	}
	t.Run("starts", func(t *testing.T) {
		awsDoubles(t, "client-secret-value")
		e, err := LoadShared(context.Background(), func(k string) string { return shared[k] })
		if err != nil {
			t.Fatal(err)
		}
		if e.Marks != nil || e.AppID != 0 || e.Jobs == nil || e.Vault == nil || e.Archive == nil || e.Installations == nil {
			t.Errorf("env %+v", e)
		}
	})
	t.Run("empty", func(t *testing.T) {
		sm := awsDoubles(t, "client-secret-value")
		_, err := LoadShared(context.Background(), func(string) string { return "" })
		if err == nil || !strings.Contains(err.Error(), strings.Join(Shared, ", ")) || strings.Contains(err.Error(), "MARKS_TABLE") {
			t.Errorf("LoadShared = %v, want every shared variable named, and only those", err)
		}
		if len(sm.reads()) != 0 {
			t.Error("an incomplete environment still read the secret")
		}
	})
	t.Run("bad App id", func(t *testing.T) {
		awsDoubles(t, "client-secret-value")
		_, err := LoadShared(context.Background(), func(k string) string {
			if k == "GITHUB_APP_ID" {
				return "ai3-mvp"
			}
			return shared[k]
		})
		if err == nil || !strings.Contains(err.Error(), "GITHUB_APP_ID") {
			t.Errorf("LoadShared = %v, want the App id refused", err)
		}
	})
}
