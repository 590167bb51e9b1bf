package main

import "github.com/spf13/cobra"

// newWorkflowsCmd groups the commands that compile, draw, export and run the
// CI/CD workflows of workflows/ (and any ASL file).
func newWorkflowsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "workflows",
		Short: "List, build, draw, export and run the CI/CD workflows",
	}
	cmd.AddCommand(workflowsBuildCmds()...) // workflows_build.go: list, build, graph, export
	cmd.AddCommand(workflowsExecCmds()...)  // workflows_exec.go: exec, run
	return cmd
}
