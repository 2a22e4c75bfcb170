"""The media library, pauses (crisis mode) and approval workflows through the API."""

from __future__ import annotations

from pathlib import Path

import pytest

from tertulia.api.tests.conftest import Api, Tenant
from tertulia.api.tests.publishing_helpers import *  # noqa: F403  # the fixtures
from tertulia.api.tests.publishing_helpers import draft, png, upload
from tertulia.core.models import Brand, Channel, Role
from tertulia.publishing.delivery.dispatcher import run_once
from tertulia.publishing.models import MediaAsset, Pause, TargetState

pytestmark = pytest.mark.django_db

NOT_AN_IMAGE_ES = "Esto no es una imagen que Tertulia pueda publicar: usa JPEG, PNG, GIF o WebP."


def test_media_library(
    api: Api, tenant: Tenant, tokens: dict[str, str], brand: Brand, channels: list[Channel], media_root: Path
) -> None:
    token = tokens[Role.CONTRIBUTOR]
    name = 'foto <i>navidad<i> "🎄".png'  # no "/": Django keeps only the last part of a name
    first = upload(api, brand.pk, token, png(), name=name, alt_text="Escaparate de Navidad")
    assert first.status == 201, first
    asset = first.body
    assert (asset["mime_type"], asset["width"], asset["height"]) == ("image/png", 400, 300)
    assert asset["original_name"] == name and asset["alt_text"] == "Escaparate de Navidad"
    assert asset["posts"] == 0 and asset["uploaded_by_id"] == tenant.person(Role.CONTRIBUTOR).pk
    # The same bytes again are the same image, whatever they are called.
    same = upload(api, brand.pk, token, png(), name="otra.png", alt_text="ignorada")
    assert (
        same.status == 200
        and same.body["id"] == asset["id"]
        and same.body["alt_text"] == "Escaparate de Navidad"
    )

    path = f"/media/{asset['id']}"
    moved = api.patch(path, token, {"focal_x": 0.25, "alt_text": "Escaparate 🎄 <i>rojo</i>"})
    assert moved.status == 200 and moved.body["focal_x"] == 0.25 and moved.body["focal_y"] == 0.5
    assert moved.body["alt_text"] == "Escaparate 🎄 <i>rojo</i>"
    for bad in ({"focal_y": 1.5}, {"focal_x": -0.1}, {"alt_text": None}, {"alt_text": "x\x00y"}):
        refused = api.patch(path, token, bad)
        assert refused.status == 422 and refused.body["code"] == "validation_error", (bad, refused)
    long = api.patch(path, token, {"alt_text": "a" * 1001})
    assert long.status == 422 and "1000" in long.body["detail"]
    assert api.patch(path, tokens[Role.ANALYST], {"focal_x": 0.1}).body["code"] == "missing_scope"

    downloaded = api.client.get(f"/api/v1{path}/file", HTTP_AUTHORIZATION=f"Bearer {tokens[Role.ANALYST]}")
    assert downloaded.status_code == 200 and downloaded["Content-Type"] == "image/png"
    assert b"".join(downloaded.streaming_content) == png()  # type: ignore[attr-defined]  # a FileResponse
    assert downloaded["X-Content-Type-Options"] == "nosniff"
    listed = api.get(f"/brands/{brand.pk}/media", tokens[Role.ANALYST])
    assert listed.status == 200 and [a["id"] for a in listed.body["items"]] == [asset["id"]]

    post = api.post(f"/brands/{brand.pk}/posts", token, draft(channels, media=[asset["id"]])).body
    assert [m["asset_id"] for m in post["media"]] == [asset["id"]]
    assert post["media"][0]["alt_text"] == "Escaparate 🎄 <i>rojo</i>"
    body = draft(channels, media=[asset["id"]])
    body["variants"][0]["placement"] = "square"
    checked = api.post(f"/brands/{brand.pk}/posts/check", token, body).body
    first_channel, second_channel = checked["channels"]
    assert first_channel["placement"] == "square" and "square" in first_channel["placements"]
    assert second_channel["placement"] in second_channel["placements"]  # the network's usual one
    body["variants"][0]["placement"] = "panorama"
    assert api.post(f"/brands/{brand.pk}/posts/check", token, body).status == 422
    assert api.get(path, token).body["posts"] == 1
    in_use = api.delete(path, token)
    assert in_use.status == 409 and in_use.body["code"] == "in_use"

    spare = upload(api, brand.pk, token, png(color=(0, 0, 255))).body
    assert api.delete(f"/media/{spare['id']}", token).status == 204
    assert api.get(f"/media/{spare['id']}", token).status == 404


def test_uploads_that_are_not_images_are_refused_in_the_callers_language(
    api: Api, tenant: Tenant, tokens: dict[str, str], brand: Brand, media_root: Path
) -> None:
    author = tenant.person(Role.CONTRIBUTOR)
    author.language = "es"
    author.save(update_fields=["language"])
    token = tokens[Role.CONTRIBUTOR]
    html = upload(api, brand.pk, token, b"<html><script>alert(1)</script></html>", name="foto.png")
    assert html.status == 422 and html.body["code"] == "image_refused"
    assert html.body["detail"] == NOT_AN_IMAGE_ES
    assert html.body["errors"][0]["loc"] == ["body", "file"]
    svg = upload(api, brand.pk, token, b'<svg xmlns="http://www.w3.org/2000/svg"/>', name="logo.svg")
    assert svg.status == 422 and "SVG" in svg.body["detail"]
    empty = upload(api, brand.pk, token, b"", name="vacia.png")
    assert empty.status == 422 and empty.body["code"] == "image_refused"
    tiny = upload(api, brand.pk, token, png(20, 20))
    assert tiny.status == 422 and tiny.body["code"] == "image_refused"
    damaged = upload(api, brand.pk, token, png()[:60])
    assert damaged.status == 422 and damaged.body["code"] == "image_refused"
    # No file part at all, or JSON instead of multipart.
    assert (
        api.client.post(
            f"/api/v1/brands/{brand.pk}/media", {"alt_text": "x"}, HTTP_AUTHORIZATION=f"Bearer {token}"
        ).status_code
        == 422
    )
    assert api.post(f"/brands/{brand.pk}/media", token, {"file": "aGVsbG8="}).status == 422
    assert not MediaAsset.objects.exists()


def test_an_upload_over_the_limit_is_413_before_it_is_read(
    api: Api, tokens: dict[str, str], brand: Brand, media_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tertulia.api.routers import publishing_media

    monkeypatch.setattr(publishing_media, "MAX_UPLOAD_BYTES", 1000)
    refused = upload(api, brand.pk, tokens[Role.CONTRIBUTOR], png(800, 800) + b"\x00" * 2000)
    assert refused.status == 413 and refused.body["code"] == "payload_too_large"
    assert "MB" in refused.body["detail"] and not MediaAsset.objects.exists()


def test_pausing_and_resuming(
    api: Api, tenant: Tenant, owner_token: str, tokens: dict[str, str], brand: Brand, channels: list[Channel]
) -> None:
    manager = tokens[Role.BRAND_MANAGER]
    assert api.post("/publishing/pauses", tokens[Role.COMMUNITY_MANAGER], {}).body["code"] == "missing_scope"
    created = api.post(
        "/publishing/pauses",
        manager,
        {"brand_id": brand.pk, "reason": "Incidencia <b>grave</b>", "crisis": True},
    )
    assert created.status == 201, created
    pause = created.body
    assert (
        pause["brand_id"] == brand.pk and pause["is_crisis"] and pause["reason"] == "Incidencia <b>grave</b>"
    )
    assert pause["held"] == 0 and pause["ended_at"] is None
    again = api.post("/publishing/pauses", manager, {"brand_id": brand.pk})
    assert again.status == 200 and again.body["id"] == pause["id"]
    crisis = api.get(f"/brands/{brand.pk}/approval-workflows/crisis", tokens[Role.ANALYST]).body
    assert crisis["configured"] is False and crisis["in_force"] is False and crisis["steps"] == []

    # A post that comes due during the pause waits; crisis mode reviews even the owner's posts.
    post = api.post(f"/brands/{brand.pk}/posts", owner_token, draft(channels)).body
    assert api.post(f"/posts/{post['id']}/submit", owner_token).body["state"] == "in_review"
    approved = api.post(f"/posts/{post['id']}/approve", manager, {"version": 1})
    assert approved.body["state"] == "approved", approved
    api.post(f"/posts/{post['id']}/schedule", owner_token, {})
    run_once("api-pause")
    held = api.get(f"/publishing/pauses?brand_id={brand.pk}", tokens[Role.ANALYST]).body
    assert held["count"] == 1 and held["items"][0]["held"] == 2
    assert {d["state"] for d in api.get(f"/posts/{post['id']}", owner_token).body["deliveries"]} <= {
        TargetState.DUE,
        TargetState.SCHEDULED,
    }

    resumed = api.post(f"/publishing/pauses/{pause['id']}/resume", manager)
    assert resumed.status == 200 and resumed.body["released"] == 2 and resumed.body["ended_at"]
    twice = api.post(f"/publishing/pauses/{pause['id']}/resume", manager)
    assert twice.status == 409 and twice.body["code"] == "wrong_state"
    assert api.get("/publishing/pauses", manager).body["count"] == 0
    assert run_once("api-resume") == 2
    assert api.get(f"/posts/{post['id']}", owner_token).body["state"] == "published"

    everywhere = api.post("/publishing/pauses", manager, {"reason": "todo"})
    assert everywhere.status == 201 and everywhere.body["brand_id"] is None
    assert api.post("/publishing/pauses", manager, {"reason": "x" * 301}).status == 422
    assert Pause.objects.filter(organization=tenant.org, ended_at__isnull=True).count() == 1


def test_approval_workflows(
    api: Api, tenant: Tenant, owner_token: str, tokens: dict[str, str], brand: Brand
) -> None:
    path = f"/brands/{brand.pk}/approval-workflows/normal"
    assert api.get(path, tokens[Role.CONTRIBUTOR]).body == {
        "brand_id": brand.pk,
        "kind": "normal",
        "configured": False,
        "is_active": False,
        "in_force": False,
        "steps": [],
    }
    approver = tenant.person(Role.APPROVER)
    body = {
        "steps": [
            {"name": "Legal ⚖️ <b>", "mode": "all", "roles": ["brand_manager"], "people": [approver.pk]},
            {"name": "Marca", "roles": ["approver"]},
        ]
    }
    assert api.put(path, tokens[Role.COMMUNITY_MANAGER], body).body["code"] == "missing_scope"
    saved = api.put(path, tokens[Role.BRAND_MANAGER], body)
    assert saved.status == 200, saved
    steps = saved.body["steps"]
    assert [(s["position"], s["name"], s["mode"]) for s in steps] == [
        (1, "Legal ⚖️ <b>", "all"),
        (2, "Marca", "any"),
    ]
    assert steps[0]["people"] == [approver.pk] and steps[0]["roles"] == ["brand_manager"]
    assert api.get(path, tokens[Role.ANALYST]).body == saved.body

    refused = api.put(
        path,
        owner_token,
        {"steps": [{"name": " ", "roles": ["analyst"], "people": [999_999]}, {"name": "Vacío"}]},
    )
    assert refused.status == 422 and refused.body["code"] == "validation_error"
    messages = [e["msg"] for e in refused.body["errors"]]
    assert "Step 1 needs a name." in messages and "Step 1: Analyst cannot approve posts." in messages
    assert any(m.startswith("Step 2: name at least one role") for m in messages)
    assert api.put(path, owner_token, {"steps": []}).status == 422
    assert api.put(path, owner_token, {"steps": [{"name": "x", "roles": ["nobody"]}]}).status == 422
    assert api.get(f"/brands/{brand.pk}/approval-workflows/weekly", owner_token).status == 422
    assert api.get(path, owner_token).body["steps"] == steps  # unchanged by the refusals

    off = api.put(path, owner_token, {"is_active": False, "steps": body["steps"]})
    assert off.body["is_active"] is False and off.body["in_force"] is False
