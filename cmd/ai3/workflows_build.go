package main

import "github.com/spf13/cobra"

// workflowsBuildCmds returns list, build, graph and export.
func workflowsBuildCmds() []*cobra.Command { return nil }
