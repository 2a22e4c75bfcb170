from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from tertulia.connectors.base import (
    AuthenticationFailed,
    ChannelAccount,
    ContentRejected,
    InboundKind,
    MediaItem,
    OAuthClient,
    OutgoingPost,
    RateLimited,
    RemoteNotFound,
    TemporaryFailure,
)
from tertulia.connectors.linkedin.connector import LinkedInConnector, escape_little_text
from tertulia.connectors.linkedin.tests.conftest import li_connector
from tertulia.connectors.linkedin.tests.fake import CLIENT_ID, CLIENT_SECRET, ORG, FakeLinkedIn
from tertulia.connectors.registry import connector_class
from tertulia.connectors.signin import SignIn, sign_in_method


def test_registered_and_signs_in_with_oauth():
    assert connector_class("linkedin") is LinkedInConnector
    assert sign_in_method(LinkedInConnector) is SignIn.OAUTH


def test_every_rest_request_carries_the_version_headers(linkedin, connector):
    connector.verify_account()
    request = linkedin.requests[-1]
    assert request.headers["linkedin-version"] == "202505"
    assert request.headers["x-restli-protocol-version"] == "2.0.0"
    assert request.headers["authorization"] == "Bearer AQV-access"
    li_connector(linkedin, version="202601").verify_account()
    assert linkedin.requests[-1].headers["linkedin-version"] == "202601"


def test_publish_text_escapes_little_text(linkedin, connector):
    text = "Hola (equipo) #crisis @marca [nota] <b> a_b *c* ~d~ {e} | \\ 🎉"
    published = connector.publish(OutgoingPost(text=text))
    post = linkedin.posts[published.remote_id]
    assert post["commentary"] == escape_little_text(text)
    assert published.remote_id.startswith("urn:li:share:")
    assert published.url.endswith(published.remote_id)
    body = linkedin.requests[-1].body
    assert body["author"] == ORG and body["distribution"]["feedDistribution"] == "MAIN_FEED"
    assert "content" not in body


def test_publish_a_link_as_an_article(linkedin, connector):
    connector.publish(OutgoingPost(text="Read https://blog.example/plan-de-crisis."))
    article = linkedin.requests[-1].body["content"]["article"]
    assert article == {
        "source": "https://blog.example/plan-de-crisis",
        "title": "blog.example/plan-de-crisis",
    }


def test_publish_images_with_alt_text(linkedin, connector):
    one = MediaItem("image/png", b"\x89PNG one", alt_text="Un gráfico")
    two = MediaItem("image/jpeg", b"\xff\xd8 two")
    connector.publish(OutgoingPost(text="Una imagen", media=[one]))
    media = linkedin.requests[-1].body["content"]["media"]
    assert media["altText"] == "Un gráfico"
    assert linkedin.images[media["id"]] == {"uploaded": True, "bytes": b"\x89PNG one", "type": "image/png"}
    connector.publish(OutgoingPost(text="Dos", media=[one, two]))
    images = linkedin.requests[-1].body["content"]["multiImage"]["images"]
    assert len(images) == 2 and "altText" not in images[1]
    methods = [(r.method, r.path.split("/")[1]) for r in linkedin.requests]
    assert methods.count(("PUT", "upload")) == 3
    with pytest.raises(ContentRejected):
        connector.publish(OutgoingPost(text="video", media=[MediaItem("video/mp4", b"x")]))


def test_duplicate_post_returns_the_existing_post(linkedin, connector):
    first = connector.publish(OutgoingPost(text="Same text twice"))
    again = connector.publish(OutgoingPost(text="Same text twice", idempotency_key="k2"))
    assert again.remote_id == first.remote_id
    assert len(linkedin.posts) == 1


def test_a_lost_answer_then_duplicate_is_reconciled(linkedin, connector):
    linkedin.lose_next_answer = True
    with pytest.raises(TemporaryFailure):
        connector.publish(OutgoingPost(text="Launch day"))
    [created] = linkedin.posts.values()
    retried = connector.publish(OutgoingPost(text="Launch day"))  # the retry hits DUPLICATE_POST
    assert retried.remote_id == created["id"]


def test_duplicate_found_only_by_the_urn_in_the_message(linkedin, connector):
    old = linkedin.add_post(escape_little_text("Old text"))
    linkedin.posts[old["id"]]["createdAt"] = 0  # too old for find_own_post's window
    published = connector.publish(OutgoingPost(text="Old text"))
    assert published.remote_id == old["id"]


def test_find_own_post(linkedin, connector):
    published = connector.publish(OutgoingPost(text="Find (me)"))
    found = connector.find_own_post("k", OutgoingPost(text="Find (me)"))
    assert found is not None and found.remote_id == published.remote_id
    assert connector.find_own_post("k", OutgoingPost(text="Not there")) is None


def test_comments_are_read_and_our_own_replies_skipped(linkedin, connector):
    post = linkedin.add_post("Our post")
    c1 = linkedin.add_comment(post["id"], "¡Genial! عربي")
    first = connector.fetch_inbound(None)
    [item] = first.items
    assert item.kind is InboundKind.COMMENT and item.remote_id == c1["commentUrn"]
    assert item.text == "¡Genial! عربي" and item.author.remote_id == "urn:li:person:8675309"
    assert item.conversation_key == post["id"] and item.created_at.tzinfo is not None
    reply = connector.publish(OutgoingPost(text="Gracias", reply_to=c1["commentUrn"]))
    body = linkedin.requests[-1].body
    assert body == {
        "actor": ORG,
        "message": {"text": "Gracias"},
        "object": post["id"],
        "parentComment": c1["commentUrn"],
    }
    assert reply.remote_id.startswith("urn:li:comment:(")
    c2 = linkedin.add_comment(post["id"], "Otra")
    page = connector.fetch_inbound(first.cursor)
    assert [i.remote_id for i in page.items] == [c2["commentUrn"]]  # not our reply, not c1 again
    assert connector.fetch_inbound(page.cursor).items == []


def test_delete_a_comment_and_a_post(linkedin, connector):
    post = linkedin.add_post("Post")
    comment = linkedin.add_comment(post["id"], "bad")
    connector.delete(comment["commentUrn"])
    assert linkedin.comments[post["id"]] == []
    assert linkedin.requests[-1].query == {"actor": [ORG]}
    connector.delete(post["id"])
    assert post["id"] not in linkedin.posts
    with pytest.raises(RemoteNotFound):
        connector.delete(post["id"])


def test_metrics(linkedin, connector):
    published = connector.publish(OutgoingPost(text="Stats"))
    linkedin.add_comment(published.remote_id, "one")
    [row] = connector.post_metrics([published.remote_id])
    assert (row.likes, row.reposts, row.replies, row.impressions) == (9, 2, 1, 120)
    assert connector.account_metrics().followers == 1234


@pytest.mark.parametrize(
    ("status", "body", "headers", "error"),
    [
        (401, {"message": "expired"}, {}, AuthenticationFailed),
        (403, {"message": "no permission"}, {}, ContentRejected),
        (404, {"message": "gone"}, {}, RemoteNotFound),
        (422, {"message": "bad"}, {}, ContentRejected),
        (429, {"message": "slow down"}, {"Retry-After": "30"}, RateLimited),
        (500, {"message": "oops"}, {}, TemporaryFailure),
        (503, {"message": "oops"}, {}, TemporaryFailure),
    ],
)
def test_errors_are_mapped(linkedin, connector, status, body, headers, error):
    linkedin.fail_next = (status, body, headers)
    with pytest.raises(error):
        connector.verify_account()


def test_a_bad_token_is_authentication_failed(linkedin):
    with pytest.raises(AuthenticationFailed):
        li_connector(linkedin, token="wrong").verify_account()


def test_oauth_round_trip_and_refresh(linkedin):
    client = OAuthClient(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, base_url=linkedin.url)
    url = LinkedInConnector.authorization_url(client, "https://tertulia.example/cb", "st4te", "verifier" * 6)
    query = parse_qs(urlsplit(url).query)
    assert url.startswith(linkedin.url + "/oauth/v2/authorization?")
    assert (
        query["state"] == ["st4te"]
        and query["client_id"] == [CLIENT_ID]
        and query["response_type"] == ["code"]
    )
    assert "w_organization_social" in query["scope"][0]
    connected = LinkedInConnector.complete_authorization(
        client, "https://tertulia.example/cb", "good-code", "v"
    )
    assert connected.info.external_id == ORG and connected.info.display_name == "Tertulia Demo S.L."
    assert connected.credentials["access_token"] == "AQV-access"
    assert connected.credentials["refresh_token"] == "AQX-refresh"
    assert connected.expires_at is not None
    with pytest.raises(AuthenticationFailed):
        LinkedInConnector.complete_authorization(client, "https://tertulia.example/cb", "bad-code", "v")
    refreshed = li_connector(linkedin).refresh_credentials()
    assert refreshed["refresh_token"] == "AQX-refresh-2" and refreshed["access_token"] == "AQV-access"


def test_refresh_without_a_refresh_token(linkedin):
    connector = LinkedInConnector(
        li_connector(linkedin).account.__class__(
            handle="x",
            external_id=ORG,
            credentials={"access_token": "t"},
            settings={"base_url": linkedin.url},
        )
    )
    with pytest.raises(AuthenticationFailed):
        connector.refresh_credentials()


def test_unreachable(linkedin: FakeLinkedIn):
    connector = li_connector(linkedin)
    linkedin.httpd.shutdown()
    linkedin.httpd.server_close()
    with pytest.raises(TemporaryFailure):
        connector.verify_account()


def _organization(org_id: int, name: str, vanity: str) -> dict[str, object]:
    return {
        "id": org_id,
        "localizedName": name,
        "vanityName": vanity,
        "$URN": f"urn:li:organization:{org_id}",
    }


def _sign_in(linkedin: FakeLinkedIn):
    client = OAuthClient(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, base_url=linkedin.url)
    return LinkedInConnector.complete_authorization(client, "https://tertulia.example/cb", "good-code", "v")


def test_sign_in_offers_every_administered_organization(linkedin):
    linkedin.organizations = {
        "123": _organization(123, "Tertulia Demo S.L.", "tertulia-demo"),
        "456": _organization(456, "Tertulia Norte", "tertulia-norte"),
    }
    connected = _sign_in(linkedin)
    assert (connected.info.external_id, connected.info.handle, connected.info.display_name) == (
        ORG,
        "tertulia-demo",
        "Tertulia Demo S.L.",
    )
    [other] = connected.alternatives
    assert (other.info.external_id, other.info.handle, other.info.display_name) == (
        "urn:li:organization:456",
        "tertulia-norte",
        "Tertulia Norte",
    )
    # The same member token acts for both; the organization is the account's external_id.
    assert other.credentials == connected.credentials
    assert other.credentials["access_token"] == "AQV-access"
    assert other.credentials["refresh_token"] == "AQX-refresh"
    assert other.credentials["base_url"] == linkedin.url
    assert other.expires_at == connected.expires_at is not None
    assert other.alternatives == ()
    # Each one works as a channel of its own.
    channel = ChannelAccount(
        handle=other.info.handle,
        external_id=other.info.external_id,
        credentials=dict(other.credentials),
        settings={"base_url": linkedin.url},
    )
    assert LinkedInConnector(channel).organization == "urn:li:organization:456"


def test_sign_in_with_one_organization_offers_no_alternatives(linkedin):
    connected = _sign_in(linkedin)  # the documented fixture: one organization
    assert connected.info.external_id == ORG and connected.alternatives == ()


def test_sign_in_reads_every_page_of_organization_acls(linkedin):
    linkedin.organizations = {str(n): _organization(n, f"Org {n}", f"org-{n}") for n in range(501, 506)}
    linkedin.acl_page_size = 2
    connected = _sign_in(linkedin)
    assert [a.info.external_id for a in (connected, *connected.alternatives)] == [
        f"urn:li:organization:{n}" for n in range(501, 506)
    ]
    acl_calls = [r for r in linkedin.requests if r.path == "/rest/organizationAcls"]
    assert [r.query.get("start") for r in acl_calls] == [None, ["2"], ["4"]]


def test_sign_in_without_organizations_is_refused(linkedin):
    linkedin.organizations = {}
    with pytest.raises(AuthenticationFailed):
        _sign_in(linkedin)
