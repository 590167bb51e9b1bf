package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/sbalswa/ai3-mvp/internal/events"
	"github.com/sbalswa/ai3-mvp/internal/local"
	"github.com/sbalswa/ai3-mvp/internal/local/archive"
)

// newPayloadsCmd reads the payloads `ai3 dev` archived (in its database up
// to 1 MiB, as files beyond), also while it runs.
func newPayloadsCmd() *cobra.Command {
	var dataDir string
	cmd := &cobra.Command{
		Use:   "payloads",
		Short: "List and print the webhook payloads `ai3 dev` archived",
	}
	cmd.PersistentFlags().StringVar(&dataDir, "data", ".ai3-data", "the data directory of `ai3 dev`")
	var limit int
	list := &cobra.Command{
		Use:   "list [PREFIX]",
		Short: "List archived payload keys (yyyy/mm/dd/<event>/<hook id>/<delivery>.json), oldest first",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			prefix := ""
			if len(args) == 1 {
				prefix = args[0]
			}
			return withDevArchive(cmd.Context(), dataDir, func(a *archive.Archive) error {
				keys, err := a.List(cmd.Context(), prefix, limit)
				if err != nil {
					return err
				}
				for _, k := range keys {
					fmt.Fprintln(cmd.OutOrStdout(), k)
				}
				return nil
			})
		},
	}
	list.Flags().IntVar(&limit, "limit", 0, "print at most this many keys (0: all)")
	get := &cobra.Command{
		Use:   "get KEY",
		Short: "Print one archived payload exactly as GitHub sent it",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := events.CheckKey(args[0]); err != nil {
				return err
			}
			return withDevArchive(cmd.Context(), dataDir, func(a *archive.Archive) error {
				body, err := a.Get(cmd.Context(), events.Ref{Bucket: archive.Bucket, Key: args[0]})
				if err != nil {
					return err
				}
				_, err = cmd.OutOrStdout().Write(body)
				return err
			})
		},
	}
	cmd.AddCommand(list, get)
	return cmd
}

// withDevArchive opens the archive of the data directory of `ai3 dev`. It
// refuses a directory that holds no database rather than creating one.
func withDevArchive(ctx context.Context, dataDir string, f func(*archive.Archive) error) error {
	dbPath := filepath.Join(dataDir, "ai3.db")
	if _, err := os.Stat(dbPath); err != nil {
		return fmt.Errorf("no `ai3 dev` data in %s (%w); pass --data", dataDir, err)
	}
	db, err := local.OpenSQLite(ctx, dbPath)
	if err != nil {
		return err
	}
	defer db.Close()
	a, err := archive.Open(ctx, filepath.Join(dataDir, "payloads"), archive.Options{Committer: local.NewCommitter(db, nil)})
	if err != nil {
		return err
	}
	defer a.Close()
	return f(a)
}
