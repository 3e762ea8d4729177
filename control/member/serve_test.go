package member

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestRequestDeadlines: a client that stalls mid-body is cut after the
// read timeout; a handler slower than the read timeout once the body is
// read is not, nor a watch streaming for longer than the write timeout.
func TestRequestDeadlines(t *testing.T) {
	const d = 300 * time.Millisecond
	readErr := make(chan error, 1)
	srv := httptest.NewUnstartedServer(requestDeadlines(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/stall":
			_, err := io.ReadAll(r.Body)
			readErr <- err
		case "/slow":
			if _, err := io.ReadAll(r.Body); err != nil {
				http.Error(w, err.Error(), 400)
				return
			}
			time.Sleep(3 * d)
			if err := r.Context().Err(); err != nil { // the connection's read deadline hit
				http.Error(w, err.Error(), 500)
				return
			}
			fmt.Fprint(w, "done")
		case "/api/v1/pods":
			for i := 0; i < 8; i++ {
				fmt.Fprintf(w, "event %d\n", i)
				w.(http.Flusher).Flush()
				time.Sleep(d)
			}
		}
	})))
	srv.Config.ReadHeaderTimeout = d
	srv.Config.ReadTimeout = d
	srv.Config.WriteTimeout = 5 * d
	srv.Start()
	defer srv.Close()

	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprint(conn, "POST /stall HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\npartial")
	select {
	case err := <-readErr:
		if err == nil {
			t.Error("a stalled body was read without error")
		}
	case <-time.After(10 * d):
		t.Fatal("a stalled body was not cut by the deadline")
	}

	resp, err := http.Post(srv.URL+"/slow", "text/plain", strings.NewReader("body"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(b) != "done" {
		t.Errorf("slow handler after the body: %d %q", resp.StatusCode, b)
	}

	resp, err = http.Get(srv.URL + "/api/v1/pods?watch=true")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	n := 0
	for sc := bufio.NewScanner(resp.Body); sc.Scan(); n++ {
	}
	if n != 8 {
		t.Errorf("streamed watch: %d of 8 events", n)
	}
}
