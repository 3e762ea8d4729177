package dns

// affected collects the owners whose records a change may alter.
type affected struct {
	svcs, pods map[nsName]struct{}
}

func newAffected() affected {
	return affected{svcs: map[nsName]struct{}{}, pods: map[nsName]struct{}{}}
}

func (st *store) putService(s *service, a affected) {
	st.services[s.id] = s
	a.svcs[s.id] = struct{}{}
}

func (st *store) delService(id nsName, a affected) {
	delete(st.services, id)
	a.svcs[id] = struct{}{}
}

func sliceService(sl *endpointSlice) (nsName, bool) {
	return nsName{sl.id.ns, sl.service}, sl.service != ""
}

func (st *store) putSlice(sl *endpointSlice, a affected) {
	st.delSlice(sl.id, a)
	st.slices[sl.id] = sl
	if svc, ok := sliceService(sl); ok {
		m := st.bySvc[svc]
		if m == nil {
			m = map[string]*endpointSlice{}
			st.bySvc[svc] = m
		}
		m[sl.id.name] = sl
		a.svcs[svc] = struct{}{}
	}
}

func (st *store) delSlice(id nsName, a affected) {
	old := st.slices[id]
	if old == nil {
		return
	}
	delete(st.slices, id)
	if svc, ok := sliceService(old); ok {
		delete(st.bySvc[svc], id.name)
		if len(st.bySvc[svc]) == 0 {
			delete(st.bySvc, svc)
		}
		a.svcs[svc] = struct{}{}
	}
}

func podSubdomain(p *pod) (nsName, bool) {
	return nsName{p.id.ns, p.subdomain}, p.hostname != "" && p.subdomain != ""
}

func (st *store) putPod(p *pod, a affected) {
	st.delPod(p.id, a)
	st.pods[p.id] = p
	a.pods[p.id] = struct{}{}
	if sub, ok := podSubdomain(p); ok {
		m := st.bySub[sub]
		if m == nil {
			m = map[string]*pod{}
			st.bySub[sub] = m
		}
		m[p.id.name] = p
		a.svcs[sub] = struct{}{}
	}
}

func (st *store) delPod(id nsName, a affected) {
	old := st.pods[id]
	if old == nil {
		return
	}
	delete(st.pods, id)
	a.pods[id] = struct{}{}
	if sub, ok := podSubdomain(old); ok {
		delete(st.bySub[sub], id.name)
		if len(st.bySub[sub]) == 0 {
			delete(st.bySub, sub)
		}
		a.svcs[sub] = struct{}{}
	}
}
