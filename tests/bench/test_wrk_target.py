"""The bench's load generator only ever targets this machine."""

import pytest

from bench import wrk


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8080/", "http://localhost:1/", "http://[::1]:80/"]
)
def test_it_accepts_loopback(url):
    wrk.check_local(url)


@pytest.mark.parametrize(
    "url",
    [
        "http://8.8.8.8/",
        "http://example.org/",
        "http://192.0.2.10/",  # a LAN neighbour's kind of address, not a container
        "http://[fe80::1]/",
    ],
)
def test_it_refuses_anything_that_is_not_this_machine(url):
    with pytest.raises(ValueError, match="not this machine"):
        wrk.check_local(url)


def test_it_accepts_only_addresses_inside_a_docker_bridge_subnet(monkeypatch):
    lines = (
        "1: lo    inet 127.0.0.1/8 scope host lo\n"
        "2: eth0    inet 192.0.2.2/24 brd 192.0.2.255 scope global eth0\n"
        "5: br-0123abcd    inet 10.213.237.1/24 brd 10.213.237.255 scope global br-0123abcd\n"
    )

    class Done:
        stdout = lines

    monkeypatch.setattr(wrk.subprocess, "run", lambda *a, **k: Done())
    assert wrk.on_docker_bridge("10.213.237.7")
    assert not wrk.on_docker_bridge("192.0.2.7")
    assert not wrk.on_docker_bridge("10.213.238.7")
