#!/usr/bin/env python3
"""A counting HTTP proxy in front of an S3 endpoint, to measure what mreg costs in requests.

    python3 scripts/s3-request-count.py UPSTREAM_URL COUNTS_FILE
        prints the port it listens on (127.0.0.1), forwards every request unchanged (the Host
        header too, so Signature V4 still checks), and after each request rewrites COUNTS_FILE
        with one line per kind: "GET object 12", "GET list 1", "HEAD object 1", ...

Point mreg at it with AWS_ENDPOINT_URL=http://127.0.0.1:PORT and path-style addressing (the
default for a non-AWS endpoint). Stop it by its PID.
"""
import http.client
import http.server
import sys
import threading
import urllib.parse
from collections import Counter

upstream = urllib.parse.urlsplit(sys.argv[1])
counts_file = sys.argv[2]
counts = Counter()
lock = threading.Lock()


def kind(method, path):
    query = urllib.parse.urlsplit(path).query
    params = urllib.parse.parse_qs(query, keep_blank_values=True)
    if "list-type" in params:
        return "list"
    if "uploads" in params or "uploadId" in params:
        return "multipart"
    return "object"


class Proxy(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def forward(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        conn = http.client.HTTPConnection(upstream.hostname, upstream.port, timeout=120)
        conn.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
        for name, value in self.headers.items():
            conn.putheader(name, value)
        conn.endheaders(body)
        answer = conn.getresponse()
        data = answer.read()
        self.send_response_only(answer.status, answer.reason)
        for name, value in answer.getheaders():
            if name.lower() not in ("content-length", "transfer-encoding", "connection"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        conn.close()
        with lock:
            counts["%s %s" % (self.command, kind(self.command, self.path))] += 1
            with open(counts_file, "w") as f:
                for k in sorted(counts):
                    f.write("%s %d\n" % (k, counts[k]))

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = forward


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
print(server.server_port, flush=True)
server.serve_forever()
