package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sbalswa/ai3-mvp/internal/oauth"
)

// newLoginCmd logs the operator in to GitHub with the OAuth device flow.
func newLoginCmd() *cobra.Command {
	var githubURL, clientID, scopes string
	cmd := &cobra.Command{
		Use:   "login",
		Short: "Log in to GitHub with the device flow (token kept in a 0600 file)",
		RunE: func(cmd *cobra.Command, args []string) error {
			if clientID == "" {
				return errors.New("no OAuth client id: pass --client-id or set GITHUB_CLIENT_ID (the GitHub App's client id)")
			}
			path, err := loginFile()
			if err != nil {
				return err
			}
			client := oauth.NewClient(oauth.Config{BaseURL: githubURL, APIURL: os.Getenv("GITHUB_API_URL"), ClientID: clientID})
			return runLogin(cmd.Context(), client, strings.Fields(scopes), path, cmd.OutOrStdout(), nil)
		},
	}
	cmd.Flags().StringVar(&githubURL, "github-url", envOr("GITHUB_URL", "https://github.com"), "GitHub (or GitHub Enterprise Server) address")
	cmd.Flags().StringVar(&clientID, "client-id", os.Getenv("GITHUB_CLIENT_ID"), "OAuth client id of the GitHub App")
	cmd.Flags().StringVar(&scopes, "scopes", "", "space-separated OAuth scopes (GitHub Apps ignore them)")
	return cmd
}

// storedLogin is the content of the login file.
type storedLogin struct {
	GitHubURL        string    `json:"github_url"`
	Login            string    `json:"login"`
	UserID           int64     `json:"user_id"`
	AccessToken      string    `json:"access_token"`
	AccessExpiresAt  time.Time `json:"access_expires_at,omitzero"`
	RefreshToken     string    `json:"refresh_token,omitempty"`
	RefreshExpiresAt time.Time `json:"refresh_expires_at,omitzero"`
}

// loginFile is <user config dir>/ai3/login.json.
func loginFile() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("find the config directory: %w", err)
	}
	return filepath.Join(dir, "ai3", "login.json"), nil
}

// runLogin runs the device flow and writes the token to path (mode 0600).
func runLogin(ctx context.Context, client *oauth.Client, scopes []string, path string, out io.Writer,
	wait func(context.Context, time.Duration) error) error {
	dc, err := client.StartDevice(ctx, scopes)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "Open %s and enter the code %s\nWaiting for GitHub (the code expires in %d minutes)…\n",
		dc.VerificationURI, dc.UserCode, max(dc.ExpiresIn/60, 1))
	g, err := client.PollDevice(ctx, dc, wait)
	if err != nil {
		return err
	}
	u, err := client.User(ctx, g.AccessToken)
	if err != nil {
		return err
	}
	b, err := json.MarshalIndent(storedLogin{
		GitHubURL: strings.TrimSuffix(strings.SplitN(dc.VerificationURI, "/login/device", 2)[0], "/"),
		Login:     u.Login, UserID: u.ID, AccessToken: g.AccessToken, AccessExpiresAt: g.AccessExpiresAt,
		RefreshToken: g.RefreshToken, RefreshExpiresAt: g.RefreshExpiresAt,
	}, "", "  ")
	if err != nil {
		return err
	}
	if err := writePrivate(path, b); err != nil {
		return err
	}
	fmt.Fprintf(out, "Logged in as @%s (token saved in %s)\n", u.Login, path)
	return nil
}

// writePrivate writes b to path atomically with mode 0600 (directory 0700).
func writePrivate(path string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("create %s: %w", filepath.Dir(path), err)
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".login-*")
	if err != nil {
		return fmt.Errorf("save login: %w", err)
	}
	defer os.Remove(f.Name())
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return fmt.Errorf("save login: %w", err)
	}
	_, werr := f.Write(b)
	if err := errors.Join(werr, f.Sync(), f.Close()); err != nil {
		return fmt.Errorf("save login: %w", err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("save login: %w", err)
	}
	return nil
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
