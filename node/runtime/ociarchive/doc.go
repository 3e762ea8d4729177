// Package ociarchive writes single-layer OCI image layout archives (the
// format `ctr image import`, containerd's client.Import and `weir image
// import` read) from files held in memory, without a container engine.
//
// # Contracts
//
//   - The archive is an OCI image layout tarball: oci-layout, index.json
//     and blobs/sha256/<digest> for one uncompressed layer, the image
//     config and the manifest. Every digest and size is computed from the
//     bytes written, so containerd verifies the archive on import.
//   - The output is deterministic: the same Image gives the same bytes
//     (fixed timestamps and ownership, files in the given order).
//   - index.json names the image twice: io.containerd.image.name (full
//     reference, used by containerd) and org.opencontainers.image.ref.name
//     (the tag, used by other OCI tools).
//
// # Testing
//
//	go test ./node/runtime/ociarchive/
package ociarchive
