"""A small Graph API on 127.0.0.1 that also checks every request it gets.

No machine-readable spec of the Graph API exists, so each route below states what Meta documents for
it: method, path under the version prefix, required and allowed parameters (query or form), and the
token it takes. A request outside that is answered with a Graph error *and* recorded as a violation;
`assert_all_valid()` (run after every test by the fixture) fails the test, so a malformed request
cannot pass unnoticed. Response bodies are copies of the documented shapes in fixtures/.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import itertools
import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tertulia.connectors.meta.client import API_VERSION

FIXTURES = Path(__file__).parent / "fixtures"
PAGE_ID = "100"
IG_ID = "17841400000000001"
PAGE_TOKEN = "PAGE-TOKEN"
APP_ID = "1234567890"
APP_SECRET = "app-secret-never-in-code"
CODE = "AUTH-CODE"
SHORT_TOKEN = "SHORT-LIVED-USER-TOKEN"
LONG_TOKEN = "LONG-LIVED-USER-TOKEN"
START = datetime(2025, 7, 1, 12, 0, tzinfo=UTC)

ID = r"([A-Za-z0-9_.\-]+)"


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


SHAPES: dict[str, Any] = fixture("graph_shapes")


def shape(name: str, **values: Any) -> dict[str, Any]:
    body: dict[str, Any] = copy.deepcopy(SHAPES[name])
    body.update(values)
    return body


def graph_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S+0000")


@dataclass
class Request:
    method: str
    path: str
    ids: tuple[str, ...]
    params: dict[str, str]
    files: dict[str, tuple[str, bytes, str]]
    headers: dict[str, str]


Reply = tuple[int, Any, dict[str, str]]


@dataclass
class Route:
    method: str
    pattern: re.Pattern[str]
    required: frozenset[str]
    allowed: frozenset[str]
    handler: Callable[[Request], Reply]
    token: str | None = PAGE_TOKEN  # None: the OAuth endpoints, which take the app's credentials


@dataclass
class Failure:
    method: str
    pattern: re.Pattern[str]
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)
    times: int = 1


class FakeGraph:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.ids = itertools.count(1000)
        self.now = START
        self.requests: list[Request] = []
        self.violations: list[str] = []
        self.failures: list[Failure] = []
        self.objects: dict[str, dict[str, Any]] = {}  # id -> object, with "_kind"
        self.posts: list[str] = []  # page posts, in publishing order
        self.media: list[str] = []  # IG media
        self.conversations: dict[str, str] = {}  # conversation id -> platform
        self.container_polls: list[str] = ["IN_PROGRESS", "FINISHED"]
        self.container_error = (
            "Error: Media download has failed. The media URI doesn't meet our requirements."
        )
        self.quota_usage = 2
        self.quota_total = 50
        self.expected_verifier = ""
        self.redirect_uri = "https://tertulia.example/settings/channels/callback/"
        self.deleted: list[str] = []
        # `/me/accounts`: the documented two-Page fixture unless a test sets its own rows (then paged).
        self.managed: list[dict[str, Any]] | None = None
        self.managed_page_size = 25
        self.routes = self._routes()
        self.put("page", PAGE_ID, **shape("page"))
        self.put("ig_user", IG_ID, **shape("ig_user"))
        self.customer = {"id": "5550001", "name": "Ana García"}
        self.ig_customer = {"id": "17841499999", "username": "cliente.fiel"}

    # -- state

    def next_id(self, prefix: str = "") -> str:
        return f"{prefix}{next(self.ids)}"

    def put(self, kind: str, object_id: str, **fields: Any) -> dict[str, Any]:
        self.objects[object_id] = {"_kind": kind, "id": object_id, **fields}
        return self.objects[object_id]

    def tick(self, seconds: int = 1) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now

    def page_post(self, text: str = "Nuestra carta de verano") -> str:
        post_id = f"{PAGE_ID}_{self.next_id()}"
        moment = graph_time(self.tick())
        self.put("post", post_id, message=text, created_time=moment, updated_time=moment, comments=[])
        self.posts.append(post_id)
        return post_id

    def comment(self, post_id: str, text: str, author: dict[str, Any] | None = None, parent: str = "") -> str:
        """Someone comments on a page post (at the fake's current time)."""
        comment_id = f"{post_id.split('_')[-1]}_{self.next_id()}"
        moment = graph_time(self.now)
        fields = shape("comment", id=comment_id, message=text, created_time=moment)
        fields["from"] = author or self.customer
        if parent:
            fields["parent"] = {"id": parent}
        self.put("comment", comment_id, post=post_id, **fields)
        self.objects[post_id]["comments"].append(comment_id)
        self.objects[post_id]["updated_time"] = moment
        return comment_id

    def deliver_comments(self, count: int, post_id: str | None = None) -> list[str]:
        """`count` comments, three per second, so several share a second (Graph's time resolution)."""
        with self.lock:
            target = post_id or (self.posts[-1] if self.posts else self.page_post())
            made = []
            for n in range(count):
                if n % 3 == 0:
                    self.tick()
                made.append(self.comment(target, f"Comentario {n}"))
            return made

    def message(self, text: str, platform: str = "messenger", sender: dict[str, Any] | None = None) -> str:
        conversation = next((c for c, p in self.conversations.items() if p == platform), "")
        if not conversation:
            conversation = self.next_id("t_")
            self.conversations[conversation] = platform
            self.put("conversation", conversation, messages=[], updated_time="")
        message_id = self.next_id("m_")
        moment = graph_time(self.tick())
        fields = shape("message", id=message_id, created_time=moment, message=text)
        fields["from"] = sender or {"id": "PSID-5550001", "name": "Ana García"}
        self.put("message", message_id, **fields)
        self.objects[conversation]["messages"].insert(0, message_id)  # newest first
        self.objects[conversation]["updated_time"] = moment
        return message_id

    def ig_media_item(self) -> str:
        media_id = self.next_id("179")
        self.put("ig_media", media_id, **shape("ig_media", id=media_id, timestamp=graph_time(self.tick())))
        self.objects[media_id].update(comments=[], comments_count=0)
        self.media.insert(0, media_id)
        return media_id

    def ig_comment(
        self, media_id: str, text: str, parent: str = "", author: dict[str, Any] | None = None
    ) -> str:
        comment_id = self.next_id("178")
        who = author or self.ig_customer
        fields = shape(
            "ig_comment", id=comment_id, text=text, timestamp=graph_time(self.now), username=who["username"]
        )
        fields["from"] = who
        if parent:
            fields["parent_id"] = parent
            self.objects[parent].setdefault("replies", []).append(comment_id)
        else:
            self.objects[media_id]["comments"].append(comment_id)
        self.put("ig_comment", comment_id, media=media_id, **fields)
        self.objects[media_id]["comments_count"] = self.objects[media_id].get("comments_count", 0) + 1
        return comment_id

    def fail(
        self,
        method: str,
        path: str,
        status: int,
        body: Any,
        headers: dict[str, str] | None = None,
        times: int = 1,
    ) -> None:
        """The next `times` matching requests get this answer (after passing validation)."""
        self.failures.append(Failure(method, re.compile(path), status, body, headers or {}, times))

    def calls(self, method: str, pattern: str) -> list[Request]:
        regex = re.compile(pattern)
        return [r for r in self.requests if r.method == method and regex.fullmatch(r.path)]

    def assert_all_valid(self) -> None:
        assert not self.violations, "requests outside the documented shapes:\n" + "\n".join(self.violations)

    # -- routing

    def _routes(self) -> list[Route]:
        def r(
            method: str,
            path: str,
            required: set[str],
            optional: set[str],
            handler: Callable[[Request], Reply],
            token: str | None = PAGE_TOKEN,
        ) -> Route:
            return Route(
                method,
                re.compile(path),
                frozenset(required),
                frozenset(required | optional),
                handler,
                token,
            )

        return [
            # Meta documents GET, and also takes the form as POST: the secret stays out of URLs
            # (and so out of proxy and server logs).
            r(
                "POST",
                "oauth/access_token",
                set(),
                {
                    "client_id",
                    "client_secret",
                    "redirect_uri",
                    "code",
                    "code_verifier",
                    "grant_type",
                    "fb_exchange_token",
                },
                self.access_token,
                token=None,
            ),
            r(
                "GET",
                "me/accounts",
                {"fields", "appsecret_proof"},
                {"limit", "after"},
                self.accounts,
                token=LONG_TOKEN,
            ),
            r("GET", f"{ID}/published_posts", {"fields"}, {"limit", "after"}, self.published_posts),
            r(
                "GET",
                f"{ID}/conversations",
                {"platform", "fields"},
                {"limit", "after"},
                self.list_conversations,
            ),
            r("GET", f"{ID}/messages", {"fields"}, {"limit", "after"}, self.list_messages),
            r(
                "POST",
                f"{ID}/messages",
                {"recipient", "message"},
                {"messaging_type", "tag"},
                self.send_message,
            ),
            r(
                "GET",
                f"{ID}/comments",
                {"fields"},
                {"filter", "order", "limit", "since", "after"},
                self.list_comments,
            ),
            r("POST", f"{ID}/comments", {"message"}, {"attachment_url"}, self.create_comment),
            r("POST", f"{ID}/replies", {"message"}, set(), self.create_reply),
            r("GET", f"{ID}/insights", {"metric"}, {"period"}, self.insights),
            r(
                "POST",
                f"{ID}/feed",
                set(),
                {"message", "link", *(f"attached_media[{i}]" for i in range(10))},
                self.create_post,
            ),
            r(
                "POST",
                f"{ID}/photos",
                {"source"},
                {"message", "published", "alt_text_custom"},
                self.create_photo,
            ),
            r("GET", f"{ID}/content_publishing_limit", {"fields"}, set(), self.publishing_limit),
            r("GET", f"{ID}/media", {"fields"}, {"limit", "after"}, self.list_media),
            r("POST", f"{ID}/media", {"image_url"}, {"caption", "is_carousel_item"}, self.create_container),
            r("POST", f"{ID}/media", {"media_type", "children"}, {"caption"}, self.create_container),
            r("POST", f"{ID}/media_publish", {"creation_id"}, set(), self.media_publish),
            r("GET", ID, {"fields"}, set(), self.get_object),
            r("POST", ID, set(), {"is_hidden", "hide"}, self.update_object),
            r("DELETE", ID, set(), set(), self.delete_object),
        ]

    def handle(
        self,
        method: str,
        raw_path: str,
        query: dict[str, str],
        form: dict[str, str],
        files: dict[str, tuple[str, bytes, str]],
        headers: dict[str, str],
    ) -> Reply:
        prefix = f"/{API_VERSION}/"
        with self.lock:
            if not raw_path.startswith(prefix):
                return self._violation(f"{method} {raw_path}: no version prefix {prefix}")
            path = raw_path[len(prefix) :]
            params = {**query, **form}
            names = set(params) | set(files)
            candidates = [
                route for route in self.routes if route.method == method and route.pattern.fullmatch(path)
            ]
            if not candidates:
                return self._violation(f"{method} {path}: no such documented route")
            route = next((c for c in candidates if c.required <= names and names <= c.allowed), None)
            if route is None:
                return self._violation(
                    f"{method} {path}: parameters {sorted(names)} do not fit "
                    + " or ".join(
                        f"required {sorted(c.required)} allowed {sorted(c.allowed)}" for c in candidates
                    )
                )
            if "client_secret" in query or "fb_exchange_token" in query:
                return self._violation(f"{method} {path}: a secret in the URL")
            if route.token is not None:
                if headers.get("authorization") != f"Bearer {route.token}":
                    return self._violation(f"{method} {path}: missing or wrong token")
                if "access_token" in query:
                    return self._violation(f"{method} {path}: token in the URL")
            match = route.pattern.fullmatch(path)
            assert match is not None
            request = Request(method, path, match.groups(), params, files, headers)
            self.requests.append(request)
            for failure in self.failures:
                if failure.times > 0 and failure.method == method and failure.pattern.fullmatch(path):
                    failure.times -= 1
                    return failure.status, failure.body, failure.headers
            try:
                return route.handler(request)
            except KeyError as missing:
                return 400, fixture("error_not_found"), {"X-Missing": str(missing)}

    def _violation(self, text: str) -> Reply:
        self.violations.append(text)
        return 400, fixture("error_invalid_parameter"), {}

    def _get(self, object_id: str, kind: str | None = None) -> dict[str, Any]:
        found = self.objects[object_id]
        if kind is not None and found["_kind"] != kind:
            raise KeyError(object_id)
        return found

    # -- handlers: OAuth

    def access_token(self, req: Request) -> Reply:
        p = req.params
        if p.get("client_id") != APP_ID or p.get("client_secret") != APP_SECRET:
            return 400, fixture("error_invalid_parameter"), {}
        if p.get("grant_type") == "fb_exchange_token":
            if set(p) != {"grant_type", "client_id", "client_secret", "fb_exchange_token"}:
                return self._violation(f"token exchange with {sorted(p)}")
            if p["fb_exchange_token"] != SHORT_TOKEN:
                return 400, fixture("error_expired_token"), {}
            return 200, fixture("oauth_long_lived_token"), {}
        if set(p) != {"client_id", "client_secret", "redirect_uri", "code", "code_verifier"}:
            return self._violation(f"code exchange with {sorted(p)}")
        if (
            p["code"] != CODE
            or p["redirect_uri"] != self.redirect_uri
            or p["code_verifier"] != self.expected_verifier
        ):
            return 400, fixture("error_invalid_parameter"), {}
        return 200, fixture("oauth_short_lived_token"), {}

    def accounts(self, req: Request) -> Reply:
        proof = hmac.new(APP_SECRET.encode(), LONG_TOKEN.encode(), hashlib.sha256).hexdigest()
        if req.params["appsecret_proof"] != proof:
            return self._violation("me/accounts: wrong appsecret_proof")
        if (
            "access_token" not in req.params["fields"]
            or "instagram_business_account" not in req.params["fields"]
        ):
            return self._violation("me/accounts: the Page token and the IG account must be asked for")
        if self.managed is not None:
            return 200, self._page_of(self.managed, req, self.managed_page_size), {}
        return 200, fixture("me_accounts"), {}

    # -- handlers: reading

    def _page_of(self, rows: list[Any], req: Request, size: int = 25) -> dict[str, Any]:
        limit = int(req.params.get("limit", size))
        start = int(req.params.get("after", "0") or 0)
        chunk = rows[start : start + limit]
        body: dict[str, Any] = {
            "data": chunk,
            "paging": {"cursors": {"before": str(start), "after": str(start + len(chunk))}},
        }
        if start + limit < len(rows):
            body["paging"]["next"] = "https://graph.facebook.com/next-page"
        return body

    @staticmethod
    def _public(obj: dict[str, Any], fields: str) -> dict[str, Any]:
        names = set(re.sub(r"\{[^}]*\}", "", fields).split(",")) | {"id"}
        return {k: v for k, v in obj.items() if not k.startswith("_") and k.split(".")[0] in names}

    def published_posts(self, req: Request) -> Reply:
        self._get(req.ids[0], "page")
        posts = sorted((self.objects[p] for p in self.posts), key=lambda p: p["created_time"], reverse=True)
        rows = [
            {"id": p["id"], "updated_time": p["updated_time"], "created_time": p["created_time"]}
            for p in posts
        ]
        return 200, self._page_of(rows, req), {}

    def list_comments(self, req: Request) -> Reply:
        parent = self.objects[req.ids[0]]
        if parent["_kind"] == "ig_media":
            return self._ig_comments(parent, req)
        if parent["_kind"] != "post":
            raise KeyError(req.ids[0])
        if req.params.get("filter") != "stream":
            return self._violation("comments: replies need filter=stream")
        rows = [self.objects[c] for c in parent["comments"]]
        rows.sort(key=lambda c: c["created_time"], reverse=req.params.get("order") == "reverse_chronological")
        if "since" in req.params:  # strictly after, the stricter reading of Graph's `since`
            since = datetime.fromtimestamp(int(req.params["since"]), tz=UTC)
            rows = [c for c in rows if datetime.fromisoformat(c["created_time"]) > since]
        body = [self._public(c, req.params["fields"] + ",from,parent") for c in rows]
        return 200, self._page_of(body, req), {}

    def _ig_comments(self, media: dict[str, Any], req: Request) -> Reply:
        rows = []
        for comment_id in reversed(media["comments"]):  # newest first, as Instagram lists them
            comment = self.objects[comment_id]
            row = self._public(comment, "id,text,timestamp,username,from,parent_id,hidden")
            if "replies{" in req.params["fields"] and comment.get("replies"):
                row["replies"] = {
                    "data": [
                        self._public(self.objects[r], "id,text,timestamp,username,from,parent_id,hidden")
                        for r in comment["replies"]
                    ]
                }
            rows.append(row)
        return 200, self._page_of(rows, req), {}

    def list_media(self, req: Request) -> Reply:
        self._get(req.ids[0], "ig_user")
        rows = [self._public(self.objects[m], req.params["fields"]) for m in self.media]
        return 200, self._page_of(rows, req), {}

    def list_conversations(self, req: Request) -> Reply:
        self._get(req.ids[0], "page")
        platform = req.params["platform"]
        if platform not in ("messenger", "instagram"):
            return self._violation(f"conversations: platform {platform}")
        rows = [
            {"id": c, "updated_time": self.objects[c]["updated_time"]}
            for c, p in self.conversations.items()
            if p == platform
        ]
        rows.sort(key=lambda c: c["updated_time"], reverse=True)
        return 200, self._page_of(rows, req), {}

    def list_messages(self, req: Request) -> Reply:
        conversation = self._get(req.ids[0], "conversation")
        rows = [self._public(self.objects[m], req.params["fields"]) for m in conversation["messages"]]
        return 200, self._page_of(rows, req, size=20), {}

    def insights(self, req: Request) -> Reply:
        target = self.objects[req.ids[0]]
        if target["_kind"] == "post" and req.params["metric"] == "post_impressions":
            return 200, shape("post_insights"), {}
        if target["_kind"] == "ig_media" and req.params["metric"] == "views":
            return 200, shape("ig_media_insights"), {}
        return 400, fixture("error_invalid_parameter"), {}

    def publishing_limit(self, req: Request) -> Reply:
        self._get(req.ids[0], "ig_user")
        body = fixture("content_publishing_limit")
        body["data"][0]["quota_usage"] = self.quota_usage
        body["data"][0]["config"]["quota_total"] = self.quota_total
        return 200, body, {}

    def get_object(self, req: Request) -> Reply:
        obj = self.objects[req.ids[0]]
        fields = req.params["fields"]
        kind = obj["_kind"]
        if kind == "post" and "reactions.summary" in fields:
            counts = shape("post_counts", id=obj["id"])
            counts["comments"]["summary"]["total_count"] = len(obj["comments"])
            return 200, counts, {}
        if kind == "container":
            state = self.container_polls.pop(0) if len(self.container_polls) > 1 else self.container_polls[0]
            status = self.container_error if state == "ERROR" else SHAPES["ig_container_status"]["status"]
            return 200, {"id": obj["id"], "status_code": state, "status": status}, {}
        if kind == "photo" and fields == "images":
            return 200, shape("photo_images", id=obj["id"]), {}
        return 200, self._public(obj, fields), {}

    # -- handlers: writing

    def create_post(self, req: Request) -> Reply:
        self._get(req.ids[0], "page")
        attached = [json.loads(v) for k, v in sorted(req.params.items()) if k.startswith("attached_media")]
        if not req.params.get("message") and not attached:
            return 400, fixture("error_invalid_parameter"), {}
        for item in attached:
            photo = self._get(item["media_fbid"], "photo")
            if photo["published"]:
                return self._violation("attached_media must be unpublished photos")
        post_id = self.page_post(req.params.get("message", ""))
        self.objects[post_id].update(link=req.params.get("link", ""), attached=attached)
        return 200, shape("feed_post_created", id=post_id), {}

    def create_photo(self, req: Request) -> Reply:
        self._get(req.ids[0], "page")
        _filename, data, ctype = req.files["source"]
        if not data or not ctype.startswith("image/"):
            return 400, fixture("error_invalid_parameter"), {}
        photo_id = self.next_id()
        published = req.params.get("published", "true") == "true"
        self.put(
            "photo",
            photo_id,
            published=published,
            alt_text_custom=req.params.get("alt_text_custom", ""),
            size=len(data),
        )
        if not published:
            return 200, shape("photo_unpublished", id=photo_id), {}
        post_id = self.page_post(req.params.get("message", ""))
        self.objects[post_id]["photo"] = photo_id
        return 200, shape("photo_created", id=photo_id, post_id=post_id), {}

    def create_comment(self, req: Request) -> Reply:
        target = self.objects[req.ids[0]]
        if target["_kind"] == "post":
            return (
                200,
                shape(
                    "comment_created",
                    id=self.comment(
                        target["id"], req.params["message"], {"id": PAGE_ID, "name": "Casa Tertulia"}
                    ),
                ),
                {},
            )
        if target["_kind"] == "comment":
            made = self.comment(
                target["post"],
                req.params["message"],
                {"id": PAGE_ID, "name": "Casa Tertulia"},
                parent=target["id"],
            )
            return 200, shape("comment_created", id=made), {}
        raise KeyError(req.ids[0])

    def create_reply(self, req: Request) -> Reply:
        target = self._get(req.ids[0], "ig_comment")
        made = self.ig_comment(
            target["media"],
            req.params["message"],
            parent=target["id"],
            author={"id": IG_ID, "username": "casa.tertulia"},
        )
        return 200, {"id": made}, {}

    def update_object(self, req: Request) -> Reply:
        obj = self.objects[req.ids[0]]
        if obj["_kind"] == "comment" and set(req.params) == {"is_hidden"}:
            obj["is_hidden"] = req.params["is_hidden"] == "true"
        elif obj["_kind"] == "ig_comment" and set(req.params) == {"hide"}:
            obj["hidden"] = req.params["hide"] == "true"
        else:
            return self._violation(f"POST {req.path} with {sorted(req.params)} on a {obj['_kind']}")
        return 200, shape("success"), {}

    def delete_object(self, req: Request) -> Reply:
        obj = self.objects[req.ids[0]]
        if obj["_kind"] == "ig_media":  # Instagram media cannot be deleted through the API
            return 400, fixture("error_invalid_parameter"), {}
        if obj["_kind"] not in ("post", "comment", "ig_comment", "photo"):
            raise KeyError(req.ids[0])
        del self.objects[req.ids[0]]
        if req.ids[0] in self.posts:
            self.posts.remove(req.ids[0])
        for other in self.objects.values():  # a deleted comment leaves its post's list
            if isinstance(other.get("comments"), list) and req.ids[0] in other["comments"]:
                other["comments"].remove(req.ids[0])
        self.deleted.append(req.ids[0])
        return 200, shape("success"), {}

    def send_message(self, req: Request) -> Reply:
        self._get(req.ids[0], "page")
        recipient = json.loads(req.params["recipient"])
        message = json.loads(req.params["message"])
        if set(recipient) != {"id"} or not isinstance(message.get("text"), str):
            return self._violation("Send API: recipient {id} and message {text}")
        body = shape("send_api", recipient_id=recipient["id"], message_id=self.next_id("m_sent_"))
        return 200, body, {}

    def create_container(self, req: Request) -> Reply:
        self._get(req.ids[0], "ig_user")
        p = req.params
        if "image_url" in p and not p["image_url"].startswith("https://"):
            return 400, fixture("error_invalid_parameter"), {}
        if "children" in p:
            if p["media_type"] != "CAROUSEL":
                return self._violation("children need media_type=CAROUSEL")
            for child in p["children"].split(","):
                if not self._get(child, "container").get("is_carousel_item"):
                    return self._violation("carousel children must be carousel items")
        container_id = self.next_id("178")
        self.put(
            "container",
            container_id,
            caption=p.get("caption", ""),
            is_carousel_item=p.get("is_carousel_item") == "true",
            children=p.get("children", ""),
        )
        return 200, shape("ig_container", id=container_id), {}

    def media_publish(self, req: Request) -> Reply:
        self._get(req.ids[0], "ig_user")
        container = self._get(req.params["creation_id"], "container")
        if container["is_carousel_item"]:
            return self._violation("a carousel item cannot be published on its own")
        self.quota_usage += 1
        media_id = self.ig_media_item()
        self.objects[media_id]["caption"] = container["caption"]
        return 200, shape("ig_media_published", id=media_id), {}


class _Handler(BaseHTTPRequestHandler):
    graph: FakeGraph

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _serve(self) -> None:
        url = urlsplit(self.path)
        query = dict(parse_qsl(url.query, keep_blank_values=True))
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        form: dict[str, str] = {}
        files: dict[str, tuple[str, bytes, str]] = {}
        ctype = self.headers.get("Content-Type", "")
        if ctype.startswith("application/x-www-form-urlencoded"):
            form = dict(parse_qsl(body.decode(), keep_blank_values=True))
        elif ctype.startswith("multipart/form-data"):
            message = BytesParser(policy=HTTP).parsebytes(
                b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + body
            )
            for part in message.iter_parts():
                name = part.get_param("name", header="content-disposition")
                decoded = part.get_payload(decode=True)
                payload = decoded if isinstance(decoded, bytes) else b""
                if part.get_filename():
                    files[str(name)] = (part.get_filename() or "", payload, part.get_content_type())
                else:
                    form[str(name)] = payload.decode()
        headers = {k.lower(): v for k, v in self.headers.items()}
        status, reply, extra = self.graph.handle(self.command, url.path, query, form, files, headers)
        data = json.dumps(reply).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in extra.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_DELETE = _serve


class GraphServer:
    """The fake on a free port of 127.0.0.1, for the length of a `with` block."""

    def __init__(self, graph: FakeGraph) -> None:
        handler = type("Handler", (_Handler,), {"graph": graph})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> GraphServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
