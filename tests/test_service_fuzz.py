"""Fuzz every operation of the service's own OpenAPI document (schemathesis): no input gives a 5xx."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from test_service_support import BIN, base_env, built_index, service_over_copy  # noqa: F401

SCHEMATHESIS = BIN / "schemathesis"


@pytest.mark.skipif(not SCHEMATHESIS.exists(), reason="schemathesis not installed (pip install -e '.[dev]')")
def test_openapi_fuzz_no_server_errors(tmp_path: Path, built_index: dict[str, Path]) -> None:  # noqa: F811
    svc = service_over_copy(tmp_path, built_index, service_extra="max_request_bytes = 8192")
    try:
        svc.wait_ready()
        run = subprocess.run(
            [
                str(SCHEMATHESIS),
                "run",
                f"{svc.url}/openapi.json",
                "--checks",
                "not_a_server_error,response_schema_conformance,content_type_conformance",
                "--max-examples",
                os.environ.get("LAPCE_AI_FUZZ_EXAMPLES", "40"),
                "--seed",
                os.environ.get("LAPCE_AI_FUZZ_SEED", "20251011"),
                "--workers",
                "2",
                "--generation-database",
                "none",
                "--no-color",
                "--request-timeout",
                "30",
            ],
            capture_output=True,
            text=True,
            timeout=600,
            cwd=tmp_path,  # its report folders go to tmp_path
            env=base_env(tmp_path),
        )
        assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
        assert "No issues found" in run.stdout
        assert svc.proc.poll() is None  # still serving
        assert svc.get("/health").json()["status"] == "healthy"
        assert not [r for r in svc.log_records() if r["level"] == "ERROR"]
    finally:
        svc.stop()
