"""A small RFB 3.8 (VNC) server per running simulated instance, where its console dict says it listens.

Each instance's screen is a framebuffer with the instance's name drawn in a tiny bitmap font; typed keys are
echoed into it (a line of text, as a shell prompt would show them) and written, one JSON line per event, to a
log that tests and benchmarks read. Security is None, or VNC authentication when the simulator was given
a password (as a Ganeti node's KVM with ``vnc_password_file``). Only the Raw encoding is sent, in the pixel
format the client asks for (32 bits per pixel); an incremental update request waits until the screen changes.

Servers are opened when the console of an instance is asked for (RAPI ``GET /2/instances/N/console``) and
closed once the instance no longer runs: thousands of simulated instances cost nothing until someone looks.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

WIDTH, HEIGHT = 400, 240
BACKGROUND = (16, 32, 64)
FOREGROUND = (230, 230, 230)
SCALE = 3  # pixels per font dot
ADVANCE, LINE = 4 * SCALE, 7 * SCALE
VERSION = b"RFB 003.008\n"
HANDSHAKE_TIMEOUT = 10.0
KEYSYM_RETURN, KEYSYM_BACKSPACE, KEYSYM_DELETE = 0xFF0D, 0xFF08, 0xFFFF

# A 3x5 font of Fleet's own: each glyph five rows of three dots; lower case is drawn as upper case.
_GLYPHS = {
    " ": "000000000000000", "A": "010101111101101", "B": "110101110101110", "C": "011100100100011",
    "D": "110101101101110", "E": "111100110100111", "F": "111100110100100", "G": "011100101101011",
    "H": "101101111101101", "I": "111010010010111", "J": "001001001101010", "K": "101101110101101",
    "L": "100100100100111", "M": "101111111101101", "N": "110101101101101", "O": "010101101101010",
    "P": "110101110100100", "Q": "010101101110011", "R": "110101110101101", "S": "011100010001110",
    "T": "111010010010010", "U": "101101101101111", "V": "101101101101010", "W": "101101111111101",
    "X": "101101010101101", "Y": "101101010010010", "Z": "111001010100111", "0": "111101101101111",
    "1": "010110010010111", "2": "110001010100111", "3": "110001010001110", "4": "101101111001001",
    "5": "111100110001110", "6": "011100111101111", "7": "111001010010010", "8": "111101111101111",
    "9": "111101111001110", "-": "000000111000000", ".": "000000000000010", "_": "000000000000111",
    ":": "000010000010000", "/": "001001010100100", "!": "010010010000010", "?": "110001010000010",
    "'": "010010000000000", '"': "101101000000000", "=": "000111000111000", "+": "000010111010000",
    "$": "011110010011110", "#": "101111101111101", ">": "100010001010100", "<": "001010100010001",
    "*": "000101010101000", ",": "000000000010100", "@": "010101111100011", "|": "010010010010010",
}  # fmt: skip
_UNKNOWN = "111101101101111"


def _glyph(char: str) -> str:
    return _GLYPHS.get(char.upper(), _UNKNOWN)


class Screen:
    """The framebuffer of one instance: its name on top, then what was typed, a line per Return."""

    def __init__(self, title: str) -> None:
        self.title = title
        self.lines: list[str] = [""]
        self.version = 0  # bumped on every change; a session compares it with what it sent last

    def type_key(self, keysym: int) -> None:
        if keysym == KEYSYM_RETURN:
            self.lines = [*self.lines[-6:], ""]
        elif keysym in (KEYSYM_BACKSPACE, KEYSYM_DELETE):
            self.lines[-1] = self.lines[-1][:-1]
        elif 0x20 <= keysym <= 0x7E:
            self.lines[-1] += chr(keysym)
        else:
            return
        self.version += 1

    def pixels(self, encode: Callable[[tuple[int, int, int]], bytes]) -> bytes:
        """The whole screen in the client's pixel format (``encode`` turns an RGB triple into one pixel)."""
        back, fore = encode(BACKGROUND), encode(FOREGROUND)
        rows = [[back] * WIDTH for _ in range(HEIGHT)]
        texts = [(self.title, 8), *((line, 8 + (i + 2) * (LINE + 6)) for i, line in enumerate(self.lines))]
        for text, top in texts:
            for n, char in enumerate(text[: (WIDTH - 16) // ADVANCE]):
                left = 8 + n * ADVANCE
                for dot, on in enumerate(_glyph(char)):
                    if on != "1":
                        continue
                    y0, x0 = top + (dot // 3) * SCALE, left + (dot % 3) * SCALE
                    for y in range(y0, min(y0 + SCALE, HEIGHT)):
                        rows[y][x0 : x0 + SCALE] = [fore] * SCALE
        return b"".join(b"".join(row) for row in rows)


@dataclass
class PixelFormat:
    """The client's pixel format (only true colour at 32 bits per pixel is drawn; noVNC asks for it)."""

    big_endian: bool = False
    red_shift: int = 16
    green_shift: int = 8
    blue_shift: int = 0

    def encoder(self) -> Callable[[tuple[int, int, int]], bytes]:
        order = ">" if self.big_endian else "<"

        def encode(rgb: tuple[int, int, int]) -> bytes:
            r, g, b = rgb
            return struct.pack(
                f"{order}I", (r << self.red_shift) | (g << self.green_shift) | (b << self.blue_shift)
            )

        return encode

    @classmethod
    def parse(cls, data: bytes) -> PixelFormat:
        _bpp, _depth, big, _true, _rm, _gm, _bm, rs, gs, bs = struct.unpack(">BBBBHHHBBB", data[:13])
        return cls(bool(big), rs, gs, bs)


def vnc_response(password: str, challenge: bytes) -> bytes:
    """VNC authentication: the challenge DES-encrypted with the password (8 bytes, each byte's bits
    reversed, as the RFB protocol's historical quirk has it)."""
    from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
    from cryptography.hazmat.primitives.ciphers import Cipher, modes

    key = bytes(int(f"{b:08b}"[::-1], 2) for b in password.encode("latin-1")[:8].ljust(8, b"\0"))
    encryptor = Cipher(TripleDES(key * 3), modes.ECB()).encryptor()  # DES: one key three times
    return encryptor.update(challenge) + encryptor.finalize()


@dataclass
class ConsoleServer:
    """The RFB endpoint of one instance."""

    instance: str
    host: str
    port: int
    log: Callable[[dict[str, Any]], None]
    password: str | None = None
    screen: Screen = field(init=False)
    server: asyncio.Server | None = None
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def __post_init__(self) -> None:
        self.screen = Screen(self.instance)

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._session, self.host, self.port, reuse_address=True)

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
            with contextlib.suppress(Exception):
                await self.server.wait_closed()

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            if await asyncio.wait_for(self._handshake(reader, writer), HANDSHAKE_TIMEOUT):
                self.log({"event": "connected"})
                await self._serve(reader, writer)
        except (asyncio.IncompleteReadError, ConnectionError, TimeoutError, struct.error):
            pass
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _handshake(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        writer.write(VERSION)
        await reader.readexactly(12)
        if self.password is None:
            writer.write(b"\x01\x01")
            await reader.readexactly(1)
        else:
            writer.write(b"\x01\x02")
            await reader.readexactly(1)
            challenge = os.urandom(16)
            writer.write(challenge)
            answer = await reader.readexactly(16)
            if answer != vnc_response(self.password, challenge):
                reason = b"Authentication failed"
                writer.write(struct.pack(">II", 1, len(reason)) + reason)
                await writer.drain()
                self.log({"event": "auth-failed"})
                return False
        writer.write(struct.pack(">I", 0))
        await reader.readexactly(1)  # ClientInit (shared flag)
        name = self.instance.encode()
        fmt = struct.pack(">BBBBHHHBBBxxx", 32, 24, 0, 1, 255, 255, 255, 16, 8, 0)
        writer.write(struct.pack(">HH", WIDTH, HEIGHT) + fmt + struct.pack(">I", len(name)) + name)
        await writer.drain()
        return True

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        fmt = PixelFormat()
        sent = -1  # the screen version last sent
        waiting: asyncio.Task[None] | None = None
        try:
            while True:
                kind = (await reader.readexactly(1))[0]
                if kind == 0:  # SetPixelFormat
                    fmt = PixelFormat.parse((await reader.readexactly(19))[3:])
                    sent = -1
                elif kind == 2:  # SetEncodings: Raw is always allowed
                    (count,) = struct.unpack(">xH", await reader.readexactly(3))
                    await reader.readexactly(4 * count)
                elif kind == 3:  # FramebufferUpdateRequest
                    incremental = (await reader.readexactly(9))[0]
                    if not incremental:
                        sent = -1
                    if sent != self.screen.version:
                        sent = self._send(writer, fmt)
                    elif waiting is None or waiting.done():
                        waiting = asyncio.create_task(self._update_later(writer, fmt, sent))
                elif kind == 4:  # KeyEvent
                    down, keysym = struct.unpack(">Bxxi", await reader.readexactly(7))
                    self.log({"event": "key", "down": bool(down), "keysym": keysym})
                    if down:
                        self.screen.type_key(keysym)
                        self.changed.set()
                        self.changed = asyncio.Event()
                elif kind == 5:  # PointerEvent
                    await reader.readexactly(5)
                elif kind == 6:  # ClientCutText
                    (length,) = struct.unpack(">xxxI", await reader.readexactly(7))
                    text = (await reader.readexactly(length)).decode("latin-1")
                    self.log({"event": "clipboard", "text": text})
                else:
                    return
                await writer.drain()
        finally:
            if waiting is not None:
                waiting.cancel()

    async def _update_later(self, writer: asyncio.StreamWriter, fmt: PixelFormat, sent: int) -> None:
        while self.screen.version == sent:
            await self.changed.wait()
        self._send(writer, fmt)

    def _send(self, writer: asyncio.StreamWriter, fmt: PixelFormat) -> int:
        version = self.screen.version
        header = struct.pack(">BxHHHHHi", 0, 1, 0, 0, WIDTH, HEIGHT, 0)
        writer.write(header + self.screen.pixels(fmt.encoder()))
        return version


class Consoles:
    """The console servers of one cluster, opened on demand at ``host`` and each instance's port."""

    def __init__(self, host: str, log_path: str | None, password: str | None = None) -> None:
        self.host = host
        self.log_path = log_path
        self.password = password
        self.servers: dict[str, ConsoleServer] = {}

    def _logger(self, instance: str) -> Callable[[dict[str, Any]], None]:
        def log(event: dict[str, Any]) -> None:
            if self.log_path is None:
                return
            line = json.dumps({"time": time.time(), "instance": instance, **event})
            with open(self.log_path, "a", encoding="utf-8") as f:
                f.write(line + "\n")

        return log

    async def ensure(self, instance: str, port: int) -> None:
        """Listen for ``instance`` at ``port`` (once); a port another program holds is left alone."""
        current = self.servers.get(instance)
        if current is not None and current.port == port:
            return
        if current is not None:
            await current.close()
        server = ConsoleServer(instance, self.host, port, self._logger(instance), self.password)
        try:
            await server.start()
        except OSError:
            return
        self.servers[instance] = server

    async def sweep(self, running: Callable[[str], bool]) -> None:
        """Close the servers of instances that no longer run (or are gone)."""
        for name in [n for n in self.servers if not running(n)]:
            await self.servers.pop(name).close()

    async def close(self) -> None:
        for server in self.servers.values():
            await server.close()
        self.servers.clear()
