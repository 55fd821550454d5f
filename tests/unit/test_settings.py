"""Settings: layering, one env name per key, errors that name key and source."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mirage.settings import KEYS, ConfigError, Settings, load_settings

REPO = Path(__file__).resolve().parents[2]


def write(tmp_path: Path, text: str, name: str = "mirage.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_defaults_apply_when_nothing_is_configured(tmp_path):
    s = load_settings(env={"HOME": str(tmp_path)}, config_path=write(tmp_path, ""))
    assert (s.server_host, s.server_port, s.auth_mode) == ("127.0.0.1", 8765, "local")
    assert s.server_allowed_hosts == ("localhost", "127.0.0.1", "[::1]")
    assert s.home == tmp_path / ".mirage"
    assert s.auth_token_file == tmp_path / ".mirage" / "auth_token"
    assert s.state_dir == tmp_path / ".mirage" / "state"
    assert s.jwt_clock_skew_seconds == 5 and s.idle_grace_seconds == 300
    assert s.source_of("server.port") == "default"


def test_file_beats_default_env_beats_file_flag_beats_env(tmp_path):
    cfg = write(tmp_path, "server:\n  port: 9001\n  host: 127.0.0.2\n")
    s = load_settings(env={"HOME": str(tmp_path)}, config_path=cfg)
    assert s.server_port == 9001 and s.source_of("server.port") == f"{cfg}:2"
    s = load_settings(env={"HOME": str(tmp_path), "MIRAGE_PORT": "9002"}, config_path=cfg)
    assert s.server_port == 9002 and s.source_of("server.port") == "MIRAGE_PORT"
    assert s.server_host == "127.0.0.2"
    s = load_settings(env={"HOME": str(tmp_path), "MIRAGE_PORT": "9002"}, config_path=cfg,
                      overrides={"server.port": "9003"})
    assert s.server_port == 9003 and s.source_of("server.port") == "--port"


def test_empty_env_value_counts_as_unset(tmp_path):
    cfg = write(tmp_path, "server:\n  port: 9001\n")
    s = load_settings(env={"HOME": str(tmp_path), "MIRAGE_PORT": ""}, config_path=cfg)
    assert s.server_port == 9001


def test_mirage_config_env_names_the_file_and_its_absence_is_an_error(tmp_path):
    cfg = write(tmp_path, "log:\n  level: debug\n")
    s = load_settings(env={"HOME": str(tmp_path), "MIRAGE_CONFIG": str(cfg)})
    assert s.log_level == "debug" and s.config_path == cfg
    with pytest.raises(ConfigError) as err:
        load_settings(env={"HOME": str(tmp_path), "MIRAGE_CONFIG": str(tmp_path / "nope.yaml")})
    assert "nope.yaml" in str(err.value) and "does not exist" in str(err.value)


def test_explicit_config_path_that_is_missing_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(env={"HOME": str(tmp_path)}, config_path=tmp_path / "missing.yaml")


def test_unknown_file_key_names_file_and_line(tmp_path):
    cfg = write(tmp_path, "server:\n  port: 1\n  prot: 2\n")
    with pytest.raises(ConfigError) as err:
        load_settings(env={"HOME": str(tmp_path)}, config_path=cfg)
    assert str(err.value) == f"config error: server.prot: unknown key (from {cfg}:3)"


def test_unknown_top_level_key_is_refused(tmp_path):
    cfg = write(tmp_path, "colour: blue\n")
    with pytest.raises(ConfigError, match=r"colour: unknown key .*:1\)"):
        load_settings(env={"HOME": str(tmp_path)}, config_path=cfg)


def test_wrong_type_in_file_names_key_and_line(tmp_path):
    cfg = write(tmp_path, "# comment\nserver:\n  port: eighty\n")
    with pytest.raises(ConfigError) as err:
        load_settings(env={"HOME": str(tmp_path)}, config_path=cfg)
    assert err.value.key == "server.port" and err.value.source == f"{cfg}:3"
    assert "expected an integer" in str(err.value)


def test_section_that_is_not_a_mapping_is_refused(tmp_path):
    cfg = write(tmp_path, "server: 8765\n")
    with pytest.raises(ConfigError, match="server: must be a mapping"):
        load_settings(env={"HOME": str(tmp_path)}, config_path=cfg)


def test_invalid_yaml_names_the_line(tmp_path):
    cfg = write(tmp_path, "server:\n  port: [1,\n")
    with pytest.raises(ConfigError) as err:
        load_settings(env={"HOME": str(tmp_path)}, config_path=cfg)
    assert "invalid YAML" in str(err.value) and re.search(r":\d+\)$", str(err.value))


def test_top_level_list_is_refused(tmp_path):
    cfg = write(tmp_path, "- a\n- b\n")
    with pytest.raises(ConfigError, match="top level must be a mapping"):
        load_settings(env={"HOME": str(tmp_path)}, config_path=cfg)


def test_duplicate_key_in_file_is_refused(tmp_path):
    cfg = write(tmp_path, "log:\n  level: info\n  level: debug\n")
    with pytest.raises(ConfigError, match="given twice"):
        load_settings(env={"HOME": str(tmp_path)}, config_path=cfg)


def test_unreadable_config_file_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="is a directory"):
        load_settings(env={"HOME": str(tmp_path)}, config_path=tmp_path)
    binary = tmp_path / "bin.yaml"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_settings(env={"HOME": str(tmp_path)}, config_path=binary)


@pytest.mark.parametrize(
    ("env_name", "value", "problem"),
    [
        ("MIRAGE_PORT", "abc", "expected an integer"),
        ("MIRAGE_PORT", "70000", "out of range"),
        ("MIRAGE_PORT", "-1", "out of range"),
        ("MIRAGE_PORT", "-+5", "expected an integer"),
        ("MIRAGE_PORT", "²", "expected an integer"),
        ("MIRAGE_AUTH_MODE", "open", "not one of local, token, jwt"),
        ("MIRAGE_LOG_LEVEL", "loud", "not one of"),
        ("MIRAGE_JWT_ALG", "HS256", "not one of"),
        ("MIRAGE_JWT_ALG", "none", "not one of"),
        ("MIRAGE_JWT_CLOCK_SKEW_SECONDS", "5s", "expected an integer"),
        ("MIRAGE_LOG_ACCESS", "maybe", "expected true or false"),
        ("MIRAGE_STATE_FSYNC", "never", "not one of always, everysec"),
        ("MIRAGE_ALLOWED_HOSTS", "localhost:8765", "without a port"),
        ("MIRAGE_ALLOWED_HOSTS", "::1", "brackets"),
    ],
)
def test_bad_env_value_names_the_variable(tmp_path, env_name, value, problem):
    with pytest.raises(ConfigError) as err:
        load_settings(env={"HOME": str(tmp_path), env_name: value}, config_path=write(tmp_path, ""))
    assert err.value.source == env_name
    assert problem in str(err.value)
    assert "\n" not in str(err.value)


def test_unknown_mirage_env_variable_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="MIRAGE_AUTH_MDOE: unknown MIRAGE_"):
        load_settings(env={"HOME": str(tmp_path), "MIRAGE_AUTH_MDOE": "jwt"}, config_path=write(tmp_path, ""))


def test_client_side_variables_are_tolerated(tmp_path):
    env = {"HOME": str(tmp_path), "MIRAGE_DAEMON_URL": "http://x", "MIRAGE_TOKEN": "t"}
    assert load_settings(env=env, config_path=write(tmp_path, "")).auth_mode == "local"


def test_token_mode_without_token_names_mirage_auth_token(tmp_path):
    with pytest.raises(ConfigError, match="MIRAGE_AUTH_TOKEN"):
        load_settings(env={"HOME": str(tmp_path), "MIRAGE_AUTH_MODE": "token"}, config_path=write(tmp_path, ""))


def test_jwt_mode_needs_alg_and_exactly_one_key_source(tmp_path):
    cfg = write(tmp_path, "")
    with pytest.raises(ConfigError, match="MIRAGE_JWT_ALG"):
        load_settings(env={"HOME": str(tmp_path), "MIRAGE_AUTH_MODE": "jwt", "MIRAGE_JWT_PUBKEY": "x"},
                      config_path=cfg)
    with pytest.raises(ConfigError, match="MIRAGE_JWT_PUBKEY"):
        load_settings(env={"HOME": str(tmp_path), "MIRAGE_AUTH_MODE": "jwt", "MIRAGE_JWT_ALG": "RS256"},
                      config_path=cfg)


def test_lists_accept_yaml_lists_and_comma_strings(tmp_path):
    cfg = write(tmp_path, "jwt:\n  audience: [a, b]\n  authorized_parties: 'x, y'\n")
    s = load_settings(env={"HOME": str(tmp_path)}, config_path=cfg)
    assert s.jwt_audience == ("a", "b") and s.jwt_authorized_parties == ("x", "y")
    s = load_settings(env={"HOME": str(tmp_path), "MIRAGE_JWT_AUDIENCE": "c,d"}, config_path=cfg)
    assert s.jwt_audience == ("c", "d")


def test_auth_mode_is_case_insensitive_and_jwt_alg_is_not(tmp_path):
    cfg = write(tmp_path, "")
    assert load_settings(env={"HOME": str(tmp_path), "MIRAGE_AUTH_MODE": "TOKEN", "MIRAGE_AUTH_TOKEN": "t"},
                         config_path=cfg).auth_mode == "token"
    with pytest.raises(ConfigError):
        load_settings(env={"HOME": str(tmp_path), "MIRAGE_JWT_ALG": "rs256"}, config_path=cfg)


def test_home_moves_token_file_and_state_dir(tmp_path):
    s = load_settings(env={"HOME": str(tmp_path), "MIRAGE_HOME": str(tmp_path / "m")}, config_path=write(tmp_path, ""))
    assert s.auth_token_file == tmp_path / "m" / "auth_token" and s.state_dir == tmp_path / "m" / "state"


def test_describe_redacts_secrets(tmp_path):
    s = load_settings(env={"HOME": str(tmp_path), "MIRAGE_AUTH_MODE": "token",
                           "MIRAGE_AUTH_TOKEN": "s3cr3t-value"}, config_path=write(tmp_path, ""))
    rows = {key: (value, source) for key, value, source in s.describe()}
    assert rows["auth.token"] == ("<redacted>", "MIRAGE_AUTH_TOKEN")
    assert "s3cr3t-value" not in repr(s.describe())
    assert "s3cr3t-value" not in repr(s)


def test_settings_are_immutable(tmp_path):
    s = load_settings(env={"HOME": str(tmp_path)}, config_path=write(tmp_path, ""))
    with pytest.raises(Exception):
        s.server_port = 1  # type: ignore[misc]


def test_every_key_has_one_distinct_env_name_and_a_dataclass_field():
    envs = [key.env for key in KEYS]
    assert len(envs) == len(set(envs))
    fields = set(Settings.__dataclass_fields__)
    assert all(key.attr in fields for key in KEYS)


def test_shipped_config_lists_every_key_and_its_env_name():
    text = (REPO / "etc" / "mirage" / "mirage.yaml").read_text()
    for key in KEYS:
        assert f"[env {key.env}]" in text, key.env
        assert re.search(rf"^#\s*{re.escape(key.name.split('.')[-1])}:", text, re.M), key.name


def test_shipped_config_uncommented_gives_the_defaults(tmp_path):
    text = (REPO / "etc" / "mirage" / "mirage.yaml").read_text()
    uncommented = "\n".join(line[2:] if line.startswith("# ") else line for line in text.splitlines())
    cfg = write(tmp_path, uncommented, "uncommented.yaml")
    env = {"HOME": str(tmp_path)}
    from_file = load_settings(env=env, config_path=cfg)
    plain = load_settings(env=env, config_path=write(tmp_path, "", "empty.yaml"))
    for key in KEYS:
        if key.name in ("home", "state_dir", "auth.token_file"):
            continue  # shown as ~/.mirage/... examples: they depend on HOME
        assert from_file.get(key.name) == plain.get(key.name), key.name
    assert from_file.source_of("server.port").startswith(str(cfg))


def test_readme_reference_table_lists_every_key_and_env_name():
    readme = (REPO / "README.md").read_text()
    for key in KEYS:
        assert f"| `{key.name}` | `{key.env}` |" in readme, key.name


@pytest.mark.parametrize("text", ["server:\n  port: !!int notanumber\n", "server:\n  port: !!timestamp 2020-13-45\n",
                                  "auth:\n  token: !!binary 'S3cret!!'\n", "log:\n  level: !!python/name:os.system\n"])
def test_a_value_its_yaml_tag_cannot_build_is_one_line_naming_key_and_line(tmp_path, text):
    cfg = write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_settings(env={"HOME": str(tmp_path)}, config_path=cfg)
    assert err.value.source == f"{cfg}:2" and "\n" not in str(err.value)
    assert "S3cret" not in str(err.value)          # the offending line is never quoted back


def test_an_unreadable_default_config_file_is_skipped_not_fatal(tmp_path, monkeypatch):
    import mirage.settings as settings_module

    unreadable = write(tmp_path, "server:\n  port: 9999\n")
    monkeypatch.setattr(settings_module, "DEFAULT_CONFIG_PATH", unreadable)
    monkeypatch.setattr(settings_module.os, "access", lambda path, mode: False)
    s = load_settings(env={"HOME": str(tmp_path)})
    assert s.server_port == 8765 and s.config_path is None
    with pytest.raises(ConfigError):       # named explicitly, it must be readable
        load_settings(env={"HOME": str(tmp_path), "MIRAGE_CONFIG": str(tmp_path / "absent.yaml")})
