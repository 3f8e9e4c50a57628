#!/usr/bin/env python3
"""A TCP relay in front of a real server for the tests: it only forwards bytes, so every answer a
client sees is the server's. Prints "ready" once listening.

  relay.py PORT BACKEND_HOST:PORT                      forward
  relay.py PORT BACKEND --tls CRT KEY                  terminate TLS with this certificate
  relay.py PORT BACKEND --cut-first-completion         drop the server's answer to the first S3
                                                       CompleteMultipartUpload (POST ...?uploadId=) and
                                                       close that connection: the upload is complete,
                                                       the client never hears it
"""
import argparse
import socket
import ssl
import threading

ap = argparse.ArgumentParser()
ap.add_argument("port", type=int)
ap.add_argument("backend")
ap.add_argument("--tls", nargs=2, metavar=("CRT", "KEY"))
ap.add_argument("--cut-first-completion", action="store_true")
args = ap.parse_args()
host, bport = args.backend.rsplit(":", 1)
ctx = None
if args.tls:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(*args.tls)
cut = threading.Event()  # set once a completion's answer was dropped


def close(*socks):
    for s in socks:
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        s.close()


def serve(raw):
    try:
        c = ctx.wrap_socket(raw, server_side=True) if ctx else raw
    except (ssl.SSLError, OSError):
        raw.close()  # a client that refused our certificate
        return
    u = socket.create_connection((host, int(bport)))
    state = {"drop": False}

    def up():  # client -> server; notes a CompleteMultipartUpload
        try:
            while (d := c.recv(65536)):
                if (args.cut_first_completion and not cut.is_set() and d.startswith(b"POST ")
                        and b"uploadId=" in d.split(b"\r\n", 1)[0]):
                    state["drop"] = True
                u.sendall(d)
        except OSError:
            pass
        if not args.cut_first_completion:
            close(u)

    threading.Thread(target=up, daemon=True).start()
    try:
        while (d := u.recv(65536)):
            if state["drop"] and not cut.is_set():
                cut.set()  # the server has answered: the object is complete; the client never hears it
                print("cut the answer to a completion:", d.split(b"\r\n", 1)[0].decode(), flush=True)
                break
            c.sendall(d)
    except OSError:
        pass
    close(c, u)


listener = socket.create_server(("127.0.0.1", args.port))
print("ready", flush=True)
while True:
    s, _ = listener.accept()
    threading.Thread(target=serve, args=(s,), daemon=True).start()
