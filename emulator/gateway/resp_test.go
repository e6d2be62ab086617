package gateway

import (
	"bufio"
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestReadCommand(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in   string
		args []string
		err  error
	}{
		{"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n", []string{"GET", "k"}, nil},
		{"*1\r\n$0\r\n\r\n", []string{""}, nil},
		{"*0\r\n", nil, nil},
		{"PING\r\n", []string{"PING"}, nil},
		{"AUTH  user\ttoken\n", []string{"AUTH", "user", "token"}, nil},
		{"\r\n", nil, nil},
		{"*1\r\n+GET\r\n", nil, errProtocol},
		{"*x\r\n", nil, errProtocol},
		{"*1\r\n$-1\r\n", nil, errProtocol},
		{"*1\r\n$3\r\nGETX\r\n", nil, errProtocol},
		{strings.Repeat("a", maxInline+10) + "\r\n", nil, errProtocol},
	}
	for _, tc := range cases {
		r := bufio.NewReader(strings.NewReader(tc.in))
		raw, offs, err := readCommand(r, nil, nil)
		if !errors.Is(err, tc.err) {
			t.Errorf("%q: err = %v, want %v", tc.in, err, tc.err)
			continue
		}
		if err != nil {
			continue
		}
		if string(raw) != tc.in {
			t.Errorf("%q: raw = %q", tc.in, raw)
		}
		var args []string
		for _, o := range offs {
			args = append(args, string(raw[o[0]:o[1]]))
		}
		if strings.Join(args, "|") != strings.Join(tc.args, "|") || len(args) != len(tc.args) {
			t.Errorf("%q: args = %q, want %q", tc.in, args, tc.args)
		}
	}
}

func TestReplyReader(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in    string
		typ   byte
		text  string
		count int64
	}{
		{"+OK\r\n", '+', "OK", -1},
		{"-WRONGPASS invalid\r\n", '-', "WRONGPASS inval", -1}, // longer than the 16-byte buffer: only its head is described
		{"$5\r\nhello\r\n", '$', "hello", -1},
		{"$-1\r\n", '$', "", -1},
		{"$40\r\n" + strings.Repeat("x", 40) + "\r\n", '$', "", -1},
		{"*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n", '*', "subscribe", 1},
		{">3\r\n$11\r\nunsubscribe\r\n_\r\n:0\r\n", '>', "unsubscribe", 0},
		{"*-1\r\n", '*', "", -1},
		{"%1\r\n+a\r\n*2\r\n:1\r\n:2\r\n", '%', "a", -1},
		{"|1\r\n+ttl\r\n:3\r\n+OK\r\n", '+', "OK", -1},
		{"!9\r\nSYNTAX oh\r\n", '!', "SYNTAX oh", -1},
		{"*2\r\n*1\r\n$1\r\na\r\n~1\r\n,1.5\r\n", '*', "", -1},
	}
	for _, tc := range cases {
		var out bytes.Buffer
		w := bufio.NewWriter(&out)
		rr := replyReader{r: bufio.NewReaderSize(strings.NewReader(tc.in+"+NEXT\r\n"), 16), w: w}
		var p reply
		if err := rr.next(&p); err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		w.Flush()
		if out.String() != tc.in {
			t.Errorf("%q: copied %q", tc.in, out.String())
		}
		if p.typ != tc.typ || string(p.text) != tc.text || p.count != tc.count {
			t.Errorf("%q: reply = %c %q %d, want %c %q %d", tc.in, p.typ, p.text, p.count, tc.typ, tc.text, tc.count)
		}
		if err := rr.next(&p); err != nil || string(p.text) != "NEXT" {
			t.Errorf("%q: the next reply = %q, %v", tc.in, p.text, err)
		}
	}
	for _, bad := range []string{"?x\r\n", "*z\r\n", "\r\n"} {
		rr := replyReader{r: bufio.NewReader(strings.NewReader(bad)), w: bufio.NewWriter(&bytes.Buffer{})}
		var p reply
		if err := rr.next(&p); !errors.Is(err, errProtocol) {
			t.Errorf("%q: err = %v", bad, err)
		}
	}
}
