"""audit keygen / sign / verify through click's CliRunner: outputs, exit codes, file modes."""

from __future__ import annotations

import os
import stat

import click
import pytest
from click.testing import CliRunner

from auditkit.signing import PASSPHRASE_ENV, load_private_key, load_public_key
from auditkit.signing._cli import keygen, sign, verify


@pytest.fixture(autouse=True)
def _no_passphrase(monkeypatch):
    monkeypatch.delenv(PASSPHRASE_ENV, raising=False)


@pytest.fixture()
def runner():
    return CliRunner()


def _body(pem: bytes) -> str:
    return "".join(line for line in pem.decode().splitlines() if not line.startswith("-----"))


@pytest.fixture()
def key_prefix(tmp_path, runner):
    prefix = tmp_path / "keys" / "release"
    prefix.parent.mkdir()
    result = runner.invoke(keygen, ["--out", str(prefix)])
    assert result.exit_code == 0, result.output
    return prefix


@pytest.fixture()
def out_dir(tmp_path):
    folder = tmp_path / "audit-report"
    folder.mkdir()
    (folder / "report.html").write_text("<html>report</html>")
    (folder / "results.json").write_text('{"passed": true}')
    (folder / "summary.md").write_text("# ok")
    return folder


def test_keygen_writes_a_private_key_only_its_owner_reads(key_prefix, runner):
    key_path = key_prefix.with_name("release.key")
    pub_path = key_prefix.with_name("release.pub")
    assert stat.S_IMODE(os.stat(key_path).st_mode) == 0o600
    assert key_path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert pub_path.read_bytes().startswith(b"-----BEGIN PUBLIC KEY-----")
    private, public = load_private_key(key_path), load_public_key(pub_path)
    assert private.fingerprint == public.fingerprint


def test_keygen_prints_fingerprint_and_paths_never_the_key(tmp_path, runner):
    prefix = tmp_path / "k"
    result = runner.invoke(keygen, ["--out", str(prefix)])
    assert result.exit_code == 0
    private = load_private_key(tmp_path / "k.key")
    assert f"fingerprint: {private.fingerprint}" in result.output
    assert str(tmp_path / "k.key") in result.output and str(tmp_path / "k.pub") in result.output
    assert "PRIVATE KEY" not in result.output
    assert _body((tmp_path / "k.key").read_bytes())[:20] not in result.output


def test_keygen_refuses_to_overwrite_without_force(key_prefix, runner):
    key_path = key_prefix.with_name("release.key")
    before = key_path.read_bytes()
    result = runner.invoke(keygen, ["--out", str(key_prefix)])
    assert result.exit_code == 2
    assert "already exists" in result.output and "--force" in result.output
    assert key_path.read_bytes() == before

    # only the .pub exists: still refused, and no .key is left behind
    other = key_prefix.with_name("other")
    other.with_name("other.pub").write_text("mine")
    result = runner.invoke(keygen, ["--out", str(other)])
    assert result.exit_code == 2 and not other.with_name("other.key").exists()
    assert other.with_name("other.pub").read_text() == "mine"

    result = runner.invoke(keygen, ["--out", str(key_prefix), "--force"])
    assert result.exit_code == 0
    assert key_path.read_bytes() != before
    assert stat.S_IMODE(os.stat(key_path).st_mode) == 0o600


def test_keygen_encrypts_with_the_environment_passphrase(tmp_path, runner, monkeypatch):
    monkeypatch.setenv(PASSPHRASE_ENV, "s3cret pass")
    result = runner.invoke(keygen, ["--out", str(tmp_path / "k")])
    assert result.exit_code == 0 and "encrypted" in result.output and "s3cret" not in result.output
    assert (tmp_path / "k.key").read_bytes().startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    assert load_private_key(tmp_path / "k.key").fingerprint == load_public_key(tmp_path / "k.pub").fingerprint
    monkeypatch.delenv(PASSPHRASE_ENV)
    result = runner.invoke(sign, [str(tmp_path), "--key", str(tmp_path / "k.key")])
    assert result.exit_code == 2 and PASSPHRASE_ENV in result.output


def test_keygen_into_a_missing_folder_creates_it_or_fails_cleanly(tmp_path, runner):
    (tmp_path / "file").write_text("x")
    result = runner.invoke(keygen, ["--out", str(tmp_path / "file" / "k")])
    assert result.exit_code == 2 and result.output.startswith("Error: ")
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_sign_then_verify(key_prefix, out_dir, runner):
    public = load_public_key(key_prefix.with_name("release.pub"))
    result = runner.invoke(sign, [str(out_dir), "--key", str(key_prefix.with_name("release.key"))])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"signed 3 files in {out_dir} with key {public.fingerprint}"
    result = runner.invoke(verify, [str(out_dir), "--pub", str(key_prefix.with_name("release.pub"))])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"verified: 3 files unchanged, signed by {public.fingerprint}")


def test_verify_lists_each_problem_and_exits_1(key_prefix, out_dir, runner):
    runner.invoke(sign, [str(out_dir), "--key", str(key_prefix.with_name("release.key"))])
    (out_dir / "report.html").write_text("<html>changed</html>")
    (out_dir / "summary.md").unlink()
    (out_dir / "evil\x1b[32mPASS\x1b[0m.txt").write_text("x")
    result = runner.invoke(verify, [str(out_dir), "--pub", str(key_prefix.with_name("release.pub"))])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0].startswith("NOT verified")
    assert "  report.html was changed: 20 bytes, signed with 19" in lines
    assert "  summary.md is missing" in lines
    assert "  evil\\x1b[32mPASS\\x1b[0m.txt is not covered by the signature" in lines
    assert "\x1b" not in result.output


def test_verify_with_another_key_exits_1(key_prefix, out_dir, runner, tmp_path):
    runner.invoke(sign, [str(out_dir), "--key", str(key_prefix.with_name("release.key"))])
    runner.invoke(keygen, ["--out", str(tmp_path / "other")])
    result = runner.invoke(verify, [str(out_dir), "--pub", str(tmp_path / "other.pub")])
    assert result.exit_code == 1
    assert "manifest.json is not signed by this key" in result.output


def test_verify_accepts_an_openssh_public_key(key_prefix, out_dir, runner, tmp_path):
    runner.invoke(sign, [str(out_dir), "--key", str(key_prefix.with_name("release.key"))])
    public = load_public_key(key_prefix.with_name("release.pub"))
    (tmp_path / "release.ssh.pub").write_bytes(public.to_openssh(comment="release"))
    result = runner.invoke(verify, [str(out_dir), "--pub", str(tmp_path / "release.ssh.pub")])
    assert result.exit_code == 0, result.output


def test_exit_2_when_it_cannot_run(key_prefix, out_dir, runner, tmp_path):
    pub = str(key_prefix.with_name("release.pub"))
    key = str(key_prefix.with_name("release.key"))
    cases = [
        (verify, [str(tmp_path / "missing"), "--pub", pub], "no such folder"),
        (verify, [str(out_dir), "--pub", str(tmp_path / "missing.pub")], "no such public key file"),
        (verify, [str(out_dir), "--pub", key], "is a private key"),
        (verify, [str(out_dir)], "--pub"),
        (sign, [str(out_dir), "--key", pub], "is a public key"),
        (sign, [str(tmp_path / "missing"), "--key", key], "no such folder"),
        (sign, [str(out_dir)], "--key"),
        (keygen, [], "--out"),
    ]
    for command, args, expected in cases:
        result = runner.invoke(command, args)
        assert result.exit_code == 2, (args, result.output)
        assert expected in result.output, (args, result.output)
        assert "Traceback" not in result.output


def test_corrupt_key_message_lacks_the_key(key_prefix, out_dir, runner):
    key_path = key_prefix.with_name("release.key")
    pem = key_path.read_bytes()
    key_path.write_bytes(pem[: len(pem) - 40])
    result = runner.invoke(sign, [str(out_dir), "--key", str(key_path)])
    assert result.exit_code == 2
    assert result.output.startswith("Error: ") and result.output.count("\n") == 1
    assert _body(pem)[:16] not in result.output


def test_commands_inside_the_audit_group(key_prefix, out_dir, runner):
    """How the lead wires them: cli.add_command on the audit group keeps the exit codes."""
    from auditkit.cli import _AuditGroup

    @click.group(cls=_AuditGroup)
    def audit():
        pass

    for command in (keygen, sign, verify):
        audit.add_command(command)
    assert runner.invoke(audit, ["sign", str(out_dir), "--key", str(key_prefix.with_name("release.key"))]).exit_code == 0
    assert runner.invoke(audit, ["verify", str(out_dir), "--pub", str(key_prefix.with_name("release.pub"))]).exit_code == 0
    (out_dir / "results.json").write_text("{}")
    assert runner.invoke(audit, ["verify", str(out_dir), "--pub", str(key_prefix.with_name("release.pub"))]).exit_code == 1
    result = runner.invoke(audit, ["verify", str(out_dir), "--pub", "/nonexistent.pub"])
    assert result.exit_code == 2 and result.output.startswith("Error: ")
    for name in ("keygen", "sign", "verify"):
        help_text = runner.invoke(audit, [name, "--help"])
        assert help_text.exit_code == 0 and "Usage:" in help_text.output


def test_keygen_leaves_no_private_key_without_its_public_key(tmp_path, runner, monkeypatch):
    from auditkit import outputs
    from auditkit.errors import OutputError

    real_write_file = outputs.write_file

    def failing(path, *args, **kwargs):
        if str(path).endswith(".pub"):
            raise OutputError(f"{path}: cannot be written (disk full); choose another --out PREFIX.")
        return real_write_file(path, *args, **kwargs)

    monkeypatch.setattr(outputs, "write_file", failing)
    result = runner.invoke(keygen, ["--out", str(tmp_path / "k")])
    assert result.exit_code == 2 and "disk full" in result.output
    assert not (tmp_path / "k.key").exists() and not (tmp_path / "k.pub").exists()
