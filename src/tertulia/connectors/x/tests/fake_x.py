"""A small, stateful X on the shared spec server: real HTTP, every request checked against X's spec.

`FakeX` keeps users, posts, direct messages and mutes in memory and answers the operations the
connector uses with bodies built by `SchemaFixtures` from the spec's own schemas (so they cannot
drift from it; the server validates them again on the way out). Ids are snowflakes, as X's are.

The OAuth 2.0 token endpoint is not in X's OpenAPI document; `add_token_endpoint` adds it to our
copy in memory, with the form X documents (RFC 6749 / RFC 7636), so token requests are validated by
the same machinery as everything else.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from tertulia.connectors.testing.spec_server import (
    RecordedRequest,
    SchemaFixtures,
    SpecResponse,
    SpecServer,
    load_spec,
)

SPEC_PATH = Path(__file__).resolve().parents[1] / "spec" / "x-api-v2.openapi.json"
SNOWFLAKE_EPOCH_MS = 1288834974657
ACCESS_TOKEN = "access-token-1"
REFRESH_TOKEN = "refresh-token-1"
CLIENT_ID = "tertulia-client"
CLIENT_SECRET = "tertulia-secret"


def add_token_endpoint(spec: dict[str, Any]) -> None:
    """X documents POST /2/oauth2/token; its OpenAPI document leaves it out (not the resource API)."""
    spec["paths"]["/2/oauth2/token"] = {
        "post": {
            "operationId": "oauth2Token",
            "security": [],
            "requestBody": {
                "required": True,
                "content": {
                    "application/x-www-form-urlencoded": {
                        "schema": {
                            "type": "object",
                            "required": ["grant_type"],
                            "properties": {
                                "grant_type": {
                                    "type": "string",
                                    "enum": ["authorization_code", "refresh_token"],
                                },
                                "code": {"type": "string", "minLength": 1},
                                "redirect_uri": {"type": "string", "minLength": 1},
                                # RFC 7636 section 4.1: 43 to 128 unreserved characters.
                                "code_verifier": {
                                    "type": "string",
                                    "pattern": "^[A-Za-z0-9._~-]{43,128}$",
                                },
                                "refresh_token": {"type": "string", "minLength": 1},
                                "client_id": {"type": "string", "minLength": 1},
                            },
                            "additionalProperties": False,
                        }
                    }
                },
            },
            "responses": {
                "200": {
                    "description": "Tokens.",
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["token_type", "access_token", "expires_in", "scope"],
                                "properties": {
                                    "token_type": {"type": "string", "enum": ["bearer"]},
                                    "access_token": {"type": "string"},
                                    "refresh_token": {"type": "string"},
                                    "expires_in": {"type": "integer"},
                                    "scope": {"type": "string"},
                                },
                            }
                        }
                    },
                },
                "default": {
                    "description": "An OAuth error.",
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["error"],
                                "properties": {
                                    "error": {"type": "string"},
                                    "error_description": {"type": "string"},
                                },
                            }
                        }
                    },
                },
            },
        }
    }


def load_x_spec() -> dict[str, Any]:
    return load_spec(SPEC_PATH, patches=[add_token_endpoint])


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


@dataclass
class Authorization:
    """A code X handed out at its consent page, waiting to be exchanged."""

    code: str
    redirect_uri: str
    code_challenge: str
    client_id: str


@dataclass
class Window:
    limit: int
    remaining: int
    reset: int


@dataclass
class FakeX:
    server: SpecServer
    fixtures: SchemaFixtures
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    posts: dict[str, dict[str, Any]] = field(default_factory=dict)
    messages: dict[str, dict[str, Any]] = field(default_factory=dict)
    muted: set[tuple[str, str]] = field(default_factory=set)
    hidden: dict[str, bool] = field(default_factory=dict)
    sent_texts: dict[str, str] = field(default_factory=dict)  # post id → the text as the client sent it
    authorizations: dict[str, Authorization] = field(default_factory=dict)
    refresh_tokens: dict[str, str] = field(default_factory=dict)  # refresh token → client id
    access_tokens: set[str] = field(default_factory=lambda: {ACCESS_TOKEN})
    windows: dict[str, Window] = field(default_factory=dict)
    # Operation → how many of its next requests answer 429 / 5xx.
    throttle: dict[str, int] = field(default_factory=dict)
    fail: dict[str, int] = field(default_factory=dict)
    # Uploaded media by id: type, size, category, segments, finalized, alt text, processing state.
    media: dict[str, dict[str, Any]] = field(default_factory=dict)
    post_media: dict[str, list[str]] = field(default_factory=dict)  # post id → its media ids
    # GIFs (tweet_gif) report processing after FINALIZE for this many status polls; then succeed or fail.
    processing_polls: int = 1
    fail_processing: bool = False
    me_id: str = ""
    _sequence: itertools.count[int] = field(default_factory=itertools.count)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # -- state helpers for tests

    def new_id(self) -> str:
        with self._lock:
            millis = int(time.time() * 1000) - SNOWFLAKE_EPOCH_MS
            # The sequence keeps ids strictly increasing within a millisecond, as X's do.
            return str((millis << 22) + next(self._sequence) % (1 << 22))

    def add_user(self, username: str, name: str = "", followers: int = 0) -> str:
        user_id = self.new_id()
        user = self.fixtures.build(
            "User",
            id=user_id,
            username=username,
            public_metrics=self.fixtures.build(
                "UserPublicMetrics",
                followers_count=followers,
                following_count=3,
                post_count=0,
                listed_count=0,
            ),
        )
        # `name` is also build()'s own first parameter, so it is set afterwards and checked again.
        user["name"] = name or username.title()
        self.fixtures.validate("User", user)
        self.users[user_id] = user
        return user_id

    def add_post(
        self, author_id: str, text: str, reply_to: str | None = None, quote_of: str | None = None
    ) -> str:
        post_id = self.new_id()
        refs = []
        conversation = post_id
        if reply_to:
            refs.append({"type": "replied_to", "id": reply_to})
            conversation = self.posts[reply_to]["conversation_id"]
        if quote_of:
            refs.append({"type": "quoted", "id": quote_of})
        post = self.fixtures.build(
            "Post",
            id=post_id,
            text=text,
            author_id=author_id,
            conversation_id=conversation,
            created_at=_now_iso(),
            lang="es",
            edit_history_post_ids=[post_id],
            public_metrics=self.fixtures.build(
                "PostPublicMetrics",
                repost_count=0,
                reply_count=0,
                like_count=0,
                quote_count=0,
                bookmark_count=0,
                impression_count=0,
            ),
        )
        if refs:
            post["referenced_posts"] = refs
        self.fixtures.validate("Post", post)
        self.posts[post_id] = post
        self.users[author_id]["public_metrics"]["post_count"] += 1
        if reply_to:
            self.posts[reply_to]["public_metrics"]["reply_count"] += 1
        return post_id

    def add_message(self, sender_id: str, recipient_id: str, text: str) -> str:
        event_id = self.new_id()
        low, high = sorted((sender_id, recipient_id), key=int)
        self.messages[event_id] = {
            "id": event_id,
            "event_type": "MessageCreate",
            "text": text,
            "sender_id": sender_id,
            "dm_conversation_id": f"{low}-{high}",
            "created_at": _now_iso(),
        }
        self.fixtures.validate("DmEvent", self.messages[event_id])
        return event_id

    # -- wiring

    def install(self) -> None:
        handlers: dict[str, Callable[[RecordedRequest], SpecResponse]] = {
            "createPosts": self._create_post,
            "deletePosts": self._delete_post,
            "getPostsByIds": self._posts_by_ids,
            "getUsersMe": self._users_me,
            "getUsersMentions": self._mentions,
            "getUsersPosts": self._user_posts,
            "getDirectMessagesEvents": self._dm_events,
            "createDirectMessagesByParticipantId": self._send_dm,
            "deleteDirectMessagesEvents": self._delete_dm,
            "hidePostsReply": self._hide,
            "muteUser": self._mute,
            "initializeMediaUpload": self._media_initialize,
            "appendMediaUpload": self._media_append,
            "finalizeMediaUpload": self._media_finalize,
            "getMediaUploadStatus": self._media_status,
            "createMediaMetadata": self._media_metadata,
            "oauth2Token": self._token,
        }
        for operation, handler in handlers.items():
            self.server.on(operation, self._wrapped(operation, handler))

    def _wrapped(
        self, operation: str, handler: Callable[[RecordedRequest], SpecResponse]
    ) -> Callable[[RecordedRequest], SpecResponse]:
        def answer(request: RecordedRequest) -> SpecResponse:
            if operation != "oauth2Token":
                token = request.headers.get("authorization", "").removeprefix("Bearer ")
                if token not in self.access_tokens:
                    return _error(401, "Unauthorized", "Unauthorized")
            window = self.windows.setdefault(operation, Window(limit=50, remaining=50, reset=_reset()))
            if self.throttle.get(operation):
                self.throttle[operation] -= 1
                window.remaining = 0
                response = _error(429, "Too Many Requests", "Too Many Requests")
            elif self.fail.get(operation):
                self.fail[operation] -= 1
                response = _error(503, "Service Unavailable", "Service Unavailable")
            else:
                window.remaining = max(window.remaining - 1, 0)
                response = handler(request)
            if operation == "oauth2Token":
                return response
            headers = {
                "x-rate-limit-limit": str(window.limit),
                "x-rate-limit-remaining": str(window.remaining),
                "x-rate-limit-reset": str(window.reset),
            }
            return SpecResponse(
                status=response.status,
                body=response.body,
                headers=headers,
                content_type=response.content_type,
            )

        return answer

    # -- posts

    def _create_post(self, request: RecordedRequest) -> SpecResponse:
        body = request.json()
        text = body.get("text", "")
        if text in {self.sent_texts.get(p) for p in self.posts}:
            return _error(403, "Forbidden", "You are not allowed to create a Tweet with duplicate content.")
        reply_to = (body.get("reply") or {}).get("in_reply_to_tweet_id")
        quote_of = body.get("quote_tweet_id")
        for target in (reply_to, quote_of):
            if target and target not in self.posts:
                return _problem_not_found(target)
        media_ids = (body.get("media") or {}).get("media_ids") or []
        for media_id in media_ids:
            item = self.media.get(media_id)
            if item is None or not item["finalized"] or item["state"] != "succeeded":
                return _error(400, "Invalid Request", f"Your media IDs are invalid: {media_id}")
        stored = as_x_stores_it(text)
        if reply_to and self.posts[reply_to]["author_id"] != self.me_id:
            # v2 starts the text of a reply with the handle it answers (display_text_range skips it).
            stored = f"@{self.users[self.posts[reply_to]['author_id']]['username']} {stored}"
        post_id = self.add_post(self.me_id, stored, reply_to=reply_to, quote_of=quote_of)
        self.sent_texts[post_id] = text
        if media_ids:
            self.post_media[post_id] = list(media_ids)
            # X appends a link to the media to the post's text.
            self.posts[post_id]["text"] = (stored + " https://t.co/m" + post_id[-8:]).strip()
        data = self.fixtures.build(
            "CreatePostsResponseData", id=post_id, text=text, edit_history_post_ids=[post_id]
        )
        return SpecResponse(status=201, body=self._checked("CreatePostsResponse", {"data": data}))

    def _delete_post(self, request: RecordedRequest) -> SpecResponse:
        post_id = request.path_params["id"]
        if post_id not in self.posts:
            return _problem_not_found(post_id)
        del self.posts[post_id]
        return SpecResponse(body=self._checked("DeletePostsResponse", {"data": {"deleted": True}}))

    def _posts_by_ids(self, request: RecordedRequest) -> SpecResponse:
        ids = request.query_values("ids")[0].split(",")
        found = [self._post_out(self.posts[i], request) for i in ids if i in self.posts]
        body: dict[str, Any] = {"data": found} if found else {}
        missing = [i for i in ids if i not in self.posts]
        if missing:
            body["errors"] = [_not_found_problem(i) for i in missing]
        return SpecResponse(body=self._checked("GetPostsByIdsResponse", body))

    def _post_out(self, post: dict[str, Any], request: RecordedRequest) -> dict[str, Any]:
        """Default fields (id, text, edit history) plus those asked for in post.fields."""
        asked = set(",".join(request.query_values("post.fields")).split(",")) - {""}
        # An expansion brings its id field along (author_id, referenced_posts), as on X.
        asked |= set(",".join(request.query_values("expansions")).split(",")) - {""}
        out = {k: v for k, v in post.items() if k in {"id", "text", "edit_history_post_ids"} | asked}
        return out

    def _timeline(self, request: RecordedRequest, posts: list[dict[str, Any]], schema: str) -> SpecResponse:
        since = request.query_values("since_id")
        if since:
            posts = [p for p in posts if int(p["id"]) > int(since[0])]
        start = request.query_values("start_time")
        if start:
            posts = [p for p in posts if p["created_at"] >= start[0]]
        posts.sort(key=lambda p: int(p["id"]), reverse=True)
        posts = posts[:800]
        size = int((request.query_values("max_results") or ["10"])[0])
        token = (request.query_values("pagination_token") or ["tok0000000000000000"])[0]
        offset = int(token.removeprefix("tok"))
        page = posts[offset : offset + size]
        meta: dict[str, Any] = {"result_count": len(page)}
        if page:
            meta["newest_id"] = page[0]["id"]
            meta["oldest_id"] = page[-1]["id"]
        if offset + size < len(posts):
            meta["next_token"] = f"tok{offset + size:016d}"
        body: dict[str, Any] = {"meta": meta}
        if page:
            body["data"] = [self._post_out(p, request) for p in page]
            if "author_id" in ",".join(request.query_values("expansions")):
                authors = {p["author_id"] for p in page}
                body["includes"] = {"users": [self.users[a] for a in sorted(authors)]}
        return SpecResponse(body=self._checked(schema, body))

    def _mentions(self, request: RecordedRequest) -> SpecResponse:
        user = self.users.get(request.path_params["id"])
        if user is None:
            return _problem_not_found(request.path_params["id"])
        handle = "@" + user["username"].lower()
        mentions = [
            p
            for p in self.posts.values()
            if handle in p["text"].lower()
            or any(
                r["type"] == "replied_to" and self.posts.get(r["id"], {}).get("author_id") == user["id"]
                for r in p.get("referenced_posts", [])
            )
        ]
        return self._timeline(request, mentions, "GetUsersMentionsResponse")

    def _user_posts(self, request: RecordedRequest) -> SpecResponse:
        own = [p for p in self.posts.values() if p["author_id"] == request.path_params["id"]]
        return self._timeline(request, own, "GetUsersPostsResponse")

    # -- media (chunked upload and metadata)

    def _media_initialize(self, request: RecordedRequest) -> SpecResponse:
        body = request.json()
        if set(body) < {"media_type", "total_bytes", "media_category"}:
            return _error(400, "Invalid Request", "media_type, total_bytes and media_category are required")
        media_id = self.new_id()
        self.media[media_id] = {
            "media_type": body["media_type"],
            "total_bytes": body["total_bytes"],
            "category": body["media_category"],
            "segments": {},
            "finalized": False,
            "state": "pending",
            "polls": 0,
            "alt_text": None,
        }
        data = {"id": media_id, "media_key": f"3_{media_id}", "expires_after_secs": 86400}
        return SpecResponse(body=self._checked("InitializeMediaUploadResponse", {"data": data}))

    def _media_append(self, request: RecordedRequest) -> SpecResponse:
        item = self.media.get(request.path_params["id"])
        if item is None or item["finalized"]:
            return _error(400, "Invalid Request", "No upload session in progress for this media id")
        body = request.json()
        try:
            chunk = base64.b64decode(body["media"], validate=True)
        except ValueError:
            return _error(400, "Invalid Request", "media is not base64")
        item["segments"][body["segment_index"]] = chunk
        data = {"expires_at": int(time.time()) + 86400}
        return SpecResponse(body=self._checked("AppendMediaUploadResponse", {"data": data}))

    def _media_finalize(self, request: RecordedRequest) -> SpecResponse:
        media_id = request.path_params["id"]
        item = self.media.get(media_id)
        if item is None or item["finalized"]:
            return _error(400, "Invalid Request", "No upload session in progress for this media id")
        segments = item["segments"]
        if sorted(segments) != list(range(len(segments))):
            return _error(400, "Invalid Request", "Segments are missing")
        if sum(len(s) for s in segments.values()) != item["total_bytes"]:
            return _error(400, "Invalid Request", "File size does not match the size announced")
        item["data"] = b"".join(segments[i] for i in sorted(segments))
        item["finalized"] = True
        item["state"] = "succeeded" if item["category"] != "tweet_gif" else "pending"
        return SpecResponse(
            body=self._checked("FinalizeMediaUploadResponse", {"data": self._media_out(media_id)})
        )

    def _media_status(self, request: RecordedRequest) -> SpecResponse:
        media_id = request.query_values("media_id")[0]
        item = self.media.get(media_id)
        if item is None or not item["finalized"]:
            return _error(400, "Invalid Request", "Unknown media id")
        item["polls"] += 1
        if item["state"] != "succeeded" and item["polls"] >= self.processing_polls:
            item["state"] = "failed" if self.fail_processing else "succeeded"
        elif item["state"] == "pending":
            item["state"] = "in_progress"
        return SpecResponse(
            body=self._checked("GetMediaUploadStatusResponse", {"data": self._media_out(media_id)})
        )

    def _media_out(self, media_id: str) -> dict[str, Any]:
        item = self.media[media_id]
        out: dict[str, Any] = {"id": media_id, "media_key": f"3_{media_id}", "size": item["total_bytes"]}
        if item["category"] == "tweet_image":
            out["image"] = {"image_type": item["media_type"], "w": 1, "h": 1}
        if item["state"] != "succeeded" or item["category"] == "tweet_gif":
            info: dict[str, Any] = {"state": item["state"]}
            if item["state"] in ("pending", "in_progress"):
                info["check_after_secs"] = 1
            out["processing_info"] = info
        return out

    def _media_metadata(self, request: RecordedRequest) -> SpecResponse:
        body = request.json()
        item = self.media.get(body["id"])
        if item is None or not item["finalized"]:
            return _error(400, "Invalid Request", "Unknown media id")
        item["alt_text"] = body["metadata"]["alt_text"]["text"]
        data = {"id": body["id"], "associated_metadata": body["metadata"]}
        return SpecResponse(body=self._checked("CreateMediaMetadataResponse", {"data": data}))

    # -- users

    def _users_me(self, request: RecordedRequest) -> SpecResponse:
        user = dict(self.users[self.me_id])
        asked = set(",".join(request.query_values("user.fields")).split(","))
        if "public_metrics" not in asked:
            user.pop("public_metrics", None)
        return SpecResponse(body=self._checked("GetUsersMeResponse", {"data": user}))

    def _mute(self, request: RecordedRequest) -> SpecResponse:
        target = request.json()["target_user_id"]
        if target not in self.users:
            return _problem_not_found(target)
        self.muted.add((request.path_params["id"], target))
        return SpecResponse(body=self._checked("MuteUserResponse", {"data": {"muting": True}}))

    def _hide(self, request: RecordedRequest) -> SpecResponse:
        post_id = request.path_params["tweet_id"]
        if post_id not in self.posts:
            return _problem_not_found(post_id)
        hidden = bool(request.json()["hidden"])
        self.hidden[post_id] = hidden
        return SpecResponse(body=self._checked("HidePostsReplyResponse", {"data": {"hidden": hidden}}))

    # -- direct messages

    def _dm_events(self, request: RecordedRequest) -> SpecResponse:
        events = sorted(self.messages.values(), key=lambda m: int(m["id"]), reverse=True)
        size = int((request.query_values("max_results") or ["100"])[0])
        token = (request.query_values("pagination_token") or ["tok0000000000000000"])[0]
        offset = int(token.removeprefix("tok"))
        page = events[offset : offset + size]
        meta: dict[str, Any] = {"result_count": len(page)}
        if offset + size < len(events):
            meta["next_token"] = f"tok{offset + size:016d}"
        body: dict[str, Any] = {"meta": meta}
        if page:
            body["data"] = page
            senders = sorted({m["sender_id"] for m in page})
            body["includes"] = {"users": [self.users[s] for s in senders]}
        return SpecResponse(body=self._checked("GetDirectMessagesEventsResponse", body))

    def _send_dm(self, request: RecordedRequest) -> SpecResponse:
        recipient = request.path_params["participant_id"]
        if recipient not in self.users:
            return _problem_not_found(recipient)
        event_id = self.add_message(self.me_id, recipient, request.json()["text"])
        conversation = self.messages[event_id]["dm_conversation_id"]
        data = self.fixtures.build(
            "CreateDirectMessagesByParticipantIdResponseData",
            dm_event_id=event_id,
            dm_conversation_id=conversation,
        )
        return SpecResponse(
            status=201, body=self._checked("CreateDirectMessagesByParticipantIdResponse", {"data": data})
        )

    def _delete_dm(self, request: RecordedRequest) -> SpecResponse:
        event_id = request.path_params["event_id"]
        if event_id not in self.messages:
            return _problem_not_found(event_id)
        del self.messages[event_id]
        return SpecResponse(
            body=self._checked("DeleteDirectMessagesEventsResponse", {"data": {"deleted": True}})
        )

    # -- OAuth 2.0

    def authorize(self, client_id: str, redirect_uri: str, code_challenge: str) -> str:
        """What X's consent page does when the person agrees: a code bound to the PKCE challenge."""
        code = f"code-{self.new_id()}"
        self.authorizations[code] = Authorization(code, redirect_uri, code_challenge, client_id)
        return code

    def _client_of(self, request: RecordedRequest, form: dict[str, str]) -> str | None:
        header = request.headers.get("authorization", "")
        if header.startswith("Basic "):
            client_id, _sep, secret = base64.b64decode(header[6:]).decode().partition(":")
            return client_id if secret == CLIENT_SECRET else None
        return form.get("client_id")

    def _token(self, request: RecordedRequest) -> SpecResponse:
        form = dict(parse_qsl(request.body.decode()))
        client_id = self._client_of(request, form)
        if client_id is None:
            return SpecResponse(status=401, body={"error": "invalid_client"})
        if form["grant_type"] == "authorization_code":
            grant = self.authorizations.pop(form.get("code", ""), None)
            if (
                grant is None
                or grant.client_id != client_id
                or grant.redirect_uri != form.get("redirect_uri")
                or grant.code_challenge != s256(form.get("code_verifier", ""))
            ):
                return SpecResponse(status=400, body={"error": "invalid_grant"})
        else:
            if self.refresh_tokens.pop(form.get("refresh_token", ""), None) != client_id:
                return SpecResponse(status=400, body={"error": "invalid_grant"})
        access, refresh = f"access-{self.new_id()}", f"refresh-{self.new_id()}"
        self.access_tokens.add(access)
        self.refresh_tokens[refresh] = client_id
        return SpecResponse(
            body={
                "token_type": "bearer",
                "access_token": access,
                "refresh_token": refresh,
                "expires_in": 7200,
                "scope": "tweet.read tweet.write users.read offline.access",
            }
        )

    def _checked(self, schema: str, body: dict[str, Any]) -> dict[str, Any]:
        self.fixtures.validate(schema, body)
        return body


def as_x_stores_it(text: str) -> str:
    """X hands a post's text back with &, < and > escaped and every URL rewritten to a t.co link."""
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return re.sub(
        r"https?://\S+", lambda m: "https://t.co/" + hashlib.sha256(m[0].encode()).hexdigest()[:10], escaped
    )


def _now_iso() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _reset() -> int:
    return int(time.time()) + 900


def _error(status: int, title: str, detail: str) -> SpecResponse:
    # X's `default` error shape for application/json is the spec's Error object.
    return SpecResponse(status=status, body={"code": status, "message": detail, "title": title})


def _not_found_problem(resource_id: str) -> dict[str, Any]:
    return {
        "type": "https://api.x.com/2/problems/resource-not-found",
        "title": "Not Found Error",
        "detail": f"Could not find post with id: [{resource_id}].",
        "resource_type": "tweet",
        "resource_id": resource_id,
        "parameter": "id",
        "value": resource_id,
    }


def _problem_not_found(resource_id: str) -> SpecResponse:
    return SpecResponse(
        status=404, body=_not_found_problem(resource_id), content_type="application/problem+json"
    )
