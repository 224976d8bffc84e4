"""A minimal Redis client (RESP2) for the local servers: enough to send commands and read replies."""

from __future__ import annotations

import socket


class RedisError(Exception):
    pass


class Resp:
    def __init__(self, port: int, password: str | None = None, timeout: float = 5.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.reader = self.sock.makefile("rb")
        if password is not None:
            self.call("AUTH", "default", password)

    def send(self, *args: str | bytes | int) -> None:
        out = [f"*{len(args)}\r\n".encode()]
        for arg in args:
            data = arg if isinstance(arg, bytes) else str(arg).encode()
            out.append(b"$%d\r\n%s\r\n" % (len(data), data))
        self.sock.sendall(b"".join(out))

    def read(self):
        line = self.reader.readline()
        if not line:
            raise ConnectionError("connection closed")
        kind, rest = line[:1], line[1:-2]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            raise RedisError(rest.decode())
        if kind == b":":
            return int(rest)
        if kind == b"$":
            size = int(rest)
            if size < 0:
                return None
            data = self.reader.read(size + 2)[:-2]
            return data.decode()
        if kind == b"*":
            return [self.read() for _ in range(int(rest))]
        raise RedisError(f"unexpected reply {line!r}")

    def call(self, *args: str | bytes | int):
        self.send(*args)
        return self.read()

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass
