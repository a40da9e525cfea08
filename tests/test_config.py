from __future__ import annotations

from pathlib import Path

import pytest

from lapce_ai.config import ConfigError, load_config
from lapce_ai.config.settings import Settings

RUNBOOK_CONFIG = """
[features]
cst_pipeline_enabled = true
rollout_percentage = 50
incremental_indexing = true
tiered_cache = true
embedding_reuse = true
legacy_fallback = true

[performance]
max_concurrent_parses = 8
cache_hot_size = 100
cache_warm_size = 500
cache_cold_size = 2000

[aws]
region = "us-east-1"
titan_tier = "standard"  # standard | express
max_batch_size = 25
requests_per_second = 5
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


def test_runbook_config_loads_as_written(tmp_path: Path) -> None:
    loaded = load_config(write(tmp_path, RUNBOOK_CONFIG), environ={})
    s = loaded.settings
    assert s.features.rollout_percentage == 50
    assert s.performance.cache_cold_size == 2000
    assert s.aws.titan_tier == "standard"
    assert s.service.port == 8080
    assert s.paths.index_dir == Path("/var/lib/lapce-ai/indices")


def test_defaults_without_file_live_under_xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("LAPCE_AI_CONFIG", raising=False)
    s = load_config(None, environ={}).settings
    if Path("/etc/lapce-ai/config.toml").exists():
        pytest.skip("a system config exists on this machine")
    assert s.paths.index_dir == tmp_path / "xdg" / "lapce-ai" / "indices"
    assert s.features.rollout_percentage == 100  # SPEC §6: 100 by default, 50 is a canary stage


def test_env_overrides(tmp_path: Path) -> None:
    env = {
        "CST_PIPELINE_ENABLED": "false",
        "CST_ROLLOUT_PERCENTAGE": "7",
        "LOG_LEVEL": "DEBUG",
        "AWS_REGION": "eu-west-1",
    }
    s = load_config(write(tmp_path, RUNBOOK_CONFIG), environ=env).settings
    assert s.features.cst_pipeline_enabled is False
    assert s.features.rollout_percentage == 7
    assert s.service.log_level == "debug"
    assert s.aws.region == "eu-west-1"


def test_env_config_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, "[features]\nrollout_percentage = 3\n")
    monkeypatch.setenv("LAPCE_AI_CONFIG", str(path))
    assert load_config(None, environ={}).settings.features.rollout_percentage == 3


@pytest.mark.parametrize(
    ("text", "key", "line"),
    [
        ("[features]\nrollout_percentage = 150\n", "features.rollout_percentage", 2),
        ("[features]\n\ncst_pipeline_enabled = 'maybe'\n", "features.cst_pipeline_enabled", 3),
        ("[performance]\ncache_hot_sise = 10\n", "performance.cache_hot_sise", 2),
        ("[aws]\ntitan_tier = 'turbo'\n", "aws.titan_tier", 2),
        ("[nonsense]\nx = 1\n", "nonsense", 1),
    ],
)
def test_bad_values_name_key_and_line(tmp_path: Path, text: str, key: str, line: int) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text), environ={})
    problem = info.value.problems[0]
    assert problem.key == key
    assert problem.line == line
    assert str(problem).startswith(f"{tmp_path / 'config.toml'}:{line}: {key}")


def test_syntax_error_reports_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, "[features]\nrollout_percentage = = 3\n"), environ={})
    assert info.value.problems[0].line == 2


def test_bad_env_value_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, ""), environ={"CST_ROLLOUT_PERCENTAGE": "lots"})
    assert info.value.problems[0].key == "features.rollout_percentage"


def test_missing_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        load_config(tmp_path / "nope.toml", environ={})


def test_settings_reject_unknown_keys() -> None:
    with pytest.raises(ValueError):
        Settings.model_validate({"features": {"rollout": 1}})
