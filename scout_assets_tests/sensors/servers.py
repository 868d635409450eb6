"""Real local servers for the alert channels: a webhook (HTTP) and an SMTP server, each on
127.0.0.1 in a thread, recording what they receive and able to misbehave on demand."""

from __future__ import annotations

import json
import socketserver
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Webhook:
    """A webhook on 127.0.0.1. ``mode``: ok (200), error (500) or slow (answers after
    ``delay`` seconds, past the notifier's timeout). ``posts`` holds the JSON bodies received
    with a 200; ``attempts`` counts every request."""

    def __init__(self) -> None:
        self.mode = "ok"
        self.delay = 3.0
        self.posts: list[dict] = []
        self.attempts = 0
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's naming)
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                hook.attempts += 1
                if hook.mode == "slow":
                    time.sleep(hook.delay)
                if hook.mode == "error":
                    self.send_response(500)
                    self.end_headers()
                    return
                if hook.mode == "ok":
                    hook.posts.append(body)
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):  # keep test output quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def texts(self) -> list[str]:
        return [post.get("text") or post.get("title") for post in self.posts]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Smtp:
    """A minimal SMTP server on 127.0.0.1: enough of RFC 5321 for smtplib's send_message.
    ``refuse`` answers MAIL FROM with 550. ``messages`` holds the DATA received."""

    def __init__(self) -> None:
        self.refuse = False
        self.messages: list[str] = []
        smtp = self

        class Handler(socketserver.StreamRequestHandler):
            def reply(self, line: str) -> None:
                self.wfile.write(f"{line}\r\n".encode())

            def handle(self):
                self.reply("220 localhost test SMTP")
                while line := self.rfile.readline().decode().strip():
                    verb = line.split(" ", 1)[0].upper()
                    if verb in ("EHLO", "HELO"):
                        self.reply("250 localhost")
                    elif verb == "MAIL":
                        self.reply("550 relay refused" if smtp.refuse else "250 OK")
                    elif verb in ("RCPT", "RSET", "NOOP"):
                        self.reply("250 OK")
                    elif verb == "DATA":
                        self.reply("354 end with .")
                        lines = []
                        while (data := self.rfile.readline().decode()) not in (".\r\n", ""):
                            lines.append(data)
                        smtp.messages.append("".join(lines))
                        self.reply("250 queued")
                    elif verb == "QUIT":
                        self.reply("221 bye")
                        return
                    else:
                        self.reply("502 not implemented")

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
