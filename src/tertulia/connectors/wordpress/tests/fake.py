"""A WordPress site on 127.0.0.1 that answers the REST routes the connector uses, strictly.

Shapes follow the WordPress REST API handbook (comments and users endpoints,
error bodies `{"code", "message", "data": {"status"}}`, the `X-WP-Total` and
`X-WP-TotalPages` headers). Every request is checked: the Basic credentials, the
route, the query parameters (only known ones, valid values) and the JSON body.
Anything off is answered with 400 and recorded in `violations`, which the tests'
fixture asserts is empty, so a malformed request fails the test that sent it.
"""

from __future__ import annotations

import base64
import json
import math
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from tertulia.connectors.testing.http_server import Incoming, LocalServer, Outgoing, Recorded, json_answer

USERNAME = "editora"
APP_PASSWORD = "abcd EFGH 1234 ijkl MNOP 5678"
PREFIX = "/wp-json/wp/v2"
LIST_PARAMS = {"status", "type", "orderby", "order", "per_page", "page", "after", "include"}
ORDERBY = {"date", "date_gmt", "id", "include", "post", "parent", "type"}
STATUSES = {"all", "approve", "hold", "spam", "trash"}
UPDATE_STATUSES = {"approved", "approve", "hold", "spam"}


class FakeWordPress(LocalServer):
    def __init__(self) -> None:
        super().__init__()
        self.requests: list[Recorded] = []
        self.violations: list[str] = []
        self.comments: dict[int, dict[str, Any]] = {}
        self.posts = {7: "https://blog.example/plan-de-crisis/", 8: "https://blog.example/otro/"}
        self.next_id = 100
        self.clock = datetime(2025, 6, 1, 10, 0, tzinfo=UTC)
        self.fail_next: tuple[int, dict[str, str]] | None = None
        self.trash_disabled = False  # EMPTY_TRASH_DAYS = 0: DELETE without force answers 501
        self.rate_headers: dict[str, str] = {}  # sent with every answer (hosts that announce limits)

    def answer(self, request: Incoming) -> Outgoing:
        body: Any = None
        if request.body:
            is_json = request.headers.get("content-type", "").startswith("application/json")
            body = json.loads(request.body) if is_json else request.body
        recorded = request.recorded(body)
        with self.lock:
            self.requests.append(recorded)
            status, payload, extra = self.dispatch(recorded)
        headers = {**self.rate_headers, **extra}
        return json_answer(status, payload, headers, content_type="application/json; charset=UTF-8")

    # -- state

    def add_comment(
        self,
        text: str = "Buen artículo",
        *,
        post: int = 7,
        parent: int = 0,
        author: int = 0,
        name: str = "Ana",
        status: str = "approved",
        when: datetime | None = None,
    ) -> dict[str, Any]:
        with self.lock:
            return self._add(
                text, post=post, parent=parent, author=author, name=name, status=status, when=when
            )

    def _add(
        self, text: str, *, post: int, parent: int, author: int, name: str, status: str, when: datetime | None
    ) -> dict[str, Any]:
        self.next_id += 1
        self.clock += timedelta(seconds=30)
        moment = when or self.clock
        comment = {
            "id": self.next_id,
            "post": post,
            "parent": parent,
            "author": author,
            "author_name": name,
            "author_url": "https://ana.example/" if author == 0 else "",
            "author_email": "ana@example.com",  # a real site sends it in edit context only
            "author_ip": "192.0.2.1",
            "date": (moment + timedelta(hours=2)).replace(tzinfo=None).isoformat(),  # the site is at UTC+2
            "date_gmt": moment.replace(tzinfo=None).isoformat(),
            "content": {"rendered": f"<p>{text}</p>\n"},
            "link": f"{self.posts.get(post, 'https://blog.example/')}#comment-{self.next_id}",
            "status": status,
            "type": "comment",
            "author_avatar_urls": {"48": "https://secure.gravatar.com/avatar/x?s=48"},
            "meta": [],
            "_links": {"self": [{"href": f"https://blog.example/wp-json/wp/v2/comments/{self.next_id}"}]},
        }
        self.comments[self.next_id] = comment
        return comment

    # -- dispatch

    def violation(self, message: str) -> tuple[int, dict[str, Any], dict[str, str]]:
        self.violations.append(message)
        return self.error(400, "rest_invalid_param", message)

    @staticmethod
    def error(status: int, code: str, message: str) -> tuple[int, dict[str, Any], dict[str, str]]:
        return status, {"code": code, "message": message, "data": {"status": status}}, {}

    def dispatch(self, request: Recorded) -> tuple[int, Any, dict[str, str]]:
        expected = "Basic " + base64.b64encode(f"{USERNAME}:{APP_PASSWORD}".encode()).decode()
        auth = request.headers.get("authorization", "")
        if not auth:
            return self.error(401, "rest_not_logged_in", "You are not currently logged in.")
        if auth != expected:
            return self.error(
                401, "incorrect_password", "The provided password is an invalid application password."
            )
        if self.fail_next is not None:
            status, headers = self.fail_next
            self.fail_next = None
            code, payload, _ = self.error(status, "test_failure", "failure on demand")
            return code, payload, headers
        if not request.path.startswith(PREFIX):
            return self.violation(f"not a REST route: {request.path}")
        route = request.path[len(PREFIX) :]
        if request.method == "GET" and route == "/users/me":
            return 200, {"id": 3, "name": "Editora Jefa", "slug": "editora", "url": ""}, {}
        if route == "/comments":
            if request.method == "GET":
                return self.list_comments(request)
            if request.method == "POST":
                return self.create_comment(request)
        found = re.fullmatch(r"/comments/(\d+)", route)
        if found:
            comment = self.comments.get(int(found.group(1)))
            if request.query:
                return self.violation(f"unexpected query on {route}: {request.query}")
            if comment is None:
                return self.error(404, "rest_comment_invalid_id", "Invalid comment ID.")
            if request.method == "GET":
                return 200, self.public(comment), {}
            if request.method == "POST":
                return self.update_comment(comment, request)
            if request.method == "DELETE":
                if request.body is not None:
                    return self.violation("DELETE takes no body")
                if self.trash_disabled:
                    return self.error(
                        501,
                        "rest_trash_not_supported",
                        "The comment does not support trashing. Set 'force=true' to delete.",
                    )
                if comment["status"] == "trash":
                    return self.error(410, "rest_already_trashed", "The comment has already been trashed.")
                comment["status"] = "trash"
                return 200, self.public(comment), {}
        return self.error(404, "rest_no_route", "No route was found matching the URL and request method.")

    @staticmethod
    def public(comment: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in comment.items() if k not in ("author_email", "author_ip", "raw")}

    def list_comments(self, request: Recorded) -> tuple[int, Any, dict[str, str]]:
        query = {k: v[-1] for k, v in request.query.items()}
        if any(len(v) > 1 for v in request.query.values()):
            return self.violation(f"repeated parameters: {request.query}")
        unknown = set(query) - LIST_PARAMS
        if unknown:
            return self.violation(f"unknown parameters {sorted(unknown)}")
        try:
            per_page = int(query.get("per_page", "10"))
            page = int(query.get("page", "1"))
        except ValueError:
            return self.violation("per_page and page must be integers")
        if not 1 <= per_page <= 100 or page < 1:
            return self.violation("per_page must be between 1 and 100, page at least 1")
        if query.get("order", "desc") not in ("asc", "desc"):
            return self.violation("order must be asc or desc")
        if query.get("orderby", "date_gmt") not in ORDERBY:
            return self.violation("bad orderby")
        status = query.get("status", "approve")
        if status not in STATUSES:
            return self.violation("bad status")
        if query.get("type", "comment") != "comment":
            return self.violation("bad type")
        rows = list(self.comments.values())
        if status == "all":
            rows = [c for c in rows if c["status"] in ("approved", "hold")]
        else:
            rows = [c for c in rows if c["status"] == {"approve": "approved"}.get(status, status)]
        if "after" in query:
            try:
                after = datetime.fromisoformat(query["after"])
            except ValueError:
                return self.violation("after must be ISO 8601")
            # Like WordPress, compare with the site's local time (UTC+2 here): the connector must cope.
            rows = [c for c in rows if datetime.fromisoformat(c["date"]) > after.replace(tzinfo=None)]
        if "include" in query:
            wanted = {int(i) for i in query["include"].split(",") if i.isdigit()}
            rows = [c for c in rows if c["id"] in wanted]
        key = "date" if query.get("orderby") == "date" else "date_gmt"
        rows.sort(key=lambda c: (c[key], c["id"]), reverse=query.get("order", "desc") == "desc")
        total = len(rows)
        pages = max(1, math.ceil(total / per_page))
        if total and page > pages:
            return self.error(400, "rest_comment_invalid_page_number", "The page number requested is larger.")
        chunk = rows[(page - 1) * per_page : page * per_page]
        return 200, [self.public(c) for c in chunk], {"X-WP-Total": str(total), "X-WP-TotalPages": str(pages)}

    def create_comment(self, request: Recorded) -> tuple[int, Any, dict[str, str]]:
        body = request.body
        if not isinstance(body, dict):
            return self.violation("the comment must be a JSON object")
        if set(body) - {"post", "parent", "content"}:
            return self.violation(f"unexpected fields {sorted(set(body) - {'post', 'parent', 'content'})}")
        if not isinstance(body.get("post"), int) or body["post"] not in self.posts:
            return self.violation("post must be an existing post id (integer)")
        parent = body.get("parent", 0)
        if not isinstance(parent, int):
            return self.violation("parent must be an integer")
        if parent and (parent not in self.comments or self.comments[parent]["post"] != body["post"]):
            return self.error(400, "rest_comment_invalid_parent", "Invalid parent comment.")
        if not isinstance(body.get("content"), str) or not body["content"].strip():
            return self.error(400, "rest_comment_content_invalid", "Invalid comment content.")
        for existing in self.comments.values():
            if (
                existing["post"] == body["post"]
                and existing["author"] == 3
                and existing.get("raw") == body["content"]
            ):
                return self.error(409, "comment_duplicate", "Duplicate comment detected.")
        comment = self._add(
            body["content"],
            post=body["post"],
            parent=parent,
            author=3,
            name="Editora Jefa",
            status="approved",
            when=None,
        )
        comment["raw"] = body["content"]
        return 201, self.public(comment), {}

    def update_comment(self, comment: dict[str, Any], request: Recorded) -> tuple[int, Any, dict[str, str]]:
        body = request.body
        if not isinstance(body, dict) or set(body) != {"status"} or body["status"] not in UPDATE_STATUSES:
            return self.violation(f"a status change must be {{'status': approved|hold|spam}}, got {body!r}")
        comment["status"] = "approved" if body["status"] == "approve" else body["status"]
        return 200, self.public(comment), {}
