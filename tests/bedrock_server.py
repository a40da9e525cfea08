"""A local Bedrock Runtime look-alike for Titan Text Embeddings V2, for tests and benchmarks.

    with FakeBedrock(latency=0.1) as server:        # or server.start() / server.stop()
        monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", server.url)
        ...
        server.inject("throttle", count=3)            # the next 3 requests get 429 ThrottlingException
        server.fault_policy = lambda n, text: "server_error" if n % 5 == 0 else None

It serves ``POST /model/{modelId}/invoke`` as Bedrock does: checks the SigV4 ``Authorization``
header (form, credential scope ``<date>/<region>/bedrock/aws4_request``, and — with
``verify_signature`` — the signature itself, recomputed with botocore's signer from the known
secret), validates the Titan v2 body ``{"inputText", "dimensions", "normalize"}`` and answers
``{"embedding": [...], "inputTextTokenCount": n}`` with a deterministic unit vector per text
(``FakeBedrock.expected_vector``). Errors use Bedrock's wire format: status, header
``x-amzn-ErrorType`` and ``{"message": ...}``.

Faults: ``throttle`` (429 ThrottlingException), ``auth`` (403 UnrecognizedClientException),
``access_denied`` (403 AccessDeniedException), ``server_error`` (500 InternalServerException),
``unavailable`` (503 ServiceUnavailableException), ``slow`` (answer after ``slow_seconds``),
``garbage`` (200 with a non-JSON body).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

import numpy as np
import numpy.typing as npt
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

TEST_ACCESS_KEY = "AKIDLAPCEAITESTKEY01"
TEST_SECRET_KEY = "lapce-ai-test-secret/DO+NOT+LEAK+0123456789"

FAULTS = ("throttle", "auth", "access_denied", "server_error", "unavailable", "slow", "garbage")
_ERRORS: dict[str, tuple[int, str, str]] = {
    "throttle": (429, "ThrottlingException", "Too many requests, please wait before trying again."),
    "auth": (403, "UnrecognizedClientException", "The security token included in the request is invalid."),
    "access_denied": (403, "AccessDeniedException", "You don't have access to the model with the specified model ID."),
    "server_error": (500, "InternalServerException", "The server encountered an internal error."),
    "unavailable": (503, "ServiceUnavailableException", "Service is temporarily unable to handle the request."),
}
_AUTH_RE = re.compile(
    r"^AWS4-HMAC-SHA256 Credential=(?P<key>[A-Z0-9]{16,128})/(?P<date>\d{8})/(?P<region>[a-z0-9-]+)/"
    r"(?P<service>[a-z0-9-]+)/aws4_request, SignedHeaders=(?P<signed>[a-z0-9;-]+), Signature=(?P<sig>[0-9a-f]{64})$"
)
_PATH_RE = re.compile(r"^/model/(?P<model>[^/]+)/invoke$")
MAX_INPUT_CHARS = 50_000
MAX_INPUT_TOKENS = 8_192
FaultPolicy = Callable[[int, str], str | None]


@dataclass(frozen=True)
class Call:
    """One request the server answered (any outcome)."""

    n: int  # 1-based arrival order
    started: float  # time.monotonic() at arrival
    finished: float
    model_id: str
    text: str | None
    dimensions: int | None
    status: int
    outcome: str  # "ok", a fault name, or "bad_auth" / "bad_request" / "not_found"


class FakeBedrock:
    def __init__(
        self,
        *,
        region: str = "us-east-1",
        access_key: str = TEST_ACCESS_KEY,
        secret_key: str = TEST_SECRET_KEY,
        verify_signature: bool = True,
        latency: float = 0.0,
        slow_seconds: float = 5.0,
        chars_per_token: float = 4.0,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.region = region
        self.access_key = access_key
        self.secret_key = secret_key
        self.verify_signature = verify_signature
        self.latency = latency
        self.slow_seconds = slow_seconds
        # Token count is estimated as ceil(chars / chars_per_token); over 8,192 -> ValidationException.
        self.chars_per_token = chars_per_token
        self.fault_policy: FaultPolicy | None = None
        self._host = host
        self._port = port
        self._lock = threading.Lock()
        self._queued: deque[str] = deque()
        self._calls: list[Call] = []
        self._n = 0
        self._in_flight = 0
        self.max_in_flight = 0
        self._stopping = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> FakeBedrock:
        handler = type("_BoundHandler", (_Handler,), {"fake": self})
        httpd = ThreadingHTTPServer((self._host, self._port), handler)
        httpd.daemon_threads = True
        self._httpd = httpd
        self._stopping.clear()
        self._thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # wakes handlers sleeping in latency / slow faults
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeBedrock:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("server not started")
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    # -- fault injection -----------------------------------------------------------------------

    def inject(self, fault: str, count: int = 1) -> None:
        """The next ``count`` requests (after any already queued faults) get ``fault``."""
        if fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}; one of {FAULTS}")
        with self._lock:
            self._queued.extend([fault] * count)

    def clear_faults(self) -> None:
        with self._lock:
            self._queued.clear()
        self.fault_policy = None

    def reset(self) -> None:
        """Forget calls and counters (faults stay)."""
        with self._lock:
            self._calls.clear()
            self._n = 0
            self.max_in_flight = self._in_flight

    # -- observations --------------------------------------------------------------------------

    @property
    def calls(self) -> list[Call]:
        with self._lock:
            return list(self._calls)

    @property
    def call_count(self) -> int:
        with self._lock:
            return self._n

    def counts(self) -> Counter[str]:
        """Calls by outcome."""
        with self._lock:
            return Counter(c.outcome for c in self._calls)

    def successes_by_text(self) -> Counter[str]:
        with self._lock:
            return Counter(c.text for c in self._calls if c.outcome == "ok" and c.text is not None)

    def attempts_by_text(self) -> Counter[str]:
        with self._lock:
            return Counter(c.text for c in self._calls if c.text is not None)

    def measured_rate(self, outcome: str | None = None) -> float:
        """Requests per second between the first and last arrival: (n - 1) / span."""
        starts = sorted(c.started for c in self.calls if outcome is None or c.outcome == outcome)
        if len(starts) < 2 or starts[-1] == starts[0]:
            return 0.0
        return (len(starts) - 1) / (starts[-1] - starts[0])

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Wait until no request is being handled (slow answers the client gave up on included)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if self._in_flight == 0:
                    return True
            time.sleep(0.01)
        return False

    @staticmethod
    def expected_vector(text: str, dimensions: int) -> npt.NDArray[np.float32]:
        """The embedding this server returns for ``text``: a deterministic unit vector."""
        seed = int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "little")
        vec = np.random.default_rng(seed).standard_normal(dimensions)
        return (vec / np.linalg.norm(vec)).astype(np.float32)

    # -- request handling (called by _Handler) -------------------------------------------------

    def _begin(self) -> tuple[int, float]:
        with self._lock:
            self._n += 1
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)
            return self._n, time.monotonic()

    def _end(self, call: Call) -> None:
        with self._lock:
            self._in_flight -= 1
            self._calls.append(call)

    def _next_fault(self, n: int, text: str) -> str | None:
        with self._lock:
            if self._queued:
                return self._queued.popleft()
        policy = self.fault_policy
        return policy(n, text) if policy is not None else None

    def _check_auth(self, method: str, raw_path: str, headers: dict[str, str], body: bytes) -> str | None:
        """None if the request is properly signed, else why not."""
        auth = headers.get("authorization")
        if not auth:
            return "missing Authorization header"
        m = _AUTH_RE.match(auth)
        if not m:
            return "malformed SigV4 Authorization header"
        if m["service"] != "bedrock":
            return f"credential scope service is {m['service']!r}, expected 'bedrock'"
        if m["region"] != self.region:
            return f"credential scope region is {m['region']!r}, expected {self.region!r}"
        amz_date = headers.get("x-amz-date", "")
        if not re.fullmatch(r"\d{8}T\d{6}Z", amz_date) or amz_date[:8] != m["date"]:
            return "X-Amz-Date missing or not matching the credential scope"
        signed = m["signed"].split(";")
        if "host" not in signed or "x-amz-date" not in signed:
            return "host and x-amz-date must be signed"
        if not self.verify_signature:
            return None
        if m["key"] != self.access_key:
            return "unknown access key"
        missing = [h for h in signed if h not in headers]
        if missing:
            return f"signed headers missing from the request: {missing}"
        request = AWSRequest(
            method=method,
            url=f"http://{headers['host']}{raw_path}",
            headers={h: headers[h] for h in signed},
            data=body,
        )
        request.context["timestamp"] = amz_date
        signer = SigV4Auth(Credentials(self.access_key, self.secret_key), "bedrock", self.region)
        expected = signer.signature(signer.string_to_sign(request, signer.canonical_request(request)), request)
        if not hmac.compare_digest(expected, m["sig"]):
            return "signature does not match"
        return None

    def _sleep(self, seconds: float) -> None:
        if seconds > 0:
            self._stopping.wait(seconds)


class _Handler(BaseHTTPRequestHandler):
    fake: FakeBedrock
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # silence http.server's stderr log
        pass

    def do_POST(self) -> None:
        fake = self.fake
        n, started = fake._begin()
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        model_id = ""
        text: str | None = None
        dims: int | None = None
        status, outcome = 200, "ok"
        self._reply: tuple[int, bytes, dict[str, str]] | None = None
        try:
            m = _PATH_RE.match(self.path)
            if not m:
                status, outcome = 404, "not_found"
                self._error(404, "UnknownOperationException", f"no route for {self.path}")
                return
            model_id = unquote(m["model"])
            why = fake._check_auth("POST", self.path, headers, body)
            if why is not None:
                status, outcome = 403, "bad_auth"
                code = "InvalidSignatureException" if "signature" in why else "UnrecognizedClientException"
                self._error(403, code, why)
                return
            if model_id != "amazon.titan-embed-text-v2:0":
                status, outcome = 404, "not_found"
                self._error(404, "ResourceNotFoundException", "The requested model was not found.")
                return
            try:
                doc = json.loads(body)
                text = doc["inputText"]
                dims = int(doc.get("dimensions", 1024))
                normalize = doc.get("normalize", True)
                if not isinstance(text, str) or not isinstance(normalize, bool):
                    raise TypeError
            except (ValueError, KeyError, TypeError):
                status, outcome = 400, "bad_request"
                self._error(400, "ValidationException", "Malformed input request, please reformat your input.")
                return
            fault = fake._next_fault(n, text)
            if fault in _ERRORS:
                status, code, message = _ERRORS[fault]
                outcome = fault
                fake._sleep(fake.latency)
                self._error(status, code, message)
                return
            problem = self._validate(text, dims)
            if problem:
                status, outcome = 400, "bad_request"
                self._error(400, "ValidationException", problem)
                return
            if fault == "slow":
                outcome = "slow"
                fake._sleep(fake.slow_seconds)
            else:
                fake._sleep(fake.latency)
            if fault == "garbage":
                outcome = "garbage"
                self._send(200, b"<html>not json</html>", {"Content-Type": "text/html"})
                return
            vec = FakeBedrock.expected_vector(text, dims)
            payload = json.dumps({"embedding": [float(x) for x in vec], "inputTextTokenCount": self._tokens(text)})
            self._send(200, payload.encode(), {"Content-Type": "application/json"})
        finally:
            # Recorded before the answer is written: a client that has its answer sees the call.
            fake._end(Call(n, started, time.monotonic(), model_id, text, dims, status, outcome))
            if self._reply is not None:
                self._write(*self._reply)

    def _tokens(self, text: str) -> int:
        return max(1, int(-(-len(text) // self.fake.chars_per_token)))

    def _validate(self, text: str, dims: int) -> str | None:
        if dims not in (256, 512, 1024):
            return "Malformed input request: dimensions must be one of 256, 512, 1024"
        if not text:
            return "Malformed input request: expected minLength: 1, actual: 0"
        if len(text) > MAX_INPUT_CHARS:
            return f"Malformed input request: expected maxLength: {MAX_INPUT_CHARS}, actual: {len(text)}"
        tokens = self._tokens(text)
        if tokens > MAX_INPUT_TOKENS:
            return (
                f"400 Bad Request: Too many input tokens. Max input tokens: {MAX_INPUT_TOKENS}, "
                f"request input token count: {tokens}"
            )
        return None

    def _error(self, status: int, code: str, message: str) -> None:
        body = json.dumps({"message": message}).encode()
        self._send(status, body, {"Content-Type": "application/json", "x-amzn-ErrorType": f"{code}:http://internal/"})

    def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self._reply = (status, body, headers)

    def _write(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        try:
            self._write_unchecked(status, body, headers)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (read timeout): nothing to answer

    def _write_unchecked(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("x-amzn-RequestId", hashlib.md5(body).hexdigest())
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
