#!/usr/bin/python3
"""Stand-in HTTP/1.1 server for testing the peers' io_batch clients.

Answers every request (keep-alive) after --delay-ms (default 10 ms) with
`200 OK`, a couple of extra headers and the 2-byte body "ok", like
bench_http_server. Requests are assumed to have no body. asyncio Protocol +
call_later, so one event loop can serve ~20k req/s; on a small machine it
can still be the bottleneck, so prefer the real server for measurements.

Usage: /usr/bin/python3 test_server.py [--port P] [--delay-ms D]
Prints the port it listens on (useful with --port 0) on stdout.
"""
import argparse
import asyncio

RESPONSE = (b"HTTP/1.1 200 OK\r\nServer: peers-test\r\nContent-Type: text/plain\r\n"
            b"Content-Length: 2\r\nConnection: keep-alive\r\n\r\nok")


class Http(asyncio.Protocol):
    def __init__(self, delay):
        self.delay = delay
        self.buf = b""

    def connection_made(self, transport):
        self.transport = transport
        self.loop = asyncio.get_running_loop()

    def data_received(self, data):
        self.buf += data
        while (end := self.buf.find(b"\r\n\r\n")) >= 0:
            head, self.buf = self.buf[:end], self.buf[end + 4:]
            ok = head.startswith(b"GET ") and b" HTTP/1.1" in head.split(b"\r\n", 1)[0]
            self.loop.call_later(self.delay, self.respond, ok)

    def respond(self, ok):
        if self.transport.is_closing():
            return
        if ok:
            self.transport.write(RESPONSE)
        else:
            self.transport.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
            self.transport.close()


async def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=8080)
    ap.add_argument("--delay-ms", type=float, default=10.0)
    a = ap.parse_args()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: Http(a.delay_ms / 1000), "127.0.0.1", a.port,
                                      backlog=4096, reuse_address=True)
    print(server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
