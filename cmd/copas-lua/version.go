package main

import (
	"fmt"
	"os"
	"runtime/debug"
	"strings"

	copaslua "github.com/copas-lua/copas-lua"
	lua "github.com/yuin/gopher-lua"
)

// printVersion prints the version line on stderr, where lua5.1 prints it.
func printVersion() {
	fmt.Fprintf(os.Stderr, "copas-lua %s (gopher-lua %s, %s)\n", buildVersion(), gopherLuaVersion(), lua.LuaVersion)
}

// buildVersion is copas-lua's version from the build information: the module
// version when built as a dependency or with `go install ...@version`,
// else the package's release name, to which a build from a checkout adds
// the VCS revision (and "-dirty" for uncommitted changes):
// 0.1.0-dev+1a2b3c4d5e6f.
func buildVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return copaslua.Version
	}
	return versionOf(bi)
}

func versionOf(bi *debug.BuildInfo) string {
	var rev string
	var dirty bool
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value[:min(12, len(s.Value))]
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	mv := strings.TrimPrefix(bi.Main.Version, "v")
	// A checkout between releases has a pseudo-version made of the
	// revision: the release name and the revision read better.
	if mv == "" || mv == "(devel)" || (rev != "" && strings.Contains(mv, rev)) {
		v := copaslua.Version
		if rev != "" {
			v += "+" + rev
			if dirty {
				v += "-dirty"
			}
		}
		return v
	}
	return mv
}

// gopherLuaVersion reads the linked gopher-lua version from the build
// information (its PackageVersion constant is stale).
func gopherLuaVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == "github.com/yuin/gopher-lua" {
				v := strings.TrimPrefix(d.Version, "v")
				if d.Replace != nil {
					v = strings.TrimPrefix(d.Replace.Version, "v")
				}
				if v != "" {
					return v
				}
			}
		}
	}
	return "unknown"
}
