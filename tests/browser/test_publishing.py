"""Publishing in a real browser against `tertulia demo`: the composer's live check and previews, the
post the demo's worker publishes, dragging a post on the calendar, and the media library's focal point.

The demo brand "La Despensa del Sur" has posts at every stage (tertulia.demo.publishing): the one
going out now is published by the demo's worker within seconds of the start, and "Apertura en
Sevilla" is scheduled for tomorrow at 10:00 in the brand's time zone (Europe/Madrid).
"""

from __future__ import annotations

import re
import time
import zoneinfo
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import ConsoleLog, Demo, requires_chromium, screenshot_name
from tests.browser.test_demo_tour import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow, requires_chromium]

Page = tuple[Any, ConsoleLog]
ZONE = zoneinfo.ZoneInfo("Europe/Madrid")  # the demo brand's time zone
SANDBOX_LIMIT = 500  # characters, the sandbox network's limit
HOSTILE = "<img src=x onerror=alert(1)> \u202eabc #Sevilla https://example.com"
BAD = "rgb(161, 27, 27)"  # --bad in tertulia.css


def shot(tab: Any, ci_logs: Path, index: int, label: str) -> None:
    tab.screenshot(path=str(ci_logs / screenshot_name(index, label)), full_page=True)


def record_dialogs(tab: Any) -> list[str]:
    """Every alert/confirm/prompt the page opens, dismissed: hostile text must never open one."""
    dialogs: list[str] = []

    def refuse(dialog: Any) -> None:
        dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    tab.on("dialog", refuse)
    return dialogs


def sign_in_in_english(tab: Any, demo: Demo) -> None:
    """Sign in, in English: the tour switches the demo login to Spanish, and that choice is kept."""
    sign_in(tab, demo)
    if tab.get_attribute("html", "lang") != "en":
        tab.eval_on_selector("#language-form select[name=language]", "select => { select.value = 'en'; }")
        with tab.expect_navigation():
            tab.click("#language-form button[type=submit]")
    assert tab.get_attribute("html", "lang") == "en"


def reload_until(tab: Any, done: Callable[[], bool], timeout: float, what: str) -> None:
    """For pages that do not update themselves: reload until `done()` holds."""
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout:.0f} s")
        tab.wait_for_timeout(1_000)
        tab.reload()


def test_composer_checks_live_and_keeps_hostile_text_inert(page: Page, demo: Demo, ci_logs: Path) -> None:
    tab, log = page
    dialogs = record_dialogs(tab)
    sign_in_in_english(tab, demo)
    tab.goto(f"{demo.base_url}/publish/new/")
    assert tab.locator("#no-verdicts").is_visible(), "verdicts shown before any channel was chosen"
    tab.evaluate("() => { window.__sameDocument = true; }")

    channel = tab.locator("#compose-channels input[name=channels]").first
    channel_id = channel.get_attribute("value")
    channel.check()
    tab.wait_for_selector(f"#verdict-{channel_id}")

    # Over the limit: the check answers as the person types, without a reload.
    tab.fill("#id_text", "x" * (SANDBOX_LIMIT + 20))
    counter = tab.locator(f"#counter-{channel_id}")
    tab.wait_for_selector(f"#counter-{channel_id}.over[data-length='{SANDBOX_LIMIT + 20}']")
    assert counter.get_attribute("data-limit") == str(SANDBOX_LIMIT)
    assert counter.evaluate("el => getComputedStyle(el).color") == BAD, "the over-limit counter is not red"
    errors = tab.locator(f"#verdict-{channel_id} .verdict-errors li").all_inner_texts()
    assert any("20 characters over" in error for error in errors), errors
    assert tab.locator(f"#verdict-{channel_id}").evaluate("el => el.classList.contains('has-errors')")
    assert tab.evaluate("() => window.__sameDocument === true"), "the page was reloaded"
    shot(tab, ci_logs, 30, "compose-over-limit")

    # Hostile text: previewed as text, its hashtag and link highlighted, the override shown as a code.
    tab.fill("#id_text", HOSTILE)
    tab.wait_for_selector(f"#verdict-{channel_id} .preview-text .ent-hashtag")
    assert tab.locator(f"#counter-{channel_id}.over").count() == 0
    preview = tab.locator(f"#verdict-{channel_id} .preview-text")
    shown = preview.inner_text()
    assert "<img src=x onerror=alert(1)>" in shown, shown
    assert preview.locator("img, script, svg").count() == 0, "the preview made elements of the text"
    assert preview.locator(".ent-hashtag").all_inner_texts() == ["#Sevilla"]
    assert preview.locator(".ent-link").all_inner_texts() == ["https://example.com"]
    assert preview.locator(".invisible-char").all_inner_texts() == ["U+202E"]
    assert not tab.locator(f"#verdict-{channel_id} .verdict-errors").count()
    assert tab.evaluate("() => window.__sameDocument === true"), "the page was reloaded"
    shot(tab, ci_logs, 31, "compose-hostile-preview")

    # Saved as a draft: back in the composer with it stored verbatim, and its page shows it as text.
    tab.fill("#id_title", "marcador-compose")
    with tab.expect_navigation():
        tab.click(".compose-actions button[value=save]")
    assert re.search(r"/publish/posts/\d+/edit/$", tab.url), tab.url
    assert tab.locator(".messages li.success").inner_text() == "Draft saved."
    assert tab.locator("#id_text").input_value() == HOSTILE
    assert tab.locator(f"#verdict-{channel_id} .preview-text img").count() == 0
    with tab.expect_navigation():
        tab.click(f"main .meta a[href='{tab.url.removeprefix(demo.base_url).removesuffix('edit/')}']")
    assert re.search(r"/publish/posts/\d+/$", tab.url), tab.url
    assert tab.locator("#post-state.status-draft").is_visible()
    text = tab.locator(".post-text")
    # Shown as written, except the direction override, shown as its code (it would reorder the rest).
    assert text.inner_text() == HOSTILE.replace("\u202e", "U+202E")
    assert text.locator(".invisible-char").all_inner_texts() == ["U+202E"]
    assert text.locator("img, script, svg").count() == 0
    assert tab.locator(f"#verdict-{channel_id} .ent-hashtag").all_inner_texts() == ["#Sevilla"]
    shot(tab, ci_logs, 32, "compose-saved-draft")

    assert not dialogs, f"the hostile text opened dialogs: {dialogs}"
    assert not log.errors, f"the browser console reported errors: {log.errors}"


def test_the_post_due_now_is_published_by_the_worker(page: Page, demo: Demo, ci_logs: Path) -> None:
    tab, log = page
    sign_in_in_english(tab, demo)
    tab.goto(f"{demo.base_url}/publish/")
    row = tab.locator("#post-table tbody tr", has=tab.locator("th a", has_text="Naranjas"))
    assert row.count() == 1, "the demo's post going out now is not in the list"
    reload_until(
        tab, lambda: row.locator(".status-published").count() == 1, 30, "publishing the post due now"
    )
    shot(tab, ci_logs, 33, "publish-list-published")

    with tab.expect_navigation():
        row.locator("th a").click()
    assert tab.locator("#post-state.status-published").is_visible()
    targets = tab.locator("#targets tbody tr")
    assert targets.count() >= 1
    for index in range(targets.count()):
        target = targets.nth(index)
        assert target.locator(".status-sent").count() == 1, target.inner_text()
        link = target.locator("a[target=_blank]")
        assert link.inner_text() == "See it on the network"
        assert (link.get_attribute("href") or "").startswith("https://"), link.get_attribute("href")
        assert link.get_attribute("rel") == "noopener noreferrer"
    shot(tab, ci_logs, 34, "post-published")
    assert not log.errors, f"the browser console reported errors: {log.errors}"


def _chip_day(chip: Any) -> str:
    return str(chip.evaluate("el => el.closest('[data-date]').dataset.date"))


def test_drag_a_scheduled_post_to_another_day(page: Page, demo: Demo, ci_logs: Path) -> None:
    tab, log = page
    # Tall enough for a whole month: Playwright's drag_to cannot scroll between picking up and dropping.
    tab.set_viewport_size({"width": 1280, "height": 1400})
    sign_in_in_english(tab, demo)
    today = datetime.now(ZONE).date()
    tomorrow = today + timedelta(days=1)

    # Days already gone are no drop targets: a month ago, and this month before today.
    tab.goto(f"{demo.base_url}/publish/calendar/?view=month&date={tomorrow - timedelta(days=31)}")
    assert tab.locator("#calendar td.cal-day.past").count() >= 7, "a month ago has no past days"
    assert tab.locator("#calendar td.cal-day.past[data-drop-date]").count() == 0, (
        "a past day is a drop target"
    )

    tab.goto(f"{demo.base_url}/publish/calendar/?view=month&date={tomorrow}")
    cells = tab.locator("#calendar td.cal-day")
    for index in range(cells.count()):
        cell = cells.nth(index)
        day = date.fromisoformat(str(cell.get_attribute("data-date")))
        droppable = cell.get_attribute("data-drop-date") is not None
        assert droppable == (day >= today), f"{day}: drop target {droppable}, today is {today}"

    chip = tab.locator("#calendar .cal-chip[draggable=true]", has_text="Apertura en Sevilla")
    assert chip.count() == 1, "the scheduled post is not on the calendar, or cannot be moved"
    assert _chip_day(chip) == tomorrow.isoformat()
    assert chip.locator("[data-chip-time]").inner_text() == "10:00"
    post_path = chip.locator("a.cal-chip-link").get_attribute("href")

    moves: list[str] = []
    tab.on("request", lambda request: moves.append(request.url) if "/move/" in request.url else None)
    tab.evaluate(
        "() => { window.__drags = 0; document.addEventListener('dragend', () => { window.__drags += 1; }); }"
    )

    # Onto a past day (if this grid has one): the drag happens, but nothing moves and nothing is sent.
    gone = tab.locator("#calendar td.cal-day.past")
    if gone.count():
        chip.drag_to(gone.last)
        tab.wait_for_function("() => window.__drags === 1")
        tab.wait_for_timeout(300)  # time for a move to start, if the page wrongly sent one
        assert not moves, "dropping on a past day sent a move"
        assert not tab.locator("#cal-status").inner_text().strip()
        assert _chip_day(chip) == tomorrow.isoformat()

    # Onto a later day: it keeps its time of day. (When tomorrow ends the month's grid, use the
    # week view and a later hour of the same day instead.)
    later = tab.locator("#calendar td.cal-day[data-drop-date]").evaluate_all(
        "(cells, after) => cells.map(c => c.dataset.dropDate).filter(d => d > after)", tomorrow.isoformat()
    )
    if later:
        goal_day, goal_time = later[0], "10:00"
        goal = tab.locator(f"#calendar td[data-drop-date='{goal_day}']")
    else:
        tab.goto(f"{demo.base_url}/publish/calendar/?view=week&date={tomorrow}")
        chip = tab.locator("#calendar .cal-chip[draggable=true]", has_text="Apertura en Sevilla")
        goal_day, goal_time = tomorrow.isoformat(), "12:00"
        goal = tab.locator(f"#calendar td[data-drop-date='{goal_day}'][data-drop-hour='12']")
    with tab.expect_response(lambda response: "/move/" in response.url) as answer:
        chip.drag_to(goal)
    assert answer.value.status == 200, answer.value.text()
    tab.wait_for_function(
        "() => { const s = document.getElementById('cal-status');"
        " return s.textContent.startsWith('Moved to') || s.classList.contains('error'); }"
    )
    assert tab.locator("#cal-status:not(.error)").count() == 1, tab.locator("#cal-status").inner_text()
    assert _chip_day(chip) == goal_day
    assert not chip.evaluate("el => el.classList.contains('saving')")
    shot(tab, ci_logs, 35, "calendar-dropped")

    # The server has it: after a reload the chip is on the new day, and so is the post.
    tab.reload()
    chip = tab.locator("#calendar .cal-chip", has_text="Apertura en Sevilla")
    assert _chip_day(chip) == goal_day
    assert chip.locator("[data-chip-time]").inner_text() == goal_time
    tab.goto(f"{demo.base_url}{post_path}")
    assert tab.locator("#post-state.status-scheduled").is_visible()
    when = str(tab.locator(".meta time").get_attribute("datetime"))
    assert when.startswith(f"{goal_day}T{goal_time}:00"), when
    shot(tab, ci_logs, 36, "post-moved")
    assert not log.errors, f"the browser console reported errors: {log.errors}"


def _crop_positions(card: Any) -> list[str]:
    return list(
        card.locator(".crops img").evaluate_all("imgs => imgs.map(i => getComputedStyle(i).objectPosition)")
    )


def test_media_library_focal_point_by_click(page: Page, demo: Demo, ci_logs: Path) -> None:
    tab, log = page
    sign_in_in_english(tab, demo)
    tab.goto(f"{demo.base_url}/publish/media/")
    card = tab.locator("#library .asset-card", has_text="molino.jpg")
    assert card.count() == 1
    card_id = card.get_attribute("id")
    x_input, y_input = card.locator("input[data-focal=x]"), card.locator("input[data-focal=y]")
    assert (float(x_input.input_value()), float(y_input.input_value())) == (0.5, 0.5)
    picture = card.locator("[data-focal-picker] img")
    picture.scroll_into_view_if_needed()
    tab.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=picture.element_handle())
    before = _crop_positions(card)
    assert before == ["50% 50%"] * 4, before

    box = picture.bounding_box()
    assert box is not None
    picture.click(position={"x": box["width"] * 0.2, "y": box["height"] * 0.7})
    fx, fy = float(x_input.input_value()), float(y_input.input_value())
    assert fx == pytest.approx(0.2, abs=0.02) and fy == pytest.approx(0.7, abs=0.02), (fx, fy)
    # A 4:3 picture: the square crop slides to the left edge, the landscape one to the bottom.
    after = _crop_positions(card)
    assert after != before, "the crop previews did not follow the click"
    square, _portrait, landscape, _story = after
    assert square == "0% 50%" and landscape == "50% 100%", after
    marker = card.locator("[data-focal-marker]")
    assert marker.evaluate("el => el.style.getPropertyValue('--fx')") == f"{fx * 100:.1f}%"
    shot(tab, ci_logs, 37, "media-focal-clicked")

    with tab.expect_navigation():
        card.locator("form[data-focal-form] button[type=submit]").click()
    card = tab.locator(f"#{card_id}")
    assert float(card.locator("input[data-focal=x]").input_value()) == pytest.approx(fx, abs=0.001)
    assert float(card.locator("input[data-focal=y]").input_value()) == pytest.approx(fy, abs=0.001)
    # The server's crops (classes, no script involved) agree with what the page previewed.
    classes = card.locator(".crops img").evaluate_all("imgs => imgs.map(i => i.className)")
    assert classes[0] == "fx-0 fy-50" and classes[2] == "fx-50 fy-100", classes
    assert _crop_positions(card) == after
    assert card.locator("[data-focal-marker]").get_attribute("class") == (
        f"focal-marker fx-{round(fx * 100)} fy-{round(fy * 100)}"
    )
    shot(tab, ci_logs, 38, "media-focal-saved")
    assert not log.errors, f"the browser console reported errors: {log.errors}"
