package runtime

import (
	"context"
	"fmt"
	"io"

	containerd "github.com/containerd/containerd"
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
