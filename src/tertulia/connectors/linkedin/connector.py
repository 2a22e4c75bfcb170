"""LinkedIn organization pages behind the connector interface.

A channel is one organization (`external_id` = urn:li:organization:123) acted
for by a member who administers it (`credentials["access_token"]`). The API base
is `settings["base_url"]` (default https://api.linkedin.com) and the API version
`settings["version"]` (YYYYMM). No machine-readable spec of this API is public:
the shapes here and in tests/fixtures follow LinkedIn's documentation (Posts,
Images, Comments, Organization Share Statistics, Network Sizes, Organization
Access Control). See docs/connectors/linkedin.md.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import httpx
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from tertulia.connectors.base import (
    AccountInfo,
    AccountMetrics,
    AuthenticationFailed,
    Capability,
    ChannelAccount,
    ConnectedAccount,
    Connector,
    ConnectorError,
    ContentRejected,
    InboundItem,
    InboundKind,
    InboundPage,
    MediaItem,
    OAuthClient,
    OutgoingPost,
    PostMetrics,
    PublishedPost,
    RemoteAuthor,
    RemoteNotFound,
    TemporaryFailure,
)
from tertulia.connectors.linkedin import oauth
from tertulia.connectors.linkedin.client import (
    API_BASE_URL,
    API_VERSION,
    NETWORK,
    DuplicatePost,
    LinkedInHTTP,
    urn,
)

MAX_COMMENTARY = 3000  # characters in a post's commentary
MAX_COMMENT = 1250  # characters in a comment
MAX_IMAGES = 20  # a multi-image post
POSTS_TO_WATCH = 20  # the organization's latest posts whose comments are read
COMMENTS_PER_POST = 100
MAX_ACL_PAGES = 10  # of organizationAcls while signing in: a bound
CLOCK_SKEW = timedelta(minutes=2)
OVERLAP_MS = 60 * 60 * 1000  # comments can show up late in the list: re-read the last hour
WEB_URL = "https://www.linkedin.com/feed/update/"
_URL = re.compile(r"https?://[^\s<>\"]+")
# "Little text" (the commentary format) gives these characters a meaning; as plain text they must be escaped.
_RESERVED = re.compile(r"([\\|{}@\[\]()<>#*_~])")
_COMMENT_URN = re.compile(r"^urn:li:comment:\((urn:li:[A-Za-z]+:[^,]+),(\d+)\)$")


def escape_little_text(text: str) -> str:
    return _RESERVED.sub(r"\\\1", text)


def _post_urn(value: str) -> bool:
    return value.startswith(("urn:li:share:", "urn:li:ugcPost:"))


def _ms(value: object) -> datetime:
    return (
        datetime.fromtimestamp(int(value) / 1000, tz=UTC)
        if isinstance(value, int | float)
        else datetime.now(UTC)
    )


class LinkedInConnector(Connector):
    network = NETWORK
    display_name = "LinkedIn"
    # A member's own token acting for the page (they must administer it): it ends with their account or role.
    credentials_belong_to_person: ClassVar[bool] = True
    max_text_length = MAX_COMMENTARY
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {
            Capability.PUBLISH_TEXT,
            Capability.PUBLISH_IMAGES,
            Capability.ALT_TEXT,
            Capability.REPLY,
            Capability.READ_COMMENTS,
            Capability.DELETE,
            Capability.POST_METRICS,
            Capability.ACCOUNT_METRICS,
            Capability.REFRESH_TOKENS,
            Capability.FIND_OWN_POST,
        }
    )

    def __init__(self, account: ChannelAccount, transport: httpx.BaseTransport | None = None) -> None:
        super().__init__(account)
        self.organization = account.external_id
        if not self.organization.startswith("urn:li:organization:"):
            raise AuthenticationFailed(_("This LinkedIn channel does not name its organization."))
        self.http = LinkedInHTTP(
            str(account.settings.get("base_url") or account.credentials.get("base_url") or API_BASE_URL),
            str(account.credentials.get("access_token") or ""),
            version=str(account.settings.get("version") or API_VERSION),
            transport=transport,
            account_key=self.organization,
        )
        self.posts_to_watch = int(account.settings.get("posts_to_watch", POSTS_TO_WATCH))

    # -- account

    def verify_account(self) -> AccountInfo:
        org_id = self.organization.rsplit(":", 1)[1]
        return _organization_info(self.http.json("GET", f"/rest/organizations/{org_id}"))

    def refresh_credentials(self) -> Mapping[str, str]:
        return oauth.refresh(self.account.credentials)

    def account_metrics(self) -> AccountMetrics:
        """Followers of the page; LinkedIn gives no "following" for a page, and post counts cost a crawl."""
        size = self.http.json(
            "GET", f"/rest/networkSizes/{urn(self.organization)}?edgeType=COMPANY_FOLLOWED_BY_MEMBER"
        )
        return AccountMetrics(followers=int(size.get("firstDegreeSize") or 0), following=0, posts=0)

    # -- publishing

    def publish(self, post: OutgoingPost) -> PublishedPost:
        """A post as the organization, or a comment when `reply_to` names a post or comment.

        LinkedIn refuses content identical to a recent post with 422 DUPLICATE_POST. That is
        the sign an earlier attempt (whose answer was lost) went through, so it is not a
        failure: the existing post is looked up (`find_own_post`, same text since the attempt
        began, else the URN LinkedIn names) and returned. If it cannot be found, ContentRejected.
        """
        if post.quote_of:
            raise self._unsupported(_lazy("quoting posts"))
        if post.reply_to:
            return self._comment(post)
        if not post.text.strip() and not post.media:
            raise ContentRejected(_("A LinkedIn post needs text or images."))
        if len(post.text) > self.max_text_length:
            raise ContentRejected(
                _("LinkedIn posts are limited to %(limit)d characters.") % {"limit": self.max_text_length}
            )
        if len(post.media) > MAX_IMAGES or any(not m.mime_type.startswith("image/") for m in post.media):
            raise ContentRejected(
                _("LinkedIn posts here take up to %(count)d images, no video.") % {"count": MAX_IMAGES}
            )
        started = datetime.now(UTC)
        body: dict[str, Any] = {
            "author": self.organization,
            "commentary": escape_little_text(post.text),
            "visibility": "PUBLIC",
            "distribution": {
                "feedDistribution": "MAIN_FEED",
                "targetEntities": [],
                "thirdPartyDistributionChannels": [],
            },
            "lifecycleState": "PUBLISHED",
            "isReshareDisabledByAuthor": False,
        }
        content = self._content(post.media, post.text)
        if content:
            body["content"] = content
        try:
            response = self.http.request("POST", "/rest/posts", json=body)
        except DuplicatePost as duplicate:
            found = self.find_own_post(post.idempotency_key or "", post, since=started - timedelta(days=1))
            if found is not None:
                return found
            if duplicate.existing:
                return PublishedPost(duplicate.existing, WEB_URL + duplicate.existing, started)
            raise
        remote_id = response.headers.get("x-restli-id") or response.headers.get("x-linkedin-id") or ""
        if not remote_id:
            # It is out there: "retry" means reconcile, which finds it with its id.
            raise TemporaryFailure(_("LinkedIn accepted the post but did not return its id."))
        return PublishedPost(remote_id=remote_id, url=WEB_URL + remote_id, created_at=started)

    def _content(self, media: Sequence[MediaItem], text: str) -> dict[str, Any] | None:
        if len(media) == 1:
            return {"media": self._image(media[0])}
        if media:
            return {"multiImage": {"images": [self._image(item) for item in media]}}
        link = _URL.search(text)
        if link:
            # An article card for the first link; LinkedIn requires a title and fills the preview itself.
            url = link.group(0).rstrip(".,;:!?)")
            return {"article": {"source": url, "title": url.split("://", 1)[1][:200]}}
        return None

    def _image(self, item: MediaItem) -> dict[str, str]:
        """Images API: initializeUpload, PUT the bytes to the upload URL, then use the image URN."""
        started = self.http.json(
            "POST",
            "/rest/images?action=initializeUpload",
            json={"initializeUploadRequest": {"owner": self.organization}},
        )["value"]
        self.http.request(
            "PUT", str(started["uploadUrl"]), content=item.data, headers={"Content-Type": item.mime_type}
        )
        image: dict[str, str] = {"id": str(started["image"])}
        if item.alt_text:
            image["altText"] = item.alt_text[:4086]
        return image

    def _comment(self, post: OutgoingPost) -> PublishedPost:
        target = str(post.reply_to)
        if post.media:
            raise self._unsupported(_lazy("images in comments"))
        if not post.text.strip():
            raise ContentRejected(_("A comment needs text."))
        if len(post.text) > MAX_COMMENT:
            raise ContentRejected(
                _("LinkedIn comments are limited to %(limit)d characters.") % {"limit": MAX_COMMENT}
            )
        body: dict[str, Any] = {"actor": self.organization, "message": {"text": post.text}}
        nested = _COMMENT_URN.match(target)
        if nested:
            body["object"] = nested.group(1)
            body["parentComment"] = target
        elif _post_urn(target) or target.startswith("urn:li:activity:"):
            body["object"] = target
        else:
            raise RemoteNotFound(_("%(id)s is not a LinkedIn post or comment.") % {"id": target[:80]})
        created = self.http.json("POST", f"/rest/socialActions/{urn(target)}/comments", json=body)
        remote_id = str(created.get("commentUrn") or created.get("$URN") or created.get("id"))
        return PublishedPost(
            remote_id=remote_id,
            url=WEB_URL + str(body["object"]),
            created_at=_ms(created.get("created", {}).get("time")),
        )

    def find_own_post(
        self, idempotency_key: str, post: OutgoingPost | None = None, since: datetime | None = None
    ) -> PublishedPost | None:
        """LinkedIn keeps no idempotency key: look among the organization's latest posts for the same text."""
        if post is None:
            raise ConnectorError(
                _("LinkedIn keeps no idempotency keys: finding a post needs its text and attempt time.")
            )
        wanted = escape_little_text(post.text).strip()
        floor = (since - CLOCK_SKEW) if since else None
        for element in self._own_posts(50):
            if str(element.get("commentary") or "").strip() != wanted:
                continue
            created = _ms(element.get("createdAt"))
            if floor and created < floor:
                continue
            remote_id = str(element["id"])
            return PublishedPost(remote_id=remote_id, url=WEB_URL + remote_id, created_at=created)
        return None

    def _own_posts(self, count: int) -> list[dict[str, Any]]:
        page = self.http.json(
            "GET", f"/rest/posts?author={urn(self.organization)}&q=author&count={count}&sortBy=LAST_MODIFIED"
        )
        return list(page.get("elements") or [])

    # -- reading

    def fetch_inbound(self, cursor: str | None = None, limit: int = 100) -> InboundPage:
        """Comments by others on the organization's latest posts, oldest first, since `cursor`.

        LinkedIn's comment lists have no "since" filter, so the connector reads the comments of
        the latest `posts_to_watch` posts and keeps, in the cursor, the newest comment time and
        the ids seen in the hour before it. The first read returns the newest `limit` comments.
        """
        limit = max(1, limit)
        state = _decode(cursor)
        comments: list[dict[str, Any]] = []
        for element in self._own_posts(self.posts_to_watch):
            page = self.http.json(
                "GET",
                f"/rest/socialActions/{urn(str(element['id']))}/comments?count={COMMENTS_PER_POST}",
            )
            for comment in page.get("elements") or ():
                if comment.get("actor") == self.organization:
                    continue  # our own replies
                comments.append(comment)
        comments.sort(key=lambda c: (int(c.get("created", {}).get("time") or 0), _comment_key(c)))
        if state is None:
            chosen = comments[-limit:]
            state = {"mark": 0, "floor": int(chosen[0]["created"]["time"]) if chosen else 0, "seen": {}}
        else:
            fresh = [
                c
                for c in comments
                if _comment_key(c) not in state["seen"]
                and int(c["created"]["time"]) >= state["floor"]
                and int(c["created"]["time"]) > state["mark"] - OVERLAP_MS
            ]
            chosen = fresh[:limit]
        for comment in chosen:
            moment = int(comment["created"]["time"])
            state["seen"][_comment_key(comment)] = moment
            state["mark"] = max(state["mark"], moment)
        horizon = state["mark"] - OVERLAP_MS
        state["seen"] = {k: v for k, v in state["seen"].items() if v >= horizon}
        return InboundPage(
            items=[self._item(c) for c in chosen], cursor=json.dumps(state, separators=(",", ":"))
        )

    def _item(self, comment: dict[str, Any]) -> InboundItem:
        key = _comment_key(comment)
        actor = str(comment.get("actor") or "")
        parent = comment.get("parentComment")
        post = str(comment.get("object") or "")
        return InboundItem(
            remote_id=key,
            kind=InboundKind.COMMENT,
            # LinkedIn shares members' names only through APIs an organization app rarely has.
            author=RemoteAuthor(remote_id=actor, handle=actor),
            text=str((comment.get("message") or {}).get("text") or ""),
            created_at=_ms((comment.get("created") or {}).get("time")),
            url=WEB_URL + post if post else "",
            in_reply_to=str(parent) if parent else post or None,
            conversation_key=post,
            raw=comment,
        )

    # -- moderation

    def delete(self, remote_id: str) -> None:
        nested = _COMMENT_URN.match(remote_id)
        if nested:
            self.http.request(
                "DELETE",
                f"/rest/socialActions/{urn(nested.group(1))}/comments/{nested.group(2)}?actor={urn(self.organization)}",
            )
            return
        self.http.request("DELETE", f"/rest/posts/{urn(remote_id)}")

    # -- metrics

    def post_metrics(self, remote_ids: Sequence[str]) -> list[PostMetrics]:
        shares = [i for i in remote_ids if i.startswith("urn:li:share:")]
        ugc = [i for i in remote_ids if i.startswith("urn:li:ugcPost:")]
        rows: list[PostMetrics] = []
        for name, ids in (("shares", shares), ("ugcPosts", ugc)):
            if not ids:
                continue
            path = (
                "/rest/organizationalEntityShareStatistics?q=organizationalEntity"
                f"&organizationalEntity={urn(self.organization)}&{name}=List({','.join(urn(i) for i in ids)})"
            )
            for element in self.http.json("GET", path).get("elements") or ():
                stats = element.get("totalShareStatistics") or {}
                rows.append(
                    PostMetrics(
                        remote_id=str(element.get("share") or element.get("ugcPost")),
                        likes=int(stats.get("likeCount") or 0),
                        reposts=int(stats.get("shareCount") or 0),
                        replies=int(stats.get("commentCount") or 0),
                        impressions=int(stats.get("impressionCount") or 0),
                    )
                )
        return rows

    # -- sign-in

    @classmethod
    def authorization_url(cls, client: OAuthClient, redirect_uri: str, state: str, code_verifier: str) -> str:
        """The verifier is not sent: LinkedIn's web flow uses the client secret, not PKCE (see oauth.py)."""
        return oauth.authorization_url(client, redirect_uri, state)

    @classmethod
    def complete_authorization(
        cls, client: OAuthClient, redirect_uri: str, code: str, code_verifier: str, *, issuer: str = ""
    ) -> ConnectedAccount:
        """Exchange the code, then offer every organization the member administers.

        The first approved one is returned, the others (in LinkedIn's order) as alternatives; each
        acts with the same member token and names its own organization in `external_id`.
        """
        credentials, expires_at = oauth.exchange_code(client, redirect_uri, code)
        if client.base_url:
            credentials["base_url"] = client.base_url
        api = LinkedInHTTP(client.base_url or API_BASE_URL, credentials["access_token"])
        try:
            organizations = _administered_organizations(api)
            if not organizations:
                raise AuthenticationFailed(
                    _("This LinkedIn member administers no organization page; sign in as its administrator.")
                )
            accounts = [
                ConnectedAccount(
                    info=_organization_info(
                        api.json("GET", f"/rest/organizations/{org_urn.rsplit(':', 1)[1]}")
                    ),
                    credentials=dict(credentials),
                    expires_at=expires_at,
                )
                for org_urn in organizations
            ]
        finally:
            api.close()
        return replace(accounts[0], alternatives=tuple(accounts[1:]))


def _administered_organizations(api: LinkedInHTTP) -> list[str]:
    """The URNs of the organizations the member administers (approved), in LinkedIn's order, every page."""
    found: list[str] = []
    start = 0
    for _page in range(MAX_ACL_PAGES):
        query = "/rest/organizationAcls?q=roleAssignee&role=ADMINISTRATOR&state=APPROVED"
        acls = api.json("GET", query + (f"&start={start}" if start else ""))
        elements = [e for e in acls.get("elements") or () if isinstance(e, dict)]
        for element in elements:
            organization = str(element.get("organization") or "")
            if organization.startswith("urn:li:organization:") and organization not in found:
                found.append(organization)
        links = (acls.get("paging") or {}).get("links") or ()
        if not elements or not any(isinstance(link, dict) and link.get("rel") == "next" for link in links):
            break
        start += len(elements)
    return found


def _organization_info(organization: dict[str, Any]) -> AccountInfo:
    org_urn = f"urn:li:organization:{organization['id']}"
    return AccountInfo(
        external_id=org_urn,
        handle=str(organization.get("vanityName") or org_urn),
        display_name=str(organization.get("localizedName") or organization.get("vanityName") or org_urn),
    )


def _comment_key(comment: Mapping[str, Any]) -> str:
    return str(comment.get("commentUrn") or comment.get("$URN") or comment.get("id"))


def _decode(cursor: str | None) -> dict[str, Any] | None:
    if not cursor:
        return None
    try:
        data = json.loads(cursor)
        return {
            "mark": int(data["mark"]),
            "floor": int(data["floor"]),
            "seen": {str(k): int(v) for k, v in dict(data["seen"]).items()},
        }
    except (ValueError, TypeError, KeyError):
        return None
