#!/usr/bin/env python3
"""A yum mirror on 127.0.0.1 that stalls: the first STALLS requests of a path ending in SUFFIX
get their headers (with the full Content-Length) and half of the body, then nothing for
--stall-seconds, then the connection closes. What a user meets behind an overloaded mirror or a
dying link: the transfer is neither failed nor moving. Every other request is served from ROOT
as a plain static file server would (GET and HEAD, Content-Length, one request per connection).

    stalling_mirror.py ROOT --suffix .rpm --stalls 1 --port-file F --log L

The port is written to F (atomically) once the server listens; each GET path is appended to L.
"""
import argparse
import http.server
import os
import threading
import time
import urllib.parse


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("root")
    ap.add_argument("--suffix", default=".rpm")
    ap.add_argument("--stalls", type=int, default=1)
    ap.add_argument("--stall-seconds", type=float, default=60)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log", required=True)
    args = ap.parse_args()
    lock = threading.Lock()
    state = {"stalled": 0}

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"

        def log_message(self, *a):
            pass

        def file(self):
            path = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path)
            if ".." in path.split("/"):
                return path, None
            full = os.path.join(args.root, path.lstrip("/"))
            return path, full if os.path.isfile(full) else None

        def headers_for(self, size):
            self.send_response(200)
            self.send_header("Content-Length", str(size))
            self.send_header("Content-Type", "application/octet-stream")
            self.end_headers()

        def do_HEAD(self):
            _, full = self.file()
            if not full:
                return self.send_error(404)
            self.headers_for(os.path.getsize(full))

        def do_GET(self):
            path, full = self.file()
            with lock:
                with open(args.log, "a") as log:
                    log.write(path + "\n")
                stall = path.endswith(args.suffix) and state["stalled"] < args.stalls
                if stall:
                    state["stalled"] += 1
            if not full:
                return self.send_error(404)
            with open(full, "rb") as f:
                data = f.read()
            self.headers_for(len(data))
            if stall:
                self.wfile.write(data[: len(data) // 2])
                self.wfile.flush()
                time.sleep(args.stall_seconds)
                return
            self.wfile.write(data)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(server.server_address[1]))
    os.rename(tmp, args.port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
