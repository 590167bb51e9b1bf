package jobs

import (
	"errors"
	"fmt"
	"time"
)

// What every Store adapter checks and indexes the same way, defined once so
// the SQLite and DynamoDB stores cannot drift apart.

// Validate reports why a Store cannot keep j (Create and Update refuse it):
// a job needs an ID and a Thread.Repo to be found again. It returns nil for
// a job a store can index.
func Validate(j *Job) error {
	switch {
	case j == nil:
		return errors.New("no job")
	case j.ID == "":
		return errors.New("job without an id")
	case j.Thread.Repo == "":
		return fmt.Errorf("job %s has no thread repository", j.ID)
	}
	return nil
}

// ValidRef reports why Store.PutRef refuses key = value with ttl: an empty
// key, an empty value ("" is SwapRef's delete) or a negative ttl. It
// returns nil for a reference a store can keep.
func ValidRef(key, value string, ttl time.Duration) error {
	switch {
	case key == "":
		return errors.New("put ref: empty key")
	case value == "":
		return fmt.Errorf("put ref %s: empty value (\"\" is SwapRef's delete)", key)
	case ttl < 0:
		return fmt.Errorf("put ref %s: negative ttl %s", key, ttl)
	}
	return nil
}

// ThreadKey is the key a store finds a thread's jobs by (Latest):
// "owner/name#number".
func ThreadKey(repo string, number int) string { return fmt.Sprintf("%s#%d", repo, number) }

// CreatedKey writes a job's CreatedAt as a store orders jobs by it (List):
// in UTC at a fixed width, so text order is time order.
func CreatedKey(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000000Z") }
