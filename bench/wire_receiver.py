"""A minimal HTTP/1.1 webhook receiver for the dispatch benchmark, run as its own process.

It answers every POST with 204 and counts each ``webhook-id`` it receives; ``GET /ids``
returns those counts as JSON, ``GET /received`` only how many POSTs came (a few bytes: what
the bench polls while messages arrive; the /ids document grows with every id), ``GET
/arrivals?from=N`` the wall-clock times at which the POSTs came, from the N-th on. It does as
little as a receiver can (an asyncio protocol reading the two headers it needs from the bytes,
no HTTP framework, no signature check: tests/chaos checks signatures), so that the figures
measure the sender, on a 2-core machine where the receiver's CPU is taken from the dispatcher's.
Prints its port on the first line of stdout, then serves until killed.

    python3 bench/wire_receiver.py [--port 0]
"""

import argparse
import asyncio
import json
import time
from collections import Counter

NO_CONTENT = b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n"
END_OF_HEAD = b"\r\n\r\n"


def header(head, lowered, name):
    """The value of header ``name`` (lower-case bytes, with its colon) in ``head``, or b"" (names are
    found in ``lowered``, the head in lower case, values read from ``head``: ids keep their case)."""
    start = lowered.find(b"\r\n" + name)
    if start < 0:
        return b""
    start += 2 + len(name)
    end = head.find(b"\r\n", start)
    return head[start : end if end >= 0 else len(head)].strip()


class WireReceiver:
    def __init__(self):
        self.counts = Counter()
        self.arrivals = []  # time.time() of each POST

    def answer(self, head, lowered):
        if head.startswith(b"POST"):
            self.counts[header(head, lowered, b"webhook-id:").decode("latin-1") or None] += 1
            self.arrivals.append(time.time())
            return NO_CONTENT
        target = head.split(b" ", 2)[1].decode("latin-1")
        if target.startswith("/ids"):
            return json_answer(self.counts)
        if target.startswith("/received"):
            return json_answer(len(self.arrivals))
        if target.startswith("/arrivals?from="):
            return json_answer(self.arrivals[int(target.partition("=")[2]) :])
        return b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"


class Connection(asyncio.Protocol):
    """One client connection: requests are answered in the order they arrive (keep-alive)."""

    def __init__(self, receiver):
        self.receiver = receiver
        self.buffer = b""

    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        self.buffer += data
        answers = []
        while (end := self.buffer.find(END_OF_HEAD)) >= 0:
            head = self.buffer[:end]
            lowered = head.lower()
            length = int(header(head, lowered, b"content-length:") or 0)
            if len(self.buffer) < end + 4 + length:
                break  # the body is still coming
            self.buffer = self.buffer[end + 4 + length :]
            answers.append(self.receiver.answer(head, lowered))
        if answers:
            self.transport.write(b"".join(answers))


def json_answer(value):
    data = json.dumps(value).encode()
    return (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
        + f"Content-Length: {len(data)}\r\n\r\n".encode()
        + data
    )


async def serve(port):
    receiver = WireReceiver()
    server = await asyncio.get_running_loop().create_server(lambda: Connection(receiver), "127.0.0.1", port)
    print(server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    asyncio.run(serve(parser.parse_args().port))


if __name__ == "__main__":
    main()
