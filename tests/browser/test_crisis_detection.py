"""The surge detection page (/crisis/detection/) in chromium against `tertulia demo`: an organization of its
own with two brands, one with a learned rhythm and a recorded surge whose example post is hostile; a brand
manager sees both brands and changes a watch's sensitivity (audited); a member limited to the other brand
sees only that brand and cannot change anything (docs/crisis-detection.md).

The scene is written into the demo's database by a `tertulia manage shell` child process (the demo owns
the database; this test process has no Django set up), which imports `seed_scene` from this module.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import ConsoleLog, Demo, requires_chromium, screenshot_name
from tests.browser.test_governance import sign_in
from tests.browser.test_publishing import record_dialogs
from tests.conftest import REPO_ROOT
from tests.processes import run_tertulia, tertulia_env

pytestmark = [pytest.mark.browser, pytest.mark.slow, requires_chromium]

Page = tuple[Any, ConsoleLog]
HOSTILE = "<img src=x onerror=alert(1)>\u202eRTL 🙂"
HOSTILE_HANDLE = "<b>@periodista</b>"
MARK = "SCENE-JSON:"  # the child's one line of output this test reads (the shell may print more)


# -- In the child process (Django set up by `tertulia manage shell`) -----------------------------------


def seed_scene(suffix: str, password: str) -> None:
    """Two brands, a manager of both, a community manager limited to the second brand; the first brand's
    watch with a week of history, learned by one detection pass, and a surge with a hostile example."""
    from datetime import timedelta

    from django.db import transaction
    from django.utils import timezone

    from tertulia.core.actions.brands import create_brand
    from tertulia.core.actions.context import Actor
    from tertulia.core.actions.organizations import add_member, create_organization
    from tertulia.core.models import BrandAccess, Membership, Role, User
    from tertulia.crisis.detection.baseline import Baseline
    from tertulia.crisis.detection.counting import floor_minute
    from tertulia.crisis.detection.run import detect_all
    from tertulia.crisis.models import Metric, Surge
    from tertulia.crisis.tests.detect_support import brand_watch, seed_history

    system = Actor.system("browser-test")

    def person(label: str) -> User:
        return User.objects.create_user(
            email=f"{label}-{suffix}@example.com", password=password, display_name=label.title()
        )

    now = timezone.now()
    # One transaction: the demo's own minute job creates a watch for every brand it sees and would learn
    # an empty rhythm (kept for hours) if it saw the brand before its history.
    with transaction.atomic():
        org = create_organization(system, f"Detección {suffix}", owner=person("duena"))
        north = create_brand(system, org, name=f"Panadería Norte {suffix}")
        south = create_brand(system, org, name=f"Óptica Sur {suffix}")
        learned, learning = brand_watch(north), brand_watch(south)
        seed_history(learned, floor_minute(now), days=7)
    manager = person("gestora")
    add_member(system, org, manager, Role.BRAND_MANAGER)
    limited = person("limitada")
    add_member(system, org, limited, Role.COMMUNITY_MANAGER)
    membership = Membership.objects.get(organization=org, user=limited)
    membership.all_brands = False
    membership.save(update_fields=["all_brands"])
    BrandAccess.objects.create(membership=membership, brand=south)

    detect_all(now)  # what the demo's minute job does (unless it just did): learns the first brand's rhythm
    learned.refresh_from_db()
    assert Baseline.from_json(learned.baseline).ready, learned.baseline
    # After the pass, so the pass does not judge (and close) it: a surge as detect_all records one.
    started = floor_minute(now) - timedelta(minutes=6)
    example = {
        "source": "message",
        "id": 1,
        "text": HOSTILE,
        "author": HOSTILE_HANDLE,
        "author_name": "",
        "followers": 90_000,
        "url": "javascript:alert(2)",
        "at": (started + timedelta(minutes=2)).isoformat(),
        "sentiment": "negative",
    }
    surge = Surge.objects.create(
        organization=org,
        brand=north,
        watch=learned,
        metric=Metric.VOLUME,
        started_at=started,
        detected_at=started + timedelta(minutes=5),
        window_minutes=5,
        observed=64,
        expected=9.5,
        ratio=6.7,
        p_value=3e-12,
        explanation={
            "metric": "volume",
            "window_minutes": 5,
            "from": started.isoformat(),
            "to": (started + timedelta(minutes=5)).isoformat(),
            "observed": 64,
            "expected": 9.5,
            "ratio": 6.7,
            "p_value": 3e-12,
            "messages": 64,
            "negative": 50,
            "top_terms": [{"term": "<i>intoxicación</i>", "count": 40, "share": 0.6, "lift": 9.0}],
            "authors": [{"handle": HOSTILE_HANDLE, "name": "", "followers": 90_000, "posts": 3}],
            "examples": [example],
        },
    )
    scene = {
        "manager": manager.email,
        "limited": limited.email,
        "learned": learned.pk,
        "learning": learning.pk,
        "surge": surge.pk,
        "north": north.name,
        "south": south.name,
    }
    print(MARK + json.dumps(scene))


def print_audit(watch_id: int) -> None:
    from tertulia.core.models import AuditEntry

    rows = AuditEntry.objects.filter(action="crisis.watch.sensitivity", object_id=str(watch_id))
    print(MARK + json.dumps([{"actor": row.actor_label, "changes": row.changes} for row in rows]))


# -- In the test process --------------------------------------------------------------------------------


def in_demo(demo: Demo, code: str) -> Any:
    """Run `code` in a `tertulia manage shell` on the demo's database; what it printed after MARK."""
    done = run_tertulia(
        "manage",
        "shell",
        "-c",
        f"from tests.browser.test_crisis_detection import print_audit, seed_scene; {code}",
        # The child imports this module: the clone's root on its path, wherever pytest was started.
        env=tertulia_env(demo.data_dir, PYTHONPATH=str(REPO_ROOT)),
        timeout=180,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    line = next((line for line in done.stdout.splitlines() if line.startswith(MARK)), None)
    assert line is not None, done.stdout[-3000:]
    return json.loads(line[len(MARK) :])


def in_english(tab: Any) -> None:
    if tab.get_attribute("html", "lang") != "en":
        tab.eval_on_selector("#language-form select[name=language]", "select => { select.value = 'en'; }")
        with tab.expect_navigation():
            tab.click("#language-form button[type=submit]")
    assert tab.get_attribute("html", "lang") == "en"


def shot(tab: Any, ci_logs: Path, index: int, label: str) -> None:
    tab.screenshot(path=str(ci_logs / screenshot_name(index, f"crisis-detection-{label}")), full_page=True)


def test_detection_page_manager_changes_sensitivity_limited_member_sees_one_brand(
    page: Page, demo: Demo, ci_logs: Path
) -> None:
    tab, log = page
    dialogs = record_dialogs(tab)
    password = f"clave-{secrets.token_urlsafe(12)}"
    suffix = secrets.token_hex(3)
    scene = in_demo(demo, f"seed_scene({suffix!r}, {password!r})")
    url = f"{demo.base_url}/crisis/detection/"
    learned, learning = f"#watch-{scene['learned']}", f"#watch-{scene['learning']}"

    # The manager sees both brands' watches: the learned rhythm on one, still learning on the other.
    sign_in(tab, demo.base_url, scene["manager"], password)
    in_english(tab)
    response = tab.goto(url)
    assert response is not None and response.status == 200
    assert scene["north"] in tab.locator(learned).inner_text()
    assert scene["south"] in tab.locator(learning).inner_text()
    rhythm = tab.locator(f"{learned} td").nth(2).inner_text()
    assert "messages an hour at the busiest time" in rhythm and "negative share" in rhythm, rhythm
    assert "Still learning" in tab.locator(f"{learning} td").nth(2).inner_text()

    # The surge, its hostile example shown as text once the details open.
    surge = tab.locator(f"#surge-{scene['surge']}")
    assert scene["north"] in surge.locator("h3").inner_text()
    surge.locator("summary").click()
    quote = surge.locator("blockquote")
    assert quote.is_visible()
    assert quote.inner_text() == HOSTILE
    assert HOSTILE_HANDLE in surge.inner_text()
    assert "<i>intoxicación</i>" in surge.inner_text()
    assert surge.locator("img, b, i, script").count() == 0, "explanation text was rendered as HTML"
    assert surge.locator("a[href^='javascript']").count() == 0, "a javascript: link was rendered"
    shot(tab, ci_logs, 80, "manager")

    # The manager makes the second brand's watch more sensitive.
    tab.select_option(f"#sensitivity-{scene['learning']}", "high")
    with tab.expect_navigation():
        tab.click(f"{learning} button[type=submit]")
    assert tab.url == url
    assert "Sensitivity saved." in tab.content()
    tab.reload()
    assert tab.locator(f"#sensitivity-{scene['learning']}").input_value() == "high"
    assert tab.locator(f"#sensitivity-{scene['learned']}").input_value() == "normal"
    audit = in_demo(demo, f"print_audit({scene['learning']})")
    assert len(audit) == 1, audit
    assert audit[0]["changes"] == {"sensitivity": ["normal", "high"]}
    assert audit[0]["actor"] == scene["manager"], audit
    shot(tab, ci_logs, 81, "saved")

    # The member limited to the second brand: only its watch, no form, no other brand's surge.
    tab.context.clear_cookies()
    sign_in(tab, demo.base_url, scene["limited"], password)
    in_english(tab)
    response = tab.goto(url)
    assert response is not None and response.status == 200
    assert tab.locator(learning).is_visible()
    assert tab.locator(learned).count() == 0, "a limited member sees another brand's watch"
    assert tab.locator(f"#surge-{scene['surge']}").count() == 0, "a limited member sees another brand's surge"
    assert scene["north"] not in tab.content()
    assert tab.locator("#watch-list select, #watch-list form").count() == 0
    assert "High" in tab.locator(f"{learning} td").nth(3).inner_text()
    shot(tab, ci_logs, 82, "limited")

    # Posting anyway is refused, and changes nothing.
    token = tab.locator("input[name=csrfmiddlewaretoken]").first.get_attribute("value")
    assert token
    for watch_id in (scene["learning"], scene["learned"]):
        refused = tab.request.post(
            f"{demo.base_url}/crisis/detection/watches/{watch_id}/sensitivity/",
            form={"csrfmiddlewaretoken": token, "sensitivity": "low"},
            headers={"Referer": url},
            max_redirects=0,
        )
        # Refused before the watch is looked up: changing sensitivity needs Perm.MANAGE_BRANDS.
        assert refused.status == 403, f"watch {watch_id}: {refused.status}"
    assert len(in_demo(demo, f"print_audit({scene['learning']})")) == 1
    assert len(in_demo(demo, f"print_audit({scene['learned']})")) == 0

    assert not dialogs, f"hostile text opened a dialog: {dialogs}"
    assert not log.errors, f"the browser console reported errors: {log.errors}"
