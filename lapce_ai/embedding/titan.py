"""Provider ``titan``: Amazon Titan Text Embeddings V2 through Bedrock Runtime ``InvokeModel``.

* One ``InvokeModel`` call per text (``{"inputText", "dimensions", "normalize": true}``), signed
  by boto3 with credentials from the standard chain (environment, shared config/credentials
  files and profiles, SSO, container and instance roles). The endpoint is boto3's: a local or
  private one comes from ``AWS_ENDPOINT_URL_BEDROCK_RUNTIME`` / ``AWS_ENDPOINT_URL`` or the
  ``endpoint_url`` argument.
* ``aws.requests_per_second`` is a real rate limit (a token bucket shared by every request,
  retries included), not a concurrency cap. ``aws.max_batch_size`` is how many requests of one
  ``embed_documents`` call are in flight at once (the worker pool's size). Both default from
  ``aws.titan_tier``: ``standard`` 5 req/s and 25, ``express`` 20 req/s and 50.
* botocore's own retries are off (``total_max_attempts=1``); this module retries throttling, 5xx,
  timeouts and dropped connections with exponential backoff and full jitter, up to
  ``aws.max_retries`` times. Credential, permission and validation errors are never retried.
* Every failure surfaces as ``EmbedderError`` with an ``error_type`` (see ``ERROR_TYPES``), is
  counted once in ``semantic_search_errors_total{error_type}`` and logged with that type.
  Messages are ours plus AWS's redacted error text: credentials never appear.
* Texts longer than ``aws.max_input_chars`` are truncated (at a line or word boundary when one
  is near); if Bedrock still reports too many tokens, the text is halved and sent again.
* ``reconfigure(aws)`` changes the rate, pool size, retries, timeouts and region live; requests
  already in flight finish on the old pool/client.
"""

from __future__ import annotations

import json
import logging
import math
import random
import re
import threading
import time
from collections.abc import Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

import boto3
import numpy as np
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    CredentialRetrievalError,
    EndpointConnectionError,
    HTTPClientError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ReadTimeoutError,
)
from botocore.exceptions import ConnectionError as BotoConnectionError

from lapce_ai.config.settings import AwsSettings
from lapce_ai.embedding.base import EmbedderError, Vectors
from lapce_ai.embedding.ratelimit import RateLimiterClosed, TokenBucket
from lapce_ai.observability.logging import redact
from lapce_ai.observability.metrics import SEARCH_ERRORS, TITAN_LATENCY, TITAN_REQUESTS, TITAN_THROTTLES

logger = logging.getLogger(__name__)

# Tier defaults: (requests per second, batch size = requests in flight per call).
TIER_DEFAULTS: dict[str, tuple[float, int]] = {"standard": (5.0, 25), "express": (20.0, 50)}

ERROR_TYPES = (
    "aws_credentials",  # missing, invalid or expired credentials (never retried)
    "aws_access_denied",  # valid credentials without bedrock:InvokeModel / model access (never retried)
    "aws_rate_limit",  # throttled, still throttled after every retry
    "aws_unavailable",  # 5xx, dropped connections, model not ready — after every retry
    "aws_timeout",  # connect/read timeout — after every retry
    "aws_validation",  # Bedrock rejected the request (never retried)
    "aws_config",  # unknown model, no region, bad endpoint configuration (never retried)
    "aws_bad_response",  # a 2xx answer that is not a Titan embedding
    "aws_error",  # anything else from AWS
    "embedder_closed",  # close() was called while work was waiting
)

_CREDENTIAL_CODES = frozenset(
    {
        "UnrecognizedClientException",
        "InvalidSignatureException",
        "IncompleteSignatureException",
        "MissingAuthenticationTokenException",
        "InvalidClientTokenId",
        "ExpiredTokenException",
        "ExpiredToken",
        "SignatureDoesNotMatch",
        "AuthFailure",
    }
)
_THROTTLE_CODES = frozenset(
    {
        "ThrottlingException",
        "Throttling",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "ProvisionedThroughputExceededException",
        "SlowDown",
    }
)
_UNAVAILABLE_CODES = frozenset(
    {
        "InternalServerException",
        "InternalFailure",
        "ServiceUnavailableException",
        "ServiceUnavailable",
        "ModelNotReadyException",
        "ModelTimeoutException",
        "ModelErrorException",
    }
)
_TOO_LONG = re.compile(r"(?i)too many (input )?tokens|too long|max(imum)? input|exceeds? .*(length|limit|tokens)")
_MIN_TRUNCATE_CHARS = 100
_MAX_SHRINKS = 6
_EMPTY_NOTE = "empty text embedded as a fixed unit vector without calling Bedrock"


def resolve_tier(aws: AwsSettings) -> tuple[float, int]:
    """(requests per second, batch size) for ``aws``: explicit keys override the tier's defaults."""
    rate, batch = TIER_DEFAULTS[aws.titan_tier]
    return (
        float(aws.requests_per_second) if aws.requests_per_second is not None else rate,
        int(aws.max_batch_size) if aws.max_batch_size is not None else batch,
    )


def truncate_text(text: str, max_chars: int) -> str:
    """``text`` cut to at most ``max_chars`` characters, at a line or word break if one is near."""
    if len(text) <= max_chars:
        return text
    cut = text[:max_chars]
    floor = int(max_chars * 0.9)
    for sep in ("\n", " ", "\t"):
        at = cut.rfind(sep, floor)
        if at > 0:
            return cut[:at]
    if "\ud800" <= cut[-1] <= "\udbff":  # never leave half a surrogate pair
        cut = cut[:-1]
    return cut


_SURROGATES = re.compile("[\ud800-\udfff]")


def _clean(text: str) -> str:
    """Valid UTF-8 for the JSON body: surrogate code points become U+FFFD."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return _SURROGATES.sub("\ufffd", text)
    return text


@dataclass(frozen=True)
class _Failure:
    error_type: str
    retryable: bool
    code: str
    detail: str
    too_long: bool = False


class _Cancelled(Exception):
    """Internal: the owning call already failed; this request stops without reporting."""


def _classify(exc: BaseException) -> _Failure:
    if isinstance(exc, ClientError):
        err = exc.response.get("Error", {})
        code = str(err.get("Code") or "Unknown").split(":", 1)[0]
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
        detail = redact(str(err.get("Message") or ""))[:300]
        if code in _CREDENTIAL_CODES:
            return _Failure("aws_credentials", False, code, detail)
        if code == "AccessDeniedException" or (status == 403 and code not in _THROTTLE_CODES):
            return _Failure("aws_access_denied", False, code, detail)
        if code in _THROTTLE_CODES or status == 429:
            return _Failure("aws_rate_limit", True, code, detail)
        if code == "ServiceQuotaExceededException":  # a quota (e.g. tokens per day): retrying soon won't help
            return _Failure("aws_rate_limit", False, code, detail)
        if code == "ModelTimeoutException" or status in (408, 504):
            return _Failure("aws_timeout", True, code, detail)
        if code in _UNAVAILABLE_CODES or status >= 500:
            return _Failure("aws_unavailable", True, code, detail)
        if code == "ValidationException":
            return _Failure("aws_validation", False, code, detail, too_long=bool(_TOO_LONG.search(detail)))
        if code == "ResourceNotFoundException" or status == 404:
            return _Failure("aws_config", False, code, detail)
        return _Failure("aws_error", False, code, detail)
    if isinstance(exc, NoCredentialsError | PartialCredentialsError | CredentialRetrievalError):
        return _Failure("aws_credentials", False, type(exc).__name__, "")
    if isinstance(exc, BotoCoreError) and "credential" in type(exc).__name__.lower() + str(exc).lower():
        # SSO / login token errors and friends: credential problems, never retried.
        return _Failure("aws_credentials", False, type(exc).__name__, "")
    if isinstance(exc, NoRegionError):
        return _Failure("aws_config", False, type(exc).__name__, "no AWS region configured")
    if isinstance(exc, ReadTimeoutError | ConnectTimeoutError | TimeoutError):
        return _Failure("aws_timeout", True, type(exc).__name__, redact(str(exc))[:300])
    if isinstance(exc, EndpointConnectionError | BotoConnectionError | HTTPClientError | ConnectionError):
        return _Failure("aws_unavailable", True, type(exc).__name__, redact(str(exc))[:300])
    if isinstance(exc, BotoCoreError):
        return _Failure("aws_error", False, type(exc).__name__, redact(str(exc))[:300])
    return _Failure("aws_error", False, type(exc).__name__, redact(str(exc))[:300])


class TitanEmbedder:
    """``Embedder`` backed by Titan Text Embeddings V2 on Bedrock (see the module docstring)."""

    def __init__(
        self,
        aws: AwsSettings,
        *,
        endpoint_url: str | None = None,
        session: boto3.Session | None = None,
        backoff_base: float = 0.5,
        backoff_cap: float = 20.0,
    ) -> None:
        _quiet_sdk_loggers()
        self._lock = threading.Lock()
        self._aws = aws
        # Recorded in the index: the dimension is part of the identity.
        self.model_id = f"{aws.model_id}/{aws.dimensions}"
        self.dim: int = int(aws.dimensions)
        self._bedrock_model = aws.model_id
        self._endpoint_url = endpoint_url
        self._session = session if session is not None else boto3.Session()
        self._backoff_base = backoff_base
        self._backoff_cap = backoff_cap
        self._rng = random.Random()
        self._closed = False
        rate, batch = resolve_tier(aws)
        self._batch_size = batch
        self._limiter = TokenBucket(rate)
        self._pool_size = 0
        self._client: Any = self._make_client(aws, batch)
        self._executor = ThreadPoolExecutor(max_workers=batch, thread_name_prefix="titan")
        empty = np.zeros(self.dim, dtype=np.float32)
        empty[0] = 1.0
        self._empty_vector = empty
        logger.info(
            "Titan embedder ready",
            extra={"model": self.model_id, "region": aws.region, "requests_per_second": rate, "batch_size": batch},
        )

    # -- configuration ---------------------------------------------------------------------

    @property
    def requests_per_second(self) -> float:
        return self._limiter.rate

    @property
    def batch_size(self) -> int:
        return self._batch_size

    def _make_client(self, aws: AwsSettings, batch: int) -> Any:
        # Pool: every worker plus a few interactive queries on caller threads.
        self._pool_size = max(10, batch + 4)
        config = Config(
            region_name=aws.region,
            # total_max_attempts=1: botocore never retries (its "max_attempts": 1 would mean ONE
            # hidden retry, outside the rate limiter and the metrics). Retries are ours.
            retries={"mode": "standard", "total_max_attempts": 1},
            connect_timeout=min(aws.timeout_seconds, 10.0),
            read_timeout=aws.timeout_seconds,
            max_pool_connections=self._pool_size,
            user_agent_extra="lapce-ai",
        )
        return self._session.client(
            "bedrock-runtime", region_name=aws.region, endpoint_url=self._endpoint_url, config=config
        )

    def reconfigure(self, aws: AwsSettings) -> None:
        """Apply a reloaded ``[aws]`` section live; in-flight requests are never dropped.

        Rate and batch size change at once (waiters on the limiter re-evaluate, the next
        submissions see the new window); region and timeouts get a new client, used by requests
        that start from now on. Model and dimensions are the index's identity: a change is
        logged and ignored until restart (and re-index).
        """
        rate, batch = resolve_tier(aws)
        with self._lock:
            if self._closed:
                return
            old = self._aws
            if aws.model_id != old.model_id or aws.dimensions != old.dimensions:
                logger.warning(
                    "aws.model_id / aws.dimensions changes need a restart and a re-index; keeping %s",
                    self.model_id,
                    extra={"error_type": "config"},
                )
                aws = aws.model_copy(update={"model_id": old.model_id, "dimensions": old.dimensions})
            self._limiter.set_rate(rate)
            if aws.region != old.region or aws.timeout_seconds != old.timeout_seconds or batch + 4 > self._pool_size:
                self._client = self._make_client(aws, batch)
            if batch != self._batch_size:
                previous = self._executor
                self._executor = ThreadPoolExecutor(max_workers=batch, thread_name_prefix="titan")
                # Queued and running work on the old pool still completes; its threads then exit.
                previous.shutdown(wait=False)
                self._batch_size = batch
            self._aws = aws
        logger.info(
            "Titan embedder reconfigured",
            extra={"requests_per_second": rate, "batch_size": batch, "region": aws.region},
        )

    def close(self) -> None:
        """Stop: waiting requests fail with ``embedder_closed``; running ones finish."""
        with self._lock:
            self._closed = True
            self._limiter.close()
            # Not cancel_futures: wait() never wakes for a future cancelled in the queue. Queued
            # work runs and fails at once on the closed limiter instead.
            self._executor.shutdown(wait=False)

    def __enter__(self) -> TitanEmbedder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- Embedder ----------------------------------------------------------------------------

    def embed_query(self, text: str) -> Vectors:
        """One query, on the caller's thread, ahead of queued indexing work in the rate limiter."""
        started = time.monotonic()
        try:
            return self._embed_one(text, threading.Event(), priority=True)
        except EmbedderError as exc:
            self._report(exc, texts=1, elapsed=time.monotonic() - started)
            raise

    def embed_documents(self, texts: Sequence[str]) -> Vectors:
        """Embed ``texts`` (row i is text i); up to ``batch_size`` requests in flight at once.

        Identical texts are sent once. On the first unrecoverable error no new request starts,
        the ones in flight are cancelled (at their next wait) and the error is raised.
        """
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        started = time.monotonic()
        unique: dict[str, list[int]] = {}
        for i, text in enumerate(texts):
            unique.setdefault(text, []).append(i)
        todo = list(unique)
        cancel = threading.Event()
        pending: dict[Future[Vectors], int] = {}
        first_error: EmbedderError | None = None
        unexpected: BaseException | None = None
        next_i = 0
        try:
            while next_i < len(todo) or pending:
                while first_error is None and next_i < len(todo) and len(pending) < self._batch_size:
                    try:
                        pending[self._submit(todo[next_i], cancel)] = next_i
                    except EmbedderError as exc:
                        first_error = exc
                        cancel.set()
                        break
                    next_i += 1
                if not pending:
                    break
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for fut in done:
                    k = pending.pop(fut)
                    try:
                        vec = fut.result()
                    except _Cancelled:
                        continue
                    except EmbedderError as exc:
                        if first_error is None:
                            first_error = exc
                            cancel.set()
                        continue
                    except BaseException as exc:  # a bug, not an AWS error: stop, re-raise below
                        if unexpected is None:
                            unexpected = exc
                            first_error = EmbedderError(f"Titan embedding failed: {exc!r}", "embedder")
                            cancel.set()
                        continue
                    out[unique[todo[k]]] = vec
        finally:
            cancel.set()
        if unexpected is not None:
            raise unexpected
        if first_error is not None:
            self._report(first_error, texts=len(texts), elapsed=time.monotonic() - started)
            raise first_error
        return out

    # -- internals ---------------------------------------------------------------------------

    def _submit(self, text: str, cancel: threading.Event) -> Future[Vectors]:
        with self._lock:
            if self._closed:
                raise EmbedderError("Titan embedder is closed", "embedder_closed")
            return self._executor.submit(self._embed_one, text, cancel, False)

    def _report(self, exc: EmbedderError, *, texts: int, elapsed: float) -> None:
        SEARCH_ERRORS.labels(error_type=exc.error_type).inc()
        logger.error(
            str(exc),
            extra={
                "error_type": exc.error_type,
                "model": self.model_id,
                "texts": texts,
                "elapsed_s": round(elapsed, 3),
            },
        )

    def _embed_one(self, text: str, cancel: threading.Event, priority: bool) -> Vectors:
        if not text.strip():
            logger.debug(_EMPTY_NOTE)
            return self._empty_vector.copy()
        aws = self._aws
        clean = _clean(text)
        limit = aws.max_input_chars
        payload = truncate_text(clean, limit)
        if len(payload) < len(clean):
            logger.debug("Titan input truncated", extra={"chars": len(clean), "sent_chars": len(payload)})
        attempt = 0  # retries used
        shrinks = 0
        while True:
            if cancel.is_set():
                raise _Cancelled()
            try:
                self._limiter.acquire(priority=priority, cancel=cancel)
            except RateLimiterClosed:
                if cancel.is_set() and not self._closed:
                    raise _Cancelled() from None
                raise EmbedderError("Titan embedder is closed", "embedder_closed") from None
            client = self._client
            body = json.dumps({"inputText": payload, "dimensions": self.dim, "normalize": True})
            t0 = time.perf_counter()
            try:
                resp = client.invoke_model(
                    modelId=self._bedrock_model, body=body, contentType="application/json", accept="application/json"
                )
                raw = resp["body"].read()
            except Exception as exc:
                TITAN_LATENCY.observe(time.perf_counter() - t0)
                failure = _classify(exc)
                TITAN_REQUESTS.labels(outcome=failure.error_type).inc()
                if failure.error_type == "aws_rate_limit":
                    TITAN_THROTTLES.inc()
                if failure.too_long and shrinks < _MAX_SHRINKS and len(payload) > _MIN_TRUNCATE_CHARS:
                    shrinks += 1
                    payload = truncate_text(payload, max(_MIN_TRUNCATE_CHARS, len(payload) // 2))
                    logger.info(
                        "Titan input over the token limit; retrying shorter",
                        extra={"error_type": "aws_validation", "sent_chars": len(payload)},
                    )
                    continue
                retries = self._aws.max_retries
                if not failure.retryable or attempt >= retries:
                    raise self._error(failure, attempt) from None
                delay = self._backoff(attempt)
                attempt += 1
                logger.log(
                    logging.INFO if failure.error_type == "aws_rate_limit" else logging.WARNING,
                    "Titan request failed (%s); retry %d/%d in %.2fs",
                    failure.code,
                    attempt,
                    retries,
                    delay,
                    extra={"error_type": failure.error_type},
                )
                if cancel.wait(delay):
                    raise _Cancelled() from None
                continue
            TITAN_LATENCY.observe(time.perf_counter() - t0)
            try:
                vec = self._parse(raw)
            except EmbedderError:
                TITAN_REQUESTS.labels(outcome="aws_bad_response").inc()
                raise
            TITAN_REQUESTS.labels(outcome="success").inc()
            return vec

    def _backoff(self, attempt: int) -> float:
        """Full jitter: uniform in [0, min(cap, base * 2**attempt)], at least a millisecond."""
        ceiling = min(self._backoff_cap, self._backoff_base * (2.0**attempt))
        return max(0.001, self._rng.uniform(0.0, ceiling))

    def _parse(self, raw: bytes) -> Vectors:
        try:
            doc = json.loads(raw)
            values = doc["embedding"]
            vec = np.asarray(values, dtype=np.float32)
        except (ValueError, KeyError, TypeError) as exc:
            raise EmbedderError(
                f"Bedrock returned a response that is not a Titan embedding ({type(exc).__name__})", "aws_bad_response"
            ) from None
        if vec.shape != (self.dim,) or not np.all(np.isfinite(vec)):
            raise EmbedderError(
                f"Bedrock returned an embedding of shape {vec.shape}, expected ({self.dim},)", "aws_bad_response"
            )
        norm = float(np.linalg.norm(vec))
        if norm == 0.0 or not math.isfinite(norm):
            raise EmbedderError("Bedrock returned a zero embedding", "aws_bad_response")
        return (vec / norm).astype(np.float32, copy=False)

    def _error(self, f: _Failure, retries: int) -> EmbedderError:
        aws = self._aws
        what = f"{f.code}: {f.detail}" if f.detail else f.code
        after = f" after {retries} retries" if retries else ""
        messages = {
            "aws_credentials": (
                f"AWS credentials were missing or rejected by Bedrock ({what}). Check the standard credential "
                "chain: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN, AWS_PROFILE and "
                "~/.aws/credentials, or the instance/container role. Not retried."
            ),
            "aws_access_denied": (
                f"AWS denied bedrock:InvokeModel on {aws.model_id} in {aws.region} ({what}). Grant the permission "
                "and enable access to the model in the Bedrock console. Not retried."
            ),
            "aws_rate_limit": (
                f"Bedrock throttled the request{after} ({what}). Lower aws.requests_per_second or raise the "
                "account's Bedrock quota."
            ),
            "aws_unavailable": f"Bedrock was unavailable{after} ({what}).",
            "aws_timeout": f"Bedrock did not answer within {aws.timeout_seconds}s{after} ({what}).",
            "aws_validation": f"Bedrock rejected the request for {aws.model_id} ({what}).",
            "aws_config": f"Bedrock configuration problem for {aws.model_id} in {aws.region} ({what}).",
        }
        message = messages.get(f.error_type, f"Bedrock request failed{after} ({what}).")
        return EmbedderError(redact(message), f.error_type)


def _quiet_sdk_loggers() -> None:
    # botocore's DEBUG output includes signed request headers (the session token among them).
    for name in ("botocore", "boto3", "urllib3"):
        log = logging.getLogger(name)
        if log.getEffectiveLevel() < logging.INFO:
            log.setLevel(logging.INFO)
