package main

import (
	"io"
	"os"

	"golang.org/x/term"
)

// isTerminal is isatty(3).
func isTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }

// lineEditor reads the interactive prompt's lines with editing and an
// in-memory history (golang.org/x/term: arrows, Home/End, ^A ^E ^K ^U ^W,
// ^L; up and down walk the history), when stdin and stdout are both
// terminals. The terminal is in raw mode only while a line is read, so
// the chunks run with the terminal as the script expects it (^C is
// SIGINT there). ^C at the prompt drops the line being typed; ^D on an
// empty line ends the session.
type lineEditor struct {
	fd        int
	t         *term.Terminal
	keys      *keyReader
	cancelled bool // the last line was dropped with ^C
}

func newLineEditor() *lineEditor {
	if !isTerminal(os.Stdin) || !isTerminal(os.Stdout) {
		return nil
	}
	k := &keyReader{r: os.Stdin}
	return &lineEditor{
		fd: int(os.Stdin.Fd()),
		t: term.NewTerminal(struct {
			io.Reader
			io.Writer
		}{k, os.Stdout}, ""),
		keys: k,
	}
}

// readLine reads one line after prompt; ok is false at the end of input.
// After ^C, line is "" and cancelled reports true until the next call.
func (e *lineEditor) readLine(prompt string) (line string, ok bool) {
	e.cancelled = false
	state, err := term.MakeRaw(e.fd)
	if err != nil {
		return "", false
	}
	e.t.SetPrompt(prompt)
	e.keys.ctrlC = false
	line, err = e.t.ReadLine()
	term.Restore(e.fd, state)
	if err != nil {
		return "", false
	}
	if e.keys.ctrlC {
		e.cancelled = true
		return "", true
	}
	return line, true
}

// keyReader turns ^C into "end of line, erase line, enter": x/term's own
// ^C ends ReadLine with io.EOF, like ^D, and leaves the ^C in its buffer
// for the next call.
type keyReader struct {
	r       io.Reader
	ctrlC   bool
	pending []byte
}

func (k *keyReader) Read(p []byte) (int, error) {
	if len(k.pending) == 0 {
		var buf [256]byte
		n, err := k.r.Read(buf[:])
		for _, b := range buf[:n] {
			if b == 3 {
				k.ctrlC = true
				k.pending = append(k.pending, 5, 21, '\r') // ^E ^U CR
				continue
			}
			k.pending = append(k.pending, b)
		}
		if len(k.pending) == 0 {
			return 0, err
		}
	}
	n := copy(p, k.pending)
	k.pending = k.pending[n:]
	return n, nil
}
