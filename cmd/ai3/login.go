package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// newLoginCmd logs the operator in to GitHub with the OAuth device flow.
func newLoginCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "login",
		Short: "Log in to GitHub with the device flow (token kept in a 0600 file)",
		RunE: func(cmd *cobra.Command, args []string) error {
			return errors.New("login is not available yet")
		},
	}
}
