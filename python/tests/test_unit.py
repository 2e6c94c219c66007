"""Client pieces that need no Stoke server: config resolution, error mapping, archives, multipart,
the emetrics file format, and hparams()/report() behaviour inside and outside a job."""

from __future__ import annotations

import email.parser
import importlib.util
import http.server
import io
import json
import os
import tarfile
import threading
import time
import warnings

import pytest

import stoke
from stoke import archive, config, errors, multipart, runtime


# --- config -------------------------------------------------------------------------------------------------
def test_config_precedence_argument_env_file_default(tmp_path):
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"url": "http://file-host:1/api/v1/", "token": "tok-file"}))
    env = {"STOKE_URL": "http://env-host:2", "STOKE_TOKEN": " tok-env \n"}
    assert config.resolve("http://arg:3/", "tok-arg", env=env, config_path=str(path)) == \
        config.ClientConfig("http://arg:3", "tok-arg")
    assert config.resolve(env=env, config_path=str(path)) == config.ClientConfig("http://env-host:2", "tok-env")
    assert config.resolve(env={}, config_path=str(path)) == config.ClientConfig("http://file-host:1", "tok-file")
    assert config.resolve(env={}, config_path=str(tmp_path / "missing.json")) == \
        config.ClientConfig("http://127.0.0.1:8080", "")


def test_config_default_path_follows_xdg_then_home():
    assert config.default_config_path({"XDG_CONFIG_HOME": "/x", "HOME": "/h"}) == "/x/stoke/config.json"
    assert config.default_config_path({"HOME": "/h"}) == "/h/.config/stoke/config.json"


def test_client_reads_cli_config_file(monkeypatch, tmp_path):
    cfg = tmp_path / "xdg" / "stoke"
    cfg.mkdir(parents=True)
    (cfg / "config.json").write_text(json.dumps({"url": "http://example.invalid:9", "token": "stk_abc"}))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    c = stoke.Client()
    assert (c.url, c.token) == ("http://example.invalid:9", "stk_abc")


def test_bad_url_and_bad_config_file_name_the_field(tmp_path):
    with pytest.raises(stoke.InvalidArgument) as e:
        config.normalize_url("ftp://x")
    assert e.value.field == "url"
    bad = tmp_path / "c.json"
    bad.write_text("[1, 2]")
    with pytest.raises(stoke.InvalidArgument) as e:
        config.resolve(env={}, config_path=str(bad))
    assert e.value.field == "config"


# --- errors -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("status,code,cls", [
    (400, "invalid_argument", stoke.InvalidArgument), (401, "unauthenticated", stoke.Unauthenticated),
    (403, "permission_denied", stoke.PermissionDenied), (404, "not_found", stoke.NotFound),
    (409, "already_exists", stoke.AlreadyExists), (409, "failed_precondition", stoke.FailedPrecondition),
    (409, "aborted", stoke.Aborted), (413, "resource_exhausted", stoke.ResourceExhausted),
    (503, "unavailable", stoke.ServerUnavailable), (504, "deadline_exceeded", stoke.DeadlineExceeded),
    (500, "internal", stoke.InternalError), (502, "", stoke.ServerUnavailable), (418, "", stoke.StokeError),
])
def test_error_for_maps_code_then_status(status, code, cls):
    e = errors.error_for(status, code, "msg", "resources.cpus")
    assert type(e) is cls
    assert (e.status, e.message, e.field) == (status, "msg", "resources.cpus")
    assert "resources.cpus" in str(e)
    if status == 409:
        assert isinstance(e, stoke.Conflict)


# --- archives -----------------------------------------------------------------------------------------------
def test_pack_directory_keeps_tree_and_leaves_out_caches(tmp_path):
    src = tmp_path / "code"
    (src / "pkg").mkdir(parents=True)
    (src / "train.py").write_text("print('hi')\n")
    (src / "pkg" / "mod.py").write_text("X = 1\n")
    (src / ".git").mkdir()
    (src / ".git" / "HEAD").write_text("ref")
    (src / "pkg" / "__pycache__").mkdir()
    (src / "pkg" / "__pycache__" / "mod.cpython-311.pyc").write_bytes(b"\0")
    os.symlink("/etc/passwd", src / "escape")
    os.symlink("train.py", src / "alias.py")
    data = archive.pack_directory(str(src))
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        names = sorted(tar.getnames())
    assert names == ["alias.py", "pkg", "pkg/mod.py", "train.py"]
    out = tmp_path / "out"
    # The in-tree link is refused on the way back in, as the server refuses links.
    with pytest.raises(stoke.InvalidArgument):
        archive.extract_tar(data, str(out))
    os.unlink(src / "alias.py")
    assert sorted(archive.extract_tar(archive.pack_directory(str(src)), str(out))) == \
        ["pkg", "pkg/mod.py", "train.py"]
    assert (out / "pkg" / "mod.py").read_text() == "X = 1\n"


def _tar_with(member: tarfile.TarInfo, content: bytes = b"x") -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        ok = tarfile.TarInfo("fine.txt")
        ok.size = 2
        tar.addfile(ok, io.BytesIO(b"ok"))
        if member.isfile():
            member.size = len(content)
            tar.addfile(member, io.BytesIO(content))
        else:
            tar.addfile(member)
    return buf.getvalue()


@pytest.mark.parametrize("make", [
    lambda: tarfile.TarInfo("../evil.txt"),
    lambda: tarfile.TarInfo("/abs/evil.txt"),
    lambda: tarfile.TarInfo("a/../../evil.txt"),
    lambda: _link("link", "/etc/passwd", tarfile.SYMTYPE),
    lambda: _link("hard", "/etc/passwd", tarfile.LNKTYPE),
    lambda: _link("dev", "", tarfile.CHRTYPE),
])
def test_extract_tar_refuses_hostile_entries_and_writes_nothing(tmp_path, make):
    dest = tmp_path / "dest"
    with pytest.raises(stoke.InvalidArgument) as e:
        archive.extract_tar(_tar_with(make()), str(dest))
    assert e.value.field == "result"
    assert not (dest / "fine.txt").exists()
    assert not (tmp_path / "evil.txt").exists()


def _link(name, target, kind):
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = target
    return info


def test_multipart_parts_parse_back():
    body, ctype = multipart.encode([("spec", b'{"argv":["true"]}', None, "application/json"),
                                    ("code", b"\x1f\x8b\x00binary\r\n--x", "code.tar.gz", "application/gzip")])
    msg = email.parser.BytesParser().parsebytes(b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + body)
    parts = msg.get_payload()
    assert [p.get_param("name", header="content-disposition") for p in parts] == ["spec", "code"]
    assert parts[1].get_filename() == "code.tar.gz"
    assert json.loads(parts[0].get_payload(decode=True)) == {"argv": ["true"]}
    assert parts[1].get_payload(decode=True) == b"\x1f\x8b\x00binary\r\n--x"


# --- emetrics -----------------------------------------------------------------------------------------------
def test_emetrics_lines_and_val_dict_list(monkeypatch, tmp_path):
    monkeypatch.setenv("LOG_DIR", str(tmp_path / "logs"))
    monkeypatch.setenv("RESULT_DIR", str(tmp_path / "result"))
    monkeypatch.setenv("TRAINING_ID", "training-7")
    from emetrics import EMetrics  # the top-level WMLA-compatible module
    assert (EMetrics.TEST_GROUP, EMetrics.TRAIN_GROUP) == ("test", "train")
    with EMetrics.open("3") as em:
        em.record(EMetrics.TRAIN_GROUP, 1, {"loss": 0.5})
        em.record(EMetrics.TEST_GROUP, 1, {"accuracy": 0.75, "loss": 0.25, "note": "x"})
        em.record(EMetrics.TEST_GROUP, 2, {"accuracy": 0.5})
    # Outside Stoke, a subId puts the file under <LOG_DIR>/<subId>/ as WMLA did.
    lines = [json.loads(l) for l in (tmp_path / "logs" / "3" / "evaluation-metrics.txt").read_text().splitlines()]
    assert len(lines) == 3
    first = lines[0]
    assert first["grouplabel"] == "train"
    assert first["meta"]["training_id"] == "training-7" and first["meta"]["rindex"] == 1
    assert first["meta"]["subid"] == "3" and isinstance(first["meta"]["time"], int)
    assert first["etimes"]["iteration"] == {"type": 2, "value": "1"}
    assert "value" in first["etimes"]["time_stamp"]
    assert first["values"] == {"loss": {"type": 3, "value": "0.5"}}
    assert lines[1]["values"]["note"] == {"value": "x"}
    assert json.loads((tmp_path / "result" / "val_dict_list.json").read_text()) == [
        {"steps": 1, "accuracy": 0.75, "loss": 0.25, "note": "x"}, {"steps": 2, "accuracy": 0.5}]


def test_emetrics_inside_stoke_job_writes_to_log_dir_itself(monkeypatch, tmp_path):
    monkeypatch.setenv("LOG_DIR", str(tmp_path))
    monkeypatch.setenv("STOKE_JOB_ID", "12")
    monkeypatch.delenv("TRAINING_ID", raising=False)
    monkeypatch.delenv("RESULT_DIR", raising=False)
    from stoke.emetrics import EMetrics
    em = EMetrics.open()
    em.record("test", 4, {"accuracy": 1})
    em.close()
    line = json.loads((tmp_path / "evaluation-metrics.txt").read_text())
    assert line["meta"]["training_id"] == "12" and "subid" not in line["meta"]
    assert line["values"]["accuracy"] == {"type": 2, "value": "1"}


# --- hparams / report ---------------------------------------------------------------------------------------
def test_outside_a_job_hparams_and_report_warn_once_and_do_nothing(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(runtime, "_warned", set())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert stoke.hparams(lr=0.1) == {"lr": 0.1}
        assert stoke.hparams(lr=0.2) == {"lr": 0.2}
        assert stoke.report(1, loss=0.5) is False
        assert stoke.report(2, loss=0.4) is False
    texts = [str(w.message) for w in caught]
    assert len(texts) == 2, texts
    assert "hparams" in texts[0] and "report" in texts[1]


def test_hparams_reads_file_and_casts_string_values(monkeypatch, tmp_path):
    hp = tmp_path / "hp.json"
    hp.write_text(json.dumps({"lr": "0.5", "epochs": "3", "opt": "adam", "extra": 1, "flag": "true"}))
    monkeypatch.setenv("STOKE_HPARAMS", str(hp))
    got = stoke.hparams(lr=0.1, epochs=1, opt="sgd", flag=False, missing=7)
    assert got == {"lr": 0.5, "epochs": 3, "opt": "adam", "extra": 1, "flag": True, "missing": 7}


def test_report_rejects_bad_step_and_non_numbers():
    with pytest.raises(stoke.InvalidArgument):
        stoke.report(-1, loss=1.0)
    with pytest.raises(stoke.InvalidArgument):
        stoke.report(True, loss=1.0)
    with pytest.raises(TypeError):
        stoke.report(1, loss="high")


class _FlakyApi(http.server.BaseHTTPRequestHandler):
    """Answers POST .../metrics with the next status of `plan` (then 200) and records the bodies."""

    plan: list = []
    seen: list = []

    def do_POST(self):  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).seen.append((self.path, self.headers["Authorization"], json.loads(body)))
        status = type(self).plan.pop(0) if type(self).plan else 200
        payload = json.dumps({"accepted": 1} if status == 200 else
                             {"error": {"code": "unavailable" if status >= 500 else "invalid_argument",
                                        "message": "no", "field": "metrics.0.step"}}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


@pytest.fixture
def flaky_api(monkeypatch):
    """A stand-in for the server that fails on demand (the real one cannot be made to answer 503)."""
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _FlakyApi)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    _FlakyApi.plan, _FlakyApi.seen = [], []
    monkeypatch.setenv("STOKE_JOB_ID", "5")
    monkeypatch.setenv("STOKE_API", f"http://127.0.0.1:{srv.server_address[1]}/api/v1")
    monkeypatch.setenv("STOKE_TOKEN", "stk_job")
    monkeypatch.setattr(runtime, "_warned", set())
    monkeypatch.setattr(runtime, "RETRY_DELAYS_S", (0.01, 0.02, 0.03))
    yield _FlakyApi
    srv.shutdown()
    srv.server_close()


def test_report_retries_transient_errors_then_succeeds(flaky_api):
    flaky_api.plan = [503, 503]
    assert stoke.report(7, loss=0.25, acc=1) is True
    assert len(flaky_api.seen) == 3
    path, auth, body = flaky_api.seen[-1]
    assert path == "/api/v1/jobs/5/metrics" and auth == "Bearer stk_job"
    assert body == {"metrics": [{"step": 7, "values": {"loss": 0.25, "acc": 1.0}}]}


def test_report_gives_up_with_a_warning_and_never_raises(flaky_api):
    flaky_api.plan = [503] * 10
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert stoke.report(1, loss=1.0) is False
    assert len(flaky_api.seen) == 4  # first try + 3 retries
    assert any("not recorded" in str(w.message) for w in caught)


def test_report_does_not_retry_a_rejected_request(flaky_api):
    flaky_api.plan = [400]
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        assert stoke.report(1, loss=1.0) is False
    assert len(flaky_api.seen) == 1


def test_report_drops_non_finite_values(flaky_api):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert stoke.report(2, loss=float("nan"), acc=0.5) is True
    assert flaky_api.seen[-1][2]["metrics"][0]["values"] == {"acc": 0.5}
    assert any("'loss'" in str(w.message) for w in caught)


def test_report_with_the_server_gone_is_bounded(monkeypatch):
    monkeypatch.setenv("STOKE_JOB_ID", "5")
    monkeypatch.setenv("STOKE_API", "http://127.0.0.1:1/api/v1")
    monkeypatch.setattr(runtime, "_warned", set())
    start = time.monotonic()
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        assert stoke.report(1, loss=1.0) is False
    assert time.monotonic() - start < 5


def test_metric_frames_need_pandas_or_say_so():
    from stoke.jobs import series_frame
    series = {"loss": [(0, 1.0), (2, 0.5)], "acc": [(2, 0.9)]}
    if importlib.util.find_spec("pandas") is None:
        with pytest.raises(ImportError, match="pandas"):
            series_frame(series)
        return
    frame = series_frame(series)
    assert list(frame.index) == [0, 2] and frame.loc[2, "acc"] == 0.9 and frame.loc[0, "loss"] == 1.0
