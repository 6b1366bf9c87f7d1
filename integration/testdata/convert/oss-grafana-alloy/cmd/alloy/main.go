// Stub of Grafana Alloy's main package for the conversion corpus.
package main

import (
	"fmt"
	"os"
)

var version = "dev"

func main() {
	fmt.Println("alloy", version, os.Args[1:])
}
