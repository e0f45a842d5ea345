#!/usr/bin/env python3
"""Writes the committed seed corpus, fuzz/corpus/<target>/seed-*.

Each seed follows its target's input layout (see the doc comment at the top
of fuzz_targets/<target>.rs); rerun this after changing a layout:

    python3 fuzz/seeds.py
"""

import os
import struct
import zlib

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


def write(target, name, data):
    directory = os.path.join(ROOT, target)
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, "seed-" + name), "wb") as f:
        f.write(data)


def mask(payload, key):
    return bytes(b ^ key[i % 4] for i, b in enumerate(payload))


def frame(opcode, payload=b"", fin=True, key=None):
    """One frame; masked when `key` is given."""
    head = bytes([(0x80 if fin else 0) | opcode])
    bit = 0x80 if key else 0
    n = len(payload)
    if n <= 125:
        head += bytes([bit | n])
    elif n <= 0xFFFF:
        head += bytes([bit | 126]) + struct.pack(">H", n)
    else:
        head += bytes([bit | 127]) + struct.pack(">Q", n)
    if key:
        return head + bytes(key) + mask(payload, key)
    return head + payload


KEY = [0x37, 0xFA, 0x21, 0x3D]  # RFC 6455 section 5.7

# --- frame_header: the headers of the section 5.7 examples and edge cases.
for name, data in {
    "text-unmasked": bytes([0x81, 0x05]),
    "text-masked": bytes([0x81, 0x85] + KEY),
    "fragment-first": bytes([0x01, 0x03]),
    "fragment-last": bytes([0x80, 0x02]),
    "ping-masked": bytes([0x89, 0x85] + KEY),
    "binary-256": bytes([0x82, 0x7E, 0x01, 0x00]),
    "binary-64k-masked": bytes([0x82, 0xFF, 0, 0, 0, 0, 0, 1, 0, 0] + KEY),
    "non-minimal-16": bytes([0x82, 0x7E, 0x00, 0x05]),
    "non-minimal-64": bytes([0x82, 0x7F, 0, 0, 0, 0, 0, 0, 0x01, 0x00]),
    "rsv-close": bytes([0xF8, 0x00]),
}.items():
    write("frame_header", name, data)

# --- apply_mask: key, alignment, split, data.
write("apply_mask", "hello", bytes(KEY) + bytes([0, 2]) + b"Hello")
write("apply_mask", "unaligned-long", bytes([1, 2, 3, 4, 3, 37]) + bytes(range(100)))
write("apply_mask", "block-edge", bytes([0xFF, 0, 0xFF, 0, 7, 32]) + b"x" * 65)

# --- read_path: seven settings bytes, a chunk plan, the wire.
# Settings byte 0: bit 0 client, 1 streaming, 2 no auto pong, 3 no auto
# close reply, 4 echo, 5 end of stream, 6 timers, 7 local close.
SIZES = 0x7A  # receive buffer 1 KiB, frame limit 1 MiB
LIMITS = 0x36  # message limit 1 MiB, 256 fragments, high-water 0
LIMITS_BIG = 0xF6  # the same with a 128 KiB high-water mark


# Flags in the chunk plan's length byte: echo through the lent Sender,
# write out at most 1000 bytes after each piece, piece lengths in KiB.
LENT_ECHO, LAZY_WRITE, IN_KIB = 0x20, 0x40, 0x80


def read_path(
    name, flags, wire, plan=b"", sizes=SIZES, limits=LIMITS_BIG, app=0, time=0, extension=0,
    plan_flags=0,
):
    settings = bytes([flags, sizes, limits, app, time, 7, extension])
    write("read_path", name, settings + bytes([plan_flags | len(plan)]) + plan + wire)


SERVER, CLIENT = 0, 1
hello_masked = frame(0x1, b"Hello", key=KEY)
hello = frame(0x1, b"Hello")
fragments_ping = (
    frame(0x1, b"Hel", fin=False)
    + frame(0x9, b"Hello")
    + frame(0x0, b"lo")
)
close_1000 = frame(0x8, struct.pack(">H", 1000) + b"bye")

read_path("hello-masked-to-server", SERVER | 0x10, hello_masked)
read_path("hello-to-client", CLIENT, hello)
read_path("fragments-ping-between", CLIENT | 0x10, fragments_ping, plan=bytes([0, 1, 2]))
read_path(
    "fragments-ping-streaming-server",
    SERVER | 0x02 | 0x10,
    frame(0x1, b"Hel", fin=False, key=KEY)
    + frame(0x9, b"Hello", key=KEY)
    + frame(0x0, b"lo", key=[1, 2, 3, 4]),
    plan=bytes([0x20, 0x03]),
)
read_path("binary-256", CLIENT, frame(0x2, bytes(range(256))), plan=bytes([27, 0x3F]))
read_path(
    "pings-then-close-to-server",
    SERVER,
    frame(0x9, b"1", key=KEY) + frame(0x9, b"2", key=KEY) + frame(0x8, close_1000[2:], key=KEY),
    limits=LIMITS,
)
read_path("close-no-reply", CLIENT | 0x08, close_1000)
# Large echoes queued as references to the read buffers (40 KiB each, over
# the 32 KiB where replies stop being copied), written out 1000 bytes at a
# time: three messages whole in the receive buffer (every piece of 1 KiB
# but the last skips polling); the same with reads of 24 and 17 KiB, so
# input arrives while replies wait in the receive buffer; and three
# assembled from 1 KiB reads into the connection's buffer while earlier
# replies still wait.
large = [frame(0x2, bytes((i + n) % 256 for i in range(40 << 10)), key=KEY) for n in range(3)]
read_path(
    "lent-echo-whole-in-receive-buffer",
    SERVER | 0x10,
    b"".join(large) + frame(0x9, b"p", key=KEY),
    plan=bytes([0x40 | 30]),
    sizes=0x7F,
    plan_flags=LENT_ECHO | LAZY_WRITE,
)
read_path(
    "lent-echo-input-arrives-while-replies-wait",
    SERVER | 0x10,
    b"".join(large) + frame(0x9, b"p", key=KEY),
    plan=bytes([0x40 | 17, 16]),
    sizes=0x7F,
    plan_flags=LENT_ECHO | LAZY_WRITE | IN_KIB,
)
read_path(
    "lent-echo-assembled",
    SERVER | 0x10,
    b"".join(large),
    plan=bytes([0x20 | 30]),
    sizes=0x7F,
    plan_flags=LENT_ECHO | LAZY_WRITE,
)
read_path(
    "local-close-then-reply",
    SERVER | 0x80 | 0x20,
    hello_masked + frame(0x8, struct.pack(">H", 1000), key=KEY),
    app=0x01,
)
read_path("invalid-utf8", SERVER | 0x20, frame(0x1, b"\xce\xbal\xff", key=KEY))
read_path("keepalive", CLIENT | 0x40, hello, plan=bytes([0x81]), time=0x01)
# The toy extension (settings byte 6): RSV1, two copies per byte decoded.
xor = lambda data: bytes(b ^ 0x55 for b in data)
read_path(
    "extension-rsv1-echo",
    SERVER | 0x10,
    bytes([0xC1, 0x85] + KEY) + mask(xor(b"Hello"), KEY) + hello_masked,
    extension=0x05,
)
read_path(
    "extension-streaming-fragments",
    CLIENT | 0x02 | 0x10,
    bytes([0x42, 0x03]) + xor(b"abc") + frame(0x9, b"p") + frame(0x0, xor(b"def")),
    plan=bytes([1, 2]),
    extension=0x03,
)

# permessage-deflate (settings byte 6, bit 1; bits 2-4 window 9 + n; 7
# compress everything): DEFLATE with the 00 00 ff ff tail stripped.
def deflate(data, bits=12):
    c = zlib.compressobj(6, zlib.DEFLATED, -bits)
    out = c.compress(data) + c.flush(zlib.Z_SYNC_FLUSH)
    assert out.endswith(b"\x00\x00\xff\xff")
    return out[:-4]


DEFLATE_12 = 0x02 | (3 << 2)  # 12-bit windows, the default threshold
DEFLATE_ALL = DEFLATE_12 | 0x80  # and every message compressed
# RFC 7692 section 7.2.3.1: "Hello", compressed.
hello_deflated = bytes([0xF2, 0x48, 0xCD, 0xC9, 0xC9, 0x07, 0x00])
read_path(
    "deflate-hello-echo-server",
    SERVER | 0x10,
    bytes([0xC1, 0x80 | len(hello_deflated)] + KEY) + mask(hello_deflated, KEY) + hello_masked,
    extension=DEFLATE_ALL,
)
# Section 7.2.3.3: a compressed message in two fragments, RSV1 on the first.
read_path(
    "deflate-fragments-to-client",
    CLIENT | 0x10,
    bytes([0x41, 0x03, 0xF2, 0x48, 0xCD]) + frame(0x9, b"p") + bytes([0x80, 0x04, 0xC9, 0xC9, 0x07, 0x00]),
    plan=bytes([2, 5]),
    extension=DEFLATE_ALL,
)
json_like = b'{"type":"message","from":"alice","text":"hello hello hello"}'
read_path(
    "deflate-context-takeover-streaming",
    CLIENT | 0x02 | 0x10,
    bytes([0xC1, len(deflate(json_like))]) + deflate(json_like)
    + bytes([0xC1, len(deflate(json_like * 2))]) + deflate(json_like * 2),
    plan=bytes([0x23, 0x3F]),
    extension=DEFLATE_12,
)
# A corrupt stream (1007) and a compressed bit on a control frame (1002).
read_path(
    "deflate-corrupt",
    SERVER | 0x10,
    bytes([0xC1, 0x83] + KEY) + mask(b"\xff\xff\xff", KEY),
    extension=DEFLATE_12,
)
read_path("deflate-rsv1-ping", CLIENT, bytes([0xC9, 0x00]), extension=DEFLATE_12)


# --- deflate_negotiation: a client and a server configuration byte (bits
# 0-2 server window 8 + n, 3-5 client window 8 + n, 6-7 no context
# takeover), then a Sec-WebSocket-Extensions value.
def negotiation(name, value, client=0x24, server=0x24):
    write("deflate_negotiation", name, bytes([client, server]) + value)


negotiation("browser", b"permessage-deflate; client_max_window_bits")
negotiation("default-offer", b"permessage-deflate; server_max_window_bits=12; client_max_window_bits=12")
negotiation(
    "autobahn-13-7",
    b"permessage-deflate; client_no_context_takeover; client_max_window_bits=9, "
    b"permessage-deflate; client_no_context_takeover, permessage-deflate",
    server=0x47,
)
negotiation(
    "invalid-then-valid",
    b'permessage-deflate; server_max_window_bits=16, permessage-deflate; x=1, '
    b'permessage-deflate; server_max_window_bits="10"; server_no_context_takeover',
)
negotiation("duplicate", b"permessage-deflate; client_no_context_takeover; client_no_context_takeover")
negotiation("window-8", b"permessage-deflate; server_max_window_bits=8; client_max_window_bits=8", client=0x00)
negotiation("other-extensions", b"x-webkit-deflate-frame, foo; bar=baz, PerMessage-Deflate", client=0xFF, server=0x3F)

# --- handshake_request: a settings byte, a chunk plan, the request.
def request(name, text, settings=0, plan=b""):
    write("handshake_request", name, bytes([settings, len(plan)]) + plan + text)


request(
    "rfc-1-3",
    b"GET /chat HTTP/1.1\r\n"
    b"Host: server.example.com\r\n"
    b"Upgrade: websocket\r\n"
    b"Connection: Upgrade\r\n"
    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    b"Origin: http://example.com\r\n"
    b"Sec-WebSocket-Protocol: chat, superchat\r\n"
    b"Sec-WebSocket-Version: 13\r\n\r\n",
)
request(
    "browser",
    b"GET /ws?room=1 HTTP/1.1\r\n"
    b"Host: 127.0.0.1:8080\r\n"
    b"Connection: Upgrade\r\n"
    b"Pragma: no-cache\r\n"
    b"Cache-Control: no-cache\r\n"
    b"User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36\r\n"
    b"Upgrade: websocket\r\n"
    b"Origin: https://example.com\r\n"
    b"Sec-WebSocket-Version: 13\r\n"
    b"Accept-Encoding: gzip, deflate, br\r\n"
    b"Accept-Language: en-US,en;q=0.9\r\n"
    b"Sec-WebSocket-Key: x3JJHMbDL1EzLkh9GBhXDw==\r\n"
    b"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n"
    b"\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58",
    settings=0x10,
    plan=bytes([0, 16, 0x25]),
)
request("plain-get", b"GET /index.html HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n\r\n")
request(
    "version-8",
    b"GET / HTTP/1.1\nHost: a\nUpgrade: websocket\nConnection: keep-alive, Upgrade\n"
    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\nSec-WebSocket-Version: 8\n\n",
)
request(
    "extension-params",
    b"GET / HTTP/1.1\r\nHost: a\r\nUpgrade: WebSocket\r\nConnection: upgrade\r\n"
    b"Sec-WebSocket-Key: AQIDBAUGBwgJCgsMDQ4PEA==\r\nSec-WebSocket-Version: 13\r\n"
    b'Sec-WebSocket-Extensions: foo; a="b", , bar;x=1;y\r\n\r\n',
)

# --- handshake_response: a settings byte, a chunk plan, then a raw
# response or (settings bit 0) a template byte, edits and a tail.
def response(name, settings, body, plan=b""):
    write("handshake_response", name, bytes([settings, len(plan)]) + plan + body)


response("template-plain", 0x01, bytes([0x00, 0x00]))
response("template-protocol-extension", 0x07, bytes([0x03, 0x00]) + hello, plan=bytes([4]))
response("template-lf-lowercase-edited", 0x03, bytes([0x19, 0x01, 0x80, 0x00, 0x41]))
response("template-404-body", 0x09, bytes([0x84, 0x00]) + b"nope!")
response(
    "raw-101-wrong-accept",
    0x00,
    b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n",
)
response(
    "raw-403-until-eof",
    0x08,
    b"HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\n\r\nGo away",
    plan=bytes([9]),
)
