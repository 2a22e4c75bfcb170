"""The detection settings page and API: watches listed per brand, sensitivity changed only by people
who manage the brand (audited), surges with their explanation escaped; scopes and tenancy."""

from __future__ import annotations

import pytest
from django.test import Client

from tertulia.api.actions import create_token
from tertulia.api.scopes import allowed_scopes
from tertulia.api.tests.conftest import Api
from tertulia.core.actions.context import Actor
from tertulia.core.models import AuditEntry, Organization, User
from tertulia.core.permissions import membership, permissions_of
from tertulia.crisis.detection import settings as detection
from tertulia.crisis.detection.baseline import HourCount, learn
from tertulia.crisis.detection.counting import ensure_watches
from tertulia.crisis.models import Sensitivity, Surge, Watch, WatchKind
from tertulia.crisis.tests.alerts_support import HOSTILE, Team, make_surge, team

__all__ = ["team"]


def browser(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def token(user: User, org: Organization, scopes: list[str] | None = None) -> str:
    if scopes is None:
        scopes = allowed_scopes(permissions_of(membership(user, org)))
    return create_token(Actor.system("tests"), user, org, "t", scopes)[1]


def _hostile_surge(team: Team) -> None:
    make_surge(
        team.brand,
        explanation={
            "metric": "volume",
            "top_terms": [{"term": HOSTILE, "count": 9}],
            "authors": [{"handle": HOSTILE, "followers": 5}],
            "examples": [{"text": HOSTILE, "author": HOSTILE, "url": "javascript:alert(1)"}],
        },
    )


def _watch(team: Team) -> Watch:
    ensure_watches()
    return Watch.objects.get(brand=team.brand, kind=WatchKind.BRAND)


def test_the_page_lists_watches_and_surges_escaped(team: Team) -> None:
    watch = _watch(team)
    _hostile_surge(team)
    html = browser(team.oncall).get("/crisis/detection/").content.decode()
    assert f'id="watch-{watch.pk}"' in html and "Still learning" in html
    assert "<script>alert" not in html and "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    assert 'href="javascript:' not in html
    # A community manager sees the sensitivity but has no form to change it.
    assert f"/crisis/detection/watches/{watch.pk}/sensitivity/" not in html
    assert (
        f"/crisis/detection/watches/{watch.pk}/sensitivity/"
        in browser(team.manager).get("/crisis/detection/").content.decode()
    )
    # Once learned: the busiest hour and the usual negative share.
    hours = [HourCount(h % 168, 120 if h % 24 == 13 else 30, 6, 400) for h in range(24 * 14)]
    Watch.objects.filter(pk=watch.pk).update(baseline=learn(hours).as_json())
    html = browser(team.oncall).get("/crisis/detection/").content.decode()
    row = html.split(f'id="watch-{watch.pk}"')[1].split("</tr>")[0]
    assert "Still learning" not in row and "Up to 1" in row and "messages an hour" in row


def test_only_brand_managers_change_the_sensitivity_and_it_is_audited(team: Team) -> None:
    watch = _watch(team)
    url = f"/crisis/detection/watches/{watch.pk}/sensitivity/"
    assert browser(team.oncall).post(url, {"sensitivity": "high"}).status_code == 403
    manager = browser(team.manager)
    assert manager.get(url).status_code == 405
    manager.post(url, {"sensitivity": "nonsense"})
    watch.refresh_from_db()
    assert watch.sensitivity == Sensitivity.NORMAL
    assert manager.post(url, {"sensitivity": "high"}).status_code == 302
    watch.refresh_from_db()
    assert watch.sensitivity == Sensitivity.HIGH
    entry = AuditEntry.objects.get(action="crisis.watch.sensitivity")
    assert entry.changes == {"sensitivity": ["normal", "high"]}
    # Another organization's owner cannot reach it.
    assert browser(team.rival).post(url, {"sensitivity": "low"}).status_code == 404
    assert not detection.watches_for(team.elsewhere, team.org).filter(pk=watch.pk).exists()


@pytest.fixture
def api() -> Api:
    return Api()


def test_the_api(api: Api, team: Team) -> None:
    watch = _watch(team)
    _hostile_surge(team)
    reader = token(team.oncall, team.org)
    listed = api.get("/crisis/watches", reader)
    assert listed.status == 200 and watch.pk in [w["id"] for w in listed.body]
    got = next(w for w in listed.body if w["id"] == watch.pk)
    assert got["sensitivity"] == "normal" and got["learning"] is True and len(got["usual_per_hour"]) == 24
    surges = api.get("/crisis/surges", reader)
    assert surges.status == 200 and surges.body["items"][0]["explanation"]["examples"][0]["text"] == HOSTILE
    surge_id = surges.body["items"][0]["id"]
    assert api.get(f"/crisis/surges/{surge_id}", reader).body["watch_id"] == watch.pk
    assert api.get("/crisis/surges?open=false", reader).body["items"] == []
    # Nothing expected (a watch's first messages ever): the ratio is unknown, not 0.
    Surge.objects.filter(pk=surge_id).update(expected=0.0, ratio=0.0)
    assert api.get(f"/crisis/surges/{surge_id}", reader).body["ratio"] is None
    # A community manager may read, not change; a read-only token cannot write at all.
    assert api.patch(f"/crisis/watches/{watch.pk}", reader, {"sensitivity": "high"}).status == 403
    manager_read = token(team.manager, team.org, ["crisis:read"])
    assert api.patch(f"/crisis/watches/{watch.pk}", manager_read, {"sensitivity": "high"}).status == 403
    manager = token(team.manager, team.org)
    changed = api.patch(f"/crisis/watches/{watch.pk}", manager, {"sensitivity": "low"})
    assert changed.status == 200 and changed.body["sensitivity"] == "low"
    assert api.patch(f"/crisis/watches/{watch.pk}", manager, {"sensitivity": "loud"}).status == 422
    # Tenancy: another brand's member, another organization: 404 and empty lists.
    elsewhere = token(team.elsewhere, team.org)
    assert watch.pk not in [w["id"] for w in api.get("/crisis/watches", elsewhere).body]
    assert api.get(f"/crisis/surges/{surge_id}", elsewhere).status == 404
    rival = token(team.rival, team.rival_org)
    assert api.get("/crisis/surges", rival).body["items"] == []
    assert api.patch(f"/crisis/watches/{watch.pk}", rival, {"sensitivity": "high"}).status == 404
