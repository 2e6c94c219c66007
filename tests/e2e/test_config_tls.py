"""`stoke server --config FILE` (YAML settings) and `--tls-cert/--tls-key` (HTTPS), against real processes."""

import json
import os
import ssl
import subprocess
import time
import urllib.error
import urllib.request

import harness


def start(args, workdir):
    log = open(os.path.join(workdir, "server.log"), "ab")
    proc = subprocess.Popen([harness.default_binary(), "server", *args], stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    log.close()
    return proc


def wait_healthy(url, context=None, timeout_s=20):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2, context=context) as r:
                if r.status == 200:
                    return
        except (OSError, urllib.error.URLError):
            time.sleep(0.1)
    raise AssertionError(f"{url} not healthy after {timeout_s}s")


def get_json(url, token, context=None):
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(req, timeout=10, context=context) as r:
        return json.loads(r.read())


def test_yaml_config_sets_the_server(tmp_path):
    port = harness.free_port()
    data = tmp_path / "data"
    cfg = tmp_path / "server.yaml"
    cfg.write_text(f"port: {port}\nbind: 127.0.0.1\ndata_dir: {data}\ncpu_slots: 3\ngpus: none\nkill_grace_s: 2\n")
    proc = start(["--config", str(cfg)], str(tmp_path))
    try:
        url = f"http://127.0.0.1:{port}"
        wait_healthy(url)
        token = (data / "admin.token").read_text().strip()
        assert oct((data / "admin.token").stat().st_mode & 0o777) == "0o600"
        cluster = get_json(url + "/api/v1/cluster", token)
        assert cluster["cpus"]["total"] == 3 and cluster["gpus"] == [], cluster
    finally:
        proc.kill()
        proc.wait(timeout=10)


def test_yaml_config_errors_name_the_key(tmp_path):
    cfg = tmp_path / "bad.yaml"
    cfg.write_text("port: 1\ncpu_slot: 3\n")
    r = subprocess.run([harness.default_binary(), "server", "--config", str(cfg)], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 2 and "cpu_slot" in r.stderr, (r.returncode, r.stderr)


def test_tls(tmp_path):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out",
                    str(cert), "-days", "1", "-subj", "/CN=127.0.0.1"], check=True, capture_output=True, timeout=60)
    port = harness.free_port()
    data = tmp_path / "data"
    proc = start(["--port", str(port), "--data-dir", str(data), "--gpus", "none", "--tls-cert", str(cert),
                  "--tls-key", str(key)], str(tmp_path))
    try:
        context = ssl.create_default_context(cafile=str(cert))
        context.check_hostname = False
        url = f"https://127.0.0.1:{port}"
        wait_healthy(url, context)
        token = (data / "admin.token").read_text().strip()
        assert get_json(url + "/api/v1/whoami", token, context)["admin"] is True
        # Plain HTTP on the TLS port gets no answer.
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=3)
            raise AssertionError("plain HTTP was answered on the TLS port")
        except (OSError, urllib.error.URLError, ConnectionError):
            pass
    finally:
        proc.kill()
        proc.wait(timeout=10)
