package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
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
			return convertDockerfile(cmd, convertOpts{file: file, out: out, project: project, syntax: syntax, force: force, bestEffort: bestEffort})
		},
	}
	cmd.Flags().StringVarP(&file, "file", "f", "Dockerfile", "the `Dockerfile` to convert (- for stdin)")
	cmd.Flags().StringVarP(&out, "output", "o", "", "where to write the spec, - for stdout (default: stowage.yaml beside the Dockerfile)")
	cmd.Flags().StringVar(&project, "project", "", "the spec's `NAME` of project (default: the current directory's name)")
	cmd.Flags().StringVar(&syntax, "syntax", scaffold.DefaultSyntax, "the frontend `IMAGE` of the # syntax= line")
	cmd.Flags().BoolVar(&force, "force", false, "replace the output file if it is there")
	cmd.Flags().BoolVar(&bestEffort, "best-effort", false, "write a # TODO for what has no equivalent instead of failing")
	return cmd
}

const convertPreview = "-o - to see what convert would write"

type convertOpts struct {
	file, out, project, syntax string
	force, bestEffort          bool
}

// convertDockerfile is `stowage convert`: the Dockerfile at o.file (- for
// stdin) to a spec at o.out (- for stdout; default stowage.yaml beside the
// Dockerfile), with the Dockerfile's own .dockerignore beside it.
func convertDockerfile(cmd *cobra.Command, o convertOpts) error {
	var dt []byte
	var err error
	dir, name := filepath.Dir(o.file), o.file
	if o.file == "-" {
		dir, name = ".", "<stdin>"
		dt, err = io.ReadAll(cmd.InOrStdin())
	} else {
		dt, err = os.ReadFile(o.file)
	}
	if err != nil {
		return err
	}
	if o.project == "" {
		// The build context is the current directory, as for
		// docker build -f build/Dockerfile .: the project is its name.
		wd, err := os.Getwd()
		if err != nil {
			return err
		}
		o.project = scaffold.Slug(filepath.Base(wd), "app")
	}
	y, err := convert.Convert(dt, convert.Options{File: name, Project: o.project, Syntax: o.syntax, BestEffort: o.bestEffort})
	if err != nil {
		return err
	}
	// Convert's TODOs name the file; a comment of the Dockerfile's own
	// that starts with TODO does not count.
	if n := bytes.Count(y, []byte("# TODO ("+filepath.Base(name)+":")); n > 0 {
		fmt.Fprintf(cmd.ErrOrStderr(), "%d instruction(s) with no equivalent: see the # TODO comments in the spec\n", n)
	}
	if o.out == "-" {
		_, err := cmd.OutOrStdout().Write(y)
		return err
	}
	if o.out == "" {
		o.out = filepath.Join(dir, spec.DefaultFile)
	}
	if err := writeNew(o.out, y, o.force, convertPreview); err != nil {
		return err
	}
	fmt.Fprintf(cmd.OutOrStdout(), "wrote %s from %s\n", o.out, name)
	// BuildKit reads FILE.dockerignore before .dockerignore for a build
	// of FILE: the Dockerfile's own must follow it to the spec.
	if o.file != "-" {
		ignore, err := os.ReadFile(o.file + ".dockerignore")
		switch {
		case err == nil:
			if err := writeNew(o.out+".dockerignore", ignore, o.force, convertPreview); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s.dockerignore from %s.dockerignore\n", o.out, o.file)
		case !errors.Is(err, fs.ErrNotExist):
			return err
		}
	}
	fmt.Fprintf(cmd.OutOrStdout(), "build it: stowage build -f %s .\n", o.out)
	return nil
}
