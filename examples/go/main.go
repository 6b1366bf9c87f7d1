// Command hello prints a greeting with a fresh UUID, so the example has a real
// module dependency for the module cache to keep.
package main

import (
	"fmt"

	"github.com/google/uuid"
)

func main() {
	fmt.Println("hello from a Stowage-built image", uuid.NewString())
}
