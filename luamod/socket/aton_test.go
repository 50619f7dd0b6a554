package socket

import "testing"

// TestAtonAddr: the IPv4 forms glibc's getaddrinfo reads with inet_aton
// (checked against LuaSocket's connect and toip on glibc 2.36).
func TestAtonAddr(t *testing.T) {
	for in, want := range map[string]string{
		"0": "0.0.0.0", "127.1": "127.0.0.1", "0x7f.0.0.1": "127.0.0.1", "2130706433": "127.0.0.1",
		"1.2.3": "1.2.0.3", "0377.1": "255.0.0.1", "4294967295": "255.255.255.255", "0x": "0.0.0.0",
		"4294967296": "", "256.1": "", "1.2.3.4.5": "", "": "", "08": "", "1.": "", "-1": "", "+1": "",
		"1e300": "", "inf": "", "1..2": "", "1.256.3": "",
	} {
		a, ok := atonAddr(in)
		got := ""
		if ok {
			got = a.String()
		}
		if got != want {
			t.Errorf("atonAddr(%q) = %q, want %q", in, got, want)
		}
	}
	if p, code := parsePort("", true, false); p != 0 || code != gaiOK {
		t.Errorf(`parsePort("") = %d, %v; want 0, ok (glibc reads an empty service as none)`, p, code)
	}
}
