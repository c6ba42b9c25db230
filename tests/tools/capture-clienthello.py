#!/usr/bin/env python3
"""capture-clienthello.py: the first flight a real TLS client sends.

    capture-clienthello.py OUT COMMAND [ARG...]
    capture-clienthello.py OUT --python-ssl SERVER_NAME [ALPN...]

Listens on a loopback port the system chooses, runs COMMAND with every
"{port}" in its arguments replaced by that port, accepts one connection,
keeps what the client sends until it has been quiet for half a second, writes
it to OUT and closes, so the client gives up before any handshake completes.
With --python-ssl, the client is Python's own ssl module. Nothing answers the
client: there is no server certificate or key to keep.

Exits 0 when something was captured, 1 when the client did not connect or
sent nothing, 2 on a usage error.
"""

import os
import select
import socket
import ssl
import subprocess
import sys
import time

CONNECT_WAIT = 10.0	# seconds a client may take to start and connect
QUIET_END = 0.5		# seconds of silence that end the first flight
MAX_BYTES = 16384	# TLSHELLO_MAX: the parser never looks further


def python_ssl_client(port, server_name, alpn):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if alpn:
        ctx.set_alpn_protocols(alpn)
    with socket.create_connection(("127.0.0.1", port), timeout=CONNECT_WAIT) as sock:
        try:
            with ctx.wrap_socket(sock, server_hostname=server_name):
                pass
        except (ssl.SSLError, OSError):
            pass	# the listener hangs up: expected
    return 0


def read_first_flight(conn):
    data = b""
    deadline = time.monotonic() + CONNECT_WAIT
    while len(data) < MAX_BYTES:
        wait = QUIET_END if data else deadline - time.monotonic()
        if wait <= 0:
            break
        ready, _, _ = select.select([conn], [], [], wait)
        if not ready:
            break
        chunk = conn.recv(MAX_BYTES - len(data))
        if not chunk:
            break
        data += chunk
    return data


def stop(client):
    if client.poll() is None:
        client.terminate()
        try:
            client.wait(timeout=2)
        except subprocess.TimeoutExpired:
            client.kill()
            client.wait()


def main(argv):
    if len(argv) < 3:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    out, command = argv[1], argv[2:]
    if command[0] == "--connect":
        return python_ssl_client(int(command[1]), command[2], command[3:])

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]
    if command[0] == "--python-ssl":
        if len(command) < 2:
            return 2
        command = [sys.executable, os.path.abspath(__file__), out,
                   "--connect", "{port}"] + command[1:]
    command = [arg.replace("{port}", str(port)) for arg in command]

    try:
        client = subprocess.Popen(command, stdin=subprocess.DEVNULL,
                                  stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
    except OSError as err:
        print(f"capture-clienthello: {command[0]}: {err}", file=sys.stderr)
        return 1
    data = b""
    try:
        listener.settimeout(CONNECT_WAIT)
        conn, _ = listener.accept()
        with conn:
            data = read_first_flight(conn)
    except socket.timeout:
        print(f"capture-clienthello: {command[0]} did not connect",
              file=sys.stderr)
    finally:
        listener.close()
        stop(client)
    if not data:
        return 1
    with open(out, "wb") as f:
        f.write(data)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
