"""The HTTP pre-submission hook: ``POST /v1/claims:scrub`` answers the same report as ``check --format json``.

Run it with ``scrubber serve`` (needs the ``[service]`` extra: FastAPI + uvicorn). ``create_app`` is a
factory (``uvicorn --factory scrubber.service:create_app``) so every uvicorn worker process builds its
own engine: durable_rules keeps its rulesets in process-global C state that is not thread-safe, so
inside a worker every scrub runs on one dedicated thread (a single-thread executor), one at a time.

Request bodies
- ``application/json``: one claim (the ``Claim`` schema), an array of claims, or ``{"claims": [...]}``.
  Validated strictly (pydantic strict mode: ``"1"`` is not an integer, ``1`` is not a string; money may
  be a JSON number or a decimal string, dates ``YYYY-MM-DD``). Any claim that fails validation rejects
  the whole request with 422 and the JSON pointer of every problem; nothing is scrubbed, so a client
  never mistakes a partly scrubbed batch for a clean one.
- ``application/edi-x12``: X12 837P text, read like a file by ``scrubber check``: a claim that cannot
  be read is reported ``unreadable`` and envelope problems are listed under ``errors`` (status 200).

Security: every scrub needs a configured key in ``X-API-Key`` (compared in constant time); bodies over
``max_body_bytes`` are refused with 413 before they are read (Content-Length) or while they stream;
the rest of such a body is then read and discarded (up to ``drain_limit``) so that clients which send
the whole body before reading the answer see the 413 rather than a connection reset. Slow clients are
bounded by ``GuardedH11Protocol``: a request (line, headers and body) must arrive within
``read_timeout`` seconds (else 408 and close) and an idle keep-alive connection is closed after
``keep_alive_timeout`` seconds.
Logs never hold claim contents: only counts, timings, method, path (query string dropped) and status.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import hmac
import json
import logging
import os
import re
import time
import traceback
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import asynccontextmanager
from decimal import Decimal
from functools import lru_cache
from io import BytesIO
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args

import h11
from fastapi import FastAPI, HTTPException, Request, Security
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import Response
from fastapi.security import APIKeyHeader
from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, TypeAdapter, ValidationError
from pydantic.json_schema import models_json_schema
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from uvicorn.protocols.http.h11_impl import H11Protocol

from scrubber import __version__
from scrubber.findings import Report
from scrubber.model import Claim
from scrubber.options import ScrubOptions

log = logging.getLogger("scrubber.service")

SETTINGS_ENV = "SCRUBBER_SERVICE_SETTINGS"  # how `scrubber serve` hands its settings to worker processes
KEYS_ENV = "SCRUBBER_API_KEYS"
SCRUB_PATH = "/v1/claims:scrub"
JSON_TYPE = "application/json"
X12_TYPE = "application/edi-x12"
DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024
DEFAULT_READ_TIMEOUT = 10.0  # seconds for a whole request: line, headers and body
DEFAULT_KEEP_ALIVE_TIMEOUT = 5.0  # seconds an idle keep-alive connection stays open
MIN_DRAIN_BYTES = 16 * 1024 * 1024


class ServiceConfigError(Exception):
    """The service cannot start with this configuration (no keys, unreadable key file)."""


@dataclasses.dataclass(frozen=True)
class Settings:
    """What a worker needs to build its app; JSON-serialisable so `serve` can pass it to worker processes.

    Keys themselves are never put here: they are read from ``SCRUBBER_API_KEYS`` and ``api_keys_file``.
    """

    api_keys_file: str | None = None
    insecure_no_auth: bool = False
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    read_timeout: float = DEFAULT_READ_TIMEOUT
    keep_alive_timeout: float = DEFAULT_KEEP_ALIVE_TIMEOUT
    options: ScrubOptions = dataclasses.field(default_factory=ScrubOptions)

    def to_json(self) -> str:
        data = {item.name: getattr(self, item.name) for item in dataclasses.fields(self)}
        return json.dumps({**data, "options": self.options.to_dict()})

    @classmethod
    def from_environment(cls) -> "Settings":
        raw = os.environ.get(SETTINGS_ENV)
        if not raw:
            return cls()
        data = json.loads(raw)
        return cls(**{**data, "options": ScrubOptions.from_dict(data.get("options", {}))})

    def api_keys(self) -> tuple[str, ...]:
        """Keys from ``SCRUBBER_API_KEYS`` (comma-separated) and the key file (one per line, ``#`` comments)."""
        keys = [key.strip() for key in os.environ.get(KEYS_ENV, "").split(",")]
        if self.api_keys_file:
            try:
                text = Path(self.api_keys_file).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as error:
                reason = getattr(error, "strerror", None) or str(error)
                raise ServiceConfigError(f"cannot read API key file {self.api_keys_file}: {reason}") from None
            keys += [line.split("#", 1)[0].strip() for line in text.splitlines()]
        return tuple(dict.fromkeys(key for key in keys if key))


def require_keys(settings: Settings) -> tuple[str, ...]:
    """The configured keys; raise ServiceConfigError when there are none and auth was not switched off."""
    keys = settings.api_keys()
    if not keys and not settings.insecure_no_auth:
        raise ServiceConfigError(
            f"no API keys configured: set {KEYS_ENV} (comma-separated) or pass --api-keys-file FILE "
            "(or --insecure-no-auth to run without authentication, on a trusted network only)"
        )
    return keys


class KeyChecker:
    """Constant-time check of ``X-API-Key``: compares SHA-256 digests against every key, no early exit."""

    def __init__(self, keys: tuple[str, ...]):
        self._digests = [hashlib.sha256(key.encode("utf-8")).digest() for key in keys]

    def __call__(self, presented: str | None) -> bool:
        # Starlette decodes header bytes as latin-1: re-encoding gives back the bytes the client sent.
        digest = hashlib.sha256((presented or "").encode("latin-1", "replace")).digest()
        matched = False
        for expected in self._digests:
            matched |= hmac.compare_digest(digest, expected)
        return matched and presented is not None


# --- request and response models (the OpenAPI document; responses are built by Report.to_dict) --------


class ClaimBatch(BaseModel):
    """A batch of claims: ``{"claims": [...]}`` (a bare JSON array is accepted too)."""

    model_config = ConfigDict(extra="forbid", strict=True)
    claims: list[Claim] = Field(min_length=1)


def _body_kind(value: Any) -> str | None:
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "batch" if "claims" in value else "claim"
    return None


# One adapter for the three JSON shapes, validated in strict mode (JSON numbers and strings are not
# coerced into each other; decimals and dates keep their JSON spellings).
_REQUEST = TypeAdapter(
    Annotated[
        Union[
            Annotated[Claim, Tag("claim")],
            Annotated[list[Claim], Field(min_length=1), Tag("array")],
            Annotated[ClaimBatch, Tag("batch")],
        ],
        Discriminator(
            _body_kind,
            custom_error_type="body_shape",
            custom_error_message="the body must be a claim object, an array of claims or {\"claims\": [...]}",
        ),
    ]
)


# Money in a JSON claim: a JSON number, or a plain decimal string. Pydantic's Decimal would also take
# " 1", "1_000", "1e5" and non-ASCII digits; strict means one spelling (and the OpenAPI says which).
_MONEY = re.compile(r"-?[0-9]{1,15}(\.[0-9]{1,15})?")  # used with fullmatch: Python's "$" passes "1\n"
MONEY_PATTERN = f"^{_MONEY.pattern}$"


def _is_money(annotation: Any) -> bool:
    if annotation is Decimal:
        return True
    return any(_is_money(arg) for arg in get_args(annotation))


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


@lru_cache(maxsize=None)
def _shape(model: type[BaseModel]) -> dict[str, Any]:
    """Field name -> "money", or the model a field (or each item of a tuple field) holds."""
    shape: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        if _is_money(info.annotation) or any(_is_money(item) for item in info.metadata):
            shape[name] = "money"
        elif (nested := _model_in(info.annotation)) is not None:
            shape[name] = nested
    return shape


def _check_money(value: Any, model: type[BaseModel], path: str, problems: list[dict[str, str]]) -> None:
    if not isinstance(value, dict):
        return
    for name, kind in _shape(model).items():
        item = value.get(name)
        where = f"{path}/{name}"
        if kind == "money":
            if isinstance(item, str) and not _MONEY.fullmatch(item):
                problems.append({"path": where, "message": "a money or quantity string must be a plain decimal such as '125.50'"})
        elif isinstance(item, list):
            for position, element in enumerate(item):
                _check_money(element, kind, f"{where}/{position}", problems)
        else:
            _check_money(item, kind, where, problems)


def _money_problems(body: bytes) -> list[dict[str, str]]:
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):  # pydantic reports malformed JSON (and JSON nested too deeply)
        return []
    problems: list[dict[str, str]] = []
    if isinstance(data, dict) and isinstance(data.get("claims"), list):
        items = [(f"/claims/{n}", item) for n, item in enumerate(data["claims"])]
    elif isinstance(data, list):
        items = [(f"/{n}", item) for n, item in enumerate(data)]
    else:
        items = [("", data)]
    for path, item in items:
        _check_money(item, Claim, path, problems)
    return problems


def _publish_money_pattern(schemas: dict[str, Any]) -> None:
    """Say in the OpenAPI document which money strings are accepted (pydantic's schema says any string)."""
    models = {"Claim": Claim}
    pending = [Claim]
    while pending:
        model = pending.pop()
        for kind in _shape(model).values():
            if kind != "money" and kind.__name__ not in models:
                models[kind.__name__] = kind
                pending.append(kind)
    for name, model in models.items():
        for field, kind in _shape(model).items():
            if kind == "money":
                for branch in schemas[name]["properties"][field].get("anyOf", []):
                    if branch.get("type") == "string":
                        branch["pattern"] = MONEY_PATTERN


class Problem(BaseModel):
    path: str = Field(description="JSON pointer into the request body ('' for the body itself)")
    message: str


class ErrorBody(BaseModel):
    error: str = Field(description="a stable code: unauthorized, body_too_large, request_timeout, unsupported_media_type, ...")
    message: str
    problems: list[Problem] = Field(default_factory=list)


class FindingOut(BaseModel):
    rule: str
    name: str
    carc: str
    rarc: list[str]
    remit_codes: list[str]
    severity: str
    line: int | None
    element: str
    segment: int | None
    message: str
    fix: str
    sources: list[str]


class ClaimResultOut(BaseModel):
    claim_id: str | None
    file: str | None
    segment: int | None
    status: Literal["clean", "flagged", "unreadable"]
    profile: str | None = Field(default=None, description="id of the payer profile the claim matched (null: none)")
    findings: list[FindingOut]
    row: int | None = None
    error: str | None = Field(default=None, description="why an unreadable claim could not be read")


class InputErrorOut(BaseModel):
    file: str | None
    segment: int | None
    claim_id: str | None
    location: str | None = None
    severity: str
    message: str


class TableOut(BaseModel):
    name: str = Field(description="ncci-ptp, mue or addon")
    version: str = Field(description="the table's quarter or version, as its files or store say")
    source: str
    rows: int


class SummaryOut(BaseModel):
    files: int
    claims: int
    clean: int
    flagged: int
    unreadable: int
    findings: int
    errors: int
    suppressed: int | None = Field(default=None, description="findings a baseline left out (only with a baseline; never here)")
    by_severity: dict[str, int]
    tables: list[TableOut] = Field(default_factory=list, description="the reference tables the check used")


class ReportOut(BaseModel):
    """The ``scrubber check --format json`` report."""

    summary: SummaryOut
    claims: list[ClaimResultOut]
    errors: list[InputErrorOut]


class Health(BaseModel):
    status: Literal["ok"]


class Readiness(BaseModel):
    status: Literal["ready", "starting", "failed"]
    engine: str | None = None
    rules: int | None = None
    error: str | None = None


# --- the request-size limit (FastAPI has none) --------------------------------------------------------


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int):
        super().__init__(413, f"the request body exceeds {limit} bytes")


class BodySizeLimit:
    """ASGI middleware: 413 when Content-Length says too much, or when the streamed body passes the limit."""

    def __init__(self, app: Any, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", ()):
            if name == b"content-length" and value.strip().isdigit() and int(value) > self.max_bytes:
                await _send_error(send, 413, "body_too_large", f"the request body exceeds {self.max_bytes} bytes")
                return
        received = 0
        started = False

        async def limited_receive() -> dict:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)
            return message

        async def tracking_send(message: dict) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge:  # raised outside a route (the route's handlers answer it otherwise)
            if not started:
                await _send_error(send, 413, "body_too_large", f"the request body exceeds {self.max_bytes} bytes")
        except ClientDisconnect:  # the client went away, or the read timeout answered 408, mid-body
            log.info("%s %s: the client disconnected before the request body was complete", scope["method"], scope["path"])


async def _send_error(send: Any, status: int, code: str, message: str) -> None:
    body = json.dumps({"error": code, "message": message, "problems": []}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), (b"connection", b"close")]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


# --- slow and oversized requests: read timeouts and lingering close (uvicorn has neither) ---------------


def drain_limit(max_body_bytes: int) -> int:
    """How many bytes of a refused body (or one still arriving after an early answer) are read and discarded."""
    return max(4 * max_body_bytes, MIN_DRAIN_BYTES)


@lru_cache(maxsize=1)
def _guard_settings() -> Settings:
    return Settings.from_environment()


def _timeout_response(seconds: float) -> bytes:
    body = json.dumps({
        "error": "request_timeout",
        "message": f"the request was not received within {seconds:g} seconds",
        "problems": [],
    }).encode()
    head = (
        "HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\n"
        f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
    )
    return head.encode("ascii") + body


class _GuardedTransport:
    """The transport uvicorn sees: its ``close()`` becomes a lingering close while the request body still arrives."""

    def __init__(self, transport: asyncio.Transport, protocol: GuardedH11Protocol):
        self._transport = transport
        self._protocol = protocol

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)

    def close(self) -> None:
        self._protocol.close_connection()

    def is_closing(self) -> bool:
        return self._protocol.lingering or self._transport.is_closing()


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a read deadline per request and a lingering close.

    - Read deadline: from the connection opening (first request) or the first byte of a later request,
      the request line, headers and whole body must arrive within ``read_timeout`` seconds. Otherwise the
      client gets 408 (JSON, ``Connection: close``) if it had sent part of a request and no answer had
      started, and the connection is closed. Time the application spends answering is not counted.
    - Keep-alive: uvicorn's ``timeout_keep_alive`` closes an idle connection between requests (re-armed
      here after an early answer whose body was drained, where uvicorn leaves it unset).
    - Lingering close: when the answer is sent before the body is read (413, 401, ...) and the connection
      is to close, the write side is shut (the client reads the answer, then end of file) and the rest of
      the body is read and discarded, up to ``drain_limit`` bytes and within the read deadline, before
      the socket is closed. Closing with unread data would reset the connection, and a client still
      sending (urllib, http.client, requests) would see ``ConnectionResetError`` or ``BrokenPipeError``
      instead of the answer. The same byte bound applies when uvicorn drains a body after an early
      answer on a keep-alive connection.

    Settings (``read_timeout``, ``max_body_bytes``) come from ``SCRUBBER_SERVICE_SETTINGS`` like the app's.
    """

    def __init__(self, config: Any, server_state: Any, app_state: dict[str, Any], _loop: Any = None) -> None:
        super().__init__(config, server_state, app_state, _loop)
        settings = _guard_settings()
        self.read_timeout = settings.read_timeout
        self.drain_limit = drain_limit(settings.max_body_bytes)
        self.read_deadline: asyncio.TimerHandle | None = None
        self.raw: asyncio.Transport = None  # type: ignore[assignment]
        self.lingering = False
        self.lost = False
        self.discarded = 0  # body bytes received after our answer was complete (this request)

    # asyncio.Protocol -------------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self.raw = transport
        super().connection_made(_GuardedTransport(transport, self))  # type: ignore[arg-type]
        self._arm()  # the first request must arrive within the read timeout too

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self.lingering:
            self._discard(len(data))
            return
        answered = self.conn.our_state in (h11.DONE, h11.MUST_CLOSE, h11.CLOSED)
        if answered and self.conn.their_state is h11.SEND_BODY and self._discard(len(data)):
            return  # uvicorn drops a body that arrives after the answer; bound how much
        super().data_received(data)
        self._track()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.raw.is_closing() and not self.lingering:
            self._track()

    def shutdown(self) -> None:
        if self.lingering:
            self.raw.close()
            return
        super().shutdown()

    # the guard ------------------------------------------------------------------------------------

    def _arm(self) -> None:
        if self.read_deadline is None:
            self.read_deadline = self.loop.call_later(self.read_timeout, self._read_timed_out)

    def _disarm(self) -> None:
        if self.read_deadline is not None:
            self.read_deadline.cancel()
            self.read_deadline = None

    def _track(self) -> None:
        """Arm the read deadline while a request is arriving; disarm it once its body is complete."""
        their = self.conn.their_state
        if their is h11.SEND_BODY:
            self._arm()
            return
        self.discarded = 0
        if their is not h11.IDLE:  # DONE (the app answers now), MUST_CLOSE, CLOSED, ERROR
            self._disarm()
        elif self.conn.trailing_data[0]:  # part of the next request has arrived
            self._arm()
        elif self.cycle is not None:  # between requests: the keep-alive timeout applies, not ours
            self._disarm()
            if self.timeout_keep_alive_task is None and not self.raw.is_closing():
                self.timeout_keep_alive_task = self.loop.call_later(self.timeout_keep_alive, self.timeout_keep_alive_handler)

    def _discard(self, size: int) -> bool:
        """Count bytes dropped after our answer; close once more than the drain limit have come."""
        self.discarded += size
        if self.discarded <= self.drain_limit:
            return False
        self.lingering = False
        self.raw.close()  # enough: the client may now see a reset
        return True

    def close_connection(self) -> None:
        """uvicorn asks to close: linger first if the client is still sending the request body."""
        if self.lingering or self.raw.is_closing():
            return
        if self.lost or self.conn.their_state is not h11.SEND_BODY or not self.raw.can_write_eof():
            self.raw.close()
            return
        self.lingering = True
        self.raw.write_eof()  # after the answer is flushed: the client reads it, then end of file
        self.raw.resume_reading()  # uvicorn may have paused reading (flow control)
        self._arm()

    def _read_timed_out(self) -> None:
        self.read_deadline = None
        if self.raw.is_closing():
            return
        their = self.conn.their_state
        started = their is h11.SEND_BODY or (their is h11.IDLE and bool(self.conn.trailing_data[0]))
        answered = self.lingering or (their is h11.SEND_BODY and self.cycle is not None and self.cycle.response_started)
        self.lingering = False
        if started and not answered:
            log.info("read timeout: the request did not arrive within %g s; answered 408 and closed", self.read_timeout)
            if their is h11.SEND_BODY and self.cycle is not None:
                self.cycle.disconnected = True  # the app's receive() now returns http.disconnect
                self.cycle.message_event.set()
            self.raw.write(_timeout_response(self.read_timeout))
        self.raw.close()


# --- scrubbing, on one thread per worker ---------------------------------------------------------------


def _error(status: int, code: str, message: str, problems: list[dict[str, str]] | None = None, headers=None) -> Response:
    body = json.dumps({"error": code, "message": message, "problems": problems or []})
    return Response(body, status_code=status, media_type=JSON_TYPE, headers=headers)


def _with_pointers(parsed: Any) -> list[Claim]:
    """The request's claims, each knowing its JSON pointer in the body (``/0``, ``/claims/0``, ``""``)."""
    if isinstance(parsed, Claim):
        pairs = [("", parsed)]
    elif isinstance(parsed, list):
        pairs = [(f"/{n}", claim) for n, claim in enumerate(parsed)]
    else:
        pairs = [(f"/claims/{n}", claim) for n, claim in enumerate(parsed.claims)]
    return [
        claim if claim.source.pointer is not None else claim.model_copy(update={"source": claim.source.model_copy(update={"pointer": pointer})})
        for pointer, claim in pairs
    ]


def _pointer(loc: tuple[Any, ...]) -> str:
    parts = loc[1:] if loc and loc[0] in ("claim", "array", "batch") else loc  # drop the union tag
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in parts)


def _problems(error: ValidationError) -> list[dict[str, str]]:
    # include_input=False: a problem names where and what, never the value the client sent.
    return [
        {"path": _pointer(problem["loc"]), "message": problem["msg"]}
        for problem in error.errors(include_input=False, include_url=False, include_context=False)
    ]


class Worker:
    """The engine of this process and the single thread that uses it."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="scrubber-engine")
        self.scrubber: Any = None
        self.build: Future | None = None

    def start(self) -> None:
        self.build = self.executor.submit(self._build)

    def _build(self) -> None:
        from scrubber.api import build_scrubber

        try:
            self.scrubber = build_scrubber(self.settings.options)
        except Exception as error:
            log.error("the rules engine could not be built: %s: %s", type(error).__name__, error)
            raise

    def readiness(self) -> tuple[int, dict[str, Any]]:
        if self.build is None or not self.build.done():
            return 503, {"status": "starting"}
        error = self.build.exception()
        if error is not None:
            # /readyz needs no key: name the kind of failure; the server log has the details.
            return 503, {"status": "failed", "error": f"{type(error).__name__} (see the server log)"}
        return 200, {"status": "ready", "engine": self.scrubber.engine.name, "rules": len(self.scrubber.rules)}

    def scrub(self, body: bytes, media_type: str) -> Response:
        """Runs on the engine thread: parse, validate, scrub, encode."""
        started = time.perf_counter()
        if self.scrubber is None:  # the build ran first on this thread; it failed
            return _error(503, "not_ready", "the rules engine could not be built; see /readyz")
        if media_type == X12_TYPE:
            from scrubber.readers.x12_837p import read

            report = Report.collect(self.scrubber.run(read(BytesIO(body), None)), files=1, tables=self.scrubber.tables_in_use())
        else:
            problems = _money_problems(body)
            try:
                parsed = _REQUEST.validate_json(body, strict=True)
            except ValidationError as error:
                if any(problem["type"] == "json_invalid" for problem in error.errors()):
                    log.info("scrub: json body rejected: malformed JSON")
                    return _error(422, "malformed_json", "the body is not valid JSON", _problems(error))
                problems = _problems(error) + problems
            if problems:
                log.info("scrub: json body rejected, %d problem(s)", len(problems))
                return _error(422, "invalid_claims", "the body does not match the Claim schema", problems)
            claims = _with_pointers(parsed)
            report = Report.collect(self.scrubber.run(claims), tables=self.scrubber.tables_in_use())
        summary = report.summary
        log.info(
            "scrub: %s, %d claim(s): %d flagged, %d unreadable, %d finding(s), %d input error(s), %.1f ms",
            "x12" if media_type == X12_TYPE else "json", summary.claims, summary.flagged, summary.unreadable,
            summary.findings, summary.errors, (time.perf_counter() - started) * 1000,
        )
        return Response(json.dumps(report.to_dict()), media_type=JSON_TYPE)


def _media_type(header: str | None) -> str:
    return (header or "").split(";", 1)[0].strip().lower()


def _log_internal_error(error: BaseException) -> None:
    # The exception's message (and a source line) may quote claim data: log its type and where it was
    # raised (file, line, function), never its text.
    frames = "".join(f"\n  {frame.filename}:{frame.lineno} in {frame.name}" for frame in traceback.extract_tb(error.__traceback__))
    log.error("scrub: internal error %s%s", type(error).__qualname__, frames)


# --- the application ----------------------------------------------------------------------------------

_ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "X-API-Key missing or not a configured key"},
    408: {"model": ErrorBody, "description": "the request did not arrive within the read timeout (the connection is closed)"},
    413: {"model": ErrorBody, "description": "the body exceeds the size limit"},
    415: {"model": ErrorBody, "description": f"Content-Type is neither {JSON_TYPE} nor {X12_TYPE}"},
    422: {"model": ErrorBody, "description": "malformed JSON, or a claim that does not match the Claim schema"},
    500: {"model": ErrorBody, "description": "internal error (logged without claim contents)"},
    503: {"model": ErrorBody, "description": "the rules engine could not be built"},
}


def create_app(settings: Settings | None = None) -> FastAPI:
    """The service for one worker process (a uvicorn factory: settings come from ``SCRUBBER_SERVICE_SETTINGS``)."""
    settings = settings or Settings.from_environment()
    keys = require_keys(settings)
    worker = Worker(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        worker.start()
        yield
        worker.executor.shutdown(wait=False, cancel_futures=True)

    app = FastAPI(
        title="claim-scrubber pre-submission hook",
        version=__version__,
        description=__doc__,
        lifespan=lifespan,
        docs_url=None,  # the Swagger page loads its scripts from a CDN; the spec is at /openapi.json
        redoc_url=None,
    )
    app.state.worker = worker
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> Response:
        codes = {401: "unauthorized", 404: "not_found", 405: "method_not_allowed", 413: "body_too_large"}
        code = codes.get(error.status_code, "http_error")
        return _error(error.status_code, code, str(error.detail), headers=getattr(error, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, error: RequestValidationError) -> Response:
        problems = [{"path": "/".join(str(part) for part in problem.get("loc", ())), "message": problem.get("msg", "")}
                    for problem in error.errors()]
        return _error(422, "invalid_request", "the request is not valid", problems)

    dependencies = []
    if not settings.insecure_no_auth:
        check_key = KeyChecker(keys)
        header = APIKeyHeader(name="X-API-Key", auto_error=False, description="one of the configured API keys")

        async def require_api_key(key: str | None = Security(header)) -> None:
            if not check_key(key):
                raise HTTPException(401, "a valid X-API-Key header is required", headers={"WWW-Authenticate": "ApiKey"})

        dependencies.append(Security(require_api_key))

    @app.post(
        SCRUB_PATH,
        summary="Scrub one claim or a batch (JSON) or an X12 837P interchange",
        response_model=None,
        responses={200: {"model": ReportOut, "description": "the report, as `scrubber check --format json`"}, **_ERROR_RESPONSES},
        dependencies=dependencies,
        openapi_extra={"requestBody": _request_body_openapi()},
    )
    async def scrub_claims(request: Request) -> Response:
        media_type = _media_type(request.headers.get("content-type"))
        if media_type not in (JSON_TYPE, X12_TYPE):
            return _error(415, "unsupported_media_type", f"send Content-Type {JSON_TYPE} or {X12_TYPE}")
        body = await request.body()
        try:
            return await asyncio.get_running_loop().run_in_executor(worker.executor, worker.scrub, body, media_type)
        except Exception as error:  # noqa: BLE001 - answered as JSON, logged without claim data
            _log_internal_error(error)
            return _error(500, "internal_error", "the claims could not be scrubbed (internal error)")

    @app.get("/healthz", summary="The process is alive", response_model=Health)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get(
        "/readyz",
        summary="Rules loaded and engine built",
        response_model=Readiness,
        responses={503: {"model": Readiness, "description": "starting, or the engine could not be built"}},
    )
    async def readyz() -> Response:
        status, body = worker.readiness()
        return Response(json.dumps(body), status_code=status, media_type=JSON_TYPE)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
            schema.setdefault("components", {}).setdefault("schemas", {}).update(_CLAIM_SCHEMAS)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


_, _DEFS = models_json_schema([(Claim, "validation"), (ClaimBatch, "validation")], ref_template="#/components/schemas/{model}")
_CLAIM_SCHEMAS: dict[str, Any] = _DEFS.get("$defs", {})
_publish_money_pattern(_CLAIM_SCHEMAS)


def _request_body_openapi() -> dict[str, Any]:
    claim = {"$ref": "#/components/schemas/Claim"}
    return {
        "required": True,
        "content": {
            JSON_TYPE: {
                "schema": {
                    "oneOf": [
                        claim,
                        {"type": "array", "items": claim, "minItems": 1},
                        {"$ref": "#/components/schemas/ClaimBatch"},
                    ]
                },
                "example": _EXAMPLE_CLAIM,
            },
            X12_TYPE: {"schema": {"type": "string", "description": "X12 837P (005010X222A1 or A2) interchange"}},
        },
    }


_EXAMPLE_CLAIM: dict[str, Any] = {
    "claim_id": "A1",
    "total_charge": "180",
    "assignment": "C",
    "payer": {"sequence": "P", "filing_indicator": "MB", "payer_id": "MEDICARE"},
    "diagnoses": [{"code": "J449", "qualifier": "ABK"}],
    "lines": [
        {"number": 1, "procedure": "99213", "charge": "100", "units": "1", "service_date": "2026-01-10"},
        {"number": 2, "procedure": "80053", "charge": "80", "units": "1", "service_date": "2026-01-10"},
    ],
}


class AccessLogFilter(logging.Filter):
    """Drop the query string from uvicorn's access log: only method, path and status are logged."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 5 and isinstance(args[2], str) and "?" in args[2]:
            record.args = (args[0], args[1], args[2].split("?", 1)[0], args[3], args[4])
        return True


def log_config(level: str = "info") -> dict[str, Any]:
    """uvicorn's logging config plus our logger, with the access-log filter."""
    from uvicorn.config import LOGGING_CONFIG

    config = json.loads(json.dumps(LOGGING_CONFIG))
    config.setdefault("filters", {})["no_query"] = {"()": "scrubber.service.AccessLogFilter"}
    config["handlers"]["access"]["filters"] = ["no_query"]
    config["loggers"]["scrubber"] = {"handlers": ["default"], "level": level.upper(), "propagate": False}
    return config
