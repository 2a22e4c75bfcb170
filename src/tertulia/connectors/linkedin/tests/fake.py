"""A LinkedIn stand-in on 127.0.0.1 that checks every request against the documented shapes.

No machine-readable spec of LinkedIn's REST API is public; responses are built
from the JSON files in `fixtures/` (copied from the shapes LinkedIn's docs show)
and requests are checked here: method and path, the bearer token, the
`LinkedIn-Version` (YYYYMM) and `X-Restli-Protocol-Version: 2.0.0` headers on
every /rest call, Rest.li-encoded URNs, and the body fields each endpoint
requires. A violation is answered with 400 and recorded; the tests' fixture
asserts there were none.
"""

from __future__ import annotations

import copy
import itertools
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote

from tertulia.connectors.testing.http_server import Incoming, LocalServer, Outgoing, Recorded, json_answer

FIXTURES = Path(__file__).parent / "fixtures"
TOKEN = "AQV-access"
ORG = "urn:li:organization:123"
CLIENT_ID = "li-client"
CLIENT_SECRET = "li-secret"


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


Answer = tuple[int, Any, dict[str, str]]


class FakeLinkedIn(LocalServer):
    def __init__(self) -> None:
        super().__init__()
        self.requests: list[Recorded] = []
        self.violations: list[str] = []
        self.posts: dict[str, dict[str, Any]] = {}
        self.comments: dict[str, list[dict[str, Any]]] = {}
        self.images: dict[str, dict[str, Any]] = {}
        self.ids = itertools.count(7000000000000000000)
        self.clock = 1748772000000  # 2025-06-01T10:00:00Z in ms
        self.fail_next: tuple[int, Any, dict[str, str]] | None = None
        self.lose_next_answer = False  # create the post, then answer 500 (a lost response)
        # Organizations the member administers: the documented fixture unless a test sets its own
        # (id -> organization), listed by organizationAcls `acl_page_size` at a time.
        self.organizations: dict[str, dict[str, Any]] | None = None
        self.acl_page_size = 10

    def answer(self, request: Incoming) -> Outgoing:
        content_type = request.headers.get("content-type", "")
        body: Any = request.body
        if request.body and content_type.startswith("application/json"):
            body = json.loads(request.body)
        elif request.body and content_type.startswith("application/x-www-form-urlencoded"):
            body = {k: v[-1] for k, v in parse_qs(request.body.decode()).items()}
        recorded = request.recorded(body)
        with self.lock:
            self.requests.append(recorded)
            status, payload, extra = self.dispatch(recorded, request.raw_query)
        return json_answer(status, payload, extra)

    # -- state

    def tick(self) -> int:
        self.clock += 30_000
        return self.clock

    def add_post(self, commentary: str, author: str = ORG) -> dict[str, Any]:
        post: dict[str, Any] = copy.deepcopy(fixture("post.json"))
        post_id = f"urn:li:share:{next(self.ids)}"
        now = self.tick()
        post.update(
            id=post_id,
            commentary=commentary,
            author=author,
            createdAt=now,
            publishedAt=now,
            lastModifiedAt=now,
        )
        self.posts[post_id] = post
        self.comments[post_id] = []
        return post

    def add_comment(
        self, post_id: str, text: str, actor: str = "urn:li:person:8675309", parent: str = ""
    ) -> dict[str, Any]:
        comment: dict[str, Any] = copy.deepcopy(fixture("comment.json"))
        comment_id = str(next(self.ids))
        comment_urn = f"urn:li:comment:({post_id},{comment_id})"
        now = self.tick()
        comment.update(
            id=comment_id,
            commentUrn=comment_urn,
            actor=actor,
            object=post_id,
            message={"attributes": [], "text": text},
            created={"actor": actor, "time": now},
            lastModified={"actor": actor, "time": now},
        )
        comment["$URN"] = comment_urn
        if parent:
            comment["parentComment"] = parent
        self.comments[post_id].append(comment)
        return comment

    # -- checks

    def violation(self, message: str) -> Answer:
        self.violations.append(message)
        return 400, {"message": message, "status": 400}, {}

    def check_rest_headers(self, request: Recorded) -> str:
        if request.headers.get("authorization") != f"Bearer {TOKEN}":
            return "auth"
        if not re.fullmatch(r"20\d{4}", request.headers.get("linkedin-version", "")):
            return "LinkedIn-Version header missing or not YYYYMM"
        if request.headers.get("x-restli-protocol-version") != "2.0.0":
            return "X-Restli-Protocol-Version: 2.0.0 missing"
        return ""

    # -- dispatch

    def dispatch(self, request: Recorded, raw_query: str) -> Answer:
        if request.path == "/oauth/v2/accessToken":
            return self.token(request)
        if request.path.startswith("/upload/"):
            return self.upload(request)
        if not request.path.startswith("/rest/"):
            return self.violation(f"not a versioned REST path: {request.path}")
        problem = self.check_rest_headers(request)
        if problem == "auth":
            return 401, {"message": "Invalid access token", "status": 401, "serviceErrorCode": 65600}, {}
        if problem:
            return self.violation(problem)
        if self.fail_next is not None:
            answer, self.fail_next = self.fail_next, None
            return answer
        path = request.path
        q = {k: v[-1] for k, v in request.query.items()}
        if request.method == "POST" and path == "/rest/posts":
            return self.create_post(request)
        if request.method == "GET" and path == "/rest/posts":
            if (
                q.get("q") != "author"
                or unquote(q.get("author", "")) != ORG
                or "author=urn%3Ali" not in raw_query
            ):
                return self.violation(f"posts finder needs q=author&author=<encoded org>: {raw_query}")
            rows = sorted(self.posts.values(), key=lambda p: p["lastModifiedAt"], reverse=True)
            return (
                200,
                {"elements": rows[: int(q.get("count", "10"))], "paging": {"start": 0, "count": 10}},
                {},
            )
        found = re.fullmatch(r"/rest/posts/([^/]+)", path)
        if found and request.method == "DELETE":
            if ":" in found.group(1):
                return self.violation("the post URN in the path must be encoded")
            post_id = unquote(found.group(1))
            if self.posts.pop(post_id, None) is None:
                return 404, {"message": "Not found", "status": 404}, {}
            return 204, None, {}
        if request.method == "POST" and path == "/rest/images" and q.get("action") == "initializeUpload":
            owner = (
                (request.body or {}).get("initializeUploadRequest", {}).get("owner")
                if isinstance(request.body, dict)
                else None
            )
            if owner != ORG:
                return self.violation("initializeUploadRequest.owner must be the organization")
            answer = copy.deepcopy(fixture("image_upload.json"))
            image = f"urn:li:image:C4E{next(self.ids)}"
            answer["value"].update(image=image, uploadUrl=f"{self.url}/upload/{image.rsplit(':', 1)[1]}")
            self.images[image] = {"uploaded": False}
            return 200, answer, {}
        found = re.fullmatch(r"/rest/socialActions/([^/]+)/comments", path)
        if found:
            if ":" in found.group(1):
                return self.violation("the URN in the path must be encoded")
            target = unquote(found.group(1))
            return self.comments_route(request, target, q)
        found = re.fullmatch(r"/rest/socialActions/([^/]+)/comments/(\d+)", path)
        if found and request.method == "DELETE":
            post_id = unquote(found.group(1))
            if unquote(q.get("actor", "")) != ORG:
                return self.violation("deleting a comment as the organization needs ?actor=<org>")
            before = len(self.comments.get(post_id, []))
            self.comments[post_id] = [c for c in self.comments.get(post_id, []) if c["id"] != found.group(2)]
            return (
                (204, None, {})
                if len(self.comments[post_id]) < before
                else (404, {"message": "Not found"}, {})
            )
        if request.method == "GET" and path == "/rest/organizationalEntityShareStatistics":
            return self.statistics(q, raw_query)
        if request.method == "GET" and path == f"/rest/networkSizes/{ORG.replace(':', '%3A')}":
            if q.get("edgeType") != "COMPANY_FOLLOWED_BY_MEMBER":
                return self.violation("networkSizes needs edgeType=COMPANY_FOLLOWED_BY_MEMBER")
            return 200, fixture("network_size.json"), {}
        found = re.fullmatch(r"/rest/organizations/(\d+)", path)
        if request.method == "GET" and found:
            if self.organizations is None:
                if found.group(1) == "123":
                    return 200, fixture("organization.json"), {}
            elif found.group(1) in self.organizations:
                return 200, self.organizations[found.group(1)], {}
            return 404, {"message": "Not found", "status": 404}, {}
        if request.method == "GET" and path == "/rest/organizationAcls":
            finder = {k: v for k, v in q.items() if k not in {"start", "count"}}
            if finder != {"q": "roleAssignee", "role": "ADMINISTRATOR", "state": "APPROVED"}:
                return self.violation(f"bad organizationAcls query {q}")
            if self.organizations is None:
                return 200, fixture("organization_acls.json"), {}
            return 200, self.acls(int(q.get("start", "0")), int(q.get("count", self.acl_page_size))), {}
        return 404, {"message": f"no route {request.method} {path}", "status": 404}, {}

    def acls(self, start: int, count: int) -> dict[str, Any]:
        """A page of organizationAcls for `self.organizations`, with a `next` link while more remain."""
        ids = list(self.organizations or {})
        elements = [
            {
                "roleAssignee": "urn:li:person:abc",
                "state": "APPROVED",
                "role": "ADMINISTRATOR",
                "organization": f"urn:li:organization:{org_id}",
            }
            for org_id in ids[start : start + count]
        ]
        links = []
        if start + count < len(ids):
            links.append(
                {
                    "type": "application/json",
                    "rel": "next",
                    "href": f"/rest/organizationAcls?q=roleAssignee&start={start + count}&count={count}",
                }
            )
        return {
            "paging": {"count": count, "start": start, "total": len(ids), "links": links},
            "elements": elements,
        }

    def create_post(self, request: Recorded) -> Answer:
        body = request.body
        if not isinstance(body, dict):
            return self.violation("a post is a JSON object")
        required = {"author", "commentary", "visibility", "distribution", "lifecycleState"}
        if missing := required - set(body):
            return self.violation(f"post without {sorted(missing)}")
        if body["author"] != ORG or body["visibility"] != "PUBLIC" or body["lifecycleState"] != "PUBLISHED":
            return self.violation("author/visibility/lifecycleState")
        if body["distribution"].get("feedDistribution") != "MAIN_FEED":
            return self.violation("distribution.feedDistribution")
        if len(body["commentary"]) > 3000:
            return 422, {"message": "commentary too long", "status": 422}, {}
        if re.search(r"(?<!\\)[\[\]()<>{}@#|*_~]", body["commentary"]):
            return self.violation("reserved little-text characters must be escaped")
        content = body.get("content")
        if content is not None:
            problem = self.check_content(content)
            if problem:
                return self.violation(problem)
        for post in self.posts.values():
            if post["commentary"] == body["commentary"] and post.get("content") == content:
                error = copy.deepcopy(fixture("duplicate_error.json"))
                error["message"] = f"Content is a duplicate of {post['id']}"
                return 422, error, {}
        post = self.add_post(body["commentary"])
        if content is not None:
            post["content"] = content
        if self.lose_next_answer:
            self.lose_next_answer = False
            return 504, {"message": "Gateway timeout", "status": 504}, {}
        return 201, None, {"x-restli-id": post["id"]}

    def check_content(self, content: dict[str, Any]) -> str:
        images = []
        if "media" in content:
            images = [content["media"]]
        elif "multiImage" in content:
            images = content["multiImage"].get("images", [])
        elif "article" in content:
            article = content["article"]
            return (
                ""
                if article.get("source", "").startswith("http") and article.get("title")
                else "article needs source and title"
            )
        else:
            return f"unknown content {sorted(content)}"
        for image in images:
            if not self.images.get(image.get("id", ""), {}).get("uploaded"):
                return f"image {image.get('id')} used before its bytes were uploaded"
        return ""

    def upload(self, request: Recorded) -> Answer:
        if request.method != "PUT" or request.headers.get("authorization") != f"Bearer {TOKEN}":
            return self.violation("uploads are PUT with the bearer token")
        image = f"urn:li:image:{request.path.rsplit('/', 1)[1]}"
        if image not in self.images or not request.body:
            return self.violation("upload to an unknown image or without bytes")
        self.images[image] = {
            "uploaded": True,
            "bytes": request.body,
            "type": request.headers.get("content-type"),
        }
        return 201, None, {}

    def comments_route(self, request: Recorded, target: str, q: dict[str, str]) -> Answer:
        match = re.fullmatch(r"urn:li:comment:\((urn:li:\w+:\d+),(\d+)\)", target)
        post_id = match.group(1) if match else target
        if post_id not in self.comments:
            return 404, {"message": "Not found", "status": 404}, {}
        if request.method == "GET":
            rows = self.comments[post_id]
            return (
                200,
                {"elements": rows[: int(q.get("count", "10"))], "paging": {"start": 0, "count": 10}},
                {},
            )
        if request.method != "POST":
            return self.violation("comments are GET or POST")
        body = request.body
        if (
            not isinstance(body, dict)
            or body.get("actor") != ORG
            or not (body.get("message") or {}).get("text")
        ):
            return self.violation("a comment needs actor (the organization) and message.text")
        if body.get("object") != post_id:
            return self.violation("a comment's object must be the post")
        if match and body.get("parentComment") != target:
            return self.violation("a nested comment names its parentComment")
        comment = self.add_comment(
            post_id, body["message"]["text"], actor=ORG, parent=body.get("parentComment", "")
        )
        return 201, comment, {"x-restli-id": comment["id"]}

    def statistics(self, q: dict[str, str], raw_query: str) -> Answer:
        if q.get("q") != "organizationalEntity" or unquote(q.get("organizationalEntity", "")) != ORG:
            return self.violation("share statistics need q=organizationalEntity&organizationalEntity=<org>")
        listed = re.search(r"shares=List\(([^)]*)\)", raw_query)
        if not listed or ":" in listed.group(1):
            return self.violation("shares=List(...) with encoded URNs")
        elements = []
        for share in listed.group(1).split(","):
            share_urn = unquote(share)
            if share_urn in self.posts:
                element = copy.deepcopy(fixture("share_statistics.json")["elements"][0])
                element["share"] = share_urn
                element["totalShareStatistics"]["commentCount"] = len(self.comments[share_urn])
                elements.append(element)
        return 200, {"elements": elements, "paging": {"start": 0, "count": 10}}, {}

    def token(self, request: Recorded) -> Answer:
        body = request.body if isinstance(request.body, dict) else {}
        if body.get("client_id") != CLIENT_ID or body.get("client_secret") != CLIENT_SECRET:
            return 401, {"error": "invalid_client", "error_description": "Client authentication failed"}, {}
        if body.get("grant_type") == "authorization_code":
            if body.get("code") != "good-code" or not body.get("redirect_uri"):
                return 400, {"error": "invalid_request", "error_description": "bad code"}, {}
            return 200, fixture("token.json"), {}
        if body.get("grant_type") == "refresh_token":
            if body.get("refresh_token") != "AQX-refresh":
                return 400, {"error": "invalid_request", "error_description": "bad refresh token"}, {}
            return 200, {**fixture("token.json"), "refresh_token": "AQX-refresh-2"}, {}
        return self.violation("unknown grant")
