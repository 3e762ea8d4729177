package main

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// serviceAccountDir is where pods find their ServiceAccount credentials.
const serviceAccountDir = "/var/run/secrets/kubernetes.io/serviceaccount"

// apiCall is `weir-testserver apicall URL [BODY]`: an in-cluster client
// as client-go's rest.InClusterConfig builds one. It sends the pod's
// mounted token, trusts only the mounted ca.crt, POSTs BODY as JSON when
// given (else GETs), prints "HTTP <code>" and the body, and exits 0 when
// the request reached the API (any status), 1 when it did not.
func apiCall(args []string) int {
	if len(args) < 1 {
		fmt.Fprintln(os.Stderr, "usage: weir-testserver apicall URL [BODY]")
		return 2
	}
	tok, err := os.ReadFile(filepath.Join(serviceAccountDir, "token"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ca, err := os.ReadFile(filepath.Join(serviceAccountDir, "ca.crt"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca) {
		fmt.Fprintln(os.Stderr, "ca.crt holds no certificate")
		return 1
	}
	client := &http.Client{Timeout: 5 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
	method, body := http.MethodGet, io.Reader(nil)
	if len(args) > 1 {
		method, body = http.MethodPost, bytes.NewBufferString(args[1])
	}
	req, err := http.NewRequest(method, args[0], body)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(tok)))
	req.Header.Set("Content-Type", "application/json")
	res, err := client.Do(req)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer res.Body.Close()
	out, _ := io.ReadAll(io.LimitReader(res.Body, 1<<16))
	fmt.Printf("HTTP %d %s\n", res.StatusCode, bytes.TrimSpace(out))
	return 0
}
