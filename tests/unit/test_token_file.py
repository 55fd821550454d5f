"""The local-mode token file: minting (atomic, exclusive, 0600 in 0700), loading, refusals."""

from __future__ import annotations

import base64
import multiprocessing
import os
import stat
import subprocess
import sys

import pytest

from mirage.auth import token_file
from mirage.auth.token_file import TokenFileError, load, mint_or_load

NOBODY = 65534
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="chown to another user needs root")


@pytest.fixture
def folder(tmp_path):
    path = tmp_path / "dot-mirage"
    path.mkdir(mode=0o700)
    path.chmod(0o700)
    return path


def write_token(path, text="Valid-Token_123", mode=0o600):
    path.write_text(text)
    path.chmod(mode)
    return path


# ---------------------------------------------------------------- minting

def test_minted_file_is_0600_in_a_0700_folder_created_for_it(tmp_path):
    path = tmp_path / "new" / "deeper" / "auth_token"
    old_umask = os.umask(0)          # the modes must not depend on a permissive umask
    try:
        mint_or_load(path)
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(os.lstat(path).st_mode) == 0o600
    assert stat.S_ISREG(os.lstat(path).st_mode)
    assert stat.S_IMODE(os.lstat(path.parent).st_mode) == 0o700


def test_minted_token_is_32_random_bytes_of_url_safe_text(tmp_path):
    first = mint_or_load(tmp_path / "a" / "auth_token")
    second = mint_or_load(tmp_path / "b" / "auth_token")
    assert first != second
    for token in (first, second):
        assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        assert len(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))) == 32


def test_minted_file_holds_exactly_the_token_and_a_newline(tmp_path):
    path = tmp_path / "m" / "auth_token"
    token = mint_or_load(path)
    assert path.read_bytes() == token.encode() + b"\n"


def test_mint_or_load_returns_the_existing_token_without_rewriting(folder):
    path = write_token(folder / "auth_token", "Existing-Token\n")
    before = os.stat(path)
    assert mint_or_load(path) == "Existing-Token"
    after = os.stat(path)
    assert (before.st_ino, before.st_mtime_ns) == (after.st_ino, after.st_mtime_ns)


def test_minting_leaves_no_temp_files_behind(folder):
    mint_or_load(folder / "auth_token")
    assert sorted(p.name for p in folder.iterdir()) == ["auth_token"]


def test_existing_folder_not_writable_by_others_is_accepted(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o755)
    token = mint_or_load(shared / "auth_token")
    assert load(shared / "auth_token") == token


def _racer(path: str, barrier, results) -> None:
    barrier.wait()
    try:
        results.put(("ok", mint_or_load(path)))
    except Exception as exc:  # reported to the parent, which fails the test
        results.put(("error", repr(exc)))


def test_processes_racing_to_mint_all_end_with_the_same_complete_token(tmp_path):
    ctx = multiprocessing.get_context("fork")
    racers, rounds = 4, 6
    for round_number in range(rounds):
        path = tmp_path / f"round{round_number}" / "auth_token"
        barrier, results = ctx.Barrier(racers), ctx.Queue()
        processes = [ctx.Process(target=_racer, args=(str(path), barrier, results)) for _ in range(racers)]
        for process in processes:
            process.start()
        outcomes = [results.get(timeout=60) for _ in processes]
        for process in processes:
            process.join(timeout=60)
            assert process.exitcode == 0
        assert all(kind == "ok" for kind, _ in outcomes), outcomes
        tokens = {token for _, token in outcomes}
        assert len(tokens) == 1, f"racers disagreed in round {round_number}"
        assert path.read_bytes() == tokens.pop().encode() + b"\n"
        assert stat.S_IMODE(os.lstat(path).st_mode) == 0o600
        assert sorted(p.name for p in path.parent.iterdir()) == ["auth_token"]


def test_loser_of_a_mint_race_returns_the_winners_token(folder, monkeypatch):
    """Deterministic version of the race: another real process creates the file after
    this one found it missing and before it links its own."""
    path = folder / "auth_token"
    import secrets

    real_mint = secrets.token_urlsafe

    def other_process_wins_first(nbytes):
        code = f"from mirage.auth.token_file import mint_or_load; print(mint_or_load({str(path)!r}))"
        subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, timeout=60)
        return real_mint(nbytes)

    monkeypatch.setattr(secrets, "token_urlsafe", other_process_wins_first)
    token = mint_or_load(path)
    assert path.read_text() == token + "\n"
    assert sorted(p.name for p in folder.iterdir()) == ["auth_token"]


# ---------------------------------------------------------------- loading

@pytest.mark.parametrize("content", ["Tok_en-1.2~3+4/5==", "Tok_en-1.2~3+4/5==\n", "Tok_en-1.2~3+4/5==\r\n"])
def test_load_returns_the_token_without_its_line_ending(folder, content):
    assert load(write_token(folder / "t", content)) == "Tok_en-1.2~3+4/5=="


@pytest.mark.parametrize("mode", [0o600, 0o400, 0o700])
def test_owner_only_modes_are_accepted(folder, mode):
    assert load(write_token(folder / "t", "Tok", mode)) == "Tok"


def test_load_of_a_missing_file_is_refused_and_creates_nothing(folder):
    with pytest.raises(TokenFileError) as caught:
        load(folder / "absent")
    assert "does not exist" in str(caught.value)
    assert not (folder / "absent").exists()


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o660, 0o620, 0o602, 0o644, 0o610, 0o601])
def test_file_accessible_by_group_or_others_is_refused(folder, mode):
    path = write_token(folder / "auth_token", "Secret-Token-Value", mode)
    for function in (load, mint_or_load):
        with pytest.raises(TokenFileError) as caught:
            function(path)
        message = str(caught.value)
        assert str(path) in message and f"{mode:04o}" in message
        assert "Secret-Token-Value" not in message


def test_symlink_to_a_good_token_file_is_refused(folder, tmp_path):
    target = write_token(tmp_path / "real_token", "Secret-Token-Value")
    link = folder / "auth_token"
    link.symlink_to(target)
    for function in (load, mint_or_load):
        with pytest.raises(TokenFileError) as caught:
            function(link)
        assert "symlink" in str(caught.value) and str(link) in str(caught.value)
        assert "Secret-Token-Value" not in str(caught.value)


def test_dangling_symlink_is_refused_and_its_target_never_created(folder, tmp_path):
    target = tmp_path / "planted"
    link = folder / "auth_token"
    link.symlink_to(target)
    with pytest.raises(TokenFileError) as caught:
        mint_or_load(link)
    assert "symlink" in str(caught.value)
    assert not target.exists()


def test_directory_in_place_of_the_token_file_is_refused(folder):
    (folder / "auth_token").mkdir(mode=0o700)
    for function in (load, mint_or_load):
        with pytest.raises(TokenFileError) as caught:
            function(folder / "auth_token")
        assert "directory" in str(caught.value)


def test_fifo_in_place_of_the_token_file_is_refused_without_hanging(folder):
    os.mkfifo(folder / "auth_token", 0o600)
    with pytest.raises(TokenFileError) as caught:
        load(folder / "auth_token")
    assert "not a regular file" in str(caught.value)


@needs_root
def test_file_owned_by_another_user_is_refused(folder):
    path = write_token(folder / "auth_token", "Secret-Token-Value")
    os.chown(path, NOBODY, NOBODY)
    for function in (load, mint_or_load):
        with pytest.raises(TokenFileError) as caught:
            function(path)
        assert f"uid {NOBODY}" in str(caught.value)
        assert "Secret-Token-Value" not in str(caught.value)


@pytest.mark.parametrize("content", ["", "\n", "   \n", "\r\n"])
def test_empty_token_file_is_refused_and_not_overwritten(folder, content):
    path = write_token(folder / "auth_token", content)
    for function in (load, mint_or_load):
        with pytest.raises(TokenFileError) as caught:
            function(path)
        assert "empty" in str(caught.value)
    assert path.read_bytes() == content.encode()


@pytest.mark.parametrize("content", [b"two words", b"tok\x00en", b"t\xc3\xb6ken", b"line1\nline2", b"=abc",
                                     b"\xff\xfe"])
def test_token_file_without_valid_token_text_is_refused(folder, content):
    path = folder / "auth_token"
    path.write_bytes(content)
    path.chmod(0o600)
    with pytest.raises(TokenFileError) as caught:
        load(path)
    assert "valid token text" in str(caught.value)


def test_oversized_token_file_is_refused(folder):
    path = write_token(folder / "auth_token", "a" * 100_000)
    with pytest.raises(TokenFileError) as caught:
        load(path)
    assert "larger than" in str(caught.value)


# ---------------------------------------------------------------- the folder

@pytest.mark.parametrize("mode", [0o770, 0o777, 0o1777, 0o720, 0o702])
def test_folder_writable_by_group_or_others_is_refused(tmp_path, mode):
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(mode)
    with pytest.raises(TokenFileError) as caught:
        mint_or_load(shared / "auth_token")
    assert f"{mode:04o}" in str(caught.value)
    assert not (shared / "auth_token").exists()


def test_symlinked_folder_is_refused(tmp_path, folder):
    link = tmp_path / "linked"
    link.symlink_to(folder)
    with pytest.raises(TokenFileError) as caught:
        mint_or_load(link / "auth_token")
    assert "symlink" in str(caught.value)
    assert not (folder / "auth_token").exists()


def test_folder_that_is_a_file_is_refused(tmp_path):
    (tmp_path / "plain").write_text("x")
    with pytest.raises(TokenFileError):
        mint_or_load(tmp_path / "plain" / "auth_token")


@needs_root
def test_folder_owned_by_another_user_is_refused(folder):
    os.chown(folder, NOBODY, NOBODY)
    with pytest.raises(TokenFileError) as caught:
        mint_or_load(folder / "auth_token")
    assert f"uid {NOBODY}" in str(caught.value)


# ---------------------------------------------------------------- what it imports

def test_token_file_module_imports_only_the_standard_library():
    code = ("import sys; import mirage.auth.token_file; "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'jwt', 'cryptography', 'sanic', 'yaml', 'httpx'}))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout.strip() == "[]"


def test_a_full_disk_while_minting_is_a_token_file_error_and_leaves_no_file(folder, monkeypatch):
    import errno as errno_codes

    def no_space(fd):
        raise OSError(errno_codes.ENOSPC, "No space left on device")

    monkeypatch.setattr(token_file.os, "fsync", no_space)
    with pytest.raises(TokenFileError, match="No space left on device"):
        mint_or_load(folder / "auth_token")
    assert list(folder.iterdir()) == []        # neither the token nor its temp file
