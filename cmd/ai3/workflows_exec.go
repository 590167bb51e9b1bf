package main

import "github.com/spf13/cobra"

// workflowsExecCmds returns exec and run.
func workflowsExecCmds() []*cobra.Command { return nil }
