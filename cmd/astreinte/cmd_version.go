package main

import (
	"context"
	"fmt"
	"runtime/debug"

	flag "github.com/spf13/pflag"
)

// version is set at build time with -ldflags "-X main.version=…"; else the
// module's version or VCS revision recorded by the Go toolchain is shown.
var version = ""

func versionCommand() *command {
	return &command{
		name: "version", aliases: []string{"--version"}, short: "print the version and how it was built",
		setup: func(fs *flag.FlagSet) runner {
			return func(_ context.Context, s stdio, _ []string) error {
				fmt.Fprintln(s.out, versionString())
				return nil
			}
		},
	}
}

func versionString() string {
	v, rev, dirty, gover := version, "", "", ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		gover = bi.GoVersion
		if v == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v = bi.Main.Version
		}
		for _, st := range bi.Settings {
			switch st.Key {
			case "vcs.revision":
				rev = st.Value
			case "vcs.modified":
				if st.Value == "true" {
					dirty = "+dirty"
				}
			}
		}
	}
	if v == "" {
		v = "devel"
	}
	out := "astreinte " + v
	if rev != "" {
		out += " (" + rev[:min(12, len(rev))] + dirty + ")"
	}
	return out + " " + gover
}
