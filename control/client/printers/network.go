package printers

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// maxListed is how many addresses an ENDPOINTS column shows.
const maxListed = 3

var endpointsTable = table{
	headers: []string{"NAME", "ENDPOINTS", "AGE"},
	row: func(obj *unstructured.Unstructured, now time.Time) ([]string, []string, error) {
		ep, err := typed[corev1.Endpoints](obj) //nolint:staticcheck // weir serves v1 Endpoints
		if err != nil {
			return nil, nil, err
		}
		return []string{ep.Name, EndpointsColumn(ep), age(ep.CreationTimestamp, now)}, nil, nil
	},
}

// EndpointsColumn lists ready addresses with ports, "ip:port,... + N
// more...", or "<none>".
func EndpointsColumn(ep *corev1.Endpoints) string { //nolint:staticcheck
	var all []string
	for _, ss := range ep.Subsets {
		for _, a := range ss.Addresses {
			if len(ss.Ports) == 0 {
				all = append(all, a.IP)
				continue
			}
			for _, p := range ss.Ports {
				all = append(all, net.JoinHostPort(a.IP, strconv.Itoa(int(p.Port))))
			}
		}
	}
	return abbreviate(all)
}

func abbreviate(items []string) string {
	if len(items) == 0 {
		return "<none>"
	}
	if len(items) <= maxListed {
		return strings.Join(items, ",")
	}
	return fmt.Sprintf("%s + %d more...", strings.Join(items[:maxListed], ","), len(items)-maxListed)
}

var endpointSliceTable = table{
	headers: []string{"NAME", "ADDRESSTYPE", "PORTS", "ENDPOINTS", "AGE"},
	row: func(obj *unstructured.Unstructured, now time.Time) ([]string, []string, error) {
		es, err := typed[discoveryv1.EndpointSlice](obj)
		if err != nil {
			return nil, nil, err
		}
		var ports []string
		for _, p := range es.Ports {
			if p.Port == nil {
				ports = append(ports, "<unset>")
			} else {
				ports = append(ports, strconv.Itoa(int(*p.Port)))
			}
		}
		var addrs []string
		for _, e := range es.Endpoints {
			addrs = append(addrs, e.Addresses...)
		}
		portCol := strings.Join(ports, ",")
		if portCol == "" {
			portCol = "<unset>"
		}
		return []string{es.Name, string(es.AddressType), portCol, abbreviate(addrs), age(es.CreationTimestamp, now)}, nil, nil
	},
}

var eventTable = table{
	headers: []string{"LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"},
	row: func(obj *unstructured.Unstructured, now time.Time) ([]string, []string, error) {
		ev, err := typed[corev1.Event](obj)
		if err != nil {
			return nil, nil, err
		}
		object := strings.ToLower(ev.InvolvedObject.Kind) + "/" + ev.InvolvedObject.Name
		return []string{lastSeen(ev, now), ev.Type, ev.Reason, object, oneLine(ev.Message)}, nil, nil
	},
}

// lastSeen is the age of an event's most recent occurrence.
func lastSeen(ev *corev1.Event, now time.Time) string {
	return age(EventTime(ev), now)
}
