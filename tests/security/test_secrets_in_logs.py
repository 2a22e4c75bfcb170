"""No secret in logs: a full demo flow with every log line captured, searched for every secret it made.

`tertulia demo` runs as a separate process with TERTULIA_LOG_LEVEL=DEBUG (its root logger, and its
worker's, at DEBUG) and its stdout and stderr in a file; the `tertulia` commands run along the way
are captured too, and so is this process's root logger at DEBUG. The flow signs in (and once with a
wrong password), connects a Mastodon channel through OAuth against a fake instance (registering an
app, exchanging a code for a token), registers a Meta app with a webhook secret and sends webhooks
with good and bad signatures, creates an API token on the web page and uses it, publishes a post,
replies in the inbox after the worker's polling, rotates the vault key, changes the password and,
when the sign-in pages have it, sets up TOTP. Every secret met on the way (passwords, tokens, codes,
client and webhook secrets, the secret key, vault keys, session ids, CSRF tokens, TOTP secret and
recovery codes, the SMTP password) is then searched for in everything captured, as is and URL- and
base64-encoded. A hit fails with the line it is on.

The one exception, on purpose: `tertulia demo` prints its generated password once, in its "Demo
login" box, so the person who started it can sign in; that line is left out of the search (and the
password is changed during the flow, so the one that matters afterwards is searched everywhere).

Also here: Django's 500 page and its error e-mails to ADMINS show no secret (settings, POST
fields, request headers, local variables), with DEBUG off.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import re
import secrets
import struct
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from email.message import Message
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from tests.processes import (
    TertuliaProcess,
    free_port,
    no_proxy_opener,
    run_tertulia,
    running,
    tertulia_env,
)

# -- collecting secrets and searching for them -------------------------------------------------------------


@dataclass
class Secrets:
    found: dict[str, str] = field(default_factory=dict)  # value -> what it is

    def add(self, what: str, value: str | None) -> None:
        if value and len(value) >= 6:  # shorter would match by chance (and is no secret)
            self.found.setdefault(value, what)

    def forms(self) -> Iterator[tuple[str, str]]:
        """Each secret as is, URL-encoded, and base64-encoded (standard and URL-safe, padded or not)."""
        for value, what in self.found.items():
            raw = value.encode()
            seen = set()
            for encoded, how in [
                (value, ""),
                (urllib.parse.quote(value, safe=""), " (URL-encoded)"),
                (urllib.parse.quote_plus(value), " (form-encoded)"),
                (base64.b64encode(raw).decode(), " (base64)"),
                (base64.urlsafe_b64encode(raw).decode().rstrip("="), " (base64url)"),
                (base64.b64encode(raw).decode().rstrip("="), " (base64, unpadded)"),
            ]:
                if encoded not in seen:
                    seen.add(encoded)
                    yield encoded, what + how


def hits(text: str, found: Secrets) -> list[str]:
    problems = []
    lines = text.splitlines()
    for needle, what in found.forms():
        for number, line in enumerate(lines, 1):
            if needle in line:
                problems.append(f"{what} in line {number}: {line[:300]}")
                break
    return problems


# Loggers of the test's stand-ins for other parties (they are sent the secrets by design).
OUTSIDE_WORLD = ("mail.log", "tertulia.connectors.testing", "aiosmtpd")


# -- a small browser: cookies, forms, JSON ----------------------------------------------------------------


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append({"attrs": values, "fields": {}, "types": {}, "checks": []})
            return
        if not self.forms:
            return
        form = self.forms[-1]
        name = values.get("name")
        if tag == "input" and name:
            kind = values.get("type", "text").lower()
            form["types"][name] = kind
            if kind in ("checkbox", "radio"):
                form["checks"].append((name, values.get("value", "on"), "checked" in values))
            elif kind not in ("submit", "button", "image", "file"):
                form["fields"][name] = values.get("value", "")
        elif tag == "textarea" and name:
            form["fields"][name] = ""
        elif tag == "select" and name:
            self._select = name
            form["fields"].setdefault(name, "")
        elif tag == "option" and self._select and (not form["fields"][self._select] or "selected" in values):
            form["fields"][self._select] = values.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None


def forms_of(html: str) -> list[dict[str, Any]]:
    parser = _Forms()
    parser.feed(html)
    return parser.forms


@dataclass
class Answer:
    status: int
    headers: Message  # names in any case
    body: str

    def json(self) -> Any:
        return json.loads(self.body)


class Browser:
    def __init__(self, base: str) -> None:
        import http.cookiejar

        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = no_proxy_opener(self.jar, follow_redirects=False)

    def cookie(self, name: str) -> str | None:
        return next((c.value for c in self.jar if c.name == name), None)

    def call(
        self, method: str, path: str, data: bytes | None = None, headers: Mapping[str, str] | None = None
    ) -> Answer:
        url = path if path.startswith("http") else f"{self.base}{path}"
        request = urllib.request.Request(url, data=data, method=method)  # noqa: S310 (127.0.0.1 only)
        for key, value in (headers or {}).items():
            request.add_header(key, value)
        try:
            with self.opener.open(request, timeout=60) as response:
                return Answer(response.status, response.headers, response.read().decode(errors="replace"))
        except urllib.error.HTTPError as exc:
            return Answer(exc.code, exc.headers, exc.read().decode(errors="replace"))

    def get(self, path: str) -> Answer:
        return self.call("GET", path)

    def submit(self, path: str, form: dict[str, Any], values: Mapping[str, Any]) -> Answer:
        fields = dict(form["fields"])
        for name, value, checked in form["checks"]:
            if checked and name not in values:
                fields[name] = value
        fields.update(values)
        action = form["attrs"].get("action") or path
        return self.call(
            "POST",
            action,
            urllib.parse.urlencode(fields, doseq=True).encode(),
            {"Referer": f"{self.base}{path}", "Content-Type": "application/x-www-form-urlencoded"},
        )

    def api(self, method: str, path: str, token: str, body: Any = None) -> Answer:
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        return self.call(method, f"/api/v1{path}", data, headers)


def form_with(html: str, *, field_type: str | None = None, name: str | None = None) -> dict[str, Any]:
    for form in forms_of(html):
        if form["attrs"].get("method", "get").lower() != "post":
            continue
        if field_type and field_type not in form["types"].values():
            continue
        if name and name not in form["fields"] and name not in {n for n, _v, _c in form["checks"]}:
            continue
        return form
    raise AssertionError(f"no POST form with {field_type or name} on the page:\n{html[:2000]}")


def location(answer: Answer) -> str:
    assert answer.status in (301, 302, 303), f"expected a redirect, got {answer.status}: {answer.body[:500]}"
    return str(answer.headers["Location"])


def totp(secret: str, at: float | None = None) -> str:
    key = base64.b32decode(secret.upper() + "=" * (-len(secret) % 8))
    counter = struct.pack(">Q", int((time.time() if at is None else at) // 30))
    digest = hmac.new(key, counter, hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    return f"{(struct.unpack('>I', digest[offset : offset + 4])[0] & 0x7FFFFFFF) % 1_000_000:06d}"


def wait_for(what: str, check: Any, timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.5)
    raise AssertionError(f"{what} did not happen within {timeout:.0f} s")


# -- the flow ---------------------------------------------------------------------------------------------


@pytest.fixture
def smtp_server() -> Iterator[tuple[int, list[bytes]]]:
    """A real SMTP server on 127.0.0.1 that takes any login (the demo is configured with one)."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    received: list[bytes] = []

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            received.append(envelope.content)
            return "250 OK"

    def accept(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        return AuthResult(success=True)

    port = free_port()
    controller = Controller(
        Handler(), hostname="127.0.0.1", port=port, authenticator=accept, auth_require_tls=False
    )
    controller.start()
    try:
        yield port, received
    finally:
        controller.stop()


class _Keep(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def root_log() -> Iterator[list[logging.LogRecord]]:
    """Everything this process logs, from the root logger at DEBUG, while the test runs."""
    root = logging.getLogger()
    keep, level = _Keep(), root.level
    root.addHandler(keep)
    root.setLevel(logging.DEBUG)
    try:
        yield keep.records
    finally:
        root.removeHandler(keep)
        root.setLevel(level)


@pytest.fixture
def fake_mastodon() -> Iterator[Any]:
    from tertulia.connectors.mastodon.spec import SPEC_PATCHES, SPEC_PATH
    from tertulia.connectors.mastodon.tests import fake
    from tertulia.connectors.mastodon.tests.fake import FakeMastodon
    from tertulia.connectors.testing.spec_server import SchemaFixtures, SpecServer, load_spec

    spec = load_spec(SPEC_PATH, SPEC_PATCHES)
    token = "mastodon-" + secrets.token_urlsafe(24)
    original = fake.TOKEN
    fake.TOKEN = token  # the access token the instance hands out: a real-looking, unique one
    try:
        with SpecServer(spec, bracket_arrays=True, accepted_tokens={token}) as server:
            instance = FakeMastodon(server, SchemaFixtures(spec))
            instance.issued = token  # type: ignore[attr-defined]  # what this test reads back
            yield instance
    finally:
        fake.TOKEN = original


@pytest.mark.slow
def test_no_secret_reaches_the_logs_in_a_full_demo_flow(
    tmp_path: Path,
    fake_mastodon: Any,
    smtp_server: tuple[int, list[bytes]],
    root_log: list[logging.LogRecord],
) -> None:
    found = Secrets()
    smtp_port, mails = smtp_server
    smtp_password = secrets.token_urlsafe(18)
    found.add("the SMTP password", smtp_password)
    data_dir = tmp_path / "data"
    env = tertulia_env(
        data_dir,
        TERTULIA_LOG_LEVEL="DEBUG",
        TERTULIA_MASTODON_ALLOW_PRIVATE_ADDRESSES="true",
        TERTULIA_INBOX_POLL_SECONDS="5",
        TERTULIA_SMTP_URL=f"smtp://mailer:{smtp_password}@127.0.0.1:{smtp_port}",
        TERTULIA_EMAIL_FROM="Tertulia <tertulia@example.com>",
    )
    captured: list[str] = []

    def command(*args: str, stdin: str = "") -> None:
        done = run_tertulia(*args, env=env, stdin=stdin)
        captured.append(f"$ tertulia {' '.join(args)}\n{done.stdout}\n{done.stderr}")
        assert done.returncode == 0, captured[-1]

    command("migrate")
    # An operator's Meta app: the client secret and webhook secret go in on standard input.
    meta_secret, webhook_secret = secrets.token_hex(16), secrets.token_hex(20)
    found.add("Meta's client secret", meta_secret)
    found.add("Meta's webhook secret", webhook_secret)
    command(
        "apps",
        "set",
        "facebook",
        "--client-id",
        "1234567890",
        stdin=f"client_secret={meta_secret}\nwebhook_secret={webhook_secret}\n",
    )

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    demo = TertuliaProcess(["demo", "--port", str(port), "--rate", "30"], env, tmp_path / "demo.log")
    with running(demo):
        login = demo.wait_for_output(r"e-mail:\s+(\S+)\s+password:\s+(\S+)", timeout=180)
        email, demo_password = login.group(1), login.group(2)
        demo.wait_healthy(base)
        found.add("the Django secret key", (data_dir / "secret_key").read_text().strip())
        for line in (data_dir / "vault_keys").read_text().split():
            found.add("a vault key", line.split(":", 1)[-1])
        browser = Browser(base)

        # A canary: something the logs do say (a 404 names its path), to prove the search reads them.
        canary = f"canary-{secrets.token_hex(6)}"
        assert browser.get(f"/{canary}/").status == 404

        # Sign in: once with a wrong password, then right.
        sign_in_page = browser.get(location(browser.get("/inbox/")))
        form = form_with(sign_in_page.body, field_type="password")
        login_field = next(n for n, t in form["types"].items() if t in ("email", "text") and n != "otp")
        password_field = next(n for n, t in form["types"].items() if t == "password")
        found.add("the CSRF cookie", browser.cookie("tertulia_csrftoken"))
        found.add("a form's CSRF token", form["fields"].get("csrfmiddlewaretoken"))
        wrong = f"{demo_password}-typo"
        found.add("a mistyped password", wrong)
        refused = browser.submit("/login/", form, {login_field: email, password_field: wrong})
        assert refused.status in (200, 400, 429), refused.status
        form = form_with(browser.get(location(browser.get("/inbox/"))).body, field_type="password")
        signed_in = browser.submit("/login/", form, {login_field: email, password_field: demo_password})
        assert signed_in.status == 302, signed_in.body[:1000]
        found.add("the session id", browser.cookie("tertulia_session"))
        found.add("the CSRF cookie", browser.cookie("tertulia_csrftoken"))

        # Connect a Mastodon channel: the app registers itself, the browser goes round OAuth.
        channels = browser.get("/settings/channels/")
        assert channels.status == 200, channels.status
        connect = next(
            f
            for f in forms_of(channels.body)
            if f["fields"].get("network") == "mastodon" and "server" in f["fields"]
        )
        found.add("a form's CSRF token", connect["fields"].get("csrfmiddlewaretoken"))
        to_network = location(
            browser.submit("/settings/channels/", connect, {"server": fake_mastodon.server.url})
        )
        assert browser.get(to_network).status == 200  # the instance's consent page
        back = fake_mastodon.approvals[-1]
        found.add(
            "the OAuth authorization code",
            urllib.parse.parse_qs(urllib.parse.urlsplit(back).query)["code"][0],
        )
        for app in fake_mastodon.apps.values():
            found.add("the Mastodon app's client secret", app["client_secret"])
        found.add("the Mastodon access token", fake_mastodon.issued)
        done = browser.get(back)
        assert location(done).endswith("/settings/channels/"), done.body[:500]
        listing = browser.get("/settings/channels/").body
        assert "mastodon" in listing.lower()

        # Facebook's webhooks: a forged signature, then a good one.
        body = json.dumps({"object": "page", "entry": []}).encode()
        challenge = browser.get(
            f"/hooks/facebook/?hub.mode=subscribe&hub.verify_token={webhook_secret}&hub.challenge=42"
        )
        assert (challenge.status, challenge.body) == (200, "42"), challenge.body
        forged = browser.call(
            "POST",
            "/hooks/facebook/",
            body,
            {"X-Hub-Signature-256": "sha256=" + "0" * 64, "Content-Type": "application/json"},
        )
        assert forged.status == 401, forged.body
        signature = hmac.new(webhook_secret.encode(), body, hashlib.sha256).hexdigest()
        found.add("a webhook signature", signature)
        signed = browser.call(
            "POST",
            "/hooks/facebook/",
            body,
            {"X-Hub-Signature-256": f"sha256={signature}", "Content-Type": "application/json"},
        )
        assert signed.status in (200, 400), signed.body

        # An API token, made on the web page, then used.
        tokens_page = browser.get("/settings/tokens/")
        token_form = form_with(tokens_page.body, name="name")
        scopes = {v for n, v, _c in token_form["checks"] if n == "scopes"}
        created = browser.submit(
            "/settings/tokens/", token_form, {"name": "logs test", "scopes": sorted(scopes)}
        )
        if created.status == 302:
            created = browser.get(location(created))
        token_match = re.search(r"trt_[A-Za-z0-9_\-]+", created.body.split('id="new-token"', 1)[-1])
        assert token_match, created.body[:2000]
        token = token_match.group()
        found.add("the API token", token)
        me = browser.api("GET", "/me", token)
        assert me.status == 200, me.body
        found.add("a forged API token", token[:-4] + "AAAA")
        assert browser.api("GET", "/me", token[:-4] + "AAAA").status == 401

        # Publish a post on every channel of the brand, now; the worker delivers it.
        brand = browser.api("GET", "/brands", token).json()["items"][0]
        chans = [
            c for c in browser.api("GET", "/channels", token).json()["items"] if c["brand_id"] == brand["id"]
        ]
        post = browser.api(
            "POST",
            f"/brands/{brand['id']}/posts",
            token,
            {
                "text": "Hola desde la prueba de registros",
                "variants": [{"channel_id": c["id"]} for c in chans],
            },
        )
        assert post.status == 201, post.body
        post_id = post.json()["id"]
        submitted = browser.api("POST", f"/posts/{post_id}/submit", token, {})
        assert submitted.status == 200, submitted.body
        if submitted.json()["state"] == "in_review":
            approved = browser.api(
                "POST", f"/posts/{post_id}/approve", token, {"version": submitted.json()["version"]}
            )
            assert approved.status == 200, approved.body
        scheduled = browser.api("POST", f"/posts/{post_id}/schedule", token, {})
        assert scheduled.status == 200, scheduled.body

        def delivered() -> bool:
            state = browser.api("GET", f"/posts/{post.json()['id']}", token).json()
            return state["state"] in ("published", "partly_published", "failed")

        wait_for("the post's delivery", delivered, timeout=90)

        # The worker polls the channels; a mention on Mastodon arrives and gets a reply.
        fake_mastodon.deliver(1)

        on_mastodon = next(
            c["id"]
            for c in browser.api("GET", "/channels", token).json()["items"]
            if c["network"] == "mastodon"
        )

        def a_conversation() -> Any:
            listed = browser.api(
                "GET", f"/brands/{brand['id']}/conversations?channel_id={on_mastodon}", token
            )
            return next(iter(listed.json()["items"]), None)

        conversation = wait_for("a Mastodon mention in the inbox", a_conversation, timeout=90)
        reply = browser.api(
            "POST", f"/conversations/{conversation['id']}/replies", token, {"text": "¡Gracias!"}
        )
        assert reply.status in (200, 201, 202), reply.body

        # An invitation: its link (with its token) goes by e-mail through the SMTP server, then is opened.
        invited = browser.api(
            "POST", "/invitations", token, {"email": "nueva@example.com", "role": "analyst"}
        )
        if invited.status != 404:  # the endpoint exists (the governance part of issue 7)
            assert invited.status in (200, 201), invited.body
            mail = wait_for("the invitation e-mail", lambda: next((m for m in mails if b"nueva@" in m), None))
            text = mail.decode(errors="replace").replace("=\r\n", "").replace("=\n", "")
            link = re.search(r"/invitation/([A-Za-z0-9_\-]+)/", text)
            assert link, text[:2000]
            found.add("the invitation token", link.group(1))
            assert Browser(base).get(link.group()).status == 200

        # The vault key rotates while the demo runs; the new key is a secret too.
        command("vault", "rotate", "--new-key")
        for line in (data_dir / "vault_keys").read_text().split():
            found.add("a vault key", line.split(":", 1)[-1])

        # Change the password.
        new_password = "Nueva-" + secrets.token_urlsafe(12)
        found.add("the new password", new_password)
        change_path = _first_page(browser, ["/accounts/password/change/", "/account/password/"])
        change_form = form_with(browser.get(change_path).body, field_type="password")
        fields = [n for n, t in change_form["types"].items() if t == "password"]
        changed = browser.submit(
            change_path, change_form, {fields[0]: demo_password, **dict.fromkeys(fields[1:], new_password)}
        )
        assert changed.status == 302, changed.body[:2000]
        found.add("the session id", browser.cookie("tertulia_session"))

        # TOTP, when the sign-in pages have it.
        totp_done = _set_up_totp(browser, found, new_password)

        # Revoke the Mastodon token at the network: the worker's next poll fails with it.
        fake_mastodon.server.accepted_tokens.clear()
        fake_mastodon.deliver(1)
        demo.wait_for_output(r"reading channel \d+ failed", timeout=60)

    output = demo.output()
    assert canary in output, "the canary request is not in the demo's log: is its output captured?"
    assert " DEBUG " in output, "the demo did not log at DEBUG"
    box = re.search(r"Demo login.*?password:\s+\S+", output, re.DOTALL)
    assert box is not None
    allowed = output.replace(box.group(), "Demo login (password left out of the search on purpose)", 1)
    # This process's own log, less the stand-ins for the outside world (the SMTP server and the fake
    # Mastodon instance are the other end: they are given the secrets on purpose).
    ours = "\n".join(
        logging.Formatter("%(levelname)s %(name)s %(message)s").format(record)
        for record in root_log
        if not record.name.startswith(OUTSIDE_WORLD)
    )
    everything = "\n".join([*captured, allowed, ours])
    problems = hits(everything, found)
    assert demo_password not in allowed, "the demo password appears beyond its Demo login box"
    assert not problems, "secrets in the logs:\n" + "\n".join(problems)
    print(
        f"\n{len(found.found)} secrets ({len(set(found.found.values()))} kinds) searched in "
        f"{len(everything.splitlines())} log lines, each as is, URL- and base64-encoded; TOTP "
        f"{'set up' if totp_done else 'skipped (no TOTP pages)'}"
    )


def _first_page(browser: Browser, paths: list[str]) -> str:
    for path in paths:
        if browser.get(path).status == 200:
            return path
    raise AssertionError(f"none of {paths} is a page")


def _set_up_totp(browser: Browser, found: Secrets, password: str) -> bool:
    path = "/accounts/2fa/totp/activate/"
    page, where = browser.get(path), path
    if page.status == 404:
        return False
    for _step in range(4):
        if page.status in (301, 302):  # a redirect to a confirmation step, or back to the page
            where = location(page)
            page = browser.get(where)
            continue
        confirm = next(
            (
                f
                for f in forms_of(page.body)
                if "password" in f["types"].values() and "code" not in f["fields"]
            ),
            None,
        )
        if confirm is None:
            break
        # "Confirm access": the password again before a second factor can be set up.
        name = next(n for n, t in confirm["types"].items() if t == "password")
        page = browser.submit(where, confirm, {name: password})
    secret_match = re.search(r"\b([A-Z2-7]{16,64})\b", page.body)
    assert secret_match, page.body[:2000]
    secret = secret_match.group(1)
    found.add("the TOTP secret", secret)
    form = form_with(page.body, name="code")
    code = totp(secret)
    found.add("a TOTP code", code if len(code) >= 6 else None)
    done = browser.submit("/accounts/2fa/totp/activate/", form, {"code": code})
    assert done.status == 302, done.body[:2000]  # activated (a refused code shows the form again)
    codes = browser.get("/accounts/2fa/recovery-codes/")
    for recovery in re.findall(
        r"\b[a-f0-9]{8}\b|\b[A-Za-z0-9]{10,}\b", codes.body if codes.status == 200 else ""
    ):
        if any(ch.isdigit() for ch in recovery) and not recovery.isdigit():
            found.add("a recovery code", recovery)
    return True


# -- Django's error report (500 page, e-mails to ADMINS) --------------------------------------------------


@pytest.mark.django_db
def test_the_500_page_and_error_emails_show_no_secret(settings, monkeypatch, mailoutbox) -> None:
    from django.core import mail
    from django.test import Client

    from tertulia.connectors import connecting
    from tertulia.core.tests.factories import make_brand, make_org, make_user

    assert settings.DEBUG is False
    settings.ADMINS = [("Ops", "ops@example.com")]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    app_password = "app-" + secrets.token_urlsafe(16)

    def explode(*args: Any, **kwargs: Any) -> Any:
        password = app_password  # a local variable of the failing frame, as a connector would have
        raise RuntimeError(f"the network is down ({len(password)})")

    monkeypatch.setattr(connecting, "connect_with_password", explode)
    owner = make_user()
    org = make_org(owner=owner)
    make_brand(org)
    client = Client(raise_request_exception=False)
    client.force_login(owner)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    response = client.post(
        "/settings/channels/connect/",
        {"network": "bluesky", "method": "password", "handle": "marca.bsky.social", "password": app_password},
        headers={"Authorization": "Bearer trt_abc_secretsecretsecret"},
    )
    assert response.status_code == 500
    everything = response.content.decode() + "".join(
        m.body + "".join(str(a[0]) for a in getattr(m, "alternatives", [])) for m in mail.outbox
    )
    assert mail.outbox, "no error e-mail went to ADMINS"
    secret_values = {
        "the app password": app_password,
        "the session id": session,
        "the Django secret key": settings.SECRET_KEY,
        "the bearer token": "trt_abc_secretsecretsecret",
    }
    if getattr(settings, "EMAIL_HOST_PASSWORD", ""):
        secret_values["the SMTP password"] = settings.EMAIL_HOST_PASSWORD
    leaked = [what for what, value in secret_values.items() if value and value in everything]
    assert not leaked, f"the 500 page or the error e-mail shows {leaked}"


def test_the_search_finds_a_secret_however_it_is_written() -> None:
    """The search fails on a secret as is, URL-encoded or base64-encoded (it can fail)."""
    found = Secrets()
    secret = "s3cr3t/+=&value"
    found.add("a test secret", secret)
    for line in [
        f"INFO x: token={secret}",
        f"GET /?t={urllib.parse.quote(secret, safe='')}",
        f"Authorization: Basic {base64.b64encode(secret.encode()).decode()}",
        f"cookie {base64.urlsafe_b64encode(secret.encode()).decode().rstrip('=')}",
    ]:
        assert hits(f"nothing here\n{line}\n", found), line
    assert not hits("INFO nothing secret here", found)
