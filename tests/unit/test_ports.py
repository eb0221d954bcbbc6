"""Ports of the embedded stack: chosen ahead of binding, so never handed out twice."""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from threading import Thread

from edcs.stack import free_port, web_app_answers


def test_a_port_is_never_handed_out_twice_in_one_process() -> None:
    # Nothing binds these, so the kernel is free to offer the same port again; a stack
    # chooses its web port this way seconds before the web app binds it.
    ports = [free_port() for _ in range(3000)]
    assert len(set(ports)) == len(ports)


class _Metrics(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"# HELP up\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


def test_another_server_on_the_web_port_is_not_taken_for_the_web_app() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Metrics)
    Thread(target=server.serve_forever, daemon=True).start()
    try:
        assert not web_app_answers(server.server_address[1], timeout=0.5)
    finally:
        server.shutdown()
        server.server_close()
