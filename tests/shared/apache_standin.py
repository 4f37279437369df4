#!/usr/bin/env python3
"""The engine's Apache as its hosts see it, for tests and the benchmark: HTTPS on 127.0.0.1 with
a certificate the engine's CA signed, serving a document root as static files.

What the real one does and this one models:
- engine-setup's Apache ssl plugin (ovirt-engine 4.3, packaging/setup/plugins/ovirt-engine-setup/
  ovirt-engine-common/apache/ssl.py) makes mod_ssl serve with /etc/pki/ovirt-engine/certs/apache.cer,
  signed by the engine CA (/etc/pki/ovirt-engine/ca.pem, the CA each host also has as
  /etc/pki/vdsm/certs/cacert.pem);
- CentOS 7's httpd.conf serves DocumentRoot /var/www/html with "Options Indexes FollowSymLinks",
  so /ovirt-airgap/current/... follows the `current` symbolic link the applier switches;
- GET and HEAD, 404 for what is missing, one thread per connection (the prefork/worker MPMs
  serve clients in parallel).

Usage: apache_standin.py --docroot DIR --cert CERT --key KEY --port-file FILE [--log FILE]
The port file is written once the server listens; each request is appended to --log as
"METHOD PATH STATUS".
"""
import argparse
import http.server
import os
import ssl
import sys
import threading

LOG_LOCK = threading.Lock()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--docroot", required=True)
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--port-file", required=True)
    p.add_argument("--log")
    a = p.parse_args()

    class Handler(http.server.SimpleHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=a.docroot, **kwargs)

        def log_request(self, code="-", size="-"):
            if a.log:
                with LOG_LOCK, open(a.log, "a") as f:
                    f.write(f"{self.command} {self.path} {code}\n")

        def log_message(self, *args):
            pass

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(a.cert, a.key)

    class Server(http.server.ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 128

        def get_request(self):
            sock, addr = self.socket.accept()
            return ctx.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), addr

        def finish_request(self, request, client_address):
            # The handshake in the connection's own thread: a slow or refusing client (one that
            # does not trust the certificate) holds up no one else.
            try:
                request.do_handshake()
            except (ssl.SSLError, OSError):
                return
            super().finish_request(request, client_address)

        def handle_error(self, request, client_address):
            pass  # a client that went away mid-transfer

    server = Server(("127.0.0.1", 0), Handler)
    tmp = a.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(server.server_address[1]))
    os.rename(tmp, a.port_file)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
