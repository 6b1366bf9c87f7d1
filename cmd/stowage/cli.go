package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/stowage-build/stowage/spec"
)

// Command groups, as docker's and buildx's help groups theirs.
const (
	groupBuild   = "build"
	groupSpec    = "spec"
	groupCache   = "cache"
	groupBuilder = "builder"
)

// run is main without the process: it returns the exit code, 0 on success,
// 1 when the spec or the build is wrong, 2 for a usage error.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := newRootCmd(stdout, stderr)
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return 0
	}
	if isUsage(err) {
		fmt.Fprintf(stderr, "%s: %v\nRun '%s --help' for more information.\n", cmd.CommandPath(), err, cmd.CommandPath())
		return 2
	}
	fmt.Fprintln(stderr, err)
	return 1
}

// newRootCmd is the whole command tree, writing to stdout and stderr.
func newRootCmd(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "stowage",
		Short: "Build stowage.yaml pipelines with cache volumes you name by key",
		Long: `stowage works with stowage.yaml pipelines: it builds them on a BuildKit
daemon, and without one lints them, prints their cache volume IDs and writes
their LLB.`,
		Version:           versionLine(),
		SilenceUsage:      true,
		SilenceErrors:     true,
		CompletionOptions: cobra.CompletionOptions{HiddenDefaultCmd: false},
		Args:              subcommandArgs,
		RunE:              helpOnly,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetVersionTemplate("{{.Version}}\n")
	root.SetUsageTemplate(dockerUsage(root.UsageTemplate()))
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err.Error()} })
	root.AddGroup(
		&cobra.Group{ID: groupBuild, Title: "Building:"},
		&cobra.Group{ID: groupSpec, Title: "Specs:"},
		&cobra.Group{ID: groupCache, Title: "Cache volumes:"},
		&cobra.Group{ID: groupBuilder, Title: "Builders:"},
	)
	root.AddCommand(
		specCommand(groupBuild, "build [OPTIONS] [CONTEXT]", "Build a spec on buildkitd", buildSpec, oneContext),
		specCommand(groupBuild, "llb [OPTIONS]", "Write the LLB of a spec to stdout (pipe it to buildctl build)", writeLLB, maxArgs(0)),
		newInitCmd(),
		newConvertCmd(),
		specCommand(groupSpec, "lint [OPTIONS]", "Check a spec and its cache volume hazards; exit 1 on any finding", lintSpec, maxArgs(0)),
		specCommand(groupSpec, "ids [OPTIONS]", "Print the cache volume IDs of a spec", ids, maxArgs(0)),
		newCacheCmd(),
		newBuilderCmd(),
		newVersionCmd(),
	)
	for _, c := range append(root.Commands(), root) {
		disableFlagsInUse(c)
	}
	return root
}

// dockerUsage turns cobra's usage template into docker's wording: a group
// command shows "COMMAND", not its own use line, and flags are "Options".
func dockerUsage(t string) string {
	return strings.NewReplacer(
		"{{if .Runnable}}", "{{if and .Runnable (not .HasAvailableSubCommands)}}",
		"{{.CommandPath}} [command]", "{{.CommandPath}} COMMAND",
		"Flags:", "Options:",
		`Use "{{.CommandPath}} [command] --help" for more information about a command.`, `Run '{{.CommandPath}} COMMAND --help' for more information on a command.`,
	).Replace(t)
}

// disableFlagsInUse keeps cobra from adding "[flags]" to use lines that
// already say [OPTIONS], as docker's do.
func disableFlagsInUse(cmd *cobra.Command) {
	cmd.DisableFlagsInUseLine = true
	for _, c := range cmd.Commands() {
		disableFlagsInUse(c)
	}
}

// specCommand is a command that reads a spec with the common flags.
func specCommand(group, use, short string, f func(context.Context, *common, []string, io.Writer) error, args cobra.PositionalArgs) *cobra.Command {
	c := &common{}
	cmd := &cobra.Command{
		Use:     use,
		Short:   short,
		GroupID: group,
		Args:    args,
		RunE: func(cmd *cobra.Command, args []string) error {
			c.stderr = cmd.ErrOrStderr()
			c.fileSet = cmd.Flags().Changed("file")
			return f(cmd.Context(), c, args, cmd.OutOrStdout())
		},
	}
	c.fs = cmd.Flags()
	c.register(cmd.Name())
	completeSpecFlags(cmd, c)
	return cmd
}

// maxArgs refuses more than n positional arguments as a usage error.
func maxArgs(n int) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		if len(args) <= n {
			return nil
		}
		return usageError{fmt.Sprintf("unexpected argument %q", args[n])}
	}
}

// oneContext is build's: at most one build context.
func oneContext(_ *cobra.Command, args []string) error {
	if len(args) > 1 {
		return usageError{fmt.Sprintf("one build context, not %d: %s", len(args), strings.Join(args, " "))}
	}
	return nil
}

// completeSpecFlags completes --target with the spec's steps and the
// enumerated flags with their values.
func completeSpecFlags(cmd *cobra.Command, c *common) {
	if cmd.Flags().Lookup("target") != nil {
		_ = cmd.RegisterFlagCompletionFunc("target", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
			return specNames(c, func(s *spec.Spec) []string { return stepNames(s) }), cobra.ShellCompDirectiveNoFileComp
		})
	}
	fixed := map[string][]string{
		"progress": {"auto", "plain", "tty", "quiet", "rawjson"},
		"call":     {"build", "outline", "targets", "check", "outline,format=json", "targets,format=json", "check,format=json"},
		"allow":    {"network.host", "security.insecure"},
		"format":   {"table", "json"},
	}
	for name, values := range fixed {
		if cmd.Flags().Lookup(name) != nil {
			_ = cmd.RegisterFlagCompletionFunc(name, cobra.FixedCompletions(values, cobra.ShellCompDirectiveNoFileComp))
		}
	}
}

// specNames loads the spec the flags name, quietly, for completion.
func specNames(c *common, names func(*spec.Spec) []string) []string {
	data, err := os.ReadFile(c.file)
	if err != nil {
		return nil
	}
	s, err := spec.Load(data, spec.Options{File: c.file})
	if err != nil {
		return nil
	}
	return names(s)
}

func stepNames(s *spec.Spec) []string {
	out := make([]string, 0, len(s.Steps))
	for _, st := range s.Steps {
		out = append(out, st.Name)
	}
	slices.Sort(out)
	return out
}

func volumeNames(s *spec.Spec) []string {
	out := make([]string, 0, len(s.Volumes))
	for _, c := range s.Volumes {
		out = append(out, c.Name)
	}
	slices.Sort(out)
	return out
}

func newVersionCmd() *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "version [--format json]",
		Short: "Print the version, commit and BuildKit version (also --version)",
		Args:  maxArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch format {
			case "", "table":
				return printVersion(cmd.OutOrStdout(), false)
			case "json":
				return printVersion(cmd.OutOrStdout(), true)
			}
			return usageError{fmt.Sprintf("--format %q: write json", format)}
		},
	}
	cmd.Flags().StringVar(&format, "format", "", "`json` for JSON")
	_ = cmd.RegisterFlagCompletionFunc("format", cobra.FixedCompletions([]string{"json"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// pflag needs each Value's type name for help; these are the repeatables.
func (*keyValues) Type() string { return "KEY=VALUE" }
func (*strs) Type() string      { return "stringArray" }
func (*sizeFlag) Type() string  { return "SIZE" }

var _ = []pflag.Value{(*keyValues)(nil), (*strs)(nil), (*sizeFlag)(nil)}
