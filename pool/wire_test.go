package pool

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"maps"
	"math/rand/v2"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/funcredis/funcredis/emulator/redisserver"
	"github.com/funcredis/funcredis/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// FuzzWire is the differential test of the connection tracker (issue 9):
// go-redis, with the tracker between it and a bare redis-server, runs a
// random program of commands — values of any size up to 1 MiB that look
// like RESP, pipelines, transactions, MULTI on a Conn, WATCH, SUBSCRIBE —
// while every Write and Read is cut at random points and token rotations,
// failed rotations and deadline retirements fire at random points of the
// byte stream. Against the server it then checks that
//
//  1. the server executed exactly the commands sent (per-command call
//     counts, no error the program did not cause) and holds every value
//     byte for byte, so no AUTH landed inside a command and nothing ran
//     twice;
//  2. every caller got its own reply (each reply is checked against a
//     model as it arrives);
//  3. a connection counts as re-authenticated only when the server said
//     OK: the tracker's AUTH counts equal the server's, and each live
//     connection's identity is the server's (one ACL user per token);
//  4. nothing panicked and no stream was left unframed.
//
// Run it long with
//
//	go test -run '^$' -fuzz FuzzWire -fuzztime 10m ./pool
func FuzzWire(f *testing.F) {
	for _, seed := range wireSeeds {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, program []byte) {
		srv := wireServer(t)
		runWire(t, srv, program)
	})
}

// Seeds: each failure mode of issue 9 as a program: a protocol byte (even:
// RESP3), a split mode byte, then ops with their operands (see below).
var wireSeeds = [][]byte{
	// A rotation while a 100 KB SET of '*' ending in CRLF is written.
	{0, 0, opEventAt, evRotate, 1, opSet, 1, 12, patStars | patCRLF, opGet, 1},
	// A value ending in "\nSET injected pwned", rotated mid-value, RESP2.
	{1, 0, opEventAt, evRotate, 1, opSet, 2, 13, patInjected | patCRLF, opGet, 2, opIncr, 0},
	// A pipeline cut anywhere, a rotation in between.
	{0, 2, opEventAt, evRotate, 1, opPipeline, 2, opGet, 1, opIncr, 2, opSet, 3, 4, patExec},
	// A TxPipeline over 32 KiB (the cache's PUT shape), then an idle rotation.
	{0, 0, opTx, 1, opSet, 4, 9, patExec | patSubscribe, opIncr, 1, opEvent, evRotate, opPing},
	// MULTI on a Conn with a rotation and a failed rotation inside it.
	{0, 1, opEventAt, evRotate, 2, opEventAt, evBogus, 4, opConnMulti, 2, opSet, 1, 3, patAuth, opIncr, 1, opGet, 1, opGet, 1},
	// A retirement while INCRs are in flight: each is applied once.
	{0, 1, opEventAt, evRotate, 0, opEventAt, evRetire, 2, opPipeline, 4, opIncr, 0, opIncr, 0, opIncr, 1, opIncr, 0, opIncr, 0, opIncr, 0},
	// A subscribed connection across a rotation, with messages that look like RESP.
	{0, 2, opSubscribe, 6, patSubscribe | patCRLF, opEvent, evRotate, opSubscribe, 14, patStars, opPing},
	// WATCH with a rotation and a retirement during it; a 1 MiB MSET.
	{1, 0, opEventAt, evRotate, 1, opEventAt, evRetire, 3, opWatch, 5, 8, patAuth, opMSet, 1, 1, 15, patBinary, 2, 3, patExec, opGet, 1},
	// A rotation the server refuses, then the deadline: the connections are retired, not counted as re-authenticated.
	{0, 0, opPing, opEvent, evBogus, opPing, opEvent, evRetire, opSet, 0, 4, 0, opGet, 0},
}

// Program op codes and their operands (bytes; missing bytes read as 0).
const (
	opSet       = iota // key, size, pattern
	opGet              // key
	opIncr             // counter
	opPipeline         // n, then n sub-ops (op, key, size, pattern): SET, GET or INCR
	opTx               // as opPipeline, in a TxPipeline (MULTI … EXEC written at once)
	opConnMulti        // as opPipeline, on a Conn: MULTI, each command, EXEC as separate round trips
	opWatch            // key, size, pattern: WATCH key, GET, then SET in a transaction
	opSubscribe        // size, pattern: SUBSCRIBE, PUBLISH a message, receive it
	opMSet             // n, then n × (key, size, pattern)
	opPing             //
	opEvent            // event: fire it now, between commands
	opEventAt          // event, offset: fire it at the offset-th Write or Read from now
	opCount
)

// Events.
const (
	evRotate = iota // a new token, installed on the server; reauth with it
	evBogus         // a new token the server does not know; reauth with it (AUTH fails)
	evRetire        // retire connections on a token older than the newest installed
	evCount
)

// Value patterns (bit sets): what a value is made of.
const (
	patStars     = 1 << iota // '*' and '$'
	patCRLF                  // ends with CRLF
	patExec                  // "\r\nexec\r\n", "*1\r\n$4\r\nEXEC\r\n"
	patSubscribe             // "*1\r\n$9\r\nsubscribe\r\n"
	patAuth                  // "*3\r\n$4\r\nAUTH\r\n…", "+OK\r\n"
	patInjected              // "\nSET injected pwned\r\n"
	patBinary                // bytes 0–255
)

var wireSizes = [16]int{0, 1, 2, 7, 100, 4096, 32<<10 - 1, 32 << 10, 32<<10 + 1, 40000, 64 << 10, 65537, 100000, 300000, 1<<20 - 1, 1 << 20}

// wireProgram reads a program's bytes; past the end it reads zeros.
type wireProgram struct{ b []byte }

func (p *wireProgram) next(n int) int {
	if len(p.b) == 0 {
		return 0
	}
	v := int(p.b[0])
	p.b = p.b[1:]
	return v % n
}

func (p *wireProgram) done() bool { return len(p.b) == 0 }

// value builds a value of a size class and pattern; budget bounds a
// program's total value bytes.
func (p *wireProgram) value(budget *int) string {
	size := wireSizes[p.next(16)]
	pat := p.next(256)
	if size > *budget {
		size = min(size, 100)
	}
	*budget -= size
	var parts []string
	for bit, s := range map[int][]string{
		patStars:     {"*", "$", "*1\r\n", "$-1\r\n"},
		patExec:      {"\r\nexec\r\n", "*1\r\n$4\r\nEXEC\r\n", "MULTI"},
		patSubscribe: {"*1\r\n$9\r\nsubscribe\r\n"},
		patAuth:      {"*3\r\n$4\r\nAUTH\r\n$1\r\nu\r\n$1\r\np\r\n", "+OK\r\n", "auth"},
		patInjected:  {"\nSET injected pwned\r\n"},
	} {
		if pat&bit != 0 {
			parts = append(parts, s...)
		}
	}
	var b strings.Builder
	b.Grow(size)
	for i := 0; b.Len() < size; i++ {
		switch {
		case pat&patBinary != 0 && i%3 == 0:
			b.WriteByte(byte(i))
		case len(parts) > 0:
			b.WriteString(parts[i%len(parts)])
		default:
			b.WriteByte('a' + byte(i%26))
		}
	}
	v := b.String()[:size]
	if pat&patCRLF != 0 && size >= 2 {
		v = v[:size-2] + "\r\n"
	}
	return v
}

var (
	wireOnce sync.Once
	wireSrv  *redistest.Server
	wireErr  error
	wireIter atomic.Int64
)

// wireServer is one real redis-server for this process (fuzz workers each
// start their own), stopped by TestMain.
func wireServer(t *testing.T) *redistest.Server {
	wireOnce.Do(func() {
		if !redisserver.Installed() {
			wireErr = errNoRedisServer
			return
		}
		wireSrv, wireErr = redistest.StartReal(redistest.Options{})
	})
	switch {
	case errors.Is(wireErr, errNoRedisServer) && os.Getenv(redistest.RequireEnv) != "1":
		t.Skip("needs a real redis-server: the tracker is checked against the bare server")
	case wireErr != nil:
		t.Fatal(wireErr)
	}
	return wireSrv
}

var errNoRedisServer = errors.New("redis-server is not installed")

func TestMain(m *testing.M) {
	code := m.Run()
	if wireSrv != nil {
		wireSrv.Close()
	}
	os.Exit(code)
}

// wireRun is one program's run.
type wireRun struct {
	t      *testing.T
	ctx    context.Context
	admin  *redis.Client
	tr     *tracker
	prefix string

	mu        sync.Mutex
	tokens    []*Token // every token made, oldest first
	installed []*Token // those the server knows, oldest first
	pending   map[int][]int
	ios       int  // Writes and Reads so far
	quiet     bool // no retirement now (a subscription is open)
	rng       *rand.Rand

	dials      int64 // dials before the program ran
	dialErrors int64 // unknown-command errors of one dial's handshake

	values   map[string]string
	counters map[string]int64
	calls    map[string]int64 // commands the program sent, by name
}

func runWire(t *testing.T, srv *redistest.Server, program []byte) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// A hang is a failure the fuzzer must record with its input: crash with
	// every goroutine's stack.
	watchdog := time.AfterFunc(45*time.Second, func() {
		buf := make([]byte, 1<<20)
		os.Stderr.Write(buf[:runtime.Stack(buf, true)])
		panic(fmt.Sprintf("FuzzWire: program %x hung", program))
	})
	defer watchdog.Stop()
	p := &wireProgram{b: program}
	protocol := 3 - p.next(2)
	splitMode := p.next(3)
	h := fnv.New64a()
	h.Write(program)
	seed := h.Sum64()

	w := &wireRun{t: t, ctx: ctx, prefix: fmt.Sprintf("w%d", wireIter.Add(1)), pending: map[int][]int{},
		rng: rand.New(rand.NewPCG(seed, uint64(len(program)))), values: map[string]string{},
		counters: map[string]int64{}, calls: map[string]int64{}}
	w.admin = redis.NewClient(&redis.Options{Addr: srv.Addr, Protocol: 2, MaxRetries: -1})
	defer w.admin.Close()
	w.must(w.admin.FlushAll(ctx).Err())
	w.tr = newTracker(func() (cur, prev *Token) {
		w.mu.Lock()
		defer w.mu.Unlock()
		n := len(w.installed)
		if n < 2 {
			return w.installed[n-1], nil
		}
		return w.installed[n-1], w.installed[n-2]
	})
	w.newToken(true)
	defer w.dropUsers()

	client := redis.NewClient(&redis.Options{
		Addr: srv.Addr, Protocol: protocol, PoolSize: 3, PipelinePoolSize: -1,
		ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second,
		CredentialsProviderContext: func(context.Context) (string, string, error) {
			w.mu.Lock()
			defer w.mu.Unlock()
			user, pw := w.installed[len(w.installed)-1].BasicAuth()
			return user, pw, nil
		},
		Dialer: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return &splitConn{trackedConn: w.tr.wrap(c).(*trackedConn), w: w, mode: splitMode}, nil
		},
	})
	defer client.Close()
	// A dial's handshake draws errors of its own from Redis 7.0 (go-redis
	// sends CLIENT SETINFO, which it does not know): count them on a second
	// dial (the first also asks for maintenance notifications, once), to
	// expect as many for each later one.
	held := client.Conn()
	w.must(held.Ping(ctx).Err())
	before := w.errorReplies()
	w.must(client.Ping(ctx).Err())
	w.dialErrors = w.errorReplies() - before
	held.Close()
	w.must(w.admin.ConfigResetStat(ctx).Err())
	w.dials = w.tr.dials.Load()

	budget := 8 << 20
	for ops := 0; !p.done() && ops < 40; ops++ {
		w.op(client, p, &budget)
	}
	w.check()
}

func (w *wireRun) must(err error) {
	w.t.Helper()
	if err != nil {
		w.t.Fatal(err)
	}
}

// newToken makes a token with its own ACL user (installed: the server knows
// it) and returns it.
func (w *wireRun) newToken(installed bool) *Token {
	w.mu.Lock()
	n := len(w.tokens)
	tok := &Token{username: fmt.Sprintf("%s-u%d", w.prefix, n), token: fmt.Sprintf("%s-token-%d-%x", w.prefix, n, w.rng.Uint64()),
		ExpiresOn: time.Unix(1e9, 0).Add(time.Duration(n+1) * time.Hour)}
	w.tokens = append(w.tokens, tok)
	w.mu.Unlock()
	if installed {
		w.must(w.admin.Do(w.ctx, "ACL", "SETUSER", tok.username, "on", ">"+tok.token, "~*", "&*", "+@all").Err())
		w.mu.Lock()
		w.installed = append(w.installed, tok)
		w.mu.Unlock()
	}
	return tok
}

func (w *wireRun) dropUsers() {
	for _, tok := range w.tokens {
		w.admin.Do(context.Background(), "ACL", "DELUSER", tok.username)
	}
}

// fire runs an event (on the goroutine that is writing or reading, as the
// pool's re-authentication loop would run it concurrently).
func (w *wireRun) fire(ev int) {
	switch ev {
	case evRotate:
		w.tr.reauth(w.newToken(true))
	case evBogus:
		w.tr.reauth(w.newToken(false))
	case evRetire:
		w.mu.Lock()
		quiet, newest := w.quiet, w.installed[len(w.installed)-1]
		w.mu.Unlock()
		if !quiet {
			w.tr.retire(newest.ExpiresOn)
		}
	}
}

// io is called before each Write and Read: it fires the events due.
func (w *wireRun) io() {
	w.mu.Lock()
	w.ios++
	due := w.pending[w.ios]
	delete(w.pending, w.ios)
	w.mu.Unlock()
	for _, ev := range due {
		w.fire(ev)
	}
}

// splitConn cuts every Write and Read at random points, firing events in
// between, as go-redis's buffering and the scheduler may.
type splitConn struct {
	*trackedConn
	w    *wireRun
	mode int // 0: as go-redis writes; 1: mostly pieces of 1–64 bytes; 2: pieces of any size
}

func (s *splitConn) piece(n int) int {
	s.w.mu.Lock()
	defer s.w.mu.Unlock()
	switch {
	case n == 0 || s.mode == 0:
		return n
	case s.mode == 1 && s.w.rng.IntN(4) != 0:
		return min(n, 1+s.w.rng.IntN(64))
	}
	return 1 + s.w.rng.IntN(n)
}

func (s *splitConn) Write(b []byte) (int, error) {
	written := 0
	for written < len(b) {
		s.w.io()
		k := s.piece(len(b) - written)
		n, err := s.trackedConn.Write(b[written : written+k])
		written += n
		if err != nil {
			return written, err
		}
	}
	return written, nil
}

func (s *splitConn) Read(b []byte) (int, error) {
	s.w.io()
	return s.trackedConn.Read(b[:s.piece(len(b))])
}

func (w *wireRun) key(p *wireProgram) string     { return fmt.Sprintf("%s:k%d", w.prefix, p.next(6)) }
func (w *wireRun) counter(p *wireProgram) string { return fmt.Sprintf("%s:c%d", w.prefix, p.next(3)) }

// wireCmd is a command of the program with its expected reply.
type wireCmd struct {
	name  string
	args  []any
	want  any // string, int64, nil (missing key)
	apply func()
}

// sub reads a SET, GET or INCR of the given kind (0, 1, 2) and computes
// its reply from the model as if run now, updating the model.
func (w *wireRun) sub(kind int, p *wireProgram, budget *int, values map[string]string, counters map[string]int64) wireCmd {
	switch kind {
	case opSet:
		k, v := w.key(p), p.value(budget)
		values[k] = v
		return wireCmd{name: "set", args: []any{"SET", k, v}, want: "OK"}
	case opGet:
		k := w.key(p)
		if v, ok := values[k]; ok {
			return wireCmd{name: "get", args: []any{"GET", k}, want: v}
		}
		return wireCmd{name: "get", args: []any{"GET", k}}
	default:
		k := w.counter(p)
		counters[k]++
		return wireCmd{name: "incr", args: []any{"INCR", k}, want: counters[k]}
	}
}

// batch reads n sub-commands against a copy of the model; commit makes the
// copy the model once they ran.
func (w *wireRun) batch(p *wireProgram, budget *int) (cmds []wireCmd, commit func()) {
	values, counters := maps.Clone(w.values), maps.Clone(w.counters)
	for range 1 + p.next(8) {
		cmds = append(cmds, w.sub(p.next(3), p, budget, values, counters))
	}
	return cmds, func() {
		w.values, w.counters = values, counters
		for _, c := range cmds {
			w.calls[c.name]++
		}
	}
}

// expect checks a reply against the model.
func (w *wireRun) expect(c wireCmd, got any, err error) {
	w.t.Helper()
	if c.want == nil {
		if !errors.Is(err, redis.Nil) && (err != nil || got != nil) {
			w.t.Fatalf("%s %v: want nil, got %s %v", c.name, c.args[1], short(got), err)
		}
		return
	}
	if err != nil {
		w.t.Fatalf("%s %v: %v", c.name, c.args[1], err)
	}
	if fmt.Sprint(got) != fmt.Sprint(c.want) {
		w.t.Fatalf("%s %v: got %s, want %s: a reply for another command", c.name, c.args[1], short(got), short(c.want))
	}
}

func short(v any) string {
	s := fmt.Sprint(v)
	if len(s) > 60 {
		return fmt.Sprintf("%q…(%d bytes)", s[:60], len(s))
	}
	return fmt.Sprintf("%q", s)
}

// retiredBeforeSend reports whether err is a held connection's command
// refused because the pool had retired the connection: nothing was sent.
func retiredBeforeSend(err error) bool { return errors.Is(err, errRetired) }

func (w *wireRun) op(client *redis.Client, p *wireProgram, budget *int) {
	ctx := w.ctx
	switch op := p.next(opCount); op {
	case opSet, opGet, opIncr:
		c := w.sub(op, p, budget, w.values, w.counters)
		r := client.Do(ctx, c.args...)
		w.expect(c, r.Val(), r.Err())
		w.calls[c.name]++

	case opPipeline, opTx:
		cmds, commit := w.batch(p, budget)
		results := make([]*redis.Cmd, len(cmds))
		run := client.Pipelined
		if op == opTx {
			run = client.TxPipelined
			w.calls["multi"]++
			w.calls["exec"]++
		}
		_, _ = run(ctx, func(pipe redis.Pipeliner) error {
			for i, c := range cmds {
				results[i] = pipe.Do(ctx, c.args...)
			}
			return nil
		})
		for i, c := range cmds {
			w.expect(c, results[i].Val(), results[i].Err())
		}
		commit()

	case opConnMulti:
		cmds, commit := w.batch(p, budget)
		cn := client.Conn()
		defer cn.Close()
		if err := cn.Do(ctx, "MULTI").Err(); err != nil {
			if !retiredBeforeSend(err) {
				w.t.Fatalf("MULTI on a Conn: %v", err)
			}
			return
		}
		for _, c := range cmds {
			if got, err := cn.Do(ctx, c.args...).Result(); err != nil || got != "QUEUED" {
				w.t.Fatalf("%s in MULTI: %s %v", c.name, short(got), err)
			}
		}
		res, err := cn.Do(ctx, "EXEC").Slice()
		w.must(err)
		if len(res) != len(cmds) {
			w.t.Fatalf("EXEC: %d replies for %d commands", len(res), len(cmds))
		}
		for i, c := range cmds {
			w.expect(c, res[i], nil)
		}
		commit()
		w.calls["multi"]++
		w.calls["exec"]++

	case opWatch:
		k, v := w.key(p), p.value(budget)
		want, had := w.values[k]
		err := client.Watch(ctx, func(tx *redis.Tx) error {
			got, err := tx.Get(ctx, k).Result()
			if had {
				w.expect(wireCmd{name: "get", args: []any{"GET", k}, want: want}, got, err)
			} else {
				w.expect(wireCmd{name: "get", args: []any{"GET", k}}, nil, err)
			}
			_, err = tx.TxPipelined(ctx, func(pipe redis.Pipeliner) error {
				pipe.Set(ctx, k, v, 0)
				return nil
			})
			return err
		}, k)
		if retiredBeforeSend(err) {
			return
		}
		w.must(err)
		w.values[k] = v
		for _, name := range []string{"watch", "get", "multi", "set", "exec"} {
			w.calls[name]++
		}

	case opSubscribe:
		ch, v := w.prefix+":ch", p.value(budget)
		w.mu.Lock()
		w.quiet = true
		w.mu.Unlock()
		defer func() {
			w.mu.Lock()
			w.quiet = false
			w.mu.Unlock()
		}()
		ps := client.Subscribe(ctx, ch)
		defer ps.Close()
		_, err := ps.Receive(ctx)
		w.must(err)
		n, err := client.Publish(ctx, ch, v).Result()
		w.must(err)
		if n != 1 {
			w.t.Fatalf("PUBLISH reached %d subscribers, want 1", n)
		}
		msg, err := ps.ReceiveMessage(ctx)
		w.must(err)
		if msg.Payload != v {
			w.t.Fatalf("message: got %s, want %s", short(msg.Payload), short(v))
		}
		w.calls["subscribe"]++
		w.calls["publish"]++

	case opMSet:
		args := []any{}
		for range 1 + p.next(4) {
			k, v := w.key(p), p.value(budget)
			args = append(args, k, v)
		}
		w.must(client.MSet(ctx, args...).Err())
		for i := 0; i < len(args); i += 2 {
			w.values[args[i].(string)] = args[i+1].(string)
		}
		w.calls["mset"]++

	case opPing:
		w.must(client.Ping(ctx).Err())
		w.calls["ping"]++

	case opEvent:
		w.fire(p.next(evCount))

	case opEventAt:
		ev, at := p.next(evCount), 1+p.next(32)
		w.mu.Lock()
		w.pending[w.ios+at] = append(w.pending[w.ios+at], ev)
		w.mu.Unlock()
	}
}

// commandStats returns INFO commandstats as name → calls, failed and
// rejected calls.
func (w *wireRun) commandStats() map[string][3]int64 {
	info, err := w.admin.Info(w.ctx, "commandstats").Result()
	w.must(err)
	stats := map[string][3]int64{}
	sc := bufio.NewScanner(strings.NewReader(info))
	for sc.Scan() {
		name, fields, ok := strings.Cut(strings.TrimPrefix(sc.Text(), "cmdstat_"), ":")
		if !ok || strings.HasPrefix(sc.Text(), "#") {
			continue
		}
		var s [3]int64
		for _, f := range strings.Split(fields, ",") {
			k, v, _ := strings.Cut(f, "=")
			n, _ := strconv.ParseInt(v, 10, 64)
			switch k {
			case "calls":
				s[0] = n
			case "failed_calls":
				s[1] = n
			case "rejected_calls":
				s[2] = n
			}
		}
		stats[name] = s
	}
	return stats
}

// check compares the server with the program's model and the tracker.
func (w *wireRun) check() {
	t, ctx := w.t, w.ctx
	stats := w.commandStats()
	total := w.errorReplies()

	// 1. Exactly the commands sent, each once; no error but the ones caused.
	handshake := map[string]bool{"hello": true, "client|setinfo": true, "client|maint_notifications": true, "client": true}
	admin := map[string]bool{"acl|setuser": true, "acl": true, "info": true, "config|resetstat": true, "config": true}
	var failed int64
	for name, s := range stats {
		failed += s[1] + s[2]
		switch {
		case name == "auth", handshake[name], admin[name]:
		case s[0] != w.calls[name]:
			t.Fatalf("server ran %s %d times, the program sent it %d times", name, s[0], w.calls[name])
		case s[1]+s[2] != 0:
			t.Fatalf("server failed %d %s calls", s[1]+s[2], name)
		}
	}
	for name, n := range w.calls {
		if stats[name][0] != n {
			t.Fatalf("the program sent %s %d times, the server ran it %d times", name, n, stats[name][0])
		}
	}
	if handshakes := (w.tr.dials.Load() - w.dials) * w.dialErrors; total != failed+handshakes {
		es, _ := w.admin.Info(ctx, "errorstats").Result()
		t.Fatalf("server sent %d error replies, %d of them for commands it does not know (a value run as commands?): %s",
			total, total-failed-handshakes, es)
	}
	if n, _ := w.admin.DBSize(ctx).Result(); n != int64(len(w.values)+len(w.counters)) {
		t.Fatalf("server holds %d keys, the program wrote %d", n, len(w.values)+len(w.counters))
	}
	for k, v := range w.values {
		got, err := w.admin.Get(ctx, k).Result()
		w.must(err)
		if got != v {
			t.Fatalf("value of %s: got %s, want %s", k, short(got), short(v))
		}
	}
	for k, n := range w.counters {
		got, err := w.admin.Get(ctx, k).Int64()
		w.must(err)
		if got != n {
			t.Fatalf("counter %s = %d, the program incremented it %d times", k, got, n)
		}
	}

	// 3. Re-authenticated only when the server said OK.
	auth := stats["auth"]
	if got, want := w.tr.authFailed.Load(), auth[1]+auth[2]; got != want {
		t.Fatalf("tracker counted %d failed AUTHs, server refused %d", got, want)
	}
	if got, want := w.tr.reauths.Load(), auth[0]-auth[1]-auth[2]; got != want {
		t.Fatalf("tracker counted %d re-authentications, server accepted %d AUTHs", got, want)
	}
	users := map[string]string{} // client port → user
	list, err := w.admin.ClientList(ctx).Result()
	w.must(err)
	for _, line := range strings.Split(list, "\n") {
		var addr, user string
		for _, f := range strings.Fields(line) {
			k, v, _ := strings.Cut(f, "=")
			switch k {
			case "addr":
				addr = v
			case "user":
				user = v
			}
		}
		users[addr] = user
	}
	for _, c := range w.tr.all() {
		c.mu.Lock()
		until, broken := c.authUntil, c.broken
		c.mu.Unlock()
		if broken {
			t.Fatalf("a connection's stream could not be framed")
		}
		if until.IsZero() || c.closed.Load() {
			continue
		}
		var want string
		for _, tok := range w.tokens {
			if tok.ExpiresOn.Equal(until) {
				want = tok.username
			}
		}
		if got := users[c.LocalAddr().String()]; got != want {
			t.Fatalf("connection %s: tracker says user %q, server says %q", c.LocalAddr(), want, got)
		}
	}
	if d := w.tr.drops.Load(); d != 0 {
		t.Fatalf("%d connections dropped", d)
	}
}

// errorReplies returns how many error replies the server sent since its
// statistics were reset.
func (w *wireRun) errorReplies() int64 {
	info, err := w.admin.Info(w.ctx, "stats").Result()
	w.must(err)
	for _, line := range strings.Split(info, "\r\n") {
		if v, ok := strings.CutPrefix(line, "total_error_replies:"); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			w.must(err)
			return n
		}
	}
	w.t.Fatal("INFO stats has no total_error_replies")
	return 0
}
