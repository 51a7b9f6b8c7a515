"""A minimal HTTP/1.1 webhook receiver for the dispatch benchmark, run as its own process.

It answers every POST with 204 and counts each ``webhook-id`` it receives; ``GET /ids``
returns those counts as JSON, ``GET /received`` only how many POSTs came (a few bytes: what
the bench polls while messages arrive; the /ids document grows with every id), ``GET
/arrivals?from=N`` the wall-clock times at which the POSTs came, from the N-th on. It does as
little as a receiver can (asyncio, no HTTP framework, no signature check: tests/chaos checks
signatures), so that the figures measure the sender, on a 2-core machine where the receiver's
CPU is taken from the dispatcher's. Prints its port on the first line of stdout, then serves
until killed.

    python3 bench/wire_receiver.py [--port 0]
"""

import argparse
import asyncio
import json
import time
from collections import Counter

NO_CONTENT = b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n"


class WireReceiver:
    def __init__(self):
        self.counts = Counter()
        self.arrivals = []  # time.time() of each POST

    async def serve_connection(self, reader, writer):
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                request_line, *header_lines = head.decode("latin-1").split("\r\n")
                headers = {
                    name.strip().lower(): value.strip()
                    for name, _sep, value in (line.partition(":") for line in header_lines if line)
                }
                length = int(headers.get("content-length", 0))
                if length:
                    await reader.readexactly(length)
                if request_line.startswith("GET /ids"):
                    writer.write(json_answer(self.counts))
                elif request_line.startswith("GET /received"):
                    writer.write(json_answer(len(self.arrivals)))
                elif request_line.startswith("GET /arrivals?from="):
                    first = int(request_line.split()[1].partition("=")[2])
                    writer.write(json_answer(self.arrivals[first:]))
                else:
                    self.counts[headers.get("webhook-id")] += 1
                    self.arrivals.append(time.time())
                    writer.write(NO_CONTENT)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


def json_answer(value):
    data = json.dumps(value).encode()
    return (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
        + f"Content-Length: {len(data)}\r\n\r\n".encode()
        + data
    )


async def serve(port):
    receiver = WireReceiver()
    server = await asyncio.start_server(receiver.serve_connection, "127.0.0.1", port)
    print(server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    asyncio.run(serve(parser.parse_args().port))


if __name__ == "__main__":
    main()
