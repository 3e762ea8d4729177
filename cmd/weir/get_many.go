package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/weirnet/weir/control/client"
	"github.com/weirnet/weir/control/client/printers"
)

// allKinds is what `weir get all` lists: kubectl's "all" category, for
// the kinds weir serves.
var allKinds = []string{"pods", "services", "deployments.apps", "replicasets.apps", "jobs.batch"}

// splitKinds expands "all" and comma-separated types ("po,svc").
func splitKinds(kind string) []string {
	if strings.EqualFold(kind, "all") {
		return allKinds
	}
	return strings.Split(kind, ",")
}

// getMany lists several types: one server Table per type (NAME as
// TYPE/NAME, empty types left out, a blank line between), or one List for
// -o json/yaml.
func getMany(ctx context.Context, c *client.Client, io cliIO, o getOptions, kinds []string, nsOpts client.NamespaceOptions) error {
	if len(o.names) > 0 || o.watch {
		return errors.New("name objects, or watch, one type at a time")
	}
	var all []*unstructured.Unstructured
	printed := false
	for _, k := range kinds {
		res, err := c.ResolveResource(ctx, k)
		if err != nil {
			return err
		}
		g := &getter{c: c, io: io, o: o, res: res, ns: targetNamespace(res, nsOpts, o.all), withKind: true}
		if g.tables() {
			ts, _, err := g.fetchTables(ctx)
			if err != nil {
				return err
			}
			rows := 0
			for _, t := range ts {
				rows += len(t.Rows)
			}
			if rows == 0 {
				continue
			}
			if printed {
				fmt.Fprintln(io.out)
			}
			for _, t := range ts {
				if err := g.table().Print(t); err != nil {
					return err
				}
			}
			printed = true
			continue
		}
		objs, _, err := g.fetch(ctx)
		if err != nil {
			return err
		}
		if o.output == "name" {
			if err := g.print(objs, ""); err != nil {
				return err
			}
			printed = printed || len(objs) > 0
			continue
		}
		for _, obj := range objs {
			all = append(all, g.show(obj))
		}
	}
	if o.output == "json" || o.output == "yaml" {
		return printers.PrintList(io.out, o.output, all, "")
	}
	if !printed {
		(&getter{io: io, ns: targetNamespace(client.Resource{Namespaced: true}, nsOpts, o.all)}).noResources()
	}
	return nil
}
