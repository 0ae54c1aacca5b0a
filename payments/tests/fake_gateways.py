# ruff: noqa: E501  (canned gateway answers read best on one line)
"""Local HTTP servers that speak the part of Stripe's and Adyen's APIs the adapters use, so the real
SDKs run in the tests. Each keeps its own ledger and honours idempotency keys the way the real
gateway does (the same key answers the first response again and charges nothing), and has modes:
``error`` answers 500 without doing anything, ``timeout`` does the work and then holds the answer
until the client has given up, ``drop`` closes the connection without an answer after doing it."""

from __future__ import annotations

import json
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

STRIPE_DECLINES = {
    "tok_chargeDeclined": ("card_declined", "generic_decline"),
    "tok_insufficientFunds": ("card_declined", "insufficient_funds"),
}
ADYEN_REFUSALS = {"tok_chargeDeclined": ("2", "Refused"), "tok_insufficientFunds": ("12", "Not enough balance")}


class FakeGateway:
    """A server on 127.0.0.1 in a thread; ``url`` is its base address."""

    def __init__(self) -> None:
        self.mode = "normal"
        self.charges: dict[str, dict] = {}  # id -> payment
        self.refunds: dict[str, dict] = {}
        self.transfers: dict[str, dict] = {}
        self.idempotent: dict[str, tuple[str, int, dict]] = {}  # key -> (request fingerprint, status, body)
        self.requests: list[tuple[str, str, dict]] = []  # method, path, headers
        self.on_request = None  # called with (method, path, headers) before anything is done
        self.release = threading.Event()  # lets held "timeout" answers go when the test ends
        self.lock = threading.Lock()
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output clean
                pass

            def _handle(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode() if length else ""
                headers = {k.lower(): v for k, v in self.headers.items()}
                gateway.requests.append((method, self.path, headers))
                if gateway.on_request:
                    gateway.on_request(method, self.path, headers)
                if gateway.mode == "error":
                    return self._send(500, gateway.server_error())
                status, body = gateway.handle(method, self.path, headers, raw)
                if gateway.mode == "timeout":
                    gateway.release.wait(30)
                    return None
                if gateway.mode == "drop":
                    self.close_connection = True
                    self.connection.close()
                    return None
                return self._send(status, body)

            def _send(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                self._handle("GET")

            def do_POST(self):
                self._handle("POST")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()

    def idempotent_call(self, key: str | None, fingerprint: str, work) -> tuple[int, dict]:
        """Run ``work`` once per key; the same key again answers the stored response."""
        with self.lock:
            if key and key in self.idempotent:
                stored_fingerprint, status, body = self.idempotent[key]
                if stored_fingerprint != fingerprint:
                    return self.idempotency_mismatch()
                return status, body
            status, body = work()
            if key:
                self.idempotent[key] = (fingerprint, status, body)
            return status, body

    def server_error(self) -> dict:
        raise NotImplementedError

    def idempotency_mismatch(self) -> tuple[int, dict]:
        raise NotImplementedError

    def handle(self, method, path, headers, raw) -> tuple[int, dict]:
        raise NotImplementedError


class FakeStripe(FakeGateway):
    """``POST /v1/payment_intents`` (confirm), ``GET /v1/payment_intents/<id>``, ``POST /v1/refunds``,
    ``POST /v1/transfers``; form-encoded bodies, Bearer key, Idempotency-Key header."""

    api_key = "sk_test_fake"

    def server_error(self):
        return {"error": {"type": "api_error", "message": "Something went wrong on Stripe's end."}}

    def idempotency_mismatch(self):
        return 400, {"error": {"type": "idempotency_error", "message": "Keys for idempotent requests can only be used with the same parameters they were first used with."}}  # fmt: skip

    def handle(self, method, path, headers, raw):
        if headers.get("authorization") != f"Bearer {self.api_key}":
            return 401, {"error": {"type": "invalid_request_error", "message": "Invalid API Key provided."}}
        params = dict(parse_qsl(raw))
        key = headers.get("idempotency-key")
        fingerprint = f"{path}?{sorted(params.items())}"
        if method == "POST" and path == "/v1/payment_intents":
            return self.idempotent_call(key, fingerprint, lambda: self._create_intent(params))
        if method == "GET" and path.startswith("/v1/payment_intents/"):
            intent = self.charges.get(path.rsplit("/", 1)[1])
            if intent is None:
                return 404, {"error": {"type": "invalid_request_error", "code": "resource_missing", "message": "No such payment_intent"}}  # fmt: skip
            return 200, intent
        if method == "POST" and path == "/v1/refunds":
            return self.idempotent_call(key, fingerprint, lambda: self._create_refund(params))
        if method == "POST" and path == "/v1/transfers":
            return self.idempotent_call(key, fingerprint, lambda: self._create_transfer(params))
        return 404, {"error": {"type": "invalid_request_error", "message": f"Unrecognized request URL ({path})"}}

    def _create_intent(self, params):
        token = params.get("payment_method", "")
        intent = {
            "id": "pi_" + secrets.token_hex(12),
            "object": "payment_intent",
            "amount": int(params["amount"]),
            "currency": params["currency"],
            "metadata": {k[9:-1]: v for k, v in params.items() if k.startswith("metadata[")},
            "status": "succeeded",
            "last_payment_error": None,
        }
        self.charges[intent["id"]] = intent
        if token in STRIPE_DECLINES:
            code, decline_code = STRIPE_DECLINES[token]
            error = {"type": "card_error", "code": code, "decline_code": decline_code, "message": "Your card was declined."}  # fmt: skip
            intent.update(status="requires_payment_method", last_payment_error=error)
            return 402, {"error": {**error, "payment_intent": intent}}
        if not token.startswith(("tok_", "pm_")):
            self.charges.pop(intent["id"])
            return 400, {"error": {"type": "invalid_request_error", "code": "resource_missing", "message": "No such PaymentMethod"}}  # fmt: skip
        return 200, intent

    def _create_refund(self, params):
        intent = self.charges.get(params.get("payment_intent", ""))
        if intent is None or intent["status"] != "succeeded":
            return 400, {"error": {"type": "invalid_request_error", "message": "No such payment_intent"}}
        refunded = sum(r["amount"] for r in self.refunds.values() if r["payment_intent"] == intent["id"])
        amount = int(params.get("amount", intent["amount"] - refunded))
        if refunded + amount > intent["amount"]:
            return 400, {"error": {"type": "invalid_request_error", "code": "charge_already_refunded", "message": "Refund amount is greater than unrefunded amount."}}  # fmt: skip
        refund = {"id": "re_" + secrets.token_hex(12), "object": "refund", "amount": amount, "payment_intent": intent["id"], "status": "succeeded"}  # fmt: skip
        self.refunds[refund["id"]] = refund
        return 200, refund

    def _create_transfer(self, params):
        transfer = {"id": "tr_" + secrets.token_hex(12), "object": "transfer", "amount": int(params["amount"]), "destination": params["destination"]}  # fmt: skip
        self.transfers[transfer["id"]] = transfer
        return 200, transfer


class FakeAdyen(FakeGateway):
    """Checkout API v72: ``POST /v72/payments`` and ``POST /v72/payments/<psp>/refunds``; JSON bodies,
    ``x-api-key``, ``Idempotency-Key`` header."""

    api_key = "adyen-test-key"
    base_path = "/v72"

    @property
    def checkout_url(self) -> str:
        return self.url + self.base_path

    def server_error(self):
        return {"status": 500, "errorCode": "905", "message": "Payment details are not supported", "errorType": "configuration"}  # fmt: skip

    def idempotency_mismatch(self):
        return 422, {"status": 422, "errorCode": "704", "message": "request already processed or in progress", "errorType": "validation"}  # fmt: skip

    def handle(self, method, path, headers, raw):
        if headers.get("x-api-key") != self.api_key:
            return 401, {"status": 401, "errorCode": "000", "message": "HTTP Status Response - Unauthorized", "errorType": "security"}  # fmt: skip
        body = json.loads(raw or "{}")
        key = headers.get("idempotency-key")
        fingerprint = f"{path}?{json.dumps(body, sort_keys=True)}"
        if method == "POST" and path == f"{self.base_path}/payments":
            return self.idempotent_call(key, fingerprint, lambda: self._payment(body))
        if method == "POST" and path.startswith(f"{self.base_path}/payments/") and path.endswith("/refunds"):
            return self.idempotent_call(key, fingerprint, lambda: self._refund(path.split("/")[-2], body))
        return 404, {"status": 404, "errorCode": "000", "message": "Not found", "errorType": "validation"}

    def _payment(self, body):
        token = body["paymentMethod"].get("storedPaymentMethodId", "")
        payment = {"pspReference": secrets.token_hex(8).upper(), "merchantReference": body["reference"], "amount": body["amount"]}  # fmt: skip
        self.charges[payment["pspReference"]] = payment
        if token in ADYEN_REFUSALS:
            code, reason = ADYEN_REFUSALS[token]
            payment.update(resultCode="Refused", refusalReason=reason, refusalReasonCode=code)
        else:
            payment.update(resultCode="Authorised")
        return 200, payment

    def _refund(self, psp, body):
        if psp not in self.charges:
            return 422, {"status": 422, "errorCode": "167", "message": "Original pspReference required for this operation", "errorType": "validation"}  # fmt: skip
        refund = {"pspReference": secrets.token_hex(8).upper(), "paymentPspReference": psp, "status": "received", "amount": body["amount"]}  # fmt: skip
        self.refunds[refund["pspReference"]] = refund
        return 201, refund
