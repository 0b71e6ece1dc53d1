"""The wire format, without I/O: requests, responses, typed calls and multi-step flows.

A `Call[T]` says everything about one RAPI request (method, path, query, JSON body) and how to turn the answer
into a `T`. The endpoint modules build calls; the sync and async clients only hand `call.request` to their
transport and `call.result(response)` back. Logic that needs several requests (waiting for a job) is a
`Flow`: a generator that yields calls and receives their results, written once and driven by either client.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Generator, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Generic, Literal, TypeVar
from urllib.parse import quote, urlencode

import orjson

from fleet.rapi.errors import UnexpectedResponse, error_for_status

__all__ = [
    "NO_BODY",
    "Call",
    "Flow",
    "Method",
    "Request",
    "Response",
    "step",
]

T = TypeVar("T")
R = TypeVar("R")

Method = Literal["GET", "PUT", "POST", "DELETE"]
JSON_TYPE: Final = "application/json"


class _NoBody:
    """Marks a request sent without a body (distinct from a JSON `null` body)."""

    def __repr__(self) -> str:
        return "NO_BODY"


NO_BODY: Final = _NoBody()


@dataclass(frozen=True)
class Request:
    """One HTTP request as the transport sends it; `long_poll` asks for the long-poll read timeout."""

    method: Method
    path: str
    query: tuple[tuple[str, str], ...] = ()
    body: bytes | None = None
    long_poll: bool = False

    @property
    def target(self) -> str:
        """The path with its query string, as it goes on the request line."""
        return f"{self.path}?{urlencode(self.query)}" if self.query else self.path

    @property
    def headers(self) -> dict[str, str]:
        """The headers the request needs beyond authentication (a JSON content type when there is a body)."""
        if self.body is None:
            return {"Accept": JSON_TYPE}
        return {"Accept": JSON_TYPE, "Content-Type": JSON_TYPE}


@dataclass(frozen=True)
class Response:
    """One HTTP answer: status, raw body and the reason phrase."""

    status: int
    content: bytes
    reason: str = ""


@dataclass(frozen=True)
class Call(Generic[T]):
    """A typed RAPI request: what to send, and how to read the answer into a `T`."""

    method: Method
    path: str
    parse: Callable[[Any], T] = field(repr=False)
    query: tuple[tuple[str, str], ...] = ()
    body: object = NO_BODY
    long_poll: bool = False

    @property
    def request(self) -> Request:
        """The request to send, with the body encoded as JSON."""
        content = None if self.body is NO_BODY else json.dumps(self.body).encode()
        return Request(self.method, self.path, self.query, content, self.long_poll)

    def result(self, response: Response) -> T:
        """Check the answer (raising the `HttpError` for its status) and parse it into a `T`."""
        data = decode(response.content) if response.content.strip() else None
        if response.status != 200:
            detail = data.text if isinstance(data, _Undecodable) else data
            raise error_for_status(response.status, detail, response.reason)
        if isinstance(data, _Undecodable):
            raise UnexpectedResponse(f"{self.method} {self.path}: the answer is not JSON: {data.text!r}")
        try:
            return self.parse(data)
        except (KeyError, IndexError, TypeError, ValueError) as exc:
            raise UnexpectedResponse(f"{self.method} {self.path}: unexpected answer: {exc}") from exc


@dataclass(frozen=True)
class _Undecodable:
    text: str


def decode(content: bytes) -> Any:
    """Decode a JSON body; a body that is not JSON comes back as an `_Undecodable` holding its start.

    orjson, because a 40,000-instance fleet makes decoding the larger part of a sync."""
    try:
        return orjson.loads(content)
    except ValueError:  # orjson.JSONDecodeError, invalid UTF-8 included
        return _Undecodable(content[:200].decode("utf-8", "replace"))


Flow = Generator[Call[Any], Any, R]
"""A multi-step operation: yields calls, receives each call's result (or has its error thrown in)."""


def step(call: Call[T]) -> Generator[Call[T], T, T]:
    """Run one call inside a flow, typed: `info = yield from step(cluster.info())`."""
    result = yield call
    return result


# Building blocks for the endpoint modules -------------------------------------------------------------------


def path(*parts: str | int) -> str:
    """Join path segments under `/2/`, quoting each name."""
    return "/2/" + "/".join(quote(str(p), safe="") for p in parts)


def query(*pairs: tuple[str, object], tags: Iterable[str] = ()) -> tuple[tuple[str, str], ...]:
    """Build a query string: None values are left out, booleans become `1`/`0` (Ganeti rejects `true`)."""
    out: list[tuple[str, str]] = []
    for key, value in pairs:
        if value is None:
            continue
        if isinstance(value, bool):
            out.append((key, "1" if value else "0"))
        else:
            out.append((key, str(value)))
    out.extend(("tag", t) for t in tags)
    return tuple(out)


def body(params: Mapping[str, object], extra: Mapping[str, object] | None = None) -> dict[str, object]:
    """Build a JSON body from keyword parameters, leaving out the ones that are None."""
    out = {k: v for k, v in params.items() if v is not None}
    if extra:
        out.update(extra)
    return out


# Parsers ----------------------------------------------------------------------------------------------------


def as_dict(data: Any) -> dict[str, Any]:
    """The answer as a JSON object, or UnexpectedResponse."""
    if not isinstance(data, dict):
        raise UnexpectedResponse(f"expected a JSON object, got {type(data).__name__}")
    return data


def as_list(data: Any) -> list[Any]:
    """The answer as a JSON list, or UnexpectedResponse."""
    if not isinstance(data, list):
        raise UnexpectedResponse(f"expected a JSON list, got {type(data).__name__}")
    return data


def as_str_list(data: Any) -> list[str]:
    """The answer as a list of strings (tags, features, OS names)."""
    items = as_list(data)
    if not all(isinstance(i, str) for i in items):
        raise UnexpectedResponse("expected a list of strings")
    return items


def as_str(data: Any) -> str:
    """The answer as a string (a node role, a filter uuid)."""
    if not isinstance(data, str):
        raise UnexpectedResponse(f"expected a string, got {type(data).__name__}")
    return data


def ignore(data: Any) -> None:
    """For calls whose answer carries nothing (`null`)."""
    return None


def as_any(data: Any) -> Any:
    """For answers whose shape Ganeti does not fix (the version, opaque values)."""
    return data


def as_job_id(data: Any) -> int:
    """A job id as Ganeti sends it: a JSON number (3.0) or a numeric string (before 2.10)."""
    if isinstance(data, int) and not isinstance(data, bool):
        return data
    if isinstance(data, str) and data.isdigit():
        return int(data)
    raise UnexpectedResponse(f"expected a job id, got {data!r}")


def job_id_arg(value: int | str) -> int:
    """Accept a job id given as an int or a string of digits; anything else is a ValueError."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    raise ValueError(f"not a job id: {value!r}")


def names_of(key: str) -> Callable[[Any], list[str]]:
    """A parser for the non-bulk lists: `[{"id": name, "uri": ...}]` (or `"name"` for groups and networks)."""

    def parse(data: Any) -> list[str]:
        return [str(as_dict(item)[key]) for item in as_list(data)]

    return parse


def dicts(data: Any) -> list[dict[str, Any]]:
    """A parser for bulk lists: a list of JSON objects."""
    return [as_dict(item) for item in as_list(data)]
