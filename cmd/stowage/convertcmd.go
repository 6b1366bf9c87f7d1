package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/stowage-build/stowage/convert"
	"github.com/stowage-build/stowage/scaffold"
	"github.com/stowage-build/stowage/spec"
)

// newConvertCmd is `stowage convert`: a stowage.yaml from a Dockerfile.
func newConvertCmd() *cobra.Command {
	var file, out, project, syntax string
	var force, bestEffort bool
	cmd := &cobra.Command{
		Use:   "convert [OPTIONS]",
		Short: "Write a stowage.yaml from a Dockerfile, its cache mounts as cache volumes",
		Long: `Write a stowage.yaml from a Dockerfile: a step per stage (split where the
stage's order of instructions needs it), its RUN --mount=type=cache mounts
declared as cache volumes keyed by their ids, its comments kept. What has
no equivalent fails, naming its line, unless --best-effort leaves a TODO.
See docs/convert.md.`,
		GroupID: groupSpec,
		Args:    maxArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			dt, err := os.ReadFile(file)
			if err != nil {
				return err
			}
			dir := filepath.Dir(file)
			if project == "" {
				abs, err := filepath.Abs(dir)
				if err != nil {
					return err
				}
				project = scaffold.Slug(filepath.Base(abs), "app")
			}
			y, err := convert.Convert(dt, convert.Options{File: file, Project: project, Syntax: syntax, BestEffort: bestEffort})
			if err != nil {
				return err
			}
			if out == "-" {
				_, err := cmd.OutOrStdout().Write(y)
				return err
			}
			if out == "" {
				out = filepath.Join(dir, spec.DefaultFile)
			}
			flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
			if force {
				flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
			}
			f, err := os.OpenFile(out, flags, 0o644)
			if errors.Is(err, fs.ErrExist) {
				return fmt.Errorf("%s exists: pass --force to replace it, or -o - to see what convert would write", out)
			}
			if err != nil {
				return err
			}
			if _, err := f.Write(y); err != nil {
				f.Close()
				return err
			}
			if err := f.Close(); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s from %s\nbuild it: stowage build -f %s %s\n", out, file, out, dir)
			return nil
		},
	}
	cmd.Flags().StringVarP(&file, "file", "f", "Dockerfile", "the `Dockerfile` to convert")
	cmd.Flags().StringVarP(&out, "output", "o", "", "where to write the spec, - for stdout (default: stowage.yaml beside the Dockerfile)")
	cmd.Flags().StringVar(&project, "project", "", "the spec's `NAME` of project (default: the Dockerfile's directory)")
	cmd.Flags().StringVar(&syntax, "syntax", scaffold.DefaultSyntax, "the frontend `IMAGE` of the # syntax= line")
	cmd.Flags().BoolVar(&force, "force", false, "replace the output file if it is there")
	cmd.Flags().BoolVar(&bestEffort, "best-effort", false, "write a # TODO for what has no equivalent instead of failing")
	return cmd
}
