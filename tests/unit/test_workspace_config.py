"""workspace.yaml (and JSON) validation: good files accepted, each bad one names its field."""

import json

import pytest

from mirage.workspace.config import from_stored, parse_config
from mirage.workspace.errors import InvalidConfig
from mirage.workspace.vfs.registry import default_backends, disk_backend_for


@pytest.fixture
def backends():
    return default_backends()


def test_public_mirage_example_is_accepted(tmp_path, backends):
    text = f"""
mode: WRITE
mounts:
  /:      {{vfs: ram, mode: WRITE}}
  /data:  {{vfs: disk, mode: READ, config: {{root: {tmp_path}}}}}
"""
    config = parse_config(text, backends)
    assert config.mode == "write"
    assert [(m.prefix, m.vfs, m.mode) for m in config.mounts] == [("/", "ram", "write"), ("/data", "disk", "read")]
    assert config.mounts[1].config == {"root": str(tmp_path.resolve())}


def test_json_text_is_accepted_too(backends):
    config = parse_config(json.dumps({"mode": "read", "mounts": {"/": {"vfs": "ram"}}}), backends)
    assert config.mode == "read"
    assert config.mounts[0].mode == "read"      # mounts inherit the workspace mode


def test_empty_config_means_one_ram_mount_at_root(backends):
    config = parse_config({}, backends)
    assert [(m.prefix, m.vfs, m.mode) for m in config.mounts] == [("/", "ram", "write")]


def test_modes_are_case_insensitive(backends):
    config = parse_config({"mode": "Read", "mounts": {"/": {"vfs": "RAM", "mode": "wRiTe"}}}, backends)
    assert config.mode == "read" and config.mounts[0].mode == "write" and config.mounts[0].vfs == "ram"


def test_prefixes_are_normalised_and_nested_prefixes_allowed(backends):
    config = parse_config({"mounts": {"/": {"vfs": "ram"}, "/a//b/": {"vfs": "ram"}, "/a": {"vfs": "ram"}}},
                          backends)
    assert [m.prefix for m in config.mounts] == ["/", "/a", "/a/b"]


def test_stored_form_round_trips(tmp_path, backends):
    config = parse_config({"mounts": {"/": {"vfs": "ram"}, "/d": {"vfs": "disk", "config": {"root": str(tmp_path)}}}},
                          backends)
    assert from_stored(json.loads(json.dumps(config.to_dict()))) == config


@pytest.mark.parametrize("raw, field", [
    ({"mode": "exec-all"}, "config.mode"),
    ({"colour": "blue"}, "config.colour"),
    ({"mounts": []}, "config.mounts"),
    ({"mounts": {}}, "config.mounts"),
    ({"mounts": {"/": {"vfs": "ftp"}}}, "config.mounts./.vfs"),
    ({"mounts": {"/": {}}}, "config.mounts./.vfs"),
    ({"mounts": {"/": {"vfs": "ram", "size": 3}}}, "config.mounts./.size"),
    ({"mounts": {"/": {"vfs": "ram", "mode": "rw"}}}, "config.mounts./.mode"),
    ({"mounts": {"/": {"vfs": "ram", "config": {"x": 1}}}}, "config.mounts./.config.x"),
    ({"mounts": {"/": "ram"}}, "config.mounts./"),
    ({"mounts": {"relative": {"vfs": "ram"}}}, "config.mounts.relative"),
    ({"mounts": {"/a/../b": {"vfs": "ram"}}}, "config.mounts./a/../b"),
    ({"mounts": {"/a\x00": {"vfs": "ram"}}}, "config.mounts./a\x00"),
    ({"mounts": {"/a": {"vfs": "ram"}, "/a/": {"vfs": "ram"}}}, "config.mounts./a/"),
    ({"mounts": {"/d": {"vfs": "disk"}}}, "config.mounts./d.config.root"),
    ({"mounts": {"/d": {"vfs": "disk", "config": {"root": "relative/dir"}}}}, "config.mounts./d.config.root"),
    ({"mounts": {"/d": {"vfs": "disk", "config": {"root": "/definitely/not/here"}}}}, "config.mounts./d.config.root"),
    ({"mounts": {"/d": {"vfs": "disk", "config": {"root": "/", "extra": 1}}}}, "config.mounts./d.config.extra"),
    ("- just\n- a list\n", "config"),
    ("mounts: {/: [unclosed", "config"),
])
def test_bad_config_names_the_field(raw, field, backends):
    with pytest.raises(InvalidConfig) as info:
        parse_config(raw, backends)
    assert info.value.field == field


def test_disk_root_that_is_a_file_is_refused(tmp_path, backends):
    f = tmp_path / "file"
    f.write_text("")
    with pytest.raises(InvalidConfig) as info:
        parse_config({"mounts": {"/d": {"vfs": "disk", "config": {"root": str(f)}}}}, backends)
    assert "not a directory" in info.value.problem


def disk_config(root) -> dict:
    return {"mounts": {"/d": {"vfs": "disk", "config": {"root": str(root)}}}}


def test_jwt_mode_without_disk_roots_refuses_every_disk_mount(tmp_path):
    backends = default_backends(disk_backend_for(True, (), str(tmp_path / "state")))
    (tmp_path / "data").mkdir()
    with pytest.raises(InvalidConfig) as info:
        parse_config(disk_config(tmp_path / "data"), backends)
    assert "not enabled" in info.value.problem


def test_local_mode_without_disk_roots_allows_any_folder_but_the_state(tmp_path):
    state = tmp_path / "state"
    state.mkdir()
    backends = default_backends(disk_backend_for(False, (), str(state)))
    assert parse_config(disk_config(tmp_path), backends).mounts[0].config["root"] == str(tmp_path.resolve())
    with pytest.raises(InvalidConfig):
        parse_config(disk_config(state), backends)


def test_disk_roots_allow_list_admits_folders_inside_only(tmp_path):
    allowed, other = tmp_path / "allowed", tmp_path / "allowed-not"
    (allowed / "sub").mkdir(parents=True)
    other.mkdir()
    backends = default_backends(disk_backend_for(True, (str(allowed),), str(tmp_path / "state")))
    parse_config(disk_config(allowed / "sub"), backends)
    with pytest.raises(InvalidConfig):
        parse_config(disk_config(other), backends)


def test_a_symlinked_root_is_checked_where_it_leads(tmp_path):
    allowed, outside = tmp_path / "allowed", tmp_path / "outside"
    allowed.mkdir()
    outside.mkdir()
    (allowed / "sneaky").symlink_to(outside)
    backends = default_backends(disk_backend_for(True, (str(allowed),), str(tmp_path / "state")))
    with pytest.raises(InvalidConfig):
        parse_config(disk_config(allowed / "sneaky"), backends)
