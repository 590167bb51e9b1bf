package jobs_test

import (
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/sbalswa/ai3-mvp/internal/jobs"
)

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		job  *jobs.Job
		want string // "" when the job is accepted
	}{
		{"nil", nil, "no job"},
		{"no id", &jobs.Job{Thread: jobs.Thread{Repo: "octo/app"}}, "job without an id"},
		{"no repository", &jobs.Job{ID: "job-1"}, "job job-1 has no thread repository"},
		{"complete", &jobs.Job{ID: "job-1", Thread: jobs.Thread{Repo: "octo/app", Number: 7}}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := jobs.Validate(tc.job)
			if got := errText(err); got != tc.want {
				t.Fatalf("Validate = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestValidRef(t *testing.T) {
	for _, tc := range []struct {
		name, key, value string
		ttl              time.Duration
		want             string
	}{
		{"empty key", "", "v", 0, "put ref: empty key"},
		{"empty value", "lock/octo/app", "", time.Minute, `put ref lock/octo/app: empty value ("" is SwapRef's delete)`},
		{"negative ttl", "k", "v", -time.Second, "put ref k: negative ttl -1s"},
		{"no ttl", "k", "v", 0, ""},
		{"ttl", "k", "v", time.Hour, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := errText(jobs.ValidRef(tc.key, tc.value, tc.ttl)); got != tc.want {
				t.Fatalf("ValidRef = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestThreadKey(t *testing.T) {
	if got := jobs.ThreadKey("octo/app", 7); got != "octo/app#7" {
		t.Fatalf("ThreadKey = %q, want octo/app#7", got)
	}
	if jobs.ThreadKey("octo/app", 1) == jobs.ThreadKey("octo/app", 12) {
		t.Fatal("two threads share a key")
	}
}

// CreatedKey's text order must be time order, whatever the time zone and
// however many fractional digits the time has: List pages by it.
func TestCreatedKeySortsAsTime(t *testing.T) {
	east := time.FixedZone("east", 9*3600)
	base := time.Date(2026, 12, 4, 17, 0, 0, 0, time.UTC)
	times := []time.Time{
		base,
		base.Add(time.Nanosecond),
		base.Add(100 * time.Millisecond),
		base.Add(time.Second).In(east),
		base.Add(-time.Hour).In(east),
		base.Add(9 * time.Second),
		base.Add(10 * time.Second),
		time.Date(999, 1, 1, 0, 0, 0, 0, time.UTC),
	}
	keys := make([]string, len(times))
	for i, tm := range times {
		keys[i] = jobs.CreatedKey(tm)
		if len(keys[i]) != len(keys[0]) {
			t.Fatalf("CreatedKey(%v) = %q: not the fixed width of %q", tm, keys[i], keys[0])
		}
	}
	sort.Slice(times, func(i, j int) bool { return times[i].Before(times[j]) })
	sort.Strings(keys)
	for i, tm := range times {
		if want := jobs.CreatedKey(tm); keys[i] != want {
			t.Fatalf("sorted keys[%d] = %q, want %q (%v): text order is not time order", i, keys[i], want, tm)
		}
	}
	if got := jobs.CreatedKey(base.In(east)); !strings.HasSuffix(got, "Z") || got != jobs.CreatedKey(base) {
		t.Fatalf("CreatedKey in another zone = %q, want the UTC key %q", got, jobs.CreatedKey(base))
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
