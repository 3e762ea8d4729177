// Command mkimage writes weir's test image archive (see
// node/runtime/testimage): mkimage -server bin/weir-testserver -o bin/weir-testimage.tar
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/weirnet/weir/node/runtime/testimage"
)

func main() {
	server := flag.String("server", "bin/weir-testserver", "static weir-testserver binary (CGO_ENABLED=0)")
	busybox := flag.String("busybox", "/bin/busybox", "static busybox (Debian's busybox-static)")
	out := flag.String("o", "bin/weir-testimage.tar", "output OCI archive")
	flag.Parse()
	if err := testimage.Write(*out, *busybox, *server); err != nil {
		fmt.Fprintln(os.Stderr, "mkimage:", err)
		os.Exit(1)
	}
	fmt.Printf("%s: %s\n", *out, testimage.Name)
}
