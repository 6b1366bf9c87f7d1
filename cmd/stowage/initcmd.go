package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/stowage-build/stowage/scaffold"
	"github.com/stowage-build/stowage/spec"
)

// newInitCmd is `stowage init`: a starting stowage.yaml for the project in
// a directory, from its files.
func newInitCmd() *cobra.Command {
	var kind, syntax string
	var force, print bool
	cmd := &cobra.Command{
		Use:   "init [OPTIONS] [DIR]",
		Short: "Write a starting stowage.yaml for the project in DIR (default: here), from its files",
		Long: `Write a starting stowage.yaml for the project in DIR (default: the current
directory), from its files: go.mod; package-lock.json, pnpm-lock.yaml or
yarn.lock; requirements.txt, pyproject.toml or uv.lock; Cargo.toml; a
Dockerfile on Debian or Ubuntu that runs apt-get install. It declares the
cache volumes that tool needs, keyed as the examples key them.`,
		GroupID: groupSpec,
		Args:    maxArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if kind != "" && !slices.Contains(scaffold.Kinds, scaffold.Kind(kind)) {
				return usageError{fmt.Sprintf("--kind %q: write one of %s", kind, strings.Join(scaffold.KindNames(), ", "))}
			}
			dir := "."
			if len(args) == 1 {
				dir = args[0]
			}
			abs, err := filepath.Abs(dir)
			if err != nil {
				return err
			}
			p, err := scaffold.Detect(os.DirFS(abs), filepath.Base(abs), scaffold.Kind(kind))
			if err != nil {
				return fmt.Errorf("stowage init %s: %w", dir, err)
			}
			if syntax != "" {
				p.Syntax = syntax
			}
			out, err := scaffold.Render(p)
			if err != nil {
				return err
			}
			if print {
				_, err := cmd.OutOrStdout().Write(out)
				return err
			}
			file := filepath.Join(dir, spec.DefaultFile)
			if err := writeNew(file, out, force, "--print to see what init would write"); err != nil {
				return err
			}
			also := ""
			if len(p.Others) > 0 {
				names := make([]string, len(p.Others))
				for i, k := range p.Others {
					names[i] = string(k)
				}
				also = fmt.Sprintf(" (it also looks like %s: --kind picks one)", strings.Join(names, ", "))
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s for a %s project, from %s%s\nbuild it: stowage build %s\n", file, p.Kind, p.Found, also, dir)
			return nil
		},
	}
	kinds := scaffold.KindNames()
	cmd.Flags().StringVar(&kind, "kind", "", "the `KIND` of project, not detected: "+strings.Join(kinds, ", "))
	cmd.Flags().StringVar(&syntax, "syntax", "", "the frontend `IMAGE` of the # syntax= line (default "+scaffold.DefaultSyntax+")")
	cmd.Flags().BoolVar(&force, "force", false, "replace a stowage.yaml that is there")
	cmd.Flags().BoolVar(&print, "print", false, "write the spec to stdout, not to DIR")
	_ = cmd.RegisterFlagCompletionFunc("kind", cobra.FixedCompletions(kinds, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}
