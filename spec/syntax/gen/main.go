// Command gen writes the JSON Schema of stowage.yaml; `go generate
// ./spec/syntax` runs it to refresh schema/stowage.schema.json.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"

	"github.com/stowage-build/stowage/spec/syntax"
)

func main() {
	out := flag.String("o", "", "the file to write (default: standard output)")
	flag.Parse()
	data, err := syntax.JSON()
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
	if *out == "" {
		os.Stdout.Write(data)
		return
	}
	if old, err := os.ReadFile(*out); err == nil && bytes.Equal(old, data) {
		return
	}
	if err := os.WriteFile(*out, data, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}
