"""Each network's text rules as the composer checks them: counting, limits, entities, UTM tags.

No database: the rules are pure functions. The last tests hold the composer to the connectors:
text the composer accepts must be text the connector accepts at publish time, and the reverse.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tertulia.connectors.base import ChannelAccount, ContentRejected, MediaItem, OutgoingPost
from tertulia.publishing.rules.check import check_text
from tertulia.publishing.rules.entities import (
    EntityKind,
    find_caption_hashtags,
    find_entities,
    find_hashtags,
    find_links,
    find_mentions,
)
from tertulia.publishing.rules.networks import CountUnit, NoRules, publishing_networks, rules_for
from tertulia.publishing.rules.placements import Placement
from tertulia.publishing.rules.utm import add_utm

LONG_URL = "https://tertulia.example/" + "a" * 75  # 100 characters
FAMILY = "👨\u200d👩\u200d👧\u200d👦"
SPAIN = "🇪🇸"
JPEG = MediaItem("image/jpeg", b"\xff\xd8\xff\xe0" + b"\x00" * 32)


def length(network: str, text: str) -> int:
    return check_text(network, text).length


# ---------------------------------------------------------------- counting


def test_x_counts_cjk_double_emoji_sequences_as_two_and_any_link_as_23() -> None:
    assert len(LONG_URL) == 100
    assert length("x", "字") == 2
    assert length("x", "日本語") == 6
    assert length("x", FAMILY) == 2
    assert length("x", "🏳️\u200d🌈") == 2
    assert length("x", LONG_URL) == 23
    assert length("x", f"Mira {LONG_URL}.") == 5 + 23 + 1
    assert rules_for("x").unit is CountUnit.WEIGHTED_CHARACTERS


def test_bluesky_counts_graphemes() -> None:
    assert length("bluesky", FAMILY) == 1
    assert length("bluesky", SPAIN) == 1
    assert length("bluesky", SPAIN + SPAIN) == 2
    assert length("bluesky", "e\u0301") == 1
    assert length("bluesky", "cafe\u0301 con n\u0303") == 10
    assert rules_for("bluesky").unit is CountUnit.GRAPHEMES


def test_bluesky_also_limits_bytes() -> None:
    """300 family emoji are 300 graphemes but 7,500 bytes: Bluesky's lexicon caps the text at 3,000."""
    result = check_text("bluesky", FAMILY * 300)
    assert result.length == 300
    assert result.remaining == 0
    assert result.errors == ("This text takes 7500 bytes; Bluesky stores at most 3000.",)


def test_mastodon_counts_remote_mentions_by_username_and_links_as_23() -> None:
    assert length("mastodon", "@ana@mastodon.social") == len("@ana")
    assert length("mastodon", "hola @ana@mastodon.social") == len("hola @ana")
    assert length("mastodon", "@ana") == 4
    assert length("mastodon", LONG_URL) == 23
    assert length("mastodon", f"{LONG_URL} y @ana@masto.es") == 23 + 3 + 4
    assert rules_for("mastodon").max_length == 500


def test_character_networks_count_code_points() -> None:
    for network in ("sandbox", "facebook", "instagram", "linkedin", "wordpress"):
        assert rules_for(network).unit is CountUnit.CHARACTERS
        assert length(network, FAMILY) == 7
        assert length(network, LONG_URL) == 100


# ---------------------------------------------------------------- limits


def test_the_limits_are_each_networks() -> None:
    limits = {network: rules_for(network).max_length for network in publishing_networks()}
    assert limits == {
        "sandbox": 500,
        "bluesky": 300,
        "mastodon": 500,
        "x": 280,
        "facebook": 63206,
        "instagram": 2200,
        "linkedin": 3000,
        "wordpress": 65525,
    }


@pytest.mark.parametrize("network", publishing_networks())
def test_exactly_at_the_limit_passes_and_one_more_fails(network: str) -> None:
    rules = rules_for(network)
    images = 1 if rules.image_required else 0
    at_limit = check_text(network, "a" * rules.max_length, image_count=images)
    assert at_limit.errors == ()
    assert at_limit.remaining == 0
    over = check_text(network, "a" * (rules.max_length + 1), image_count=images)
    assert over.remaining == -1
    assert len(over.errors) == 1
    singular = str(rules.unit.label)[:-1]  # "1 character", "1 grapheme", "1 weighted character"
    assert f"1 {singular} over {rules.display_name}'s limit of {rules.max_length}" in over.errors[0]


def test_over_the_limit_says_by_how_much_in_the_networks_unit() -> None:
    assert check_text("x", "字" * 141).errors == (
        "This text is 2 weighted characters over X's limit of 280.",
    )
    assert check_text("bluesky", "é" * 302).errors == (
        "This text is 2 graphemes over Bluesky's limit of 300.",
    )
    assert check_text("linkedin", "a" * 3005).errors == (
        "This text is 5 characters over LinkedIn's limit of 3000.",
    )


def test_instagram_caption_limits() -> None:
    assert check_text("instagram", "a" * 2200, image_count=1).ok
    assert not check_text("instagram", "a" * 2201, image_count=1).ok

    thirty = " ".join(f"#tema{n}" for n in range(30))
    assert check_text("instagram", thirty, image_count=1).ok
    too_many = check_text("instagram", thirty + " #otro", image_count=1)
    assert too_many.errors == ("Instagram allows at most 30 hashtags per post; this one has 31.",)

    twenty = " ".join(f"@cuenta_{n}" for n in range(20))
    assert check_text("instagram", twenty, image_count=1).ok
    too_many = check_text("instagram", twenty + " @otra", image_count=1)
    assert too_many.errors == ("Instagram allows at most 20 mentions per post; this one has 21.",)

    assert check_text("instagram", "Solo texto").errors == ("Instagram posts need at least one image.",)
    assert check_text("instagram", "", image_count=1).ok  # a caption may be empty
    assert check_text("instagram", "a", image_count=11).errors == (
        "Instagram takes at most 10 images per post; this one has 11.",
    )


def test_linkedin_limits() -> None:
    assert check_text("linkedin", "a" * 3000).ok
    assert not check_text("linkedin", "a" * 3001).ok
    rules = rules_for("linkedin")
    assert check_text("linkedin", "a", image_count=rules.max_images).ok
    assert not check_text("linkedin", "a", image_count=rules.max_images + 1).ok


def test_other_networks_set_no_hashtag_or_mention_limit() -> None:
    many = " ".join(f"#t{n} @c{n}" for n in range(40))
    for network in ("x", "bluesky", "mastodon", "linkedin", "facebook", "sandbox"):
        errors = check_text(network, many).errors
        assert not [e for e in errors if "hashtag" in e or "mention" in e], network


@pytest.mark.parametrize(
    ("network", "images"),
    [("x", 4), ("bluesky", 4), ("mastodon", 4), ("sandbox", 4), ("facebook", 10), ("instagram", 10)],
)
def test_image_counts(network: str, images: int) -> None:
    assert rules_for(network).max_images == images
    assert check_text(network, "hola", image_count=images).ok
    assert not check_text(network, "hola", image_count=images + 1).ok


def test_empty_posts() -> None:
    assert check_text("x", "").errors == ("The post is empty: write some text or add an image.",)
    assert check_text("mastodon", "  \n ").errors == ("The post is empty: write some text or add an image.",)
    assert check_text("x", "", image_count=1).ok
    assert check_text("wordpress", "").errors == ("The post is empty: write some text.",)
    assert check_text("wordpress", "hola", image_count=1).errors == (
        "WordPress posts cannot carry images here.",
    )


def test_networks_that_cannot_publish_have_no_rules() -> None:
    with pytest.raises(LookupError, match="RSS/Atom does not publish posts"):
        rules_for("feeds")
    with pytest.raises(NoRules, match="no network called myspace"):
        check_text("myspace", "hola")


# ---------------------------------------------------------------- hostile text


def test_markup_is_text_counted_as_written_and_never_altered() -> None:
    hostile = "<script>alert('x')</script><img src=x onerror=alert(1)>"
    for network in ("linkedin", "facebook", "sandbox"):
        result = check_text(network, hostile)
        assert result.length == len(hostile)
        assert result.ok
    assert add_utm(hostile, source="s", campaign="c") == hostile
    tagged = add_utm(f'<a href="{LONG_URL}">x</a><script>', source="s", campaign="c")
    assert tagged == f'<a href="{LONG_URL}?utm_source=s&utm_medium=social&utm_campaign=c">x</a><script>'


@pytest.mark.parametrize("control", ["\u200b", "\u200d", "\u200e", "\u200f", "\u202e", "\u2066", "\u2069"])
def test_invisible_controls_warn_and_are_not_errors(control: str) -> None:
    text = f"Hola{control} mundo"
    for network in ("mastodon", "bluesky", "linkedin", "instagram", "sandbox"):
        result = check_text(network, text, image_count=1)
        assert result.ok, network
        assert result.warnings == (
            "The text contains 1 invisible zero-width or text-direction character; "
            "make sure it is meant to be there.",
        )


def test_x_refuses_direction_overrides_and_byte_order_marks() -> None:
    """twitter-text (and so the X connector) refuses these: on X they are errors, not warnings."""
    result = check_text("x", "Hola \u202e mundo \ufeff")
    assert result.errors == ("X refuses text with these invisible characters: U+202E, U+FEFF. Remove them.",)
    assert result.warnings == ()
    zero_width = check_text("x", "Hola\u200b mundo")
    assert zero_width.ok
    assert len(zero_width.warnings) == 1


def test_nul_and_unpaired_surrogates_are_refused_everywhere() -> None:
    for network in publishing_networks():
        assert (
            "The text contains a NUL character, which no network accepts."
            in check_text(network, "a\x00").errors
        )
        broken = check_text(network, "a\ud83d")
        assert (
            "The text contains unpaired surrogates (broken Unicode), which no network accepts."
            in broken.errors
        )


def test_missing_alt_text_warns_where_alt_text_exists() -> None:
    result = check_text("mastodon", "hola", image_count=3, images_missing_alt=2)
    assert result.ok
    assert result.warnings == (
        "2 images have no description (alt text); people using screen readers will miss them.",
    )
    single = check_text("x", "hola", image_count=1, images_missing_alt=1)
    assert single.warnings == (
        "1 image has no description (alt text); people using screen readers will miss it.",
    )
    # Instagram's publishing takes no alt text here: nothing the person could do about it.
    assert not rules_for("instagram").alt_text
    assert check_text("instagram", "hola", image_count=1, images_missing_alt=1).warnings == ()


def test_messages_are_translatable() -> None:
    """Messages go through gettext with named placeholders; Spanish catalogs come separately."""
    from django.utils import translation

    with translation.override("es"):
        result = check_text("x", "a" * 282, image_count=5, images_missing_alt=5)
    assert len(result.errors) == 2
    assert all("%(" not in message for message in result.errors + result.warnings)


# ---------------------------------------------------------------- entities


def spans(entities: list[Any], text: str) -> list[str]:
    assert all(text[e.start : e.end] == e.text for e in entities)
    return [e.text for e in entities]


def test_hashtags() -> None:
    text = "#Tertulia #café #cafe\u0301 #2024 #año_2024 a#b &#39; #日本 https://a.es/#top (#fin)."
    assert spans(find_hashtags(text), text) == [
        "#Tertulia",
        "#café",
        "#cafe\u0301",
        "#año_2024",
        "#日本",
        "#fin",
    ]


def test_instagram_counts_hashtags_as_its_connector_does() -> None:
    """Instagram shows links as plain text: "#2024" and a URL's "#top" are hashtags there."""
    text = "#2024 https://a.es/#top #café"
    assert spans(find_caption_hashtags(text), text) == ["#2024", "#top", "#café"]


@given(st.lists(st.sampled_from([*"#a1_é\u0301 /.:&@\uff03", "https://a.es/", "\u200b"])).map("".join))
def test_caption_hashtags_agree_with_the_instagram_connector(text: str) -> None:
    from tertulia.connectors.meta.instagram import _HASHTAG

    assert len(find_caption_hashtags(text)) == len(_HASHTAG.findall(text))


def test_mentions() -> None:
    text = (
        "Hola @ana, @ana@mastodon.social y @bob.bsky.social. "
        "Escribe a ana@example.com o https://masto.es/@eva @x_1."
    )
    assert spans(find_mentions(text), text) == ["@ana", "@ana@mastodon.social", "@bob.bsky.social", "@x_1"]


def test_links_leave_sentence_punctuation_outside() -> None:
    text = (
        "Mira https://a.es/x. Y (https://a.es/y), «https://a.es/z» "
        "https://es.wikipedia.org/wiki/Tertulia_(reunión)! HTTPS://A.ES/Q?a=1#f… "
        "no: xhttps://a.es, https://, ftp://a.es"
    )
    assert spans(find_links(text), text) == [
        "https://a.es/x",
        "https://a.es/y",
        "https://a.es/z",
        "https://es.wikipedia.org/wiki/Tertulia_(reunión)",
        "HTTPS://A.ES/Q?a=1#f",
    ]


def test_entities_in_order_with_kinds() -> None:
    text = "@ana mira #esto en https://a.es/#no"
    assert [(e.kind, e.text) for e in find_entities(text)] == [
        (EntityKind.MENTION, "@ana"),
        (EntityKind.HASHTAG, "#esto"),
        (EntityKind.LINK, "https://a.es/#no"),
    ]
    result = check_text("mastodon", text)
    assert [e.text for e in result.links] == ["https://a.es/#no"]
    assert [e.text for e in result.hashtags] == ["#esto"]
    assert [e.text for e in result.mentions] == ["@ana"]


# ---------------------------------------------------------------- placements


def test_placements() -> None:
    assert Placement.SQUARE.size == (1080, 1080)
    assert Placement.PORTRAIT.size == (1080, 1350)
    assert Placement.LANDSCAPE.size == (1200, 628)
    assert Placement.STORY.size == (1080, 1920)
    assert [p.ratio_label for p in Placement] == ["1:1", "4:5", "1.91:1", "9:16"]
    assert Placement.PORTRAIT.aspect_ratio == pytest.approx(0.8)
    assert Placement.LANDSCAPE.aspect_ratio == pytest.approx(1.91)
    assert str(Placement.STORY.label) == "Story (9:16)"


def test_default_placements() -> None:
    instagram = rules_for("instagram")
    assert instagram.default_placement is Placement.SQUARE
    assert set(instagram.placements) == set(Placement)
    for network in ("x", "bluesky", "mastodon", "linkedin", "facebook", "sandbox"):
        rules = rules_for(network)
        assert rules.default_placement is Placement.LANDSCAPE
        assert set(rules.placements) == set(Placement)
    assert rules_for("wordpress").default_placement is None
    assert rules_for("wordpress").placements == ()


# ---------------------------------------------------------------- UTM


def utm(text: str, **kwargs: Any) -> str:
    return add_utm(text, **{"source": "tertulia", "campaign": "otono", **kwargs})


def test_utm_added_to_every_link_and_nothing_else() -> None:
    text = "Nuevo: https://a.es/x y https://b.es #oferta @ana"
    assert utm(text) == (
        "Nuevo: https://a.es/x?utm_source=tertulia&utm_medium=social&utm_campaign=otono"
        " y https://b.es?utm_source=tertulia&utm_medium=social&utm_campaign=otono #oferta @ana"
    )
    assert utm("Sin enlaces, tertulia.es") == "Sin enlaces, tertulia.es"


def test_utm_keeps_other_parameters_as_written_and_the_fragment() -> None:
    text = "https://a.es/p?q=a+b&id=%C3%B1&flag#sec?ion"
    assert utm(text, content="v1") == (
        "https://a.es/p?q=a+b&id=%C3%B1&flag&utm_source=tertulia&utm_medium=social"
        "&utm_campaign=otono&utm_content=v1#sec?ion"
    )
    assert utm("https://a.es/?#") == "https://a.es/?utm_source=tertulia&utm_medium=social&utm_campaign=otono#"


def test_utm_leaves_trailing_punctuation_outside_the_link() -> None:
    tagged = utm("see https://a.es/x. And (https://a.es/y)!")
    assert tagged == (
        "see https://a.es/x?utm_source=tertulia&utm_medium=social&utm_campaign=otono. "
        "And (https://a.es/y?utm_source=tertulia&utm_medium=social&utm_campaign=otono)!"
    )


def test_utm_encodes_values() -> None:
    tagged = utm("https://a.es", campaign="campaña de otoño & más", source="boletín/es", content="v2.")
    assert tagged == (
        "https://a.es?utm_source=bolet%C3%ADn%2Fes&utm_medium=social"
        "&utm_campaign=campa%C3%B1a%20de%20oto%C3%B1o%20%26%20m%C3%A1s&utm_content=v2%2E"
    )
    assert [link.text for link in find_links(tagged + ".")] == [tagged]


def test_utm_respects_links_tagged_by_hand_unless_told_to_override() -> None:
    mine = "https://a.es/x?utm_source=newsletter&utm_campaign=mano#f"
    assert utm(mine) == mine
    assert utm(mine, override=True) == (
        "https://a.es/x?utm_source=tertulia&utm_medium=social&utm_campaign=otono#f"
    )
    # No utm_source: ours are added, the person's own campaign is kept.
    partial = "https://a.es/x?utm_campaign=mano"
    assert utm(partial) == "https://a.es/x?utm_campaign=mano&utm_source=tertulia&utm_medium=social"


def test_utm_is_idempotent() -> None:
    text = "a https://a.es/x?utm_medium=email&k=1#f, b https://b.es/(c). https://c.es/?"
    for override in (False, True):
        once = utm(text, content="x", override=override)
        assert utm(once, content="x", override=override) == once


def test_utm_needs_its_values() -> None:
    with pytest.raises(ValueError, match="source"):
        add_utm("https://a.es", source=" ", campaign="c")


_PIECES = [
    "https://a.es/x",
    "http://b.es",
    "?q=1",
    "&utm_source=yo",
    "#frag",
    "(",
    ")",
    ".",
    ",",
    "!",
    "?",
    " ",
    "\n",
    "«",
    "»",
    "é",
    "字",
    FAMILY,
    "\u202e",
    "\u200b",
    "<script>",
    "'",
    '"',
    "@ana",
    "#tag",
    "utm_source=x",
    "https://",
    "%2E",
]


@given(
    st.lists(st.sampled_from(_PIECES) | st.text(max_size=3)).map("".join),
    st.text(min_size=1, max_size=8).filter(str.strip),
    st.booleans(),
)
def test_utm_changes_only_links_and_is_idempotent(text: str, campaign: str, override: bool) -> None:
    tagged = add_utm(text, source="tertulia", campaign=campaign, content="c.", override=override)
    before, after = find_links(text), find_links(tagged)
    assert len(before) == len(after)

    def outside(found: list[Any], of: str) -> list[str]:
        edges = [0] + [edge for link in found for edge in (link.start, link.end)] + [len(of)]
        return [of[edges[i] : edges[i + 1]] for i in range(0, len(edges), 2)]

    assert outside(before, text) == outside(after, tagged)
    assert add_utm(tagged, source="tertulia", campaign=campaign, content="c.", override=override) == tagged


# ---------------------------------------------------------------- agreement with the connectors


class _ReachedTheNetwork(Exception):
    """The connector's own checks passed: it went on to call the network."""


def _reach(*args: object, **kwargs: object) -> Any:
    raise _ReachedTheNetwork


def _publishes(network: str, text: str, monkeypatch: pytest.MonkeyPatch) -> bool:
    """Whether the connector's publish-time checks accept `text` (no request ever leaves)."""
    post = OutgoingPost(text)
    connector: Any
    if network == "sandbox":
        # Publishing spends the account's budget in the database first; the text check it then
        # makes (network.post → validation.check_text) needs none.
        from tertulia.connectors.sandbox.validation import MAX_POST_LENGTH, check_text

        try:
            check_text(text, MAX_POST_LENGTH)
        except ContentRejected:
            return False
        return True
    if network == "bluesky":
        from tertulia.connectors.bluesky.connector import BlueskyConnector

        connector = BlueskyConnector(ChannelAccount(handle="marca.bsky.social", external_id="did:plc:marca"))
        monkeypatch.setattr(connector, "client", _reach)
    elif network == "mastodon":
        from tertulia.connectors.mastodon.connector import MastodonConnector

        connector = MastodonConnector(
            ChannelAccount(handle="marca", settings={"base_url": "https://masto.test"})
        )
        monkeypatch.setattr(connector.http, "request", _reach)
    elif network == "x":
        from tertulia.connectors.x.connector import XConnector

        connector = XConnector(ChannelAccount(handle="marca", external_id="1"))
        monkeypatch.setattr(connector.api, "request", _reach)
    elif network == "facebook":
        from tertulia.connectors.meta.facebook import FacebookPageConnector

        connector = FacebookPageConnector(ChannelAccount(handle="marca", external_id="1"))
        monkeypatch.setattr(connector.graph, "request", _reach)
    elif network == "instagram":
        from tertulia.connectors import ratelimit
        from tertulia.connectors.meta.instagram import InstagramConnector

        connector = InstagramConnector(ChannelAccount(handle="marca", external_id="1"))
        # After its checks, publishing spends the 50-a-day budget (in the database), then calls Meta.
        monkeypatch.setattr(ratelimit, "spend", _reach)
        post = OutgoingPost(text, media=[JPEG])
    elif network == "linkedin":
        from tertulia.connectors.linkedin.connector import LinkedInConnector

        connector = LinkedInConnector(ChannelAccount(handle="marca", external_id="urn:li:organization:1"))
        monkeypatch.setattr(connector.http, "request", _reach)
    elif network == "wordpress":
        from tertulia.connectors.wordpress.connector import WordPressConnector

        connector = WordPressConnector(
            ChannelAccount(handle="marca", settings={"base_url": "https://blog.test"})
        )
        monkeypatch.setattr(connector.http, "json", _reach)
        post = OutgoingPost(text, reply_to="7")  # it publishes replies to comments only
    else:
        raise AssertionError(f"no publish-time check for {network}")
    try:
        connector.publish(post)
    except ContentRejected:
        return False
    except _ReachedTheNetwork:
        return True
    raise AssertionError("publish returned without reaching the network")


_UNITS = [
    "a",
    "ñ",
    "e\u0301",
    "字",
    FAMILY,
    SPAIN,
    "🏴\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f",
    f"{LONG_URL} ",
    "@ana@mastodon.social ",
]


def _at_limit(network: str, unit: str) -> str:
    """Text made of `unit` that counts exactly the network's limit (padded with "a")."""
    rules = rules_for(network)
    per = max(rules.count(unit * 2) - rules.count(unit), 1)
    repeat = rules.max_length // per
    while rules.count(unit * repeat) > rules.max_length:
        repeat -= 1
    text = unit * repeat
    text += "a" * (rules.max_length - rules.count(text))
    assert rules.count(text) == rules.max_length
    return text


@pytest.mark.parametrize("unit", _UNITS)
@pytest.mark.parametrize("network", publishing_networks())
def test_compose_time_agrees_with_publish_time(
    network: str, unit: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    images = 1 if rules_for(network).image_required else 0
    at_limit = _at_limit(network, unit)
    for text in (at_limit, at_limit + "a"):
        composer_accepts = check_text(network, text, image_count=images).ok
        assert composer_accepts == _publishes(network, text, monkeypatch), (network, unit, len(text))
    assert not check_text(network, at_limit + "a", image_count=images).ok


@pytest.mark.parametrize(
    "text",
    [
        " ".join(f"#t{n}" for n in range(30)),
        " ".join(f"#t{n}" for n in range(31)),
        " ".join(f"#{n}" for n in range(31)),  # numbers: hashtags to Instagram
        "https://a.es/#x " * 31,  # and so is a link's fragment
    ],
)
def test_instagram_hashtags_agree_with_publish_time(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    assert check_text("instagram", text, image_count=1).ok == _publishes("instagram", text, monkeypatch)
