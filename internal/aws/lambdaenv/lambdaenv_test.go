package lambdaenv

import (
	"context"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

const secretARN = "arn:aws:secretsmanager:us-east-1:111122223333:secret:ai3/oauth-client-secret-Ab12Cd"

// secrets is a GetSecretValue double: it serves value for secretARN and
// records every secret asked for.
type secrets struct {
	mu    sync.Mutex
	value string
	asked []string
}

func (s *secrets) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var in struct{ SecretId string }
	_ = json.NewDecoder(r.Body).Decode(&in)
	s.mu.Lock()
	s.asked = append(s.asked, in.SecretId)
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	if r.Header.Get("X-Amz-Target") != "secretsmanager.GetSecretValue" || in.SecretId != secretARN {
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"__type":"ResourceNotFoundException","message":"Secrets Manager can't find the specified secret."}`)
		return
	}
	_ = json.NewEncoder(w).Encode(map[string]string{"ARN": secretARN, "SecretString": s.value})
}

func (s *secrets) reads() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.asked)
}

// awsDoubles points the AWS SDK of this process at a Secrets Manager double
// holding the OAuth client secret; the other services are never called by
// Load.
func awsDoubles(t *testing.T, secret string) *secrets {
	sm := &secrets{value: secret}
	srv := httptest.NewServer(sm)
	t.Cleanup(srv.Close)
	none := filepath.Join(t.TempDir(), "none")
	for k, v := range map[string]string{
		"AWS_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_SESSION_TOKEN": "",
		"AWS_PROFILE": "", "AWS_CONFIG_FILE": none, "AWS_SHARED_CREDENTIALS_FILE": none, "AWS_EC2_METADATA_DISABLED": "true",
		"AWS_ENDPOINT_URL_SECRETS_MANAGER": srv.URL, "AWS_MAX_ATTEMPTS": "1",
	} {
		t.Setenv(k, v)
	}
	return sm
}

// complete is an environment the comment Lambda starts with.
func complete() map[string]string {
	return map[string]string{
		"JOBS_TABLE": "ai3-jobs", "MARKS_TABLE": "ai3-marks", "USER_TOKENS_TABLE": "ai3-user-tokens",
		"TOKENS_KMS_KEY_ID": "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
		"ARCHIVE_BUCKET":    "ai3-payloads", "CREDENTIALS_FUNCTION": "arn:aws:lambda:eu-west-1:111122223333:function:ai3-credentials",
		"GITHUB_CLIENT_ID": "Iv1.0123456789abcdef", "OAUTH_CLIENT_SECRET_ARN": secretARN,
		"GITHUB_ORG": "octo-org", "GITHUB_APP_ID": "4242",
		"STATE_MACHINES": `{"checks":"arn:aws:states:eu-west-1:111122223333:stateMachine:ai3-checks"}`,
	}
}

func TestLoadRefusesIncompleteEnvironment(t *testing.T) {
	without := func(keys ...string) map[string]string {
		env := complete()
		for _, k := range keys {
			delete(env, k)
		}
		return env
	}
	with := func(k, v string) map[string]string {
		env := complete()
		env[k] = v
		return env
	}
	for _, tc := range []struct {
		name string
		env  map[string]string
		want []string // every one must be in the error
	}{
		{"empty", map[string]string{}, append(slices.Clone(Required), "STATE_MACHINES")},
		{"no organization", without("GITHUB_ORG"), []string{"missing environment: GITHUB_ORG"}},
		{"no App id", without("GITHUB_APP_ID"), []string{"missing environment: GITHUB_APP_ID"}},
		{"no state machines", without("STATE_MACHINES"), []string{"missing environment: STATE_MACHINES"}},
		{"two missing", without("MARKS_TABLE", "OAUTH_CLIENT_SECRET_ARN"), []string{"MARKS_TABLE, OAUTH_CLIENT_SECRET_ARN"}},
		{"App id not a number", with("GITHUB_APP_ID", "ai3-mvp"), []string{`GITHUB_APP_ID "ai3-mvp" must be the App's numeric id`}},
		{"App id not positive", with("GITHUB_APP_ID", "-4"), []string{"GITHUB_APP_ID"}},
		{"machines not JSON", with("STATE_MACHINES", "checks=arn"), []string{"STATE_MACHINES"}},
		{"machine not an ARN", with("STATE_MACHINES", `{"checks":"ai3-checks"}`), []string{`STATE_MACHINES: workflow "checks" maps to "ai3-checks"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sm := awsDoubles(t, "client-secret-value")
			e, err := Load(context.Background(), func(k string) string { return tc.env[k] }, "STATE_MACHINES")
			if err == nil {
				t.Fatalf("Load = %+v, want an error", e)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not name %q", err, w)
				}
			}
			if got := sm.reads(); len(got) != 0 {
				t.Errorf("an incomplete environment still read secrets %v", got)
			}
		})
	}
}

func TestLoadReadsTheSecretFromSecretsManagerOnly(t *testing.T) {
	const secret = "oauth-client-secret-from-secrets-manager"
	sm := awsDoubles(t, secret+"\n")
	env := complete()
	// Secrets offered in the environment under tempting names: none may be read.
	tempting := map[string]string{"GITHUB_CLIENT_SECRET": "env-secret-1", "OAUTH_CLIENT_SECRET": "env-secret-2",
		"GITHUB_APP_PRIVATE_KEY": "env-secret-3", "WEBHOOK_SECRET": "env-secret-4", "GITHUB_TOKEN": "env-secret-5"}
	maps.Copy(env, tempting)
	var mu sync.Mutex
	read := map[string]bool{}
	e, err := Load(context.Background(), func(k string) string {
		mu.Lock()
		read[k] = true
		mu.Unlock()
		return env[k]
	}, "STATE_MACHINES")
	if err != nil {
		t.Fatal(err)
	}
	known := append(slices.Clone(Required), Optional...)
	for k := range read {
		if !slices.Contains(known, k) {
			t.Errorf("Load read %s, which is neither Required nor Optional", k)
		}
		if _, bad := tempting[k]; bad {
			t.Errorf("Load read the secret-bearing variable %s", k)
		}
	}
	if got := sm.reads(); len(got) != 1 || got[0] != secretARN {
		t.Errorf("Secrets Manager was asked for %v, want %s once", got, secretARN)
	}
	if e.Org != "octo-org" || e.AppID != 4242 || e.Bot != "ai3-mvp" || e.Region != "eu-west-1" ||
		e.Executor.Machines["checks"] != "arn:aws:states:eu-west-1:111122223333:stateMachine:ai3-checks" {
		t.Errorf("env %+v", e)
	}
}

func TestLoadRefusesUnreadableSecret(t *testing.T) {
	for _, tc := range []struct {
		name, arn, value, want string
	}{
		{"no such secret", secretARN + "-gone", "x", "read the OAuth client secret: get secret " + secretARN + "-gone"},
		{"empty secret", secretARN, " \n", "the OAuth client secret " + secretARN + " is empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			awsDoubles(t, tc.value)
			env := complete()
			env["OAUTH_CLIENT_SECRET_ARN"] = tc.arn
			_, err := Load(context.Background(), func(k string) string { return env[k] })
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Load = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}
