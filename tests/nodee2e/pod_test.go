package nodee2e

import (
	"bytes"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/weirnet/weir/tests/testutil"
)

// addPod makes a pod netns and wires it with weir-cni (env + stdin), run
// in the node netns with the network config from the conflist the agent
// wrote. It returns the pod and its IP; DEL runs when the test ends.
func (c *cluster) addPod(t *testing.T, n *node, id string) (*testutil.Netns, string) {
	t.Helper()
	pod := testutil.NewNetns(t, "p")
	data, err := os.ReadFile(filepath.Join(n.dir, "net.d", "10-weir.conflist"))
	if err != nil {
		t.Fatalf("the agent's conflist: %v", err)
	}
	var list struct {
		CNIVersion string           `json:"cniVersion"`
		Name       string           `json:"name"`
		Plugins    []map[string]any `json:"plugins"`
	}
	if err := json.Unmarshal(data, &list); err != nil || len(list.Plugins) == 0 {
		t.Fatalf("conflist %s: %v", data, err)
	}
	conf := list.Plugins[0]
	conf["cniVersion"], conf["name"] = list.CNIVersion, list.Name
	stdin, _ := json.Marshal(conf)
	run := func(verb string) ([]byte, error) {
		cmd := exec.Command("nsenter", "--net=/run/netns/"+n.ns.Name, c.cni)
		cmd.Env = []string{"CNI_COMMAND=" + verb, "CNI_CONTAINERID=" + id, "CNI_NETNS=/run/netns/" + pod.Name,
			"CNI_IFNAME=eth0", "CNI_PATH=" + filepath.Dir(c.cni), "PATH=" + os.Getenv("PATH")}
		cmd.Stdin = bytes.NewReader(stdin)
		return cmd.Output()
	}
	out, err := run("ADD")
	if err != nil {
		t.Fatalf("weir-cni ADD %s: %v: %s", id, err, out)
	}
	t.Cleanup(func() {
		if out, err := run("DEL"); err != nil {
			t.Errorf("weir-cni DEL %s: %v: %s", id, err, out)
		}
	})
	var res struct {
		IPs []struct{ Address string } `json:"ips"`
	}
	if err := json.Unmarshal(out, &res); err != nil || len(res.IPs) == 0 {
		t.Fatalf("ADD result %s: %v", out, err)
	}
	ip, _, _ := strings.Cut(res.IPs[0].Address, "/")
	return pod, ip
}

// serve answers every TCP connection on addr inside ns with name.
func serve(t *testing.T, ns *testutil.Netns, addr, name string) {
	t.Helper()
	var ln net.Listener
	if err := ns.Do(func() (err error) { ln, err = net.Listen("tcp", addr); return err }); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Write([]byte(name + "\n"))
			c.Close()
		}
	}()
	t.Cleanup(func() { ln.Close(); <-done })
}

// fetch connects from a process in ns (and in cgroup when set) to
// host:port and returns what the server said.
func fetch(ns *testutil.Netns, cgroup, host, port string) (string, error) {
	script := "exec busybox nc -w 2 " + host + " " + port
	if cgroup != "" {
		script = "echo $$ > " + filepath.Join(cgroup, "cgroup.procs") + " && " + script
	}
	out, err := exec.Command("nsenter", "--net=/run/netns/"+ns.Name, "sh", "-c", script).CombinedOutput()
	return strings.TrimSpace(string(out)), err
}
