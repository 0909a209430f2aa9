"""``scrubber serve``: the HTTP pre-submission hook (``POST /v1/claims:scrub``), see ``scrubber/service.py``.

Refuses to start (exit 2) without API keys unless ``--insecure-no-auth``. Each of ``--workers N`` uvicorn
worker processes builds its own rules engine (``scrubber.service:create_app`` is a factory); the
settings reach the workers through the ``SCRUBBER_SERVICE_SETTINGS`` environment variable, the keys
through ``SCRUBBER_API_KEYS`` and the key file, never through the command line of a process.
Slow clients are bounded by ``--read-timeout`` (a whole request) and ``--keep-alive-timeout`` (idle
between requests); a refused body is read and discarded up to a bound so that the client sees the 413.
Exit status: 0 after a clean shutdown, 2 usage error (no keys, bad flags or rules), 3 uvicorn could not
start (e.g. the port is in use).
"""

from __future__ import annotations

import argparse
import os
import sys

from scrubber.commands.common import UsageError, add_rule_options, add_table_option, load_selected_rules, split_values
from scrubber.engine import ENGINES


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be at least 1")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 < value <= 3600:  # also refuses nan and inf
        raise argparse.ArgumentTypeError(f"{text!r} must be more than 0 and at most 3600 seconds")
    return value


def _port(text: str) -> int:
    value = _positive(text) if text != "0" else 0
    if value > 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a TCP port")
    return value


def add_parser(commands: argparse._SubParsersAction) -> None:
    serve = commands.add_parser("serve", help="run the HTTP pre-submission hook (POST /v1/claims:scrub)")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=_port, default=8000, metavar="P", help="TCP port (default 8000)")
    serve.add_argument("--workers", type=_positive, default=1, metavar="N", help="worker processes, one engine each (default 1)")
    serve.add_argument("--api-keys-file", metavar="FILE", help="API keys, one per line (added to $SCRUBBER_API_KEYS)")
    serve.add_argument(
        "--insecure-no-auth", action="store_true", help="accept requests without an API key (trusted networks only)"
    )
    serve.add_argument(
        "--max-body-bytes", type=_positive, default=None, metavar="N",
        help="larger request bodies get 413 (default 8 MiB); the rest of such a body, up to 4 N bytes "
        "(at least 16 MiB), is read and discarded within the read timeout so that the client sees the 413",
    )
    serve.add_argument(
        "--read-timeout", type=_seconds, default=None, metavar="SECONDS",
        help="a request's line, headers and body must all arrive within this many seconds of its first byte "
        "(of the connection opening, for a connection's first request), else 408 and the connection is "
        "closed; the time spent answering is not counted (default 10)",
    )
    serve.add_argument(
        "--keep-alive-timeout", type=_seconds, default=None, metavar="SECONDS",
        help="close a keep-alive connection idle for this many seconds between requests (default 5)",
    )
    serve.add_argument("--log-level", choices=("critical", "error", "warning", "info", "debug"), default="info")
    add_rule_options(serve)
    serve.add_argument("--engine", choices=ENGINES, default="durable")
    add_table_option(serve)


def run(args: argparse.Namespace) -> int:
    try:
        import uvicorn

        from scrubber import service
    except ImportError as error:
        raise UsageError(f"`scrubber serve` needs the service extra ({error}): pip install 'claim-scrubber[service]'")

    from scrubber.options import ScrubOptions
    from scrubber.profiles import load_profiles

    load_selected_rules(args)  # a bad rule file, selector or profile is a usage error here, not in every worker
    load_profiles(args.profiles)
    tables = dict(args.table or [])
    if tables:
        from scrubber.api import open_tables

        open_tables(tables)  # a table that cannot be read stops here (exit 2), not in every worker
    settings = service.Settings(
        api_keys_file=args.api_keys_file,
        insecure_no_auth=args.insecure_no_auth,
        max_body_bytes=args.max_body_bytes or service.DEFAULT_MAX_BODY_BYTES,
        read_timeout=args.read_timeout or service.DEFAULT_READ_TIMEOUT,
        keep_alive_timeout=args.keep_alive_timeout or service.DEFAULT_KEEP_ALIVE_TIMEOUT,
        options=ScrubOptions(
            select=split_values(args.select) or None,
            ignore=split_values(args.ignore) or None,
            rulesets=args.rules,
            profiles=args.profiles,
            engine=args.engine,
            tables=tables,
        ),
    )
    try:
        keys = service.require_keys(settings)
    except service.ServiceConfigError as error:
        raise UsageError(str(error)) from None
    if args.insecure_no_auth:
        print("scrubber: --insecure-no-auth: every client can scrub claims without an API key", file=sys.stderr)
    elif any(len(key) < 16 for key in keys):
        print("scrubber: warning: an API key is shorter than 16 characters", file=sys.stderr)
    os.environ[service.SETTINGS_ENV] = settings.to_json()
    uvicorn.run(
        "scrubber.service:create_app",
        factory=True,
        http=service.GuardedH11Protocol,  # read timeout and lingering close (see scrubber/service.py)
        timeout_keep_alive=settings.keep_alive_timeout,  # type: ignore[arg-type]  # uvicorn takes a float here
        ws="none",  # no WebSocket routes: an Upgrade request is answered as plain HTTP
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_config=service.log_config(args.log_level),
        log_level=args.log_level,
        access_log=True,
        server_header=False,
    )
    return 0
