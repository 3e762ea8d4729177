package servicelatency

// Result is everything one run measured (written as service-latency.json).
type Result struct {
	Command string        `json:"command"`
	Started string        `json:"started"`
	Machine Machine       `json:"machine"`
	Options Options       `json:"options"`
	Scales  []ScaleResult `json:"scales"`
}

// Machine describes where the run happened.
type Machine struct {
	Kernel   string `json:"kernel"`
	CPUs     int    `json:"cpus"`
	Iptables string `json:"iptables"`
	Nft      string `json:"nft"`
}

// ScaleResult is one number of services.
type ScaleResult struct {
	Services  int          `json:"services"`  // Services (the targets have 2 ports, the others 1)
	Ports     int          `json:"ports"`     // service ports = KUBE-SVC chains = weir frontends
	Endpoints int          `json:"endpoints"` // endpoints over all ports
	Targets   []Target     `json:"targets"`
	Modes     []ModeResult `json:"modes"`
	// WeirSync is a fresh Sync of the same services with SyncBackends
	// endpoints each (the "N services x 10 backends" goal).
	WeirSync *SyncResult `json:"weirSync,omitempty"`
}

// SyncResult is weir's Sync of a larger set.
type SyncResult struct {
	Backends    int     `json:"backendsPerService"`
	Endpoints   int     `json:"endpoints"`
	SyncMs      float64 `json:"syncMs"`
	MemoryBytes uint64  `json:"memoryBytes"`
}

// ModeResult is one mode at one scale.
type ModeResult struct {
	Mode        string  `json:"mode"`
	InstallMs   float64 `json:"installMs"` // rule set / maps installed from nothing
	ChangeMs    float64 `json:"changeMs"`  // median of the one-service changes
	MemoryBytes uint64  `json:"memoryBytes"`
	MemoryKind  string  `json:"memoryKind"` // what MemoryBytes measures
	Cells       []Cell  `json:"cells"`
}

// Cell is one target measured in one mode.
type Cell struct {
	Target string `json:"target"`
	CRR    Stats  `json:"crr"`
	RR     Stats  `json:"rr"`
	UDP    Stats  `json:"udp"`
}

func (s *ScaleResult) mode(name string) *ModeResult {
	for i := range s.Modes {
		if s.Modes[i].Mode == name {
			return &s.Modes[i]
		}
	}
	return nil
}

func (m *ModeResult) cell(target string) *Cell {
	if m == nil {
		return nil
	}
	for i := range m.Cells {
		if m.Cells[i].Target == target {
			return &m.Cells[i]
		}
	}
	return nil
}
