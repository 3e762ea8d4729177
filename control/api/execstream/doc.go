// Package execstream is the wire format of weir's pods/exec answer, from
// the node agent through the API to the client: the output of a command
// run in a container, as frames, and then how it ended.
//
// The body (media type ContentType) is a sequence of frames:
//
//	byte 0     channel: 1 stdout, 2 stderr, 3 exit, 4 error
//	bytes 1-4  payload length, big-endian uint32 (at most MaxPayload)
//	bytes 5-   payload
//
// stdout and stderr frames carry output in the order it was written. The
// stream ends with exactly one exit frame (payload: the exit code in
// decimal ASCII) or one error frame (payload: a message; the command could
// not be started, or was cut off). A body that ends without either means
// the connection was lost. Unknown channels are an error (a newer format).
//
// Read decodes a stream (tested with a fuzzer); Writer encodes one,
// flushing after each frame so that output arrives as it is written.
package execstream
