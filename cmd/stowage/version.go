package main

import (
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

// version is stamped by a release build (-ldflags "-X main.version=v1.2.3");
// otherwise the module's own version, as go install records it.
var version = ""

// versionInfo is what `stowage version` reports.
type versionInfo struct {
	Version  string `json:"version"`
	Commit   string `json:"commit,omitempty"`
	Modified bool   `json:"modified,omitempty"`
	BuildKit string `json:"buildkit"`
	Go       string `json:"go"`
	Platform string `json:"platform"`
}

// buildVersion reads the binary's build info: the version go install or a
// release stamped, the VCS commit of an in-repository build, and the
// BuildKit module the frontend and client are built against.
func buildVersion() versionInfo {
	v := versionInfo{Version: version, Go: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH, BuildKit: "unknown"}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		if v.Version == "" {
			v.Version = "unknown"
		}
		return v
	}
	if v.Version == "" {
		v.Version = bi.Main.Version
	}
	if v.Version == "" || v.Version == "(devel)" {
		v.Version = "dev"
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			v.Commit = s.Value
		case "vcs.modified":
			v.Modified = s.Value == "true"
		}
	}
	for _, d := range bi.Deps {
		if d.Path == "github.com/moby/buildkit" {
			v.BuildKit = d.Version
			if d.Replace != nil {
				v.BuildKit = d.Replace.Version
			}
		}
	}
	return v
}

// printVersion writes the version as one line, or as JSON.
func printVersion(out io.Writer, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(buildVersion())
	}
	_, err := fmt.Fprintln(out, versionLine())
	return err
}

// versionLine is the version in one line, as --version prints it.
func versionLine() string {
	v := buildVersion()
	commit := ""
	if v.Commit != "" {
		c := v.Commit
		if len(c) > 12 {
			c = c[:12]
		}
		commit = ", commit " + c
		if v.Modified {
			commit += " (modified)"
		}
	}
	return fmt.Sprintf("stowage %s%s, BuildKit %s, %s %s", v.Version, commit, v.BuildKit, v.Go, v.Platform)
}
