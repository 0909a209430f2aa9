"""The HTTP pre-submission hook, run for real: ``python -m scrubber serve`` on a loopback port, called with httpx.

One server (session-scoped) serves most tests; tests about start-up, ``--insecure-no-auth`` and
``--workers`` start their own. Server logs go to a file so a test can prove claim contents never reach them.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import http.client
import json
import logging
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest

import scrubber
from conftest import MIXED_BATCH, ROOT, run_cli
from scrubber import service
from scrubber.rules.testing import build_case_claim

KEY = "test-key-0123456789abcdef"
OTHER_KEY = "second-key-0123456789abcdef"
FILE_KEY = "file-key-0123456789abcdef"
MAX_BODY = 200_000
SCRUB = "/v1/claims:scrub"
X12 = {"Content-Type": "application/edi-x12"}

# Medicare Part B, CLM07 'C', line 2 a clinical lab test Medicare pays only on assignment: CO-111 on line 2.
FLAGGED = {
    "claim_id": "FLAG-1",
    "payer": {"filing_indicator": "MB"},
    "assignment": "C",
    "lines": [{"procedure": "99213"}, {"procedure": "80053"}],
}
CLEAN = {"claim_id": "CLEAN-1"}


def claim_json(overrides: dict[str, Any]) -> dict[str, Any]:
    return build_case_claim(overrides).model_dump(mode="json")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    def __init__(self, process: subprocess.Popen, url: str, log: Path):
        self.process, self.url, self.log = process, url, log

    def client(self, key: str | None = KEY) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers={"X-API-Key": key} if key else {}, timeout=30)

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_server(log: Path, *args: str, env: dict[str, str] | None = None) -> Server:
    """Start ``scrubber serve`` on a free port and wait until /readyz answers 200."""
    environment = {key: value for key, value in os.environ.items() if key != "SCRUBBER_API_KEYS"}
    environment.update(env or {})
    port = free_port()
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "scrubber", "serve", "--port", str(port), *args],
            cwd=ROOT, env=environment, stdout=out, stderr=subprocess.STDOUT,
        )
    server = Server(process, f"http://127.0.0.1:{port}", log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the server exited with {process.returncode}:\n{server.log_text()}")
        try:
            if httpx.get(server.url + "/readyz", timeout=2).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    server.stop()
    raise AssertionError(f"the server did not become ready:\n{server.log_text()}")


@pytest.fixture(scope="session")
def server(tmp_path_factory) -> Iterator[Server]:
    directory = tmp_path_factory.mktemp("service")
    keys = directory / "keys.txt"
    keys.write_text(f"# service keys\n{FILE_KEY}\n\n", encoding="utf-8")
    started = start_server(
        directory / "server.log",
        "--api-keys-file", str(keys), "--max-body-bytes", str(MAX_BODY),
        env={"SCRUBBER_API_KEYS": f"{KEY}, {OTHER_KEY}"},
    )
    yield started
    started.stop()


@pytest.fixture
def client(server: Server) -> Iterator[httpx.Client]:
    with server.client() as session:
        yield session


def assert_error(response: httpx.Response, status: int, error: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["error"] == error, body
    assert "Traceback" not in response.text
    return body


# --- start-up ------------------------------------------------------------------------------------


def serve_exit(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    environment = {key: value for key, value in os.environ.items() if key != "SCRUBBER_API_KEYS"}
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "scrubber", "serve", "--port", str(free_port()), *args],
        cwd=ROOT, env=environment, capture_output=True, text=True, timeout=60,
    )


def test_refuses_to_start_without_keys():
    result = serve_exit()
    assert result.returncode == 2, result.stdout + result.stderr
    assert "no API keys configured" in result.stderr and "SCRUBBER_API_KEYS" in result.stderr
    assert "--insecure-no-auth" in result.stderr
    assert "Traceback" not in result.stderr


def test_refuses_to_start_with_blank_keys_or_a_missing_key_file(tmp_path):
    blank = serve_exit(env={"SCRUBBER_API_KEYS": " , ,"})
    assert blank.returncode == 2 and "no API keys configured" in blank.stderr
    empty = tmp_path / "empty.txt"
    empty.write_text("# nothing here\n\n", encoding="utf-8")
    assert serve_exit("--api-keys-file", str(empty)).returncode == 2
    missing = serve_exit("--api-keys-file", str(tmp_path / "nope.txt"), env={"SCRUBBER_API_KEYS": KEY})
    assert missing.returncode == 2 and "cannot read API key file" in missing.stderr
    assert "Traceback" not in blank.stderr + missing.stderr


def test_bad_flags_are_usage_errors():
    assert serve_exit("--workers", "0", env={"SCRUBBER_API_KEYS": KEY}).returncode == 2
    bad_rule = serve_exit("--select", "no-such-rule", env={"SCRUBBER_API_KEYS": KEY})
    assert bad_rule.returncode == 2 and "match no rule" in bad_rule.stderr


def test_insecure_no_auth_serves_without_a_key(tmp_path):
    server = start_server(tmp_path / "server.log", "--insecure-no-auth")
    try:
        with server.client(key=None) as client:
            response = client.post(SCRUB, json=claim_json(FLAGGED))
        assert response.status_code == 200, response.text
        assert response.json()["summary"]["flagged"] == 1
        assert "--insecure-no-auth" in server.log_text()
    finally:
        server.stop()


# --- authentication --------------------------------------------------------------------------------


def test_missing_key_is_401(server):
    with server.client(key=None) as client:
        response = client.post(SCRUB, json=claim_json(FLAGGED))
    assert_error(response, 401, "unauthorized")
    assert response.headers["www-authenticate"] == "ApiKey"


@pytest.mark.parametrize("key", ["wrong", KEY + "x", KEY[:-1], "", KEY.upper(), f"{KEY},{OTHER_KEY}"])
def test_wrong_key_is_401(server, key):
    with server.client(key=None) as client:
        response = client.post(SCRUB, json=claim_json(FLAGGED), headers={"X-API-Key": key})
    assert_error(response, 401, "unauthorized")


@pytest.mark.parametrize("key", [KEY, OTHER_KEY, FILE_KEY])
def test_every_configured_key_is_accepted(server, key):
    with server.client(key=key) as client:
        assert client.post(SCRUB, json=claim_json(CLEAN)).status_code == 200


def test_key_checked_before_the_body_is_read(server):
    with server.client(key=None) as client:
        response = client.post(SCRUB, content=b"not json", headers={"Content-Type": "application/json"})
    assert_error(response, 401, "unauthorized")


# --- JSON claims ------------------------------------------------------------------------------------


def test_flagged_claim_gets_its_findings(client):
    response = client.post(SCRUB, json=claim_json(FLAGGED))
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["summary"]["claims"] == 1 and report["summary"]["flagged"] == 1
    (result,) = report["claims"]
    assert result["claim_id"] == "FLAG-1" and result["status"] == "flagged"
    found = [(f["rule"], f["carc"], f["line"], f["element"], f["severity"]) for f in result["findings"]]
    assert found == [("unassigned-mandatory-assignment-service", "CO-111", 2, "CLM07", "error")]
    assert report["errors"] == []


def test_report_is_the_library_report(client):
    claims = [claim_json(FLAGGED), claim_json(CLEAN), claim_json({"claim_id": "AUTO", "related_causes": ["AA"], "accident_state": "CA"})]
    expected = scrubber.scrub(claims).to_dict()
    response = client.post(SCRUB, json=claims)
    assert response.status_code == 200, response.text
    assert response.json() == expected
    assert [c["status"] for c in response.json()["claims"]] == ["flagged", "clean", "flagged"]


@pytest.mark.parametrize("shape", ["array", "envelope"])
def test_batch(client, shape):
    claims = [claim_json(CLEAN), claim_json(FLAGGED), claim_json({"claim_id": "CLEAN-2"})]
    response = client.post(SCRUB, json=claims if shape == "array" else {"claims": claims})
    assert response.status_code == 200, response.text
    report = response.json()
    assert [c["claim_id"] for c in report["claims"]] == ["CLEAN-1", "FLAG-1", "CLEAN-2"]
    assert [c["status"] for c in report["claims"]] == ["clean", "flagged", "clean"]
    assert report["summary"] | {"by_severity": None} == {
        "files": 0, "claims": 3, "clean": 2, "flagged": 1, "unreadable": 0, "findings": 1, "errors": 0, "by_severity": None,
        "tables": [],
    }


def test_invalid_claim_rejects_the_request_with_its_json_pointer(client):
    good = claim_json(CLEAN)
    bad = claim_json(FLAGGED)
    bad["lines"][1]["number"] = "2"  # strict: a string is not an integer
    bad["payer"]["filing_indicator"] = 11  # nor a number a string
    body = assert_error(client.post(SCRUB, json={"claims": [good, bad]}), 422, "invalid_claims")
    paths = sorted(problem["path"] for problem in body["problems"])
    assert paths == ["/claims/1/lines/1/number", "/claims/1/payer/filing_indicator"]
    array = assert_error(client.post(SCRUB, json=[good, bad]), 422, "invalid_claims")
    assert "/1/lines/1/number" in [problem["path"] for problem in array["problems"]]


@pytest.mark.parametrize("charge", [" 100", "1_000", "1e5", "+5", "١٠", "100\n", "1" * 16, "abc"])
def test_money_strings_must_be_plain_decimals(client, charge):
    claim = claim_json(CLEAN)
    claim["lines"][0]["charge"] = charge
    body = assert_error(client.post(SCRUB, json=claim), 422, "invalid_claims")
    assert "/lines/0/charge" in [problem["path"] for problem in body["problems"]]


@pytest.mark.parametrize("charge", ["100", "100.25", "-5", 100, 100.25, "0.001"])
def test_money_as_number_or_plain_decimal_string(client, charge):
    claim = claim_json(CLEAN)
    claim["lines"][0]["charge"] = charge
    assert client.post(SCRUB, json=claim).status_code == 200


@pytest.mark.parametrize(
    "body, path",
    [
        ("[]", ""),
        ('{"claims": []}', "/claims"),
        ('"a claim"', ""),
        ("42", ""),
        ('{"claims": {"claim_id": "A"}}', "/claims"),
        ('{"claims": [], "extra": 1}', "/extra"),
        ('{"claim_id": "A", "colour": "red"}', "/colour"),
        ("{}", "/claim_id"),
    ],
)
def test_wrong_json_shapes_are_422(client, body, path):
    response = client.post(SCRUB, content=body, headers={"Content-Type": "application/json"})
    problems = assert_error(response, 422, "invalid_claims")["problems"]
    assert path in [problem["path"] for problem in problems], problems


@pytest.mark.parametrize("body", [b"{", b'{"claim_id": "A",}', b"\xff\xfe", b"", b"[1, 2"])
def test_malformed_json_is_422(client, body):
    response = client.post(SCRUB, content=body, headers={"Content-Type": "application/json; charset=utf-8"})
    assert_error(response, 422, "malformed_json")


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded", "application/xml", "application/jsonx"])
def test_other_content_types_are_415(client, content_type):
    headers = {"Content-Type": content_type} if content_type else {}
    request = client.build_request("POST", SCRUB, content=json.dumps(claim_json(CLEAN)), headers=headers)
    assert ("content-type" in request.headers) == (content_type is not None)
    assert_error(client.send(request), 415, "unsupported_media_type")


# --- X12 ---------------------------------------------------------------------------------------------


def test_x12_body_gets_the_same_report_as_the_cli(client):
    cli = run_cli("check", str(MIXED_BATCH), "--format", "json")
    assert cli.returncode == 1, cli.stderr
    expected = json.loads(cli.stdout)
    response = client.post(SCRUB, content=MIXED_BATCH.read_bytes(), headers=X12)
    assert response.status_code == 200, response.text
    report = response.json()

    def without_file(items: list[dict]) -> list[dict]:
        return [{key: value for key, value in item.items() if key != "file"} for item in items]

    assert without_file(report["claims"]) == without_file(expected["claims"])
    assert without_file(report["errors"]) == without_file(expected["errors"])
    assert report["summary"] == expected["summary"]
    assert [c["status"] for c in report["claims"]] == ["flagged", "clean", "unreadable"]
    assert report["claims"][0]["findings"][0]["rule"] == "unassigned-mandatory-assignment-service"


def test_x12_content_type_is_case_insensitive_and_may_carry_a_charset(client):
    response = client.post(SCRUB, content=MIXED_BATCH.read_bytes(), headers={"Content-Type": "Application/EDI-X12; charset=us-ascii"})
    assert response.status_code == 200 and response.json()["summary"]["claims"] == 3


@pytest.mark.parametrize("body", [b"", b"hello", b"\x00\xff" * 50, b"ISA*00*" + b"x" * 200 + b"~"])
def test_unreadable_x12_is_reported_not_a_crash(client, body):
    response = client.post(SCRUB, content=body, headers=X12)
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["summary"]["claims"] == 0 and report["summary"]["errors"] >= 1 and report["errors"]


def test_huge_amount_in_x12_makes_the_claim_unreadable(client):
    text = MIXED_BATCH.read_text(encoding="latin-1")
    start = text.index("CLM*A1*")
    end = text.index("*", start + len("CLM*A1*"))
    broken = text[:start] + "CLM*A1*1E999999" + text[end:]
    response = client.post(SCRUB, content=broken.encode("latin-1"), headers=X12)
    assert response.status_code == 200, response.text
    first = response.json()["claims"][0]
    assert first["claim_id"] == "A1" and first["status"] == "unreadable" and "total_charge" in first["error"]


# --- size limit ----------------------------------------------------------------------------------------


def test_oversize_body_by_content_length_is_413(client):
    body = b" " * (MAX_BODY + 1)
    assert_error(client.post(SCRUB, content=body, headers={"Content-Type": "application/json"}), 413, "body_too_large")


def test_oversize_streamed_body_is_413(client):
    def chunks() -> Iterator[bytes]:  # no Content-Length: chunked transfer encoding
        for _ in range(MAX_BODY // 10_000 + 2):
            yield b" " * 10_000

    response = client.post(SCRUB, content=chunks(), headers=X12)
    assert "content-length" not in response.request.headers
    assert_error(response, 413, "body_too_large")


def test_body_at_the_limit_is_accepted(client):
    body = json.dumps(claim_json(FLAGGED)).encode()
    padded = body + b" " * (MAX_BODY - len(body))
    assert len(padded) == MAX_BODY
    response = client.post(SCRUB, content=padded, headers={"Content-Type": "application/json"})
    assert response.status_code == 200, response.text


def test_oversize_body_without_key_is_still_413(server):
    with server.client(key=None) as client:
        response = client.post(SCRUB, content=b" " * (MAX_BODY + 1), headers=X12)
    assert_error(response, 413, "body_too_large")


def urllib_post(url: str, body: Any, headers: dict[str, str]) -> tuple[int, bytes]:
    """POST with urllib, which sends the whole body before it reads the answer."""
    request = urllib.request.Request(url + SCRUB, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.read()


def assert_413(status: int, body: bytes) -> None:
    assert status == 413, body
    assert json.loads(body) == {"error": "body_too_large", "message": f"the request body exceeds {MAX_BODY} bytes", "problems": []}


@pytest.mark.parametrize("size", [MAX_BODY + 1, 10 * MAX_BODY, 25 * MAX_BODY])
def test_urllib_sees_the_413_not_a_reset(server, size):
    # Content-Length over the limit: answered before the body is read, then the body is drained.
    assert_413(*urllib_post(server.url, b" " * size, {"Content-Type": "application/json", "X-API-Key": KEY}))


def test_urllib_sees_the_413_without_a_key_or_when_streaming(server):
    assert_413(*urllib_post(server.url, b" " * (25 * MAX_BODY), {"Content-Type": "application/json"}))
    chunks = iter([b" " * 100_000] * 50)  # no Content-Length: chunked, refused while it streams
    assert_413(*urllib_post(server.url, chunks, {"Content-Type": "application/json", "X-API-Key": KEY}))


def test_urllib_sees_the_401_for_a_body_without_a_key(server):
    status, body = urllib_post(server.url, b" " * (MAX_BODY - 1), {"Content-Type": "application/json"})
    assert status == 401 and json.loads(body)["error"] == "unauthorized"


@pytest.mark.parametrize("send_body", [False, True])
def test_http_client_content_length_over_the_limit_is_413(server, send_body):
    size = 25 * MAX_BODY
    connection = http.client.HTTPConnection("127.0.0.1", int(server.url.rsplit(":", 1)[1]), timeout=60)
    try:
        connection.putrequest("POST", SCRUB)
        for name, value in {"Content-Type": "application/json", "X-API-Key": KEY, "Content-Length": str(size)}.items():
            connection.putheader(name, value)
        connection.endheaders()
        if send_body:
            connection.send(b" " * size)
        response = connection.getresponse()
        assert_413(response.status, response.read())
        assert response.getheader("connection") == "close"
    finally:
        connection.close()


def test_a_refused_body_is_drained_only_up_to_a_bound(server):
    # Content-Length 1 GB, then send without reading: the server reads and discards up to drain_limit
    # bytes (4 x the limit, at least 16 MiB), then closes; it does not read the whole gigabyte.
    limit = service.drain_limit(MAX_BODY)
    sent = 0
    with socket.create_connection(("127.0.0.1", int(server.url.rsplit(":", 1)[1])), timeout=30) as sock:
        sock.sendall(f"POST {SCRUB} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {10**9}\r\n\r\n".encode())
        chunk = b" " * 65536
        with pytest.raises(OSError):  # BrokenPipeError or ConnectionResetError once the server has closed
            while sent < 10**9:
                sent += sock.send(chunk)
    assert limit <= sent < limit + 32 * 1024 * 1024  # socket buffers hold a few MiB more


# --- health, readiness, OpenAPI, routing -------------------------------------------------------------


def test_healthz_and_readyz_need_no_key(server):
    with server.client(key=None) as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["status"] == "ready" and ready.json()["rules"] == len(scrubber.api.build_scrubber().rules)
    assert ready.json()["engine"] in ("durable", "python")


def test_openapi_document(server):
    spec = httpx.get(server.url + "/openapi.json").json()
    operation = spec["paths"][SCRUB]["post"]
    assert set(operation["requestBody"]["content"]) == {"application/json", "application/edi-x12"}
    assert {"200", "401", "413", "415", "422"} <= set(operation["responses"])
    assert spec["components"]["securitySchemes"]["APIKeyHeader"] == {
        "type": "apiKey", "in": "header", "name": "X-API-Key", "description": "one of the configured API keys",
    }
    assert "Claim" in spec["components"]["schemas"] and "ClaimBatch" in spec["components"]["schemas"]
    charge = spec["components"]["schemas"]["ServiceLine"]["properties"]["charge"]["anyOf"]
    assert {"type": "string", "pattern": r"^-?[0-9]{1,15}(\.[0-9]{1,15})?$"} in charge
    assert set(spec["paths"]) == {SCRUB, "/healthz", "/readyz"}


def test_unknown_paths_and_methods_answer_json(client):
    assert_error(client.get(SCRUB), 405, "method_not_allowed")
    assert_error(client.post("/v1/claims"), 404, "not_found")
    assert_error(client.post("/v1/claims:scrubx", json={}), 404, "not_found")
    assert client.get("/docs").status_code == 404  # no Swagger page: it would load scripts from a CDN


def test_percent_encoded_colon_reaches_the_route(client):
    response = client.post("/v1/claims%3Ascrub", json=claim_json(FLAGGED))
    assert response.status_code == 200 and response.json()["summary"]["flagged"] == 1


# --- logs ----------------------------------------------------------------------------------------------


def test_no_claim_contents_in_the_logs(server, client):
    secret = {
        "claim_id": "SECRETCLAIM77",
        "payer": {"filing_indicator": "MB", "name": "SECRETPAYER"},
        "subscriber": {"last_name": "SECRETNAME", "first_name": "SECRETFIRST", "member_id": "SECRETMEMBER"},
        "assignment": "C",
        "lines": [{"procedure": "99213"}, {"procedure": "80053"}],
    }
    good = claim_json(secret)
    assert client.post(SCRUB, json=good, params={"patient": "SECRETQUERY"}).status_code == 200
    bad = claim_json(secret)
    bad["lines"][0]["number"] = "SECRETNUMBER"
    bad["lines"][0]["charge"] = "SECRETCHARGE"
    assert client.post(SCRUB, json=bad).status_code == 422
    assert client.post(SCRUB, content=b'{"claim_id": "SECRETBROKEN', headers={"Content-Type": "application/json"}).status_code == 422
    x12 = MIXED_BATCH.read_bytes().replace(b"CLM*A1*", b"CLM*SECRETX12*")
    assert client.post(SCRUB, content=x12, headers=X12).status_code == 200
    time.sleep(0.3)  # the access log line is written after the response
    log = server.log_text()
    assert "SECRET" not in log, [line for line in log.splitlines() if "SECRET" in line]
    assert '"POST /v1/claims%3Ascrub HTTP/1.1" 200' in log and '" 422' in log  # the log is written: the check can fail
    assert "scrub: json, 1 claim(s): 1 flagged" in log


def test_internal_errors_are_json_and_logged_without_their_message(monkeypatch, caplog):
    from scrubber import service

    def explode(self, body, media_type):
        raise ValueError("SECRETMESSAGE from claim SECRETCLAIM")

    monkeypatch.setattr(service.Worker, "scrub", explode)
    app = service.create_app(service.Settings(insecure_no_auth=True))

    async def call() -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://service") as client:
            return await client.post(SCRUB, json=claim_json(CLEAN))

    with caplog.at_level(logging.INFO, logger="scrubber.service"):
        response = asyncio.run(call())
    assert_error(response, 500, "internal_error")
    assert "ValueError" in caplog.text and "explode" in caplog.text
    assert "SECRET" not in caplog.text + response.text


# --- units: keys and readiness -------------------------------------------------------------------------


def test_key_checker():
    from scrubber.service import KeyChecker

    check = KeyChecker(("alpha-key", "bravo-key", "clé-ü"))
    assert check("alpha-key") and check("bravo-key")
    assert check("clé-ü".encode("utf-8").decode("latin-1"))  # what Starlette hands over for UTF-8 bytes
    assert not check(None) and not check("") and not check("alpha-ke") and not check("alpha-key ")
    assert not KeyChecker(())("anything")


def test_keys_from_environment_and_file(tmp_path, monkeypatch):
    from scrubber.service import ServiceConfigError, Settings, require_keys

    keys = tmp_path / "keys"
    keys.write_text("k-file-1  # a comment\n\n# k-commented\nk-file-2\n", encoding="utf-8")
    monkeypatch.setenv("SCRUBBER_API_KEYS", " k-env-1 ,,k-env-2,k-file-1")
    assert require_keys(Settings(api_keys_file=str(keys))) == ("k-env-1", "k-env-2", "k-file-1", "k-file-2")
    monkeypatch.delenv("SCRUBBER_API_KEYS")
    with pytest.raises(ServiceConfigError):
        require_keys(Settings())
    assert require_keys(Settings(insecure_no_auth=True)) == ()
    with pytest.raises(ServiceConfigError, match="no API keys"):
        from scrubber.service import create_app

        create_app(Settings())


def test_readiness_follows_the_engine_build(tmp_path):
    from scrubber.options import ScrubOptions
    from scrubber.service import Settings, Worker

    worker = Worker(Settings(insecure_no_auth=True))
    assert worker.readiness() == (503, {"status": "starting"})
    worker.start()
    worker.build.result(timeout=60)
    status, body = worker.readiness()
    assert status == 200 and body["status"] == "ready" and body["rules"] > 0
    broken = Worker(Settings(insecure_no_auth=True, options=ScrubOptions(rulesets=[tmp_path / "missing-rules"])))
    broken.start()
    with pytest.raises(Exception):
        broken.build.result(timeout=60)
    status, body = broken.readiness()
    assert status == 503 and body["status"] == "failed"
    assert broken.scrub(b"{}", "application/json").status_code == 503


# --- concurrency -----------------------------------------------------------------------------------------


def test_concurrent_requests_across_workers_get_their_own_findings(tmp_path):
    server = start_server(tmp_path / "server.log", "--workers", "2", env={"SCRUBBER_API_KEYS": KEY})
    try:
        cases = []
        for number in range(60):
            flagged = number % 3 == 0
            overrides = (FLAGGED if flagged else CLEAN) | {"claim_id": f"C{number}"}
            cases.append((claim_json(overrides), flagged))

        def post(case: tuple[dict, bool]) -> tuple[dict, bool, dict]:
            with server.client() as client:
                return case[0], case[1], client.post(SCRUB, json=[case[0]] * 3).json()

        with concurrent.futures.ThreadPoolExecutor(max_workers=12) as pool:
            results = list(pool.map(post, cases))
        for claim, flagged, report in results:
            assert [c["claim_id"] for c in report["claims"]] == [claim["claim_id"]] * 3
            assert report["summary"]["flagged"] == (3 if flagged else 0), report
        pids = {line.split("[")[1].split("]")[0] for line in server.log_text().splitlines() if "Started server process" in line}
        assert len(pids) == 2, server.log_text()
    finally:
        server.stop()


# --- schemathesis ------------------------------------------------------------------------------------------


def test_schemathesis_finds_nothing(server, tmp_path):
    """Property-based tests of every operation against the served OpenAPI document, all checks, bounded."""
    seed = os.environ.get("SCRUBBER_SCHEMATHESIS_SEED", "20260115")
    result = subprocess.run(
        [
            sys.executable, "-m", "schemathesis.cli", "run", server.url + "/openapi.json",
            "--header", f"X-API-Key: {KEY}", "--checks", "all", "--max-examples", "60", "--max-time", "45",
            "--seed", seed, "--workers", "2", "--no-color", "--generation-database", "none",
            "--report-dir", str(tmp_path),
        ],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert "No issues found" in result.stdout, result.stdout[-3000:]
