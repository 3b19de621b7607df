package virtdetect

// isolationOf returns the strongest boundary around the process and the technology providing
// it: a micro-VM (a micro-VM's VMM or shape, Kata, Edera) over a VM over a sandbox over a
// container.
func isolationOf(h Host, microVM bool) (level, technology string) {
	level, technology = IsolationNone, ""
	rank := 0
	set := func(r int, l, t string) {
		if r > rank {
			rank, level, technology = r, l, t
		}
	}
	for _, l := range h.Layers {
		switch l.Kind {
		case KindHypervisor:
			set(4, IsolationVM, l.Name)
		case KindVMM:
			tech := l.Name
			if tech == VMMUnknown {
				tech = h.HypervisorName
			}
			if microVM {
				set(5, IsolationMicroVM, tech)
			} else {
				rank = 0 // the VMM names the VM's technology better than the hypervisor
				set(4, IsolationVM, tech)
			}
		case KindGuest:
			switch l.Name {
			case GuestKata, GuestEdera:
				rank = 0
				set(6, IsolationMicroVM, l.Name)
			default:
				if rank <= 4 {
					rank = 0
					set(4, IsolationVM, l.Name)
				}
			}
		case KindSandbox:
			set(3, IsolationSandbox, l.Name)
		case KindContainer:
			set(2, IsolationContainer, l.Name)
		}
	}
	return level, technology
}
