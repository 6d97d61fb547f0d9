"""The local dealer group's HAProxy configuration (leadcore/cluster.py): what keeps a Streamlit
session working behind it. (The running group is tested in tests/e2e/test_dealer_group.py.)"""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from leadcore import cluster


def test_haproxy_keeps_each_browser_on_its_server_and_its_websocket_open():
    config = cluster.haproxy_config(8500, [8501, 8502, 8503])
    assert "bind 127.0.0.1:8500" in config
    assert f"cookie {cluster.STICKY_COOKIE} insert indirect nocache httponly" in config
    assert "timeout tunnel 1h" in config
    assert "option httpchk GET /_stcore/health" in config and "http-check expect string ok" in config
    assert "option redispatch" in config
    for n, port in ((1, 8501), (2, 8502), (3, 8503)):
        assert f"server app{n} 127.0.0.1:{port} cookie app{n}" in config


@pytest.mark.skipif(not (shutil.which("haproxy") or Path("/usr/sbin/haproxy").exists()),
                    reason="Debian's haproxy is not installed (make test installs it)")
def test_haproxy_accepts_the_configuration(tmp_path):
    path = tmp_path / "haproxy.cfg"
    path.write_text(cluster.haproxy_config(8500, [8501, 8502]))
    checked = subprocess.run([cluster.haproxy_binary(), "-c", "-f", str(path)], capture_output=True, text=True,
                             check=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr
