package runtime

import (
	"context"
	"fmt"
	"io"
	"os"

	containerd "github.com/containerd/containerd"
	"github.com/containerd/containerd/namespaces"
)

// importArchive imports an OCI or docker archive and unpacks every image.
func importArchive(ctx context.Context, client *containerd.Client, snapshotter string, archive io.Reader) ([]string, error) {
	imgs, err := client.Import(ctx, archive, containerd.WithAllPlatforms(false))
	if err != nil {
		return nil, fmt.Errorf("import image archive (an OCI layout or `docker save` tarball): %w", err)
	}
	var names []string
	for _, im := range imgs {
		img := containerd.NewImage(client, im)
		if err := img.Unpack(ctx, snapshotter); err != nil {
			return names, fmt.Errorf("unpack %s: %w", im.Name, err)
		}
		names = append(names, im.Name)
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("the archive names no image: tag it before saving (docker save NAME:TAG)")
	}
	return names, nil
}

// ImportFile imports an image archive into a containerd namespace without
// a Runtime (`weir image import`); it returns the image names.
func ImportFile(ctx context.Context, address, namespace, snapshotter, path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	client, err := containerd.New(address, containerd.WithDefaultNamespace(namespace))
	if err != nil {
		return nil, fmt.Errorf("connect to containerd at %s (is it running?): %w", address, err)
	}
	defer client.Close()
	return importArchive(namespaces.WithNamespace(ctx, namespace), client, snapshotter, f)
}
