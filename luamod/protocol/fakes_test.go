package protocol_test

import (
	"bufio"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeSMTP is a minimal SMTP server on 127.0.0.1: it accepts any sender
// and recipient, AUTH LOGIN/PLAIN with user "u" and password "p", and
// records each message.
type fakeSMTP struct {
	ln   net.Listener
	mu   sync.Mutex
	msgs []smtpMsg
}

type smtpMsg struct {
	from string
	rcpt []string
	data string
	user string
}

// listenAndServe accepts loopback connections and serves each on its own
// goroutine until the test ends; cleanup waits for all of them.
func listenAndServe(t *testing.T, serve func(net.Conn)) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() { defer wg.Done(); serve(c) }()
		}
	}()
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	return ln
}

func startSMTP(t *testing.T) *fakeSMTP {
	s := &fakeSMTP{}
	s.ln = listenAndServe(t, s.serve)
	return s
}

func (s *fakeSMTP) port() int { return s.ln.Addr().(*net.TCPAddr).Port }

func (s *fakeSMTP) messages() []smtpMsg {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]smtpMsg(nil), s.msgs...)
}

func (s *fakeSMTP) serve(c net.Conn) {
	defer c.Close()
	r := bufio.NewReader(c)
	say := func(format string, a ...any) { fmt.Fprintf(c, format+"\r\n", a...) }
	line := func() (string, bool) {
		l, err := r.ReadString('\n')
		return strings.TrimRight(l, "\r\n"), err == nil
	}
	say("220 fake ESMTP")
	var m smtpMsg
	for {
		l, ok := line()
		if !ok {
			return
		}
		cmd := strings.ToUpper(strings.SplitN(l, " ", 2)[0])
		switch cmd {
		case "EHLO":
			say("250-fake greets you")
			say("250-AUTH LOGIN PLAIN")
			say("250 8BITMIME")
		case "AUTH":
			if strings.Contains(l, "PLAIN") {
				raw, _ := base64.StdEncoding.DecodeString(strings.Fields(l)[2])
				parts := strings.Split(string(raw), "\x00")
				if len(parts) == 3 && parts[1] == "u" && parts[2] == "p" {
					m.user = "u"
					say("235 ok")
				} else {
					say("535 bad credentials")
				}
				continue
			}
			say("334 VXNlcm5hbWU6")
			u, _ := line()
			say("334 UGFzc3dvcmQ6")
			p, _ := line()
			ub, _ := base64.StdEncoding.DecodeString(u)
			pb, _ := base64.StdEncoding.DecodeString(p)
			if string(ub) == "u" && string(pb) == "p" {
				m.user = "u"
				say("235 ok")
			} else {
				say("535 bad credentials")
			}
		case "MAIL":
			m.from = strings.TrimPrefix(l[5:], "FROM:")
			say("250 ok")
		case "RCPT":
			m.rcpt = append(m.rcpt, strings.TrimPrefix(l[5:], "TO:"))
			say("250 ok")
		case "DATA":
			say("354 go ahead")
			var b strings.Builder
			for {
				dl, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if dl == ".\r\n" {
					break
				}
				b.WriteString(dl)
			}
			m.data = b.String()
			s.mu.Lock()
			s.msgs = append(s.msgs, m)
			s.mu.Unlock()
			m = smtpMsg{user: m.user}
			say("250 queued")
		case "QUIT":
			say("221 bye")
			return
		default:
			say("502 unknown command")
		}
	}
}

// fakeFTP is a minimal passive-mode FTP server on 127.0.0.1 over an
// in-memory file map. noEPSV makes it reject EPSV (PASV fallback).
type fakeFTP struct {
	ln     net.Listener
	noEPSV bool
	mu     sync.Mutex
	files  map[string]string
	cmds   []string
}

func startFTP(t *testing.T, files map[string]string, noEPSV bool) *fakeFTP {
	s := &fakeFTP{files: files, noEPSV: noEPSV}
	s.ln = listenAndServe(t, s.serve)
	return s
}

func (s *fakeFTP) port() int { return s.ln.Addr().(*net.TCPAddr).Port }

func (s *fakeFTP) file(name string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.files[name]
	return v, ok
}

func (s *fakeFTP) commands() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.cmds...)
}

func (s *fakeFTP) serve(c net.Conn) {
	defer c.Close()
	r := bufio.NewReader(c)
	say := func(format string, a ...any) { fmt.Fprintf(c, format+"\r\n", a...) }
	say("220-fake FTP")
	say("220 ready")
	var data net.Listener
	defer func() {
		if data != nil {
			data.Close()
		}
	}()
	accept := func() net.Conn {
		if data == nil {
			return nil
		}
		data.(*net.TCPListener).SetDeadline(time.Now().Add(5 * time.Second))
		dc, err := data.Accept()
		data.Close()
		data = nil
		if err != nil {
			return nil
		}
		return dc
	}
	for {
		l, err := r.ReadString('\n')
		if err != nil {
			return
		}
		l = strings.TrimRight(l, "\r\n")
		parts := strings.SplitN(l, " ", 2)
		cmd, arg := strings.ToUpper(parts[0]), ""
		if len(parts) > 1 {
			arg = parts[1]
		}
		s.mu.Lock()
		s.cmds = append(s.cmds, l)
		s.mu.Unlock()
		switch cmd {
		case "USER":
			say("331 password please")
		case "PASS":
			say("230 logged in")
		case "TYPE":
			say("200 type set")
		case "EPSV", "PASV":
			if cmd == "EPSV" && s.noEPSV {
				say("500 EPSV not understood")
				continue
			}
			if data != nil {
				data.Close()
			}
			data, err = net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				say("425 no data port")
				continue
			}
			p := data.Addr().(*net.TCPAddr).Port
			if cmd == "EPSV" {
				say("229 Entering Extended Passive Mode (|||%d|)", p)
			} else {
				say("227 Entering Passive Mode (127,0,0,1,%d,%d)", p/256, p%256)
			}
		case "RETR":
			body, ok := s.file(arg)
			if !ok {
				say("550 no such file")
				continue
			}
			say("150 opening data connection")
			if dc := accept(); dc != nil {
				io.WriteString(dc, body)
				dc.Close()
			}
			say("226 transfer complete")
		case "STOR":
			say("150 ok to send data")
			if dc := accept(); dc != nil {
				b, _ := io.ReadAll(dc)
				dc.Close()
				s.mu.Lock()
				s.files[arg] = string(b)
				s.mu.Unlock()
			}
			say("226 stored")
		case "DELE":
			s.mu.Lock()
			delete(s.files, arg)
			s.mu.Unlock()
			say("250 deleted")
		case "NOOP", "SITE":
			say("200 ok")
		case "QUIT":
			say("221 bye")
			return
		default:
			say("502 not implemented")
		}
	}
}
