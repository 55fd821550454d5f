"""/v1/workspaces routes: every status, the VFS calls and their errno mapping, tenant isolation (JWT)."""

import asyncio
import base64
import json

import pytest
from sanic_testing.reusable import ReusableClient

from api_client import Api, es256_keys, free_port

from mirage.server.app import create_app
from mirage.settings import load_settings

B64 = lambda raw: base64.b64encode(raw).decode()   # noqa: E731


@pytest.fixture
def api(tmp_path, clean_env):
    pem, tokens = es256_keys()
    (tmp_path / "hostroots").mkdir()
    settings = load_settings(env={"HOME": str(clean_env)}, overrides={
        "auth.mode": "jwt", "jwt.alg": "ES256", "jwt.pubkey": pem,
        "state_dir": str(tmp_path / "state"), "server.max_body_bytes": 64 * 1024,
        "workspace.disk_roots": str(tmp_path / "hostroots"),
    })
    app = create_app(settings)
    with ReusableClient(app, port=free_port()) as client:
        yield Api(client, tokens)


def test_create_returns_201_with_the_detail_shape(api):
    status, body = api.call("post", "/v1/workspaces", body={"config": {"mounts": {"/": {"vfs": "ram"}}}, "id": "w1"})
    assert status == 201
    assert body["id"] == "w1" and body["mode"] == "write" and isinstance(body["created_at"], float)
    assert body["mounts"] == [{"prefix": "/", "vfs": "ram", "mode": "write"}]
    assert [s["session_id"] for s in body["sessions"]] == ["default"]


def test_create_accepts_yaml_text_as_config(api, tmp_path):
    root = tmp_path / "hostroots"
    text = (f"mode: WRITE\nmounts:\n  /: {{vfs: ram, mode: WRITE}}\n"
            f"  /data: {{vfs: disk, mode: READ, config: {{root: {root}}}}}\n")
    status, body = api.call("post", "/v1/workspaces", body={"config": text, "id": "y"})
    assert status == 201
    assert body["mounts"][1] == {"prefix": "/data", "vfs": "disk", "mode": "read"}


def test_same_id_same_config_is_200_and_other_config_is_409(api):
    config = {"mounts": {"/": {"vfs": "ram"}}}
    assert api.call("post", "/v1/workspaces", body={"config": config, "id": "w"})[0] == 201
    status, body = api.call("post", "/v1/workspaces", body={"config": config, "id": "w"})
    assert status == 200 and body["id"] == "w"
    status, body = api.call("post", "/v1/workspaces", body={"config": {"mode": "read"}, "id": "w"})
    assert status == 409 and body["error"] == "conflict"


def test_no_id_generates_one(api):
    status, body = api.call("post", "/v1/workspaces", body={"config": {}})
    assert status == 201 and body["id"]


@pytest.mark.parametrize("bad_id", ["", ".", "..", "a/b", "x" * 129, "sp ace", "é", 7])
def test_bad_ids_are_400(api, bad_id):
    status, body = api.call("post", "/v1/workspaces", body={"config": {}, "id": bad_id})
    assert status == 400 and body["error"] == "bad_request"


def test_id_of_128_allowed_characters_is_accepted(api):
    assert api.call("post", "/v1/workspaces", body={"config": {}, "id": "a.B_-9" * 21 + "xy"})[0] == 201


def test_extra_body_key_and_missing_config_are_400(api):
    assert api.call("post", "/v1/workspaces", body={"config": {}, "colour": 1})[0] == 400
    assert api.call("post", "/v1/workspaces", body={"id": "x"})[0] == 400


def test_bad_config_is_422_naming_the_field(api):
    status, body = api.call("post", "/v1/workspaces",
                            body={"config": {"mounts": {"/d": {"vfs": "disk", "config": {"root": "/no/such/dir"}}}}})
    assert status == 422
    assert body["field"] == "config.mounts./d.config.root"
    status, body = api.call("post", "/v1/workspaces", body={"config": {"mounts": {"/": {"vfs": "nfs"}}}})
    assert status == 422 and body["field"] == "config.mounts./.vfs"


def test_malformed_json_and_non_object_bodies_are_400(api):
    assert api.call("post", "/v1/workspaces", raw=b"{not json")[0] == 400
    assert api.call("post", "/v1/workspaces", raw=b"[1, 2]")[0] == 400
    assert api.call("post", "/v1/workspaces", raw=b"")[0] == 400


def test_body_over_the_limit_is_a_json_413(api):
    """Announce a body over the cap: the answer is a JSON 413 before the body is sent."""
    async def exchange() -> bytes:
        reader, writer = await asyncio.open_connection("127.0.0.1", api.client.port)
        writer.write(b"POST /v1/workspaces HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     b"Authorization: Bearer " + api.tokens["alice"].encode() + b"\r\n"
                     b"Content-Type: application/json\r\nContent-Length: 1000000\r\n\r\n")
        await writer.drain()
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)
        length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
        body = await asyncio.wait_for(reader.readexactly(length), 30)
        writer.close()
        return head + body

    data = api.client._run(exchange())
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413")
    assert json.loads(body)["error"] == "payload_too_large"


def test_list_get_delete_and_unknown_404(api):
    api.call("post", "/v1/workspaces", body={"config": {"mounts": {"/": {"vfs": "ram"}, "/m": {"vfs": "ram"}}},
                                             "id": "w1"})
    status, listed = api.call("get", "/v1/workspaces")
    assert status == 200
    assert listed == [{"id": "w1", "mode": "write", "mount_count": 2, "session_count": 1,
                       "created_at": listed[0]["created_at"]}]
    assert api.call("get", "/v1/workspaces/w1")[1]["id"] == "w1"
    status, body = api.call("delete", "/v1/workspaces/w1")
    assert status == 200 and body["id"] == "w1" and isinstance(body["closed_at"], float)
    status, body = api.call("get", "/v1/workspaces/w1")
    assert status == 404 and body["error"] == "not_found"
    assert api.call("delete", "/v1/workspaces/w1")[0] == 404
    assert api.call("post", "/v1/workspaces/w1/vfs/read", body={"path": "/"})[0] == 404


def test_health_reports_the_workspace_count(api):
    api.call("post", "/v1/workspaces", body={"config": {}, "id": "a"})
    api.call("post", "/v1/workspaces", body={"config": {}, "id": "b"}, who="bob")
    _, response = api.client.get("/v1/health")
    assert response.json["workspaces"] == 2


def test_other_subject_cannot_see_use_delete_or_take_the_id(api):
    api.call("post", "/v1/workspaces", body={"config": {}, "id": "private"})
    api.vfs("private", "write", path="/secret", data="alice's")
    assert api.call("get", "/v1/workspaces/private", who="bob")[0] == 404
    assert api.call("get", "/v1/workspaces", who="bob") == (200, [])
    assert api.call("delete", "/v1/workspaces/private", who="bob")[0] == 404
    assert api.vfs("private", "read", who="bob", path="/secret")[0] == 404
    assert api.vfs("private", "write", who="bob", path="/x", data="x")[0] == 404
    status, body = api.call("post", "/v1/workspaces", who="bob", body={"config": {}, "id": "private"})
    assert status == 409
    # alice still has it, untouched
    status, body = api.vfs("private", "read", path="/secret", encoding="utf-8")
    assert (status, body) == (200, {"data": "alice's"})
    assert [w["id"] for w in api.call("get", "/v1/workspaces")[1]] == ["private"]


def test_unauthenticated_workspace_routes_are_401(api):
    _, response = api.client.get("/v1/workspaces")
    assert response.status == 401


# ------------------------------------------------------------ VFS calls

@pytest.fixture
def ws(api, tmp_path):
    host = tmp_path / "hostroots" / "host"
    host.mkdir()
    (host / "ro.txt").write_text("read only")
    config = {"mounts": {"/": {"vfs": "ram"}, "/ro": {"vfs": "disk", "mode": "read", "config": {"root": str(host)}},
                         "/other": {"vfs": "ram"}}}
    assert api.call("post", "/v1/workspaces", body={"config": config, "id": "v"})[0] == 201
    return "v"


def test_write_read_append_with_base64_and_text(api, ws):
    assert api.vfs(ws, "write", path="/f", data_base64=B64(b"\x00\x01bin")) == (200, {})
    assert api.vfs(ws, "append", path="/f", data="+text") == (200, {})
    assert api.vfs(ws, "read", path="/f") == (200, {"data_base64": B64(b"\x00\x01bin+text")})
    assert api.vfs(ws, "read", path="/f", offset=2, size=3) == (200, {"data_base64": B64(b"bin")})


def test_stat_readdir_exists(api, ws):
    api.vfs(ws, "write", path="/f", data="12345")
    status, body = api.vfs(ws, "stat", path="/f")
    assert status == 200 and body["stat"]["type"] == "file" and body["stat"]["size"] == 5
    assert body["stat"]["name"] == "f"
    assert api.vfs(ws, "readdir", path="/")[1] == {"entries": ["f", "other", "ro"]}
    assert api.vfs(ws, "exists", path="/f")[1] == {"exists": True}
    assert api.vfs(ws, "exists", path="/nope")[1] == {"exists": False}
    assert api.vfs(ws, "stat", path="/ro")[1]["stat"]["type"] == "dir"


def test_mkdir_rmdir_unlink_rename_truncate(api, ws):
    assert api.vfs(ws, "mkdir", path="/a/b", parents=True)[0] == 200
    api.vfs(ws, "write", path="/a/b/f", data="abcdef")
    assert api.vfs(ws, "truncate", path="/a/b/f", length=3)[0] == 200
    assert api.vfs(ws, "read", path="/a/b/f", encoding="utf-8")[1] == {"data": "abc"}
    assert api.vfs(ws, "rename", src="/a/b/f", dst="/a/g")[0] == 200
    assert api.vfs(ws, "unlink", path="/a/g")[0] == 200
    assert api.vfs(ws, "rmdir", path="/a/b")[0] == 200
    assert api.vfs(ws, "readdir", path="/a")[1] == {"entries": []}


@pytest.mark.parametrize("call, args, status, errno_name", [
    ("read", {"path": "/missing"}, 404, "ENOENT"),
    ("write", {"path": "/ro/x", "data": "x"}, 403, "EROFS"),
    ("unlink", {"path": "/ro/ro.txt"}, 403, "EROFS"),
    ("mkdir", {"path": "/ro"}, 409, "EEXIST"),
    ("rename", {"src": "/f", "dst": "/other/f"}, 400, "EXDEV"),
    ("read", {"path": "relative"}, 400, "EINVAL"),
    ("read", {"path": "/a\u0000b"}, 400, "EINVAL"),
    ("write", {"path": "/" + "n" * 256, "data": ""}, 400, "ENAMETOOLONG"),
    ("readdir", {"path": "/f"}, 400, "ENOTDIR"),
    ("read", {"path": "/d"}, 400, "EISDIR"),
    ("rmdir", {"path": "/d"}, 409, "ENOTEMPTY"),
])
def test_errno_maps_to_status(api, ws, call, args, status, errno_name):
    api.vfs(ws, "write", path="/f", data="x")
    api.vfs(ws, "mkdir", path="/d")
    api.vfs(ws, "write", path="/d/inner", data="x")
    got_status, body = api.vfs(ws, call, **args)
    assert got_status == status
    assert body["errno"] == errno_name
    assert body["error"] and body["detail"]


@pytest.mark.parametrize("call, args", [
    ("read", {}),
    ("read", {"path": 5}),
    ("read", {"path": "/f", "offset": -1}),
    ("read", {"path": "/f", "offset": "1"}),
    ("write", {"path": "/f"}),
    ("write", {"path": "/f", "data_base64": "!!!not base64"}),
    ("write", {"path": "/f", "data": "x", "data_base64": "eA=="}),
    ("mkdir", {"path": "/x", "parents": "yes"}),
    ("truncate", {"path": "/f"}),
    ("stat", {"path": "/f", "extra": 1}),
    ("truncate", {"path": "/ro/ro.txt", "length": 10**19}),
    ("read", {"path": "/ro/ro.txt", "offset": 10**23}),
    ("read", {"path": "/f", "size": 2**64}),
])
def test_bad_vfs_arguments_are_400(api, ws, call, args):
    status, body = api.vfs(ws, call, **args)
    assert status == 400 and body["error"] == "bad_request"


def test_unknown_vfs_call_is_404(api, ws):
    assert api.vfs(ws, "chmod", path="/")[0] == 404


def test_read_only_workspace_refuses_writes_with_403(api):
    api.call("post", "/v1/workspaces", body={"config": {"mode": "READ"}, "id": "ro"})
    status, body = api.vfs("ro", "write", path="/f", data="x")
    assert status == 403 and body["errno"] == "EROFS"


@pytest.mark.parametrize("where", ["outside", "state", "ancestor_of_state"])
def test_disk_roots_outside_the_allow_list_or_over_the_state_are_422(api, tmp_path, where):
    (tmp_path / "outside").mkdir()
    root = {"outside": tmp_path / "outside", "state": tmp_path / "state", "ancestor_of_state": tmp_path}[where]
    status, body = api.call("post", "/v1/workspaces",
                            body={"config": {"mounts": {"/d": {"vfs": "disk", "config": {"root": str(root)}}}}})
    assert status == 422 and body["field"] == "config.mounts./d.config.root"


def test_a_read_larger_than_the_body_limit_is_refused_and_can_be_read_in_parts(tmp_path, clean_env):
    """A huge host file in a disk mount must not be loaded whole into the daemon's memory."""
    host = tmp_path / "hostroots" / "big"
    host.mkdir(parents=True)
    (host / "big.bin").write_bytes(b"x" * 5000)
    app = create_app(load_settings(env={"HOME": str(clean_env)}, overrides={
        "auth.mode": "token", "auth.token": "t0ken", "state_dir": str(tmp_path / "state"),
        "server.max_body_bytes": "2048"}))
    headers = {"Authorization": "Bearer t0ken"}
    config = {"mounts": {"/": {"vfs": "ram"}, "/d": {"vfs": "disk", "config": {"root": str(host)}}}}
    _, created = app.test_client.post("/v1/workspaces", json={"config": config, "id": "b"}, headers=headers)
    assert created.status == 201
    _, whole = app.test_client.post("/v1/workspaces/b/vfs/read", json={"path": "/d/big.bin"}, headers=headers)
    assert whole.status == 400 and whole.json["errno"] == "EFBIG" and "in parts" in whole.json["detail"]
    _, part = app.test_client.post("/v1/workspaces/b/vfs/read", json={"path": "/d/big.bin", "offset": 4000,
                                                                      "size": 2000}, headers=headers)
    assert part.status == 200 and len(base64.b64decode(part.json["data_base64"])) == 1000
