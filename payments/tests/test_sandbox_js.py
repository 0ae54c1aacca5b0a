"""The browser tokenizer (payments/static/payments/sandbox.js), run in Node when it is installed."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "static" / "payments" / "sandbox.js"
NODE = shutil.which("node")

HARNESS = """
global.window = {};
global.document = {addEventListener: function () {}};
require(process.argv[1]);
var out = {};
JSON.parse(process.argv[2]).forEach(function (n) { out[n] = window.shopSandboxTokenize(n); });
console.log(JSON.stringify(out));
"""


@pytest.mark.skipif(NODE is None, reason="Node is not installed")
def test_test_card_numbers_become_tokens_and_others_get_a_clear_message():
    numbers = [
        "4242 4242 4242 4242",
        "5555-5555-5555-4444",
        "4000000000000002",
        "4000 0000 0000 9995",
        "4000 0000 0000 0119",
        "4242 4242 4242 4241",  # fails the Luhn check
        "4111 1111 1111 1111",  # valid, but not a sandbox test card
        "1234",
    ]
    result = subprocess.run(
        [NODE, "-e", HARNESS, str(SCRIPT), json.dumps(numbers)], capture_output=True, text=True, check=True, timeout=30
    )
    out = json.loads(result.stdout)

    assert [out[n].get("token") for n in numbers[:5]] == [
        "tok_visa",
        "tok_mastercard",
        "tok_chargeDeclined",
        "tok_insufficientFunds",
        "tok_gatewayError",
    ]
    assert "not valid" in out[numbers[5]]["error"]
    assert "test cards" in out[numbers[6]]["error"]
    assert "13 to 19 digits" in out[numbers[7]]["error"]
