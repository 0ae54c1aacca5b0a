"""A local HTTP server speaking the two calls of Stripe's API a checkout uses (create a
PaymentIntent, create a Refund), so the real ``stripe`` SDK and the payments app's adapter run
unchanged as the second gateway of a failover. Idempotency keys are honoured as Stripe does: the
same key answers the first response and charges nothing."""

from __future__ import annotations

import json
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl


class FakeStripe:
    api_key = "sk_test_orders_fake"

    def __init__(self) -> None:
        self.charges: dict[str, dict] = {}
        self.answers: dict[str, dict] = {}  # idempotency key -> first answer
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                form = dict(parse_qsl(self.rfile.read(length).decode())) if length else {}
                key = self.headers.get("Idempotency-Key", "")
                with fake.lock:
                    body = fake.answers.get(key) if key else None
                    if body is None:
                        body = fake.handle(self.path, form)
                        if key:
                            fake.answers[key] = body
                raw = json.dumps(body).encode()
                self.send_response(200 if "error" not in body else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def handle(self, path: str, form: dict) -> dict:
        if path.startswith("/v1/payment_intents"):
            intent = {
                "id": f"pi_{secrets.token_hex(8)}",
                "object": "payment_intent",
                "status": "succeeded",
                "amount": int(form.get("amount", 0)),
                "currency": form.get("currency", "eur"),
            }
            self.charges[intent["id"]] = intent
            return intent
        if path.startswith("/v1/refunds"):
            return {
                "id": f"re_{secrets.token_hex(8)}",
                "object": "refund",
                "status": "succeeded",
                "amount": int(form.get("amount", 0)),
                "payment_intent": form.get("payment_intent", ""),
            }
        return {"error": {"type": "invalid_request_error", "message": f"Unrecognized request URL ({path})."}}

    def __enter__(self) -> FakeStripe:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
