package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/sbalswa/ai3-mvp/internal/localsfn"
	"github.com/sbalswa/ai3-mvp/internal/localsfn/sfnapi"
	"github.com/sbalswa/ai3-mvp/workflows"
)

// workflowsExecCmds returns exec and run.
func workflowsExecCmds() []*cobra.Command {
	return []*cobra.Command{newWorkflowsExecCmd(), newWorkflowsRunCmd()}
}

// execResult is the one JSON object `exec --json` and `run --json` print.
type execResult struct {
	Status string          `json:"status"`
	Output json.RawMessage `json:"output"`
	Error  *string         `json:"error"`
	Cause  *string         `json:"cause"`
	// History is the execution's events as GetExecutionHistory answers them
	// (exec --history only).
	History []map[string]any `json:"history,omitempty"`
}

// inputFlags are --input and --input-file.
type inputFlags struct{ text, file string }

func (f *inputFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.text, "input", "", "execution input as JSON (default {})")
	cmd.Flags().StringVar(&f.file, "input-file", "", "file holding the execution input as JSON")
	cmd.MarkFlagsMutuallyExclusive("input", "input-file")
}

// read returns the input, refusing what is not one JSON document.
func (f *inputFlags) read() (string, error) {
	text := f.text
	if f.file != "" {
		data, err := os.ReadFile(f.file)
		if err != nil {
			return "", fmt.Errorf("read --input-file: %w", err)
		}
		text = string(data)
	}
	if text == "" {
		return "{}", nil
	}
	var v any
	if err := json.Unmarshal([]byte(text), &v); err != nil {
		return "", fmt.Errorf("the execution input is not valid JSON: %w", err)
	}
	return text, nil
}

func newWorkflowsExecCmd() *cobra.Command {
	var defFile, typ string
	var in inputFlags
	var asJSON, withHistory bool
	cmd := &cobra.Command{
		Use:   "exec --definition FILE [--input JSON | --input-file FILE] [--json]",
		Short: "Run one execution of any ASL definition with the embedded executor",
		Long: `exec runs an Amazon States Language file once with the embedded executor and
prints its result. Task states may call the in-process handlers of our
workflows (Lambda functions named ai3-<task>); any other function fails the
execution with Lambda.ResourceNotFoundException, as in AWS.

With --json it prints exactly one JSON object
{"status":…,"output":…,"error":…,"cause":…} and exits 0 whatever the
execution's status; it exits non-zero only when the definition or the input
cannot be read or parsed. With --history the object also carries "history":
the execution's events as the Step Functions API's GetExecutionHistory
answers them (EXPRESS executions included).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if defFile == "" {
				return errors.New("--definition FILE is required")
			}
			def, err := os.ReadFile(defFile)
			if err != nil {
				return fmt.Errorf("read --definition: %w", err)
			}
			if _, err := localsfn.Parse(def); err != nil {
				return fmt.Errorf("%s: %w", defFile, err)
			}
			input, err := in.read()
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			run, err := runLocal(ctx, "exec", def, typ, input, withHistory)
			if err != nil {
				return err
			}
			return printResult(cmd.OutOrStdout(), run, asJSON)
		},
	}
	cmd.Flags().StringVar(&defFile, "definition", "", "ASL definition file (JSON)")
	cmd.Flags().BoolVar(&withHistory, "history", false, "add the execution's history events (with --json: a \"history\" array)")
	cmd.Flags().StringVar(&typ, "type", localsfn.Standard, "state machine type: STANDARD or EXPRESS")
	in.add(cmd)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object {status, output, error, cause}")
	return cmd
}

func newWorkflowsRunCmd() *cobra.Command {
	var in inputFlags
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "run NAME [--input JSON | --input-file FILE] [--json]",
		Short: "Run one of our workflows with its in-process tasks",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			def, typ, err := workflows.Definition(args[0], workflows.PlaceholderARN)
			if err != nil {
				return err
			}
			input, err := in.read()
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			run, err := runLocal(ctx, args[0], def, typ, input, false)
			if err != nil {
				return err
			}
			return printResult(cmd.OutOrStdout(), run, asJSON)
		},
	}
	in.add(cmd)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object {status, output, error, cause}")
	return cmd
}

// callbacks lets the workflows' handlers complete task tokens on an executor
// that is created after them.
type callbacks struct{ ex *localsfn.Executor }

func (c *callbacks) SendTaskSuccess(ctx context.Context, token string, output json.RawMessage) error {
	return c.ex.SendTaskSuccess(ctx, token, output)
}

func (c *callbacks) SendTaskFailure(ctx context.Context, token, errorName, cause string) error {
	return c.ex.SendTaskFailure(ctx, token, errorName, cause)
}

// localRun is one finished local execution and, when asked for, its history.
type localRun struct {
	d       *localsfn.ExecutionDescription
	history []localsfn.Event
	hasHist bool
}

// runLocal runs one execution in memory with our workflows' task handlers.
func runLocal(ctx context.Context, name string, def []byte, typ, input string, withHistory bool) (*localRun, error) {
	cb := &callbacks{}
	handlers := map[string]localsfn.Handler{}
	for fn, h := range workflows.LocalHandlers(cb) {
		handlers[fn] = localsfn.Handler(h)
	}
	ex, err := localsfn.New(ctx, localsfn.Options{Handlers: handlers, ExpressHistory: withHistory})
	if err != nil {
		return nil, err
	}
	defer ex.Close()
	cb.ex = ex
	arn, err := ex.CreateStateMachine(ctx, name, def, typ)
	if err != nil {
		return nil, err
	}
	started, err := ex.StartExecution(ctx, localsfn.StartExecutionInput{StateMachineArn: arn, Input: input})
	if err != nil {
		return nil, err
	}
	d, err := ex.WaitExecution(ctx, started.ExecutionArn)
	if err != nil && ctx.Err() != nil {
		// Interrupted (Ctrl-C, or a task waiting for a person): stop the
		// execution so the result says ABORTED instead of vanishing.
		ctx = context.WithoutCancel(ctx)
		if err := ex.StopExecution(ctx, started.ExecutionArn, "ai3.Interrupted", "the command was interrupted"); err != nil {
			return nil, err
		}
		d, err = ex.DescribeExecution(ctx, started.ExecutionArn)
	}
	if err != nil {
		return nil, err
	}
	run := &localRun{d: d, hasHist: withHistory}
	if withHistory {
		if run.history, err = ex.GetExecutionHistory(ctx, started.ExecutionArn); err != nil {
			return nil, err
		}
	}
	return run, nil
}

func printResult(w io.Writer, run *localRun, asJSON bool) error {
	d := run.d
	r := execResult{Status: d.Status, Output: json.RawMessage("null")}
	if run.hasHist {
		r.History = make([]map[string]any, 0, len(run.history))
		for _, ev := range run.history {
			r.History = append(r.History, sfnapi.EventDocument(ev, true))
		}
	}
	if d.Output != "" {
		r.Output = json.RawMessage(d.Output)
	}
	if d.HasError {
		r.Error = &d.Error
	}
	if d.HasCause {
		r.Cause = &d.Cause
	}
	if asJSON {
		data, err := json.Marshal(r)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "%s\n", data)
		return err
	}
	fmt.Fprintf(w, "status: %s\n", r.Status)
	if d.Status == localsfn.StatusSucceeded {
		fmt.Fprintf(w, "output: %s\n", r.Output)
	}
	if r.Error != nil {
		fmt.Fprintf(w, "error:  %s\n", *r.Error)
	}
	if r.Cause != nil {
		fmt.Fprintf(w, "cause:  %s\n", *r.Cause)
	}
	if run.hasHist {
		fmt.Fprintln(w, "history:")
		for _, ev := range run.history {
			fmt.Fprintf(w, "  %3d %-28s (after %d)\n", ev.ID, ev.Type, ev.PreviousEventID)
		}
	}
	return nil
}
