// Package appkey is the embedded shape's source of the GitHub App private
// key: a PEM file that only its owner may read (mode 0600), read at each
// mint so a replaced key takes effect without a restart. With it a
// githubapp.Minter mints installation tokens in-process.
package appkey

import (
	"context"
	"encoding/pem"
	"fmt"
	"os"

	"github.com/sbalswa/ai3-mvp/internal/githubapp"
)

// File returns a githubapp.KeySource reading the PEM key at path. It refuses
// a file readable by group or others, and one that holds no PEM block.
func File(path string) githubapp.KeySource {
	return func(context.Context) ([]byte, error) {
		st, err := os.Stat(path)
		if err != nil {
			return nil, fmt.Errorf("GitHub App key file: %w", err)
		}
		if st.Mode().Perm()&0o077 != 0 {
			return nil, fmt.Errorf("GitHub App key file %s has mode %v: run `chmod 600 %s`", path, st.Mode().Perm(), path)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("GitHub App key file: %w", err)
		}
		if block, _ := pem.Decode(b); block == nil {
			return nil, fmt.Errorf("GitHub App key file %s holds no PEM key (download it from the App's settings page)", path)
		}
		return b, nil
	}
}

// Minter returns an in-process installation-token minter for the App, its key
// read from path: the embedded adapter of githubapp.InstallationTokens.
func Minter(appID int64, path, apiURL string) *githubapp.Minter {
	return &githubapp.Minter{AppID: appID, Key: File(path), APIURL: apiURL}
}
