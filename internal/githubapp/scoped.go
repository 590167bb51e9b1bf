package githubapp

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/google/go-github/v62/github"
)

// ScopedToken returns a token of the installation limited to perms
// (GitHub's permission names, such as "issues" or "members", to "read" or
// "write"), cached like InstallationToken's. No perms is InstallationToken:
// every permission the App was granted.
func (m *Minter) ScopedToken(ctx context.Context, installationID int64, perms map[string]string) (InstallationToken, error) {
	if len(perms) == 0 {
		return m.InstallationToken(ctx, installationID)
	}
	opts, err := tokenOptions(perms)
	if err != nil {
		return InstallationToken{}, err
	}
	return m.token(ctx, tokenKey{installation: installationID, perms: canonical(perms)}, opts)
}

// tokenOptions turns perms into go-github's options, refusing levels other
// than read and write and names GitHub does not define.
func tokenOptions(perms map[string]string) (*github.InstallationTokenOptions, error) {
	for name, level := range perms {
		if level != "read" && level != "write" {
			return nil, fmt.Errorf("permission %s: level %q, want read or write", name, level)
		}
	}
	raw, _ := json.Marshal(perms)
	var p github.InstallationPermissions
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, fmt.Errorf("permissions: %w", err)
	}
	back, _ := json.Marshal(p)
	var known map[string]string
	_ = json.Unmarshal(back, &known)
	for name := range perms {
		if _, ok := known[name]; !ok {
			return nil, fmt.Errorf("permission %q is not one GitHub defines", name)
		}
	}
	return &github.InstallationTokenOptions{Permissions: &p}, nil
}

func canonical(perms map[string]string) string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(perms)) {
		b.WriteString(k + "=" + perms[k] + ",")
	}
	return b.String()
}
