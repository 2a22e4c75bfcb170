"""A small Mastodon instance behind the spec server: state plus handlers for every operation we call.

Every response body is built with `SchemaFixtures` (validated against the
spec's schemas) and the server also validates each response it sends.

OAuth is checked as Mastodon (Doorkeeper) checks it: apps register with
`POST /api/v1/apps`; `/oauth/authorize` refuses an unknown client, a redirect
URI the app did not register, scopes beyond the registered ones and a missing
S256 challenge, and, as if the person approved at once, records where the
browser would be sent back (`approvals`); `/oauth/token` takes a code only once,
from the client it was issued to (with its secret), for the same redirect URI
and with the verifier that matches the challenge.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import re
import threading
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

from tertulia.connectors.testing.spec_server import (
    RecordedRequest,
    SchemaFixtures,
    SpecResponse,
    SpecServer,
    sse,
)

BRAND_ID = "1000"
TOKEN = "brand-token"


def _ts(offset: int = 0) -> str:
    moment = datetime(2025, 6, 1, tzinfo=UTC) + timedelta(seconds=offset)
    return moment.isoformat().replace("+00:00", "Z")


class FakeMastodon:
    def __init__(self, server: SpecServer, fixtures: SchemaFixtures) -> None:
        self.server = server
        self.fx = fixtures
        self.lock = threading.Lock()
        self.ids = itertools.count(2000)
        self.accounts: dict[str, dict[str, Any]] = {}
        self.statuses: dict[str, dict[str, Any]] = {}
        self.notifications: list[dict[str, Any]] = []
        self.conversations: list[dict[str, Any]] = []
        self.idempotency: dict[str, dict[str, Any]] = {}
        self.media: dict[str, dict[str, Any]] = {}
        self.media_polls: dict[str, int] = {}
        self.media_processing_polls = 1  # 206 answers before a 202 upload is ready
        self.stream_events: list[tuple[str, Any]] = []
        self.apps: dict[str, dict[str, Any]] = {}  # client id -> CredentialApplication
        self.grants: dict[str, dict[str, str]] = {}  # authorization code -> what it was issued for
        self.approvals: list[str] = []  # where /oauth/authorize sent the browser back, in order
        self.revoked: list[str] = []  # tokens revoked through /oauth/revoke
        self.remaining = 299
        self.brand = self.account(BRAND_ID, "brand", followers=12, following=3, statuses=7)
        self.customer = self.account("3000", "customer@other.example")
        for key, handler in {
            "getAccountsVerifyCredentials": self.verify_credentials,
            "getAccount": self.get_account,
            "createStatus": self.create_status,
            "createMediaV2": self.create_media,
            "getMedia": self.get_media,
            "getNotifications": self.get_notifications,
            "getConversations": self.get_conversations,
            "deleteStatus": self.delete_status,
            "getStatuses": self.get_statuses,
            "postAccountBlock": self.relationship,
            "postAccountMute": self.relationship,
            "createApp": self.create_app,
            "getOauthAuthorize": self.authorize,
            "postOauthToken": self.token,
            "postOauthRevoke": self.revoke,
            "getStreamingUserNotification": self.stream,
        }.items():
            server.on(key, handler)

    # -- state helpers

    def next_id(self) -> str:
        return str(next(self.ids))

    def account(
        self, account_id: str, acct: str, followers: int = 0, following: int = 0, statuses: int = 0
    ) -> dict[str, Any]:
        account = self.fx.build(
            "Account",
            id=account_id,
            acct=acct,
            username=acct.split("@")[0],
            display_name=acct.title(),
            followers_count=followers,
            following_count=following,
            statuses_count=statuses,
            url=f"https://mastodon.example/@{acct}",
        )
        self.accounts[account_id] = account
        return account

    def status(self, author: dict[str, Any], text: str, **fields: Any) -> dict[str, Any]:
        status_id = self.next_id()
        status = self.fx.build(
            "Status",
            id=status_id,
            account=author,
            content=f"<p>{text}</p>",
            created_at=_ts(int(status_id)),
            uri=f"https://mastodon.example/users/{author['username']}/statuses/{status_id}",
            url=f"https://mastodon.example/@{author['username']}/{status_id}",
            **fields,
        )
        self.statuses[status_id] = status
        return status

    def deliver(self, count: int, kind: str = "mention", visibility: str = "public") -> list[dict[str, Any]]:
        """Customers mention the brand (or DM it, or quote it): notifications appear."""
        made = []
        with self.lock:
            for n in range(count):
                mention = self.fx.build(
                    "StatusMention",
                    id=BRAND_ID,
                    username="brand",
                    acct="brand",
                    url="https://mastodon.example/@brand",
                )
                status = self.status(
                    self.customer, f"@brand hola {n}", mentions=[mention], visibility=visibility
                )
                notification = self.fx.build(
                    "Notification",
                    id=self.next_id(),
                    type=kind,
                    account=self.customer,
                    status=status,
                    created_at=status["created_at"],
                    group_key=f"ungrouped-{status['id']}",
                )
                self.notifications.append(notification)
                made.append(notification)
        return made

    def headers(self) -> dict[str, str]:
        self.remaining = max(self.remaining - 1, 0)
        return {
            "X-RateLimit-Limit": "300",
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": (datetime.now(UTC) + timedelta(minutes=5)).isoformat(),
        }

    def ok(self, body: Any, *, status: int = 200, **headers: str) -> SpecResponse:
        return SpecResponse(status=status, body=body, headers={**self.headers(), **headers})

    def error(self, status: int, message: str) -> SpecResponse:
        return SpecResponse(status=status, body=self.fx.build("Error", error=message))

    # -- handlers

    def verify_credentials(self, request: RecordedRequest) -> SpecResponse:
        return self.ok(
            self.fx.build(
                "CredentialAccount",
                **self.brand,
                source=self.fx.example(self.fx.schema("CredentialAccount")["properties"]["source"]),
                role=self.fx.build("Role"),
            )
        )

    def get_account(self, request: RecordedRequest) -> SpecResponse:
        found = self.accounts.get(request.path_params["id"])
        return self.ok(found) if found else self.error(404, "Record not found")

    def create_status(self, request: RecordedRequest) -> SpecResponse:
        body = request.json()
        key = request.headers.get("idempotency-key")
        with self.lock:
            if key and key in self.idempotency:
                return self.ok(self.idempotency[key])
            text = body.get("status", "")
            if len(re.sub(r"https?://\S+", "x" * 23, text)) > 500:  # Mastodon counts a link as 23
                return self.error(422, "Validation failed: Text character limit of 500 exceeded")
            attachments = [self.media[m] for m in body.get("media_ids", [])]
            fields: dict[str, Any] = {
                "visibility": body.get("visibility", "public"),
                "media_attachments": attachments,
            }
            if body.get("in_reply_to_id"):
                fields["in_reply_to_id"] = body["in_reply_to_id"]
            status = self.status(self.brand, text, **fields)
            if key:
                self.idempotency[key] = status
        return self.ok(status)

    def create_media(self, request: RecordedRequest) -> SpecResponse:
        parts = request.multipart()
        media_id = self.next_id()
        attachment = self.fx.build(
            "MediaAttachment",
            id=media_id,
            type="image",
            description=parts.get("description", b"").decode() or None,
            url=None,
        )
        self.media[media_id] = attachment
        self.media_polls[media_id] = 0
        return self.ok(attachment, status=202)

    def get_media(self, request: RecordedRequest) -> SpecResponse:
        media_id = request.path_params["id"]
        if media_id not in self.media:
            return self.error(404, "Record not found")
        self.media_polls[media_id] += 1
        if self.media_polls[media_id] <= self.media_processing_polls:
            return SpecResponse(status=206, headers=self.headers())
        self.media[media_id]["url"] = f"https://files.mastodon.example/{media_id}.png"
        return self.ok(self.media[media_id])

    def get_notifications(self, request: RecordedRequest) -> SpecResponse:
        types = set(request.query_values("types")) or None
        limit = int((request.query_values("limit") or ["40"])[0])
        min_ids = request.query_values("min_id")
        min_id = min_ids[0] if min_ids else None
        key = lambda n: (len(n["id"]), n["id"])  # noqa: E731 - a one-line sort key
        with self.lock:
            rows = sorted((n for n in self.notifications if not types or n["type"] in types), key=key)
        if min_id is not None:
            rows = [n for n in rows if key(n) > (len(min_id), min_id)][:limit]  # just after min_id
        else:
            rows = rows[-limit:]  # the most recent
        page = list(reversed(rows))  # newest first, as Mastodon sends them
        headers: dict[str, str] = {}
        if page:
            base = f"{self.server.url}/api/v1/notifications"
            headers["Link"] = (
                f'<{base}?max_id={page[-1]["id"]}>; rel="next", <{base}?min_id={page[0]["id"]}>; rel="prev"'
            )
        return self.ok(page, status=200, **headers)

    def get_conversations(self, request: RecordedRequest) -> SpecResponse:
        return self.ok(
            self.conversations, Link=f'<{self.server.url}/api/v1/conversations?min_id=77>; rel="prev"'
        )

    def delete_status(self, request: RecordedRequest) -> SpecResponse:
        with self.lock:
            status = self.statuses.pop(request.path_params["id"], None)
        return self.ok(status) if status else self.error(404, "Record not found")

    def get_statuses(self, request: RecordedRequest) -> SpecResponse:
        ids = request.query_values("id")
        return self.ok([self.statuses[i] for i in ids if i in self.statuses])

    def relationship(self, request: RecordedRequest) -> SpecResponse:
        return self.ok(self.fx.build("Relationship", id=request.path_params["id"]))

    def register(self, redirect_uri: str, scopes: str = "read") -> dict[str, Any]:
        """An app registered on this instance (as `POST /api/v1/apps` does)."""
        return self.create_app_from(
            {"client_name": "Test", "redirect_uris": [redirect_uri], "scopes": scopes}
        )

    def create_app(self, request: RecordedRequest) -> SpecResponse:
        body = request.json()
        uris = body["redirect_uris"]
        if not all(urlsplit(uri).scheme and not urlsplit(uri).fragment for uri in uris):
            return self.error(422, "Validation failed: Redirect URI must be an absolute URI.")
        return self.ok(self.create_app_from(body))

    def create_app_from(self, body: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            number = self.next_id()
            app = self.fx.build(
                "CredentialApplication",
                id=number,
                website=body.get("website"),
                scopes=str(body.get("scopes") or "read").split(),
                redirect_uri="\n".join(body["redirect_uris"]),
                redirect_uris=list(body["redirect_uris"]),
                client_id=f"client-{number}",
                client_secret=f"secret-{number}",
            )
            app["name"] = body["client_name"]  # not through `build`, whose own first argument is `name`
            self.fx.validate("CredentialApplication", app)
            self.apps[app["client_id"]] = app
        return app

    def authorize(self, request: RecordedRequest) -> SpecResponse:
        query = dict(request.query)
        app = self.apps.get(query["client_id"])
        if app is None:
            return SpecResponse(status=401, body=self.fx.build("Error", error="invalid_client"))
        if query["redirect_uri"] not in app["redirect_uris"]:
            return SpecResponse(status=400, body=self.fx.build("Error", error="invalid_redirect_uri"))
        if not set(query.get("scope", "read").split()) <= set(app["scopes"]):
            return SpecResponse(status=400, body=self.fx.build("Error", error="invalid_scope"))
        if query.get("code_challenge_method") != "S256" or not query.get("code_challenge"):
            return SpecResponse(status=400, body=self.fx.build("Error", error="invalid_request"))
        with self.lock:
            code = f"code-{self.next_id()}"
            self.grants[code] = {
                "client_id": app["client_id"],
                "redirect_uri": query["redirect_uri"],
                "challenge": query["code_challenge"],
            }
            back = {"code": code, **({"state": query["state"]} if "state" in query else {})}
            self.approvals.append(f"{query['redirect_uri']}?{urlencode(back)}")
        # The consent page; the person approves and the browser goes to `approvals[-1]`.
        return SpecResponse(status=200, body=b"<form>Authorize?</form>", content_type="text/html")

    def token(self, request: RecordedRequest) -> SpecResponse:
        body = request.json()
        app = self.apps.get(body["client_id"])
        if app is None or app["client_secret"] != body["client_secret"]:
            return SpecResponse(status=401, body=self.fx.build("Error", error="invalid_client"))
        with self.lock:
            grant = self.grants.pop(body["code"], None)  # a code is used once, whatever happens
        verifier = str(body.get("code_verifier") or "")
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        if (
            grant is None
            or grant["client_id"] != app["client_id"]
            or grant["redirect_uri"] != body["redirect_uri"]
            or grant["challenge"] != challenge
        ):
            return SpecResponse(status=400, body=self.fx.build("Error", error="invalid_grant"))
        return self.ok(
            self.fx.build("Token", access_token=TOKEN, token_type="Bearer", scope="read", created_at=1)
        )

    def revoke(self, request: RecordedRequest) -> SpecResponse:
        body = request.json()
        app = self.apps.get(body["client_id"])
        if app is None or app["client_secret"] != body["client_secret"]:
            return SpecResponse(status=403, body=self.fx.build("Error", error="unauthorized_client"))
        with self.lock:
            self.revoked.append(body["token"])
        return self.ok({})

    def stream(self, request: RecordedRequest) -> SpecResponse:
        return SpecResponse(
            content_type="text/event-stream",
            headers=self.headers(),
            stream=itertools.chain([b":)\n\n"], sse(self.stream_events)),
        )
