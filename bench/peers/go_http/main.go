// Go net/http peer of bench_http (standard library only): N GETs of
// http://127.0.0.1:PORT/ from C goroutines sharing one Transport
// (MaxIdleConnsPerHost = C, so every goroutine keeps its connection).
// Prints NAME_wall_s, NAME_vs_ideal (delay > 0), NAME_req_per_s and
// NAME_cpu_us_per_req, as bench_http does.
//
// Usage: go_http_bench [-r N] [-c C] [-delay-ms D] [-name NAME] PORT
package main

import (
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

func cpuSeconds() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Utime.Sec+ru.Stime.Sec) + float64(ru.Utime.Usec+ru.Stime.Usec)/1e6
}

func main() {
	r := flag.Int("r", 20000, "total requests")
	c := flag.Int("c", 200, "requests at once")
	delayMs := flag.Int("delay-ms", 10, "server delay per request, for the ideal time")
	name := flag.String("name", "http_latency", "figure name prefix")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: go_http_bench [-r N] [-c C] [-delay-ms D] [-name NAME] PORT")
		os.Exit(2)
	}
	url := "http://127.0.0.1:" + flag.Arg(0) + "/"
	tr := &http.Transport{MaxIdleConns: *c, MaxIdleConnsPerHost: *c}
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	var next, ok int64
	var wg sync.WaitGroup
	t0, c0 := time.Now(), cpuSeconds()
	for i := 0; i < *c; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for atomic.AddInt64(&next, 1) <= int64(*r) {
				resp, err := client.Get(url)
				if err != nil {
					fmt.Fprintln(os.Stderr, "go_http_bench:", err)
					os.Exit(1)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode == 200 {
					atomic.AddInt64(&ok, 1)
				}
			}
		}()
	}
	wg.Wait()
	wall, cpu := time.Since(t0).Seconds(), cpuSeconds()-c0
	if ok != int64(*r) {
		fmt.Fprintf(os.Stderr, "go_http_bench: %d of %d answered 200\n", ok, *r)
		os.Exit(1)
	}
	fmt.Printf("%s_wall_s %.3f s\n", *name, wall)
	if *delayMs > 0 {
		ideal := float64((*r+*c-1) / *c) * float64(*delayMs) / 1000
		fmt.Printf("%s_vs_ideal %.3f x\n", *name, wall/ideal)
	}
	fmt.Printf("%s_req_per_s %.3f req/s\n", *name, float64(*r)/wall)
	fmt.Printf("%s_cpu_us_per_req %.3f us\n", *name, cpu*1e6/float64(*r))
}
