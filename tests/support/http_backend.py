#!/usr/bin/env python3
"""The lab's HTTP backend: serves DIR on PORT over IPv4 and IPv6, a thread per connection, with a
deep accept queue. `python3 -m http.server` listens with a backlog of 5: under the probers'
100 connects/s per address a slow moment of the interpreter filled it, and the kernel dropped
SYNs — lost requests that were the backend's, not the announcement's.
Usage: http_backend.py PORT DIR"""
import functools
import http.server
import socket
import sys


class Server(http.server.ThreadingHTTPServer):
    address_family = socket.AF_INET6
    request_queue_size = 1024
    daemon_threads = True

    def server_bind(self):
        self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        super().server_bind()


handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=sys.argv[2])
Server(("::", int(sys.argv[1])), handler).serve_forever()
