"""In-process transports for tests that need no server: they answer each request from a function (or a list
of recorded answers) and keep what they were sent."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from fleet.rapi.wire import Request, Response

Route = Callable[[Request], Response]


def reply(data: Any, status: int = 200) -> Response:
    """An answer with a JSON body."""
    return Response(status, json.dumps(data).encode(), "OK" if status == 200 else "Error")


def ganeti_error(status: int, message: str, explain: str = "") -> Response:
    """An error answer shaped like Ganeti's: `{code, message, explain}`."""
    return reply({"code": status, "message": message, "explain": explain}, status)


class Scripted:
    """Answers with the given responses in order, recording the requests."""

    def __init__(self, *answers: Response | Route) -> None:
        self.answers = list(answers)
        self.requests: list[Request] = []

    def next(self, request: Request) -> Response:
        self.requests.append(request)
        answer = self.answers.pop(0)
        return answer(request) if callable(answer) else answer


class FakeTransport(Scripted):
    """A sync transport over `Scripted`."""

    def handle(self, request: Request) -> Response:
        return self.next(request)

    def close(self) -> None:
        pass


class AsyncFakeTransport(Scripted):
    """An async transport over `Scripted`."""

    async def handle(self, request: Request) -> Response:
        return self.next(request)

    async def aclose(self) -> None:
        pass
