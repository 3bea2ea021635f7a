#!/usr/bin/env python3
"""A scripted HTTP server for tests/cli/test_fetch.sh. It prints its port,
appends every request's path to the log file given as argv[1], and answers:
  /status/N            status N, body "status N"
  /flaky/K/N/AFTER     for this path's first K requests status N (with
                       Retry-After: AFTER unless AFTER is "-"), then 200
  /redirect/N          302 to /redirect/N-1, /redirect/0 says "landed"
  /slow/MS/ANY         waits MS ms, then 200 with body the path
  /echo-all[?QUERY]    any method: 200 with the request as JSON (method,
                       path with its query, headers by lower-case name,
                       body); a HEAD gets its headers only and is
                       logged as "HEAD PATH"
  /set-cookie/NAME=V   302 to /echo-all, Set-Cookie: NAME=V; Path=/
  anything else        200 with body the path (POST, PUT: "METHOD X-Test
                       BODY")
"""
import http.server, json, sys, threading, time

log = open(sys.argv[1], "a", buffering=1)
lock = threading.Lock()
counts = {}

class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a):
        pass
    def answer(self, code, body, headers=()):
        body = body.encode()
        self.send_response(code)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def echo_all(self):
        n = int(self.headers.get("Content-Length", "0"))
        data = self.rfile.read(n).decode("latin-1")
        with lock:
            log.write(("HEAD " if self.command == "HEAD" else "") + self.path + "\n")
        body = json.dumps({"method": self.command, "path": self.path,
                           "headers": {k.lower(): v for k, v in self.headers.items()},
                           "body": data})
        if self.command == "HEAD":
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
        else:
            self.answer(200, body)
    def do_GET(self):
        p = self.path
        if p.startswith("/echo-all"):
            return self.echo_all()
        if p.startswith("/set-cookie/"):
            return self.answer(302, "", [("Set-Cookie", p[len("/set-cookie/"):] + "; Path=/"),
                                         ("Location", "/echo-all")])
        with lock:
            log.write(p + "\n")
            counts[p] = counts.get(p, 0) + 1
            n = counts[p]
        part = p.split("/")
        if p.startswith("/status/"):
            self.answer(int(part[2]), "status %s" % part[2])
        elif p.startswith("/flaky/"):
            k, code, after = int(part[2]), int(part[3]), part[4]
            if n <= k:
                h = [] if after == "-" else [("Retry-After", after)]
                self.answer(code, "try again", h)
            else:
                self.answer(200, "fine after %d" % n)
        elif p.startswith("/redirect/"):
            left = int(part[2])
            if left > 0:
                self.answer(302, "", [("Location", "/redirect/%d" % (left - 1))])
            else:
                self.answer(200, "landed")
        elif p.startswith("/slow/"):
            time.sleep(int(part[2]) / 1000.0)
            self.answer(200, p + "\n")
        else:
            self.answer(200, p + "\n")
    def do_POST(self):
        if self.path.startswith("/echo-all"):
            return self.echo_all()
        n = int(self.headers.get("Content-Length", "0"))
        data = self.rfile.read(n).decode()
        with lock:
            log.write(self.path + "\n")
        self.answer(200, "%s %s %s" % (self.command, self.headers.get("X-Test", "-"), data))
    do_PUT = do_POST
    do_HEAD = echo_all

class S(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256
    def handle_error(self, request, addr):
        pass  # clients killed mid-answer (the kill -9 test) are expected

srv = S(("127.0.0.1", 0), H)
print("port %d" % srv.server_address[1], flush=True)
srv.serve_forever()
