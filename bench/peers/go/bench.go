// Go peer benchmark for eventor (standard library only).
//
// Measures, with goroutines:
//
//	switch    two goroutines ping-pong N round trips over unbuffered channels
//	          -> switch_ns (ns per one-direction switch; a round trip is 2)
//	spawn     go f() + sync.WaitGroup, N goroutines in batches of 1000
//	          -> spawn_join_ns (ns per goroutine)
//	sleepers  N goroutines alive at once, each time.Sleep(1s), then all joined
//	          -> sleepers_wall_s, sleepers_rss_kib_per_co, sleepers_n
//	io_batch  R keep-alive HTTP/1.1 GETs over C connections (one goroutine
//	          per connection, R/C sequential requests each) to 127.0.0.1:PORT
//	          -> io_batch_wall_s, io_batch_vs_ideal (ideal = R/C * delay)
//
// Scheduler: switch/spawn/sleepers run with GOMAXPROCS=1 (one OS thread
// running Go code, like the other single-threaded peers); io_batch keeps the
// runtime default (all cores). Override with -procs P.
// io_batch uses raw net.Conn + bufio (not net/http) so it does the same work
// as the other peers' clients: write a request, parse status line, headers,
// Content-Length and body.
//
// Usage: bench [-n N] [-procs P] [-sleep-ms MS] switch|spawn|sleepers
//
//	bench [-r R] [-c C] [-delay-ms D] [-procs P] io_batch PORT
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
)

func die(format string, a ...interface{}) {
	fmt.Fprintf(os.Stderr, "go bench: "+format+"\n", a...)
	os.Exit(1)
}

// procStatusKiB returns a "Vm...:" field of /proc/self/status in KiB.
func procStatusKiB(field string) int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		die("read /proc/self/status: %v", err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, field+":") {
			f := strings.Fields(line[len(field)+1:])
			v, _ := strconv.ParseInt(f[0], 10, 64)
			return v
		}
	}
	die("%s not found in /proc/self/status", field)
	return 0
}

func benchSwitch(n int) {
	ping, pong := make(chan struct{}), make(chan struct{})
	go func() {
		for range ping {
			pong <- struct{}{}
		}
	}()
	t0 := time.Now()
	for i := 0; i < n; i++ {
		ping <- struct{}{}
		<-pong
	}
	el := time.Since(t0)
	close(ping)
	fmt.Printf("switch_ns %.2f ns\n", float64(el.Nanoseconds())/float64(2*n))
}

func noop(wg *sync.WaitGroup) { wg.Done() }

func benchSpawn(n int) {
	const batch = 1000
	var wg sync.WaitGroup
	t0 := time.Now()
	for done := 0; done < n; {
		b := batch
		if n-done < b {
			b = n - done
		}
		wg.Add(b)
		for i := 0; i < b; i++ {
			go noop(&wg)
		}
		wg.Wait()
		done += b
	}
	el := time.Since(t0)
	fmt.Printf("spawn_join_ns %.2f ns\n", float64(el.Nanoseconds())/float64(n))
}

func benchSleepers(n int, sleep time.Duration) {
	var wg sync.WaitGroup
	base := procStatusKiB("VmRSS")
	t0 := time.Now()
	wg.Add(n)
	for i := 0; i < n; i++ {
		go func() {
			time.Sleep(sleep)
			wg.Done()
		}()
	}
	spawned := time.Since(t0)
	fmt.Fprintf(os.Stderr, "spawned %d sleepers in %.3f s (all alive at once: %v)\n",
		n, spawned.Seconds(), spawned < sleep)
	wg.Wait()
	el := time.Since(t0)
	peak := procStatusKiB("VmHWM")
	fmt.Printf("sleepers_n %d count\n", n)
	fmt.Printf("sleepers_wall_s %.3f s\n", el.Seconds())
	fmt.Printf("sleepers_rss_kib_per_co %.3f KiB\n", float64(peak-base)/float64(n))
}

// client does `reqs` sequential keep-alive GETs on one connection.
func client(addr string, reqs int) error {
	conn, err := net.Dial("tcp", addr) // Go sets TCP_NODELAY by default
	if err != nil {
		return err
	}
	defer conn.Close()
	req := []byte("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
	r := bufio.NewReaderSize(conn, 4096)
	for i := 0; i < reqs; i++ {
		if _, err := conn.Write(req); err != nil {
			return err
		}
		line, err := r.ReadSlice('\n')
		if err != nil {
			return fmt.Errorf("status line: %w", err)
		}
		// "HTTP/1.1 200 OK\r\n"
		f := bytes.Fields(line)
		if len(f) < 2 || !bytes.HasPrefix(f[0], []byte("HTTP/1.")) {
			return fmt.Errorf("bad status line %q", line)
		}
		if !bytes.Equal(f[1], []byte("200")) {
			return fmt.Errorf("status %s", f[1])
		}
		clen := -1
		for {
			h, err := r.ReadSlice('\n')
			if err != nil {
				return fmt.Errorf("header: %w", err)
			}
			h = bytes.TrimRight(h, "\r\n")
			if len(h) == 0 {
				break
			}
			colon := bytes.IndexByte(h, ':')
			if colon < 0 {
				return fmt.Errorf("bad header %q", h)
			}
			if strings.EqualFold(string(h[:colon]), "content-length") {
				clen, err = strconv.Atoi(string(bytes.TrimSpace(h[colon+1:])))
				if err != nil || clen < 0 {
					return fmt.Errorf("bad content-length %q", h)
				}
			}
		}
		if clen < 0 {
			return fmt.Errorf("response without Content-Length")
		}
		if _, err := r.Discard(clen); err != nil {
			return fmt.Errorf("body: %w", err)
		}
	}
	return nil
}

func benchIO(port string, total, conns int, delay time.Duration) {
	if total%conns != 0 {
		die("-r %d must be a multiple of -c %d", total, conns)
	}
	addr := net.JoinHostPort("127.0.0.1", port)
	per := total / conns
	errs := make(chan error, conns)
	var wg sync.WaitGroup
	t0 := time.Now()
	wg.Add(conns)
	for i := 0; i < conns; i++ {
		go func() {
			defer wg.Done()
			if err := client(addr, per); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	el := time.Since(t0)
	close(errs)
	if err, failed := <-errs; failed {
		die("io_batch: %v", err)
	}
	ideal := time.Duration(per) * delay
	fmt.Printf("io_batch_wall_s %.3f s\n", el.Seconds())
	fmt.Printf("io_batch_vs_ideal %.3f x\n", el.Seconds()/ideal.Seconds())
}

func main() {
	n := flag.Int("n", 0, "iterations / coroutine count (0 = workload default)")
	procs := flag.Int("procs", -1, "GOMAXPROCS (-1 = 1 for switch/spawn/sleepers, runtime default for io_batch)")
	r := flag.Int("r", 20000, "io_batch: total requests")
	c := flag.Int("c", 200, "io_batch: concurrent connections")
	delayMs := flag.Int("delay-ms", 10, "io_batch: server delay per request, for the ideal time")
	sleepMs := flag.Int("sleep-ms", 1000, "sleepers: how long each goroutine sleeps")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: bench [-n N] [-procs P] [-sleep-ms MS] switch|spawn|sleepers\n       bench [-r R] [-c C] [-delay-ms D] [-procs P] io_batch PORT")
		flag.PrintDefaults()
	}
	// Accept flags before and after the subcommand / PORT.
	var args []string
	for rest := os.Args[1:]; ; {
		flag.CommandLine.Parse(rest)
		if rest = flag.Args(); len(rest) == 0 {
			break
		}
		args, rest = append(args, rest[0]), rest[1:]
	}
	if len(args) < 1 {
		flag.Usage()
		os.Exit(2)
	}
	def := func(d int) int {
		if *n > 0 {
			return *n
		}
		return d
	}
	setProcs := func(d int) {
		if *procs >= 0 {
			d = *procs
		}
		if d > 0 {
			runtime.GOMAXPROCS(d)
		}
		fmt.Fprintf(os.Stderr, "GOMAXPROCS=%d\n", runtime.GOMAXPROCS(0))
	}
	switch args[0] {
	case "switch":
		setProcs(1)
		benchSwitch(def(10_000_000))
	case "spawn":
		setProcs(1)
		benchSpawn(def(1_000_000))
	case "sleepers":
		setProcs(1)
		benchSleepers(def(1_000_000), time.Duration(*sleepMs)*time.Millisecond)
	case "io_batch":
		if len(args) < 2 {
			die("io_batch needs PORT")
		}
		setProcs(0)
		benchIO(args[1], *r, *c, time.Duration(*delayMs)*time.Millisecond)
	default:
		flag.Usage()
		os.Exit(2)
	}
}
