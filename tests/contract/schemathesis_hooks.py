"""Schemathesis hooks for the contract test (tests/platform_schema.rs): every generated
request is signed as a registered terminal signs it, so the run gets past authentication.

YKB_SIM_URL names the simulator (http://127.0.0.1:PORT). With YKB_SIGNING=none nothing is
signed (the run a new user makes first: every signed route answers 401). Otherwise, at load
time, the hooks register a test device there with the simulator's public demo enrolment
code (YKB_ENROLMENT_CODE), the same way `ykb-terminal provision` does, and keep its secret.
The signature is computed on the prepared request (the exact path, query and body bytes that
go on the wire), as `api/openapi.yaml` describes it:

    hex HMAC-SHA256(secret, METHOD \\n PATH?QUERY \\n TIMESTAMP \\n NONCE \\n hex(SHA-256(body)))
"""

import base64
import hashlib
import hmac
import json
import os
import secrets
import time
import urllib.request

import requests
import schemathesis

BASE = os.environ["YKB_SIM_URL"].rstrip("/")
SIGNING = os.environ.get("YKB_SIGNING", "device")
if SIGNING not in ("device", "none"):
    raise ValueError(f"YKB_SIGNING is device or none, not {SIGNING!r}")


def _register():
    body = json.dumps(
        {
            "enrolment_code": os.environ["YKB_ENROLMENT_CODE"],
            "region_code": "500103",
            "terminal_kind": "kiosk",
            "name": "schemathesis contract test",
        }
    ).encode()
    req = urllib.request.Request(
        BASE + "/v1/devices/register",
        data=body,
        headers={"content-type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        creds = json.load(resp)
    return creds["device_id"], base64.b64decode(creds["secret"])


DEVICE_ID, SECRET = _register() if SIGNING == "device" else (None, None)

# Material chunks (PATCH /v1/cases/{id}/materials/{material}) are raw bytes, as
# application/octet-stream is.
schemathesis.serializer.alias("application/offset+octet-stream", "application/octet-stream")


class DeviceSignature(requests.auth.AuthBase):
    """Adds x-ykb-device, x-ykb-timestamp, x-ykb-nonce and x-ykb-signature."""

    def __call__(self, r):
        body = r.body or b""
        if isinstance(body, str):
            body = body.encode()
        ts = str(int(time.time()))
        nonce = secrets.token_hex(16)
        canonical = "\n".join(
            [r.method.upper(), r.path_url, ts, nonce, hashlib.sha256(body).hexdigest()]
        )
        sig = hmac.new(SECRET, canonical.encode(), hashlib.sha256).hexdigest()
        r.headers["x-ykb-device"] = DEVICE_ID
        r.headers["x-ykb-timestamp"] = ts
        r.headers["x-ykb-nonce"] = nonce
        r.headers["x-ykb-signature"] = sig
        return r


@schemathesis.hook
def before_call(context, case, kwargs):
    # Registration is the one unsigned route; every other request is signed after requests
    # has prepared it, so the signature covers exactly what is sent.
    if SIGNING == "device" and not case.path.endswith("/devices/register"):
        kwargs["auth"] = DeviceSignature()
