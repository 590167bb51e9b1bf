package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/awslabs/goformation/v7/cloudformation"
	"github.com/awslabs/goformation/v7/cloudformation/stepfunctions"
	"github.com/spf13/cobra"

	"github.com/sbalswa/ai3-mvp/internal/asl"
	"github.com/sbalswa/ai3-mvp/workflows"
)

// workflowsBuildCmds returns list, build, graph and export.
func workflowsBuildCmds() []*cobra.Command {
	return []*cobra.Command{newWorkflowsListCmd(), newWorkflowsBuildCmd(), newWorkflowsGraphCmd(), newWorkflowsExportCmd()}
}

func newWorkflowsListCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the workflows with their type, steps and tasks",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tTYPE\tSTEPS\tTASKS\tDESCRIPTION")
			for _, name := range workflows.Names() {
				w, err := workflows.Get(name)
				if err != nil {
					return err
				}
				fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\n", name, w.Type(), len(w.Steps()),
					strings.Join(w.Tasks(), ","), w.Description())
			}
			return tw.Flush()
		},
	}
}

// resolver turns --resolve KEY=VALUE flags into a task → ARN function. KEY is
// a logical task name or "*"; "{task}" in VALUE is replaced by the task.
// Without a rule a task gets workflows.PlaceholderARN.
func resolver(rules []string) (asl.Resolver, error) {
	exact := map[string]string{}
	fallback := ""
	for _, r := range rules {
		k, v, ok := strings.Cut(r, "=")
		if !ok || k == "" || v == "" {
			return nil, fmt.Errorf("--resolve %q: want TASK=ARN or *=ARN-with-{task}", r)
		}
		if k == "*" {
			fallback = v
			continue
		}
		exact[k] = v
	}
	known := map[string]bool{}
	for _, name := range workflows.Names() {
		w, err := workflows.Get(name)
		if err != nil {
			return nil, err
		}
		for _, t := range w.Tasks() {
			known[t] = true
		}
	}
	var unknown []string
	for k := range exact {
		if !known[k] {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		return nil, fmt.Errorf("--resolve names unknown tasks %v (tasks: %v)", unknown, sortedKeys(known))
	}
	return func(task string) string {
		if v, ok := exact[task]; ok {
			return strings.ReplaceAll(v, "{task}", task)
		}
		if fallback != "" {
			return strings.ReplaceAll(fallback, "{task}", task)
		}
		return workflows.PlaceholderARN(task)
	}, nil
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// selected returns the workflows named in args, or all of them.
func selected(args []string) ([]string, error) {
	if len(args) == 0 {
		return workflows.Names(), nil
	}
	for _, a := range args {
		if _, err := workflows.Get(a); err != nil {
			return nil, err
		}
	}
	return args, nil
}

func newWorkflowsBuildCmd() *cobra.Command {
	var out string
	var rules []string
	cmd := &cobra.Command{
		Use:   "build [NAME...] --out DIR",
		Short: "Compile the workflows to DIR/<name>.asl.json",
		Long: "Compiles each workflow (or the named ones) to Amazon States Language and writes\n" +
			"DIR/<name>.asl.json. Logical tasks resolve to placeholder Lambda ARNs\n" +
			"(arn:aws:lambda:us-east-1:000000000000:function:ai3-<task>) unless --resolve\n" +
			"says otherwise. Every workflow is compiled and validated before any file is written.",
		Example: "  ai3 workflows build --out build/workflows\n" +
			"  ai3 workflows build ci --out out --resolve '*=arn:aws:lambda:eu-west-1:123456789012:function:ai3-{task}'\n" +
			"  ai3 workflows build --out out --resolve gha-job=arn:aws:lambda:eu-west-1:123456789012:function:gha",
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				return errors.New("--out DIR is required")
			}
			names, err := selected(args)
			if err != nil {
				return err
			}
			arn, err := resolver(rules)
			if err != nil {
				return err
			}
			defs := map[string][]byte{}
			for _, name := range names {
				def, _, err := workflows.Definition(name, arn)
				if err != nil {
					return err
				}
				defs[name] = def
			}
			if err := os.MkdirAll(out, 0o755); err != nil {
				return fmt.Errorf("create %s: %w", out, err)
			}
			for _, name := range names {
				path := filepath.Join(out, name+".asl.json")
				if err := writeFileAtomic(path, defs[name]); err != nil {
					return err
				}
				fmt.Fprintln(cmd.OutOrStdout(), path)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "directory to write <name>.asl.json into (required)")
	cmd.Flags().StringArrayVar(&rules, "resolve", nil, "TASK=ARN, or *=ARN with {task} for every task (repeatable)")
	return cmd
}

// writeFileAtomic writes through a temporary file and a rename, so a reader
// never sees half a definition.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path))
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

func newWorkflowsGraphCmd() *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "graph NAME [--format mermaid|dot|plan]",
		Short: "Draw a workflow's step DAG as Mermaid or Graphviz DOT, or print its compiled plan",
		Long: "Draws the steps and their needs as a Mermaid flowchart or a Graphviz DOT graph.\n" +
			"--format plan prints the series-parallel schedule the compiler runs instead:\n" +
			"\"a ; b\" runs a then b, \"a | b\" runs them at the same time.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			w, err := workflows.Get(args[0])
			if err != nil {
				return err
			}
			switch format {
			case "mermaid":
				return writeMermaid(cmd.OutOrStdout(), w)
			case "dot":
				return writeDot(cmd.OutOrStdout(), w)
			case "plan":
				p, err := w.Plan()
				if err != nil {
					return err
				}
				_, err = fmt.Fprintln(cmd.OutOrStdout(), p)
				return err
			}
			return fmt.Errorf("--format %q: want mermaid, dot or plan", format)
		},
	}
	cmd.Flags().StringVar(&format, "format", "mermaid", "mermaid, dot or plan")
	return cmd
}

func stepLabel(s *asl.Step) string {
	how := ""
	if s.Task().Integration() == asl.WaitForTaskToken {
		how = ", waits for callback"
	}
	return fmt.Sprintf("%s (%s%s)", s.Name(), s.Task().Task(), how)
}

func writeMermaid(w io.Writer, wf *asl.Workflow) error {
	var b strings.Builder
	fmt.Fprintf(&b, "---\ntitle: %s (%s)\n---\nflowchart LR\n", wf.Name(), wf.Type())
	for _, s := range wf.Steps() {
		fmt.Fprintf(&b, "  %s[\"%s\"]\n", s.Name(), strings.ReplaceAll(stepLabel(s), `"`, "#quot;"))
	}
	for _, s := range wf.Steps() {
		for _, n := range s.NeedsList() {
			fmt.Fprintf(&b, "  %s --> %s\n", n, s.Name())
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeDot(w io.Writer, wf *asl.Workflow) error {
	var b strings.Builder
	fmt.Fprintf(&b, "digraph %q {\n  label=%q;\n  rankdir=LR;\n  node [shape=box];\n", wf.Name(), wf.Name()+" ("+string(wf.Type())+")")
	for _, s := range wf.Steps() {
		fmt.Fprintf(&b, "  %q [label=%q];\n", s.Name(), stepLabel(s))
	}
	for _, s := range wf.Steps() {
		for _, n := range s.NeedsList() {
			fmt.Fprintf(&b, "  %q -> %q;\n", n, s.Name())
		}
	}
	b.WriteString("}\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// pascal turns "check-title" into "CheckTitle" for CloudFormation names.
func pascal(s string) string {
	var b strings.Builder
	for _, part := range strings.FieldsFunc(s, func(r rune) bool { return r == '-' || r == '_' }) {
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}

// cloudFormation builds a template with one AWS::StepFunctions::StateMachine
// per workflow. Task ARNs are template parameters, passed into each
// definition through DefinitionSubstitutions (${<Task>FunctionArn}).
func cloudFormation(names []string) (*cloudformation.Template, error) {
	t := cloudformation.NewTemplate()
	t.Description = "ai3 CI/CD workflows (generated by `ai3 workflows export`)"
	roleDesc := "IAM role the state machines run as (may invoke the task functions)"
	t.Parameters["StateMachineRoleArn"] = cloudformation.Parameter{Type: "String", Description: &roleDesc}
	prefixDesc := "Prefix of the state machine names, so that several stacks can share an account"
	t.Parameters["NamePrefix"] = cloudformation.Parameter{Type: "String", Default: workflows.FunctionPrefix, Description: &prefixDesc}
	for _, name := range names {
		w, err := workflows.Get(name)
		if err != nil {
			return nil, err
		}
		subs := map[string]any{}
		for _, task := range w.Tasks() {
			param := pascal(task) + "FunctionArn"
			desc := fmt.Sprintf("ARN of the Lambda function of task %s (%s)", task, workflows.FunctionName(task))
			t.Parameters[param] = cloudformation.Parameter{Type: "String", Description: &desc}
			subs[param] = cloudformation.Ref(param)
		}
		def, typ, err := workflows.Definition(name, func(task string) string {
			return "${" + pascal(task) + "FunctionArn}"
		})
		if err != nil {
			return nil, err
		}
		smName := cloudformation.Sub("${NamePrefix}" + name)
		t.Resources[pascal(name)+"StateMachine"] = &stepfunctions.StateMachine{
			StateMachineName:        &smName,
			StateMachineType:        &typ,
			RoleArn:                 cloudformation.Ref("StateMachineRoleArn"),
			Definition:              json.RawMessage(def),
			DefinitionSubstitutions: subs,
		}
		t.Outputs[pascal(name)+"StateMachineArn"] = cloudformation.Output{Value: cloudformation.Ref(pascal(name) + "StateMachine")}
	}
	return t, nil
}

func newWorkflowsExportCmd() *cobra.Command {
	var format, out string
	cmd := &cobra.Command{
		Use:   "export [NAME...] --format cloudformation",
		Short: "Export the workflows as a CloudFormation template",
		Long: "Writes a CloudFormation template (JSON) with one AWS::StepFunctions::StateMachine per\n" +
			"workflow. Each task's Lambda ARN is a template parameter <Task>FunctionArn, substituted\n" +
			"into the definitions through DefinitionSubstitutions.",
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "cloudformation" {
				return fmt.Errorf("--format %q: only cloudformation is supported", format)
			}
			names, err := selected(args)
			if err != nil {
				return err
			}
			t, err := cloudFormation(names)
			if err != nil {
				return err
			}
			b, err := t.JSON()
			if err != nil {
				return fmt.Errorf("encode template: %w", err)
			}
			b = append(b, '\n')
			if out == "" || out == "-" {
				_, err = cmd.OutOrStdout().Write(b)
				return err
			}
			return writeFileAtomic(out, b)
		},
	}
	cmd.Flags().StringVar(&format, "format", "cloudformation", "output format (cloudformation)")
	cmd.Flags().StringVar(&out, "out", "", "file to write (default: standard output)")
	return cmd
}
