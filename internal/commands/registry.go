// Package commands turns comments that mention the bot into actions: it
// finds the command lines (Mentions), ignores the bot's own and other bots'
// comments, checks who is asking, runs the command with the requesting
// user's own token, and replies on the thread.
//
// Commands register themselves on a Registry (name, aliases, usage, summary,
// whether they need authorization, and the function that runs them); the
// Handler routes by name and never changes when a command is added.
package commands

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// Command is one thing the bot can be asked to do.
type Command struct {
	Name    string
	Aliases []string
	// Usage shows the arguments, e.g. "run <workflow> [key=value …]".
	Usage string
	// Summary is one line for help.
	Summary string
	// Auth requires org membership, repository write and a stored login.
	Auth bool
	// Run does the work and returns the reply (Markdown; "" for none).
	// A *UserError is shown to the user; other errors are retried.
	Run func(ctx context.Context, r *Request) (string, error)
}

// UserError is a refusal the user can act on (a bad argument, an unknown
// job). The handler replies with its text; it is not retried.
type UserError struct{ Msg string }

func (e *UserError) Error() string { return e.Msg }

// Userf formats a UserError.
func Userf(format string, args ...any) error { return &UserError{Msg: fmt.Sprintf(format, args...)} }

// Registry holds the commands by name and alias.
type Registry struct {
	cmds   []*Command
	byName map[string]*Command
}

// Register adds c; a name or alias already taken is a programming error and
// panics at start-up.
func (r *Registry) Register(c Command) {
	if r.byName == nil {
		r.byName = map[string]*Command{}
	}
	if c.Name == "" || c.Run == nil {
		panic("commands: a command needs a name and a Run function")
	}
	for _, n := range append([]string{c.Name}, c.Aliases...) {
		n = strings.ToLower(n)
		if _, dup := r.byName[n]; dup {
			panic(fmt.Sprintf("commands: %q registered twice", n))
		}
		r.byName[n] = &c
	}
	r.cmds = append(r.cmds, &c)
}

// Lookup finds a command by name or alias (case-insensitive).
func (r *Registry) Lookup(name string) (*Command, bool) {
	c, ok := r.byName[strings.ToLower(name)]
	return c, ok
}

// Commands returns the commands in registration order.
func (r *Registry) Commands() []*Command { return slices.Clone(r.cmds) }

// Suggest returns up to three known names nearest to name (edit distance at
// most 2, or sharing a prefix of three letters), nearest first.
func (r *Registry) Suggest(name string) []string {
	name = strings.ToLower(name)
	type cand struct {
		n string
		d int
	}
	var cs []cand
	for n := range r.byName {
		d := distance(name, n)
		if d <= 2 || (len(name) >= 3 && strings.HasPrefix(n, name[:3])) {
			cs = append(cs, cand{n, d})
		}
	}
	slices.SortFunc(cs, func(a, b cand) int {
		if a.d != b.d {
			return a.d - b.d
		}
		return strings.Compare(a.n, b.n)
	})
	var out []string
	for _, c := range cs {
		if len(out) == 3 {
			break
		}
		out = append(out, c.n)
	}
	return out
}

// distance is the Levenshtein distance between a and b (bytes; command names
// are ASCII).
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
