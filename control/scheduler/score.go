package scheduler

// MaxScore is the most a single score plugin gives a node.
const MaxScore = 100

// leastAllocated favours nodes with the most free cpu and memory after
// placing the pod: the mean of (free / allocatable) * 100 over both.
func leastAllocated(pi *podInfo, ni *NodeInfo) int64 {
	cpu := freeShare(ni.Allocatable.MilliCPU, ni.NonZero.MilliCPU+pi.nonZero.MilliCPU)
	mem := freeShare(ni.Allocatable.Memory, ni.NonZero.Memory+pi.nonZero.Memory)
	return (cpu + mem) / 2
}

func freeShare(alloc, req int64) int64 {
	if alloc <= 0 || req > alloc {
		return 0
	}
	return (alloc - req) * MaxScore / alloc
}

// balanced favours nodes whose cpu and memory use stay alike after placing
// the pod: (1 - standard deviation of the two fractions) * 100. It counts
// the real requests, as kube-scheduler does: with the scoring defaults
// for best-effort pods, the cpu fraction of a small node caps at 1 after
// a few dozen of them and balanced then favoured the fuller node.
func balanced(pi *podInfo, ni *NodeInfo) int64 {
	cpu := fraction(ni.Requested.MilliCPU+pi.req.MilliCPU, ni.Allocatable.MilliCPU)
	mem := fraction(ni.Requested.Memory+pi.req.Memory, ni.Allocatable.Memory)
	std := cpu - mem
	if std < 0 {
		std = -std
	}
	std /= 2
	return int64((1 - std) * MaxScore)
}

func fraction(req, alloc int64) float64 {
	if alloc <= 0 {
		return 1
	}
	f := float64(req) / float64(alloc)
	if f > 1 {
		return 1
	}
	return f
}

// preferredAffinity is the sum of the weights of the pod's preferred node
// affinity terms that the node matches (normalized later).
func preferredAffinity(pi *podInfo, ni *NodeInfo) int64 {
	var sum int64
	for i := range pi.preferred {
		t := &pi.preferred[i]
		if t.Weight != 0 && matchesTerm(&t.Preference, ni.Node) {
			sum += int64(t.Weight)
		}
	}
	return sum
}
