package main

import (
	"fmt"
	"net"
	"net/netip"
	"strings"

	"github.com/astreinte/astreinte/metrics"
	"github.com/astreinte/astreinte/sip"
)

// connectTrunks lets the guard trust the registered trunks' addresses and
// the metrics and /readyz see the registrations.
func (o *ops) connectTrunks(srv *sip.Server) {
	o.Trunks = func() []netip.Prefix {
		var out []netip.Prefix
		for _, r := range srv.Registrations() {
			if r.Status != sip.RegRegistered || r.Remote == "" {
				continue
			}
			host, _, err := net.SplitHostPort(r.Remote)
			if err != nil {
				host = r.Remote
			}
			if a, err := netip.ParseAddr(host); err == nil {
				a = a.Unmap()
				out = append(out, netip.PrefixFrom(a, a.BitLen()))
			}
		}
		return out
	}
	o.Registrations = func() []metrics.Registration {
		regs := srv.Registrations()
		out := make([]metrics.Registration, 0, len(regs))
		for _, r := range regs {
			out = append(out, metrics.Registration{Trunk: r.Trunk, State: string(r.Status)})
		}
		return out
	}
	o.Registered = func() error {
		var down []string
		for _, r := range srv.Registrations() {
			if r.Status != sip.RegRegistered {
				down = append(down, fmt.Sprintf("%s (%s)", r.Trunk, r.Status))
			}
		}
		if len(down) > 0 {
			return fmt.Errorf("trunk not registered: %s", strings.Join(down, ", "))
		}
		return nil
	}
}

// refusedSources are the guard's last refusals, for `astreinte status`.
func (o *ops) refusedSources() []RefusedSource {
	if o == nil || o.guard == nil {
		return nil
	}
	rs := o.guard.RecentRefusals()
	out := make([]RefusedSource, 0, len(rs))
	for _, r := range rs {
		out = append(out, RefusedSource{Source: r.Source.String(), Reason: string(r.Reason), Count: r.Count, Last: r.At})
	}
	return out
}
