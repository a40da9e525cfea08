"""Titan embedder against a local Bedrock look-alike (tests/bedrock_server.py), reached by boto3."""

from __future__ import annotations

import io
import logging
import threading
import time
from collections.abc import Callable, Iterator

import numpy as np
import pytest
from bedrock_server import TEST_ACCESS_KEY, TEST_SECRET_KEY, FakeBedrock

from lapce_ai.config.settings import AwsSettings
from lapce_ai.embedding.base import Embedder, EmbedderError
from lapce_ai.embedding.ratelimit import RateLimiterClosed, TokenBucket
from lapce_ai.embedding.titan import TitanEmbedder, resolve_tier, truncate_text
from lapce_ai.observability.logging import JsonFormatter
from lapce_ai.observability.metrics import REGISTRY

SESSION_TOKEN = "FwoGZXIvYXdzEXAMPLESESSIONTOKENdoNotLeak"
Make = Callable[..., TitanEmbedder]


def aws(**keys: object) -> AwsSettings:
    return AwsSettings.model_validate(keys)


def metric(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def texts_for(n: int, tag: str = "") -> list[str]:
    return [f"def handler_{tag}{i}(request):\n    return respond({i} * 2)  # chunk {i}" for i in range(n)]


def assert_rows_match(vectors: np.ndarray, texts: list[str], dim: int) -> None:
    assert vectors.shape == (len(texts), dim)
    assert vectors.dtype == np.float32
    for row, text in zip(vectors, texts, strict=True):
        np.testing.assert_allclose(row, FakeBedrock.expected_vector(text, dim), atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    """Credentials from the environment (the standard chain's first link); nothing else leaks in."""
    for var in (
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_SESSION_TOKEN",
        "AWS_SECURITY_TOKEN",
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_BEDROCK_RUNTIME",
        "AWS_DEFAULT_REGION",
        "AWS_REGION",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_ROLE_ARN",
    ):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/aws-config")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/aws-credentials")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", TEST_ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", TEST_SECRET_KEY)


@pytest.fixture
def server(aws_env: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeBedrock]:
    with FakeBedrock() as srv:
        monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", srv.url)  # boto3's service-specific endpoint
        yield srv


@pytest.fixture
def make() -> Iterator[Make]:
    made: list[TitanEmbedder] = []

    def _make(endpoint_url: str | None = None, **keys: object) -> TitanEmbedder:
        keys.setdefault("requests_per_second", 500.0)
        keys.setdefault("dimensions", 256)
        emb = TitanEmbedder(aws(**keys), endpoint_url=endpoint_url, backoff_base=0.005, backoff_cap=0.05)
        made.append(emb)
        return emb

    yield _make
    for emb in made:
        emb.close()


@pytest.fixture
def json_logs() -> Iterator[io.StringIO]:
    """Every log record of the test, JSON-formatted as in production, at DEBUG."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield stream
    root.removeHandler(handler)
    root.setLevel(old_level)


# -- configuration -----------------------------------------------------------------------------


def test_tier_defaults_and_explicit_overrides() -> None:
    assert resolve_tier(aws()) == (5.0, 25)
    assert resolve_tier(aws(titan_tier="express")) == (20.0, 50)
    assert resolve_tier(aws(titan_tier="express", requests_per_second=7, max_batch_size=3)) == (7.0, 3)
    assert resolve_tier(aws(titan_tier="standard", max_batch_size=40)) == (5.0, 40)


def test_identity_records_dimension(server: FakeBedrock, make: Make) -> None:
    emb = make(dimensions=512, titan_tier="express", requests_per_second=None)
    assert isinstance(emb, Embedder)
    assert emb.model_id == "amazon.titan-embed-text-v2:0/512"
    assert emb.dim == 512
    assert (emb.requests_per_second, emb.batch_size) == (20.0, 50)


# -- the happy path ------------------------------------------------------------------------------


@pytest.mark.parametrize("dim", [256, 1024])
def test_embeds_through_boto3_endpoint_env(server: FakeBedrock, make: Make, dim: int) -> None:
    texts = texts_for(30)
    vectors = make(dimensions=dim).embed_documents(texts)
    assert_rows_match(vectors, texts, dim)
    calls = server.calls
    assert len(calls) == 30
    # Every request passed the SigV4 check (scope service 'bedrock', region, signature
    # recomputed from the known secret), hit /model/amazon.titan-embed-text-v2:0/invoke and asked
    # for the configured dimension.
    assert {c.outcome for c in calls} == {"ok"}
    assert {c.model_id for c in calls} == {"amazon.titan-embed-text-v2:0"}
    assert {c.dimensions for c in calls} == {dim}


def test_query_and_explicit_endpoint_url_and_region(aws_env: None, make: Make) -> None:
    with FakeBedrock(region="eu-west-3") as srv:
        emb = make(endpoint_url=srv.url, region="eu-west-3")
        vec = emb.embed_query("where is the retry logic?")
        assert vec.shape == (256,)
        np.testing.assert_allclose(vec, FakeBedrock.expected_vector("where is the retry logic?", 256), atol=1e-6)
        assert srv.counts() == {"ok": 1}


def test_identical_texts_are_sent_once(server: FakeBedrock, make: Make) -> None:
    texts = ["a = 1", "b = 2", "a = 1", "c = 3", "b = 2"]
    vectors = make().embed_documents(texts)
    assert_rows_match(vectors, texts, 256)
    assert server.call_count == 3
    assert make().embed_documents([]).shape == (0, 256)


def test_empty_text_needs_no_call(server: FakeBedrock, make: Make) -> None:
    vectors = make().embed_documents(["", "  \n", "x = 1"])
    assert server.call_count == 1
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-6)


# -- rate limiting -------------------------------------------------------------------------------


def test_rate_is_a_real_limit_not_a_concurrency_cap(server: FakeBedrock, make: Make) -> None:
    server.latency = 0.1  # 100 ms answers: 20 req/s needs >= 2 requests in flight
    emb = make(requests_per_second=20, max_batch_size=50)
    texts = texts_for(41)
    started = time.monotonic()
    vectors = emb.embed_documents(texts)
    elapsed = time.monotonic() - started
    assert_rows_match(vectors, texts, 256)
    rate = server.measured_rate()
    assert rate <= 20 * 1.10, f"measured {rate:.2f} req/s against a limit of 20"
    assert rate >= 20 * 0.75, f"measured {rate:.2f} req/s: the limiter is far too slow"
    assert 1.8 <= elapsed <= 3.5
    assert server.max_in_flight >= 2  # concurrent within the rate


# -- retries -------------------------------------------------------------------------------------


def test_retries_recover_without_loss_or_duplication(server: FakeBedrock, make: Make, json_logs: io.StringIO) -> None:
    attempts: dict[str, int] = {}

    def faults(n: int, text: str) -> str | None:
        # Faults follow the server's global request count, so under concurrency one text could
        # draw a fault on every attempt; at most 3 per text keeps this a test of recovery
        # (giving up is tested below) instead of a roll of the dice.
        attempts[text] = attempts.get(text, 0) + 1
        if attempts[text] > 3:
            return None
        if n % 3 == 0:
            return "throttle"
        if n % 7 == 0:
            return "server_error"
        if n % 11 == 0:
            return "unavailable"
        return None

    server.fault_policy = faults
    server.slow_seconds = 0.6
    server.inject("slow", 2)  # the first two requests time out client-side
    throttles_before = metric("aws_titan_throttles_total")
    ok_before = metric("aws_titan_requests_total", outcome="success")
    texts = texts_for(60)
    emb = make(timeout_seconds=0.3, max_batch_size=10, max_retries=8)
    vectors = emb.embed_documents(texts)
    assert server.wait_idle()

    assert_rows_match(vectors, texts, 256)  # each row is its own text's vector, in order
    counts = server.counts()
    assert counts["throttle"] > 5 and counts["server_error"] > 0 and counts["unavailable"] > 0
    assert counts["slow"] == 2
    assert server.successes_by_text() == dict.fromkeys(texts, 1)  # nothing lost, nothing twice
    assert metric("aws_titan_throttles_total") - throttles_before == counts["throttle"]
    assert metric("aws_titan_requests_total", outcome="success") - ok_before == 60
    assert metric("aws_titan_requests_total", outcome="aws_timeout") >= 2
    assert '"error_type": "aws_rate_limit"' in json_logs.getvalue()


def test_retries_give_up_with_a_classified_error(server: FakeBedrock, make: Make) -> None:
    server.fault_policy = lambda n, text: "throttle"
    before = metric("semantic_search_errors_total", error_type="aws_rate_limit")
    with pytest.raises(EmbedderError) as info:
        make(max_retries=2, max_batch_size=2).embed_documents(texts_for(4))
    assert info.value.error_type == "aws_rate_limit"
    assert "requests_per_second" in str(info.value)
    assert max(server.attempts_by_text().values()) == 3  # 1 + max_retries
    assert metric("semantic_search_errors_total", error_type="aws_rate_limit") - before == 1


def test_timeouts_are_retried_then_reported(server: FakeBedrock, make: Make) -> None:
    server.fault_policy = lambda n, text: "slow"
    server.slow_seconds = 1.0
    with pytest.raises(EmbedderError) as info:
        make(timeout_seconds=0.2, max_retries=1).embed_query("slow")
    assert info.value.error_type == "aws_timeout"
    assert server.call_count == 2


def test_bad_response_is_reported(server: FakeBedrock, make: Make) -> None:
    server.inject("garbage")
    with pytest.raises(EmbedderError) as info:
        make().embed_query("x")
    assert info.value.error_type == "aws_bad_response"


# -- credentials -----------------------------------------------------------------------------------


def test_rejected_credentials_stop_cleanly_without_retries(
    server: FakeBedrock, make: Make, json_logs: io.StringIO, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_SESSION_TOKEN", SESSION_TOKEN)
    server.fault_policy = lambda n, text: "auth"  # 403 UnrecognizedClientException
    before = metric("semantic_search_errors_total", error_type="aws_credentials")
    texts = texts_for(40)
    with pytest.raises(EmbedderError) as info:
        make(max_batch_size=5, max_retries=5).embed_documents(texts)
    err = info.value
    assert err.error_type == "aws_credentials"
    assert "UnrecognizedClientException" in str(err) and "credential" in str(err).lower()
    assert max(server.attempts_by_text().values()) == 1  # no retries
    assert server.call_count <= 5  # stopped at the first window; nothing new started
    time.sleep(0.1)
    assert server.call_count <= 5  # and nothing keeps running in the background
    assert metric("semantic_search_errors_total", error_type="aws_credentials") - before == 1
    logs = json_logs.getvalue()
    assert '"error_type": "aws_credentials"' in logs
    for secret in (TEST_ACCESS_KEY, TEST_SECRET_KEY, SESSION_TOKEN):
        assert secret not in logs
        assert secret not in str(err)
        assert secret not in repr(err.__cause__) and err.__cause__ is None


def test_wrong_secret_fails_the_signature_check(
    server: FakeBedrock, make: Make, monkeypatch: pytest.MonkeyPatch, json_logs: io.StringIO
) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret-the-server-knows")
    with pytest.raises(EmbedderError) as info:
        make().embed_query("x")
    assert info.value.error_type == "aws_credentials"
    assert "InvalidSignatureException" in str(info.value)
    assert server.counts() == {"bad_auth": 1}
    assert "not-the-secret-the-server-knows" not in json_logs.getvalue()


def test_missing_credentials(server: FakeBedrock, make: Make, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    with pytest.raises(EmbedderError) as info:
        make().embed_documents(["x = 1"])
    assert info.value.error_type == "aws_credentials"
    assert "credential" in str(info.value).lower()
    assert server.call_count == 0


def test_access_denied_is_not_retried(server: FakeBedrock, make: Make) -> None:
    server.fault_policy = lambda n, text: "access_denied"
    with pytest.raises(EmbedderError) as info:
        make().embed_query("x")
    assert info.value.error_type == "aws_access_denied"
    assert server.call_count == 1


# -- long input ------------------------------------------------------------------------------------


def test_long_text_is_truncated_not_rejected(server: FakeBedrock, make: Make) -> None:
    line = "value = compute(alpha, beta, gamma)  # " + "x" * 40 + "\n"
    long_text = line * 2000  # ~160k chars, over Titan's 50,000
    vec = make(max_input_chars=16_000).embed_documents([long_text])
    (call,) = server.calls
    assert call.outcome == "ok" and call.text is not None
    assert len(call.text) <= 16_000 and long_text.startswith(call.text) and call.text.endswith(")  # " + "x" * 40)
    np.testing.assert_allclose(vec[0], FakeBedrock.expected_vector(call.text, 256), atol=1e-6)


def test_token_limit_halves_the_text(aws_env: None, make: Make) -> None:
    with FakeBedrock(chars_per_token=1.0) as srv:  # 8,192-token limit = 8,192 chars here
        vec = make(endpoint_url=srv.url, max_input_chars=30_000, max_retries=0).embed_query("y" * 40_000)
        outcomes = [c.outcome for c in srv.calls]
        assert outcomes[-1] == "ok" and set(outcomes[:-1]) == {"bad_request"}
        sent = srv.calls[-1].text
        assert sent is not None and len(sent) <= 8_192
        np.testing.assert_allclose(vec, FakeBedrock.expected_vector(sent, 256), atol=1e-6)


def test_truncate_text_prefers_breaks() -> None:
    assert truncate_text("short", 10) == "short"
    assert truncate_text("a" * 95 + "\n" + "b" * 20, 100) == "a" * 95
    assert truncate_text("c" * 200, 100) == "c" * 100
    assert truncate_text("d" * 99 + "\U0001f600" * 3, 100) == "d" * 99 + "\U0001f600"


# -- live reconfiguration and priorities ----------------------------------------------------------


def test_reconfigure_changes_rate_and_pool_live(server: FakeBedrock, make: Make) -> None:
    server.latency = 0.15
    emb = make(requests_per_second=10, max_batch_size=2)
    texts = texts_for(40)
    result: dict[str, np.ndarray] = {}
    worker = threading.Thread(target=lambda: result.setdefault("v", emb.embed_documents(texts)))
    worker.start()
    time.sleep(0.8)
    slow_phase = server.calls
    assert server.max_in_flight <= 2
    assert 3 <= len(slow_phase) <= 9  # 10 req/s, and at most 2 in flight with 150 ms answers
    server.reset()
    emb.reconfigure(aws(requests_per_second=100, max_batch_size=8, dimensions=256))
    worker.join(timeout=10)
    assert not worker.is_alive()
    assert_rows_match(result["v"], texts, 256)  # nothing dropped across the switch
    assert server.max_in_flight >= 5  # the larger pool is used by the running call
    assert server.measured_rate() > 20
    assert (emb.requests_per_second, emb.batch_size) == (100.0, 8)
    assert len(slow_phase) + len(server.calls) == 40  # each text sent exactly once


def test_reconfigure_keeps_model_identity(server: FakeBedrock, make: Make) -> None:
    emb = make(dimensions=256)
    emb.reconfigure(aws(dimensions=1024, requests_per_second=50))
    assert (emb.model_id, emb.dim) == ("amazon.titan-embed-text-v2:0/256", 256)
    assert emb.embed_query("q").shape == (256,)
    assert emb.requests_per_second == 50


def test_queries_jump_the_indexing_queue(server: FakeBedrock, make: Make) -> None:
    emb = make(requests_per_second=5, max_batch_size=25)
    worker = threading.Thread(target=emb.embed_documents, args=(texts_for(8),))
    worker.start()
    time.sleep(0.3)  # 7 indexing requests now wait for tokens
    started = time.monotonic()
    emb.embed_query("find the config loader")
    assert time.monotonic() - started < 0.45  # the next token, not the eighth
    worker.join(timeout=10)


def test_close_fails_waiters(server: FakeBedrock, make: Make) -> None:
    emb = make(requests_per_second=2, max_batch_size=4)
    errors: list[EmbedderError] = []

    def run() -> None:
        try:
            emb.embed_documents(texts_for(6))
        except EmbedderError as exc:
            errors.append(exc)

    # Two callers: 8 requests for a pool of 4, so some wait in the pool's queue, some on the limiter.
    workers = [threading.Thread(target=run) for _ in range(2)]
    for w in workers:
        w.start()
    time.sleep(0.2)
    emb.close()
    for w in workers:
        w.join(timeout=5)
        assert not w.is_alive()
    assert [e.error_type for e in errors] == ["embedder_closed"] * 2


# -- the token bucket ------------------------------------------------------------------------------


def test_token_bucket_paces_and_adjusts_live() -> None:
    bucket = TokenBucket(50)
    started = time.monotonic()
    for _ in range(11):
        bucket.acquire()
    assert 0.18 <= time.monotonic() - started <= 0.4  # 10 intervals of 20 ms
    bucket.set_rate(0.5)  # a waiter now needs ~2 s ...
    done = threading.Event()

    def waiter() -> None:
        bucket.acquire()
        done.set()

    threading.Thread(target=waiter, daemon=True).start()
    time.sleep(0.05)
    bucket.set_rate(1000)  # ... until the rate is raised: it is woken and served at once
    assert done.wait(0.5)
    bucket.close()
    with pytest.raises(RateLimiterClosed):
        bucket.acquire()


def test_token_bucket_cancel_and_timeout() -> None:
    bucket = TokenBucket(1)
    bucket.acquire()
    with pytest.raises(TimeoutError):
        bucket.acquire(timeout=0.05)
    cancel = threading.Event()
    threading.Timer(0.05, cancel.set).start()
    with pytest.raises(RateLimiterClosed):
        bucket.acquire(cancel=cancel)
