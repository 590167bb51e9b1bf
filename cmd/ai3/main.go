// Command ai3 is the operator CLI of the ai3 GitHub App: it runs the embedded
// shape (`ai3 dev`), builds and runs workflows, and logs the operator in.
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

func main() {
	if err := newRootCmd().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "ai3:", err)
		os.Exit(1)
	}
}

// newRootCmd assembles the command tree. Each command lives in its own file
// and is added here, so `ai3 --help` lists them all.
func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "ai3",
		Short:         "ai3 runs CI/CD from GitHub comments on AWS",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(
		newDevCmd(),
		newWorkflowsCmd(),
		newLoginCmd(),
		newPayloadsCmd(),
		newSfnCmd(),
		newSendCmd(),
		newSandboxCmd(),
	)
	return root
}
