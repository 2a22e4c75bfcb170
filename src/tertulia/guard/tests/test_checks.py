"""Each signal on its own: pure functions, positive and negative cases, and evasion attempts."""

from __future__ import annotations

import pytest

from tertulia.guard.checks import burst, device, domains, hours, vocabulary
from tertulia.guard.checks.findings import describe

FIREFOX_LINUX = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
FIREFOX_LINUX_NEWER = "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0"
CHROME_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0 Safari/537.36"
)
EDGE_WINDOWS = CHROME_WINDOWS + " Edg/131.0"
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Mobile/15E148 Safari/604.1"
)


# --- device -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("agent", "family"),
    [
        (FIREFOX_LINUX, "Firefox on Linux"),
        (CHROME_WINDOWS, "Chrome on Windows"),
        (EDGE_WINDOWS, "Edge on Windows"),
        (SAFARI_IPHONE, "Safari on iOS"),
        ("curl/8.5.0", "curl"),
        ("python-requests/2.32.3", "python-requests"),
        ("", "unknown"),
        ("Mozilla/5.0 (compatible)", "Browser"),
    ],
)
def test_device_family_names_browser_and_system_never_the_version(agent: str, family: str):
    assert device.device_family(agent) == family


def test_a_browser_update_is_not_a_new_device():
    assert device.device_family(FIREFOX_LINUX) == device.device_family(FIREFOX_LINUX_NEWER)


@pytest.mark.parametrize(
    ("address", "network"),
    [
        ("203.0.113.77", "203.0.113.0/24"),
        ("2001:db8:1234:5678::1", "2001:db8:1234::/48"),
        ("::ffff:198.51.100.9", "198.51.100.0/24"),  # IPv4 seen through IPv6
        ("not an address", ""),
        (None, ""),
        ("", ""),
    ],
)
def test_network_of_an_address(address: str | None, network: str):
    assert device.network_of(address) == network


def test_device_signal_fires_for_a_new_network_and_a_new_device():
    known = [("Firefox on Linux", "203.0.113.0/24")]
    same = device.device_findings(device.Device("Firefox on Linux", "203.0.113.0/24"), known)
    assert same == []
    elsewhere = device.device_findings(device.Device("Firefox on Linux", "198.51.100.0/24"), known)
    assert [f.code for f in elsewhere] == ["new_network"]
    stranger = device.device_findings(device.Device("curl", "198.51.100.0/24"), known)
    assert [f.code for f in stranger] == ["new_network", "new_device"]
    assert sum(f.weight for f in stranger) == 40


def test_device_signal_is_silent_the_first_time_and_without_an_address():
    assert device.device_findings(device.Device("curl", "198.51.100.0/24"), []) == []
    assert device.device_findings(None, [("curl", "1.2.3.0/24")]) == []
    assert device.device_findings(device.Device("curl", ""), [("curl", "1.2.3.0/24")]) == []


# --- hours --------------------------------------------------------------------------------------


def _office_hours(sends_per_hour: int = 2) -> dict[int, int]:
    """Monday to Friday, 09:00 to 18:00."""
    return {hours.slot(day, hour): sends_per_hour for day in range(5) for hour in range(9, 18)}


def test_an_hour_outside_the_pattern_fires_once_there_is_history():
    pattern = _office_hours()
    found = hours.hour_finding(pattern, weekday=2, hour=3)  # Wednesday 03:00
    assert found is not None and found.code == "odd_hour"
    assert found.params["total"] == 90 and found.params["sends"] == 0


def test_an_usual_hour_and_its_edges_do_not_fire():
    pattern = _office_hours()
    assert hours.hour_finding(pattern, weekday=2, hour=11) is None
    assert hours.hour_finding(pattern, weekday=2, hour=8) is None  # next to 09:00
    assert hours.hour_finding(pattern, weekday=4, hour=18) is None  # next to 17:00


def test_the_hour_signal_needs_enough_history():
    thin = {hours.slot(0, 10): hours.MIN_HISTORY - 1}
    assert hours.hour_finding(thin, weekday=6, hour=3) is None
    enough = {hours.slot(0, 10): hours.MIN_HISTORY}
    assert hours.hour_finding(enough, weekday=6, hour=3) is not None


def test_a_rare_hour_in_a_long_history_still_fires():
    pattern = _office_hours(sends_per_hour=30)  # 1,350 sends
    pattern[hours.slot(6, 3)] = 2  # two sends on Sunday around 03:00: under 1 in 100
    assert hours.hour_finding(pattern, weekday=6, hour=3) is not None
    pattern[hours.slot(6, 3)] = 20
    assert hours.hour_finding(pattern, weekday=6, hour=3) is None


def test_the_week_wraps_around():
    assert hours.neighbourhood(hours.slot(0, 0)) == [167, 0, 1]


# --- burst --------------------------------------------------------------------------------------


def test_a_burst_beyond_the_floor_fires_for_a_person_without_history():
    assert burst.person_burst(burst.Rate(recent=8, items=0, windows=0), "post") is None
    found = burst.person_burst(burst.Rate(recent=9, items=0, windows=0), "post")
    assert found is not None and found.code == "burst_person" and found.params["count"] == 9


def test_a_busy_person_has_a_higher_limit():
    # Usually 12 posts per active window: 36 are still usual, 37 are a burst.
    assert burst.person_burst(burst.Rate(recent=36, items=120, windows=10), "post") is None
    assert burst.person_burst(burst.Rate(recent=37, items=120, windows=10), "post") is not None


def test_replies_have_a_higher_floor_than_posts():
    assert burst.person_burst(burst.Rate(recent=20, items=0, windows=0), "reply") is None
    assert burst.person_burst(burst.Rate(recent=20, items=0, windows=0), "post") is not None


def test_a_channel_burst_names_the_channel():
    found = burst.channel_burst(burst.Rate(recent=6, items=0, windows=0), "post", "marca")
    assert found is not None and found.params["handle"] == "marca"
    assert burst.channel_burst(burst.Rate(recent=5, items=0, windows=0), "post", "marca") is None


# --- domains ------------------------------------------------------------------------------------


def test_link_domains_are_found_normalised():
    text = "Mira https://WWW.Example.com:443/a?b=1 y http://shop.example.com/x, también tienda.es/ofertas."
    assert domains.domains_in([text]) == ["example.com", "shop.example.com", "tienda.es"]


def test_hidden_links_are_found_too():
    fullwidth = "\uff48\uff54\uff54\uff50\uff53://evil.xyz/claim"
    zero_width = "https://ev\u200bil.xyz/claim"
    assert domains.domains_in([fullwidth]) == ["evil.xyz"]
    assert domains.domains_in([zero_width]) == ["evil.xyz"]
    assert domains.domains_in(["claim at evil.xyz/now"]) == ["evil.xyz"]


def test_a_look_alike_domain_in_another_script_is_a_different_domain():
    # "paypal.com" with a Cyrillic "er" and "a": punycode, never "paypal.com".
    found = domains.domains_in(["https://\u0440\u0430ypal.com/login"])
    assert found and found[0].startswith("xn--") and found[0] != "paypal.com"


def test_no_domain_in_ordinary_text_or_addresses():
    assert domains.domains_in(["Hola.Que tal, escribe a ana@example.com"]) == []
    assert domains.domains_in([""]) == []


def test_the_domain_signal_fires_only_for_unknown_domains():
    known = {"example.com"}
    assert domains.domain_finding(["example.com", "blog.example.com"], known) is None
    found = domains.domain_finding(["example.com", "evil.xyz"], known)
    assert found is not None and found.params["domains"] == ["evil.xyz"]
    # A known parent never vouches for a look-alike that only ends the same way.
    assert domains.domain_finding(["notexample.com"], known) is not None


def test_a_huge_text_costs_no_more_than_its_cap():
    text = ("https://a.example.com/ " * 100_000)[: domains.MAX_TEXT * 3]
    assert domains.domains_in([text]) == ["a.example.com"]


# --- vocabulary ---------------------------------------------------------------------------------


def _categories(text: str) -> set[str]:
    return {match.category for match in vocabulary.matches(text)}


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("Send 1 BTC to our wallet and get 2 BTC back!", "send_and_get_back"),
        ("Envía 0,5 ETH y recibe 1 ETH al instante", "send_and_get_back"),
        ("We will double your bitcoin for 24 hours only", "doubling"),
        ("Duplica tus bitcoins hoy", "doubling"),
        ("Enter your seed phrase to claim", "wallet_secret"),
        ("Escribe tu frase semilla para participar", "wallet_secret"),
        ("Verify your account here or it will be closed", "phishing"),
        ("Verifica tu cuenta en este enlace", "phishing"),
        ("Tu cuenta será suspendida mañana", "phishing"),
        ("Huge crypto giveaway for our fans", "giveaway"),
        ("Sorteo de bitcoin para seguidores", "giveaway"),
        ("Send to bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq", "wallet_address"),
        ("to 0x52908400098527886E0F7030069857D2E4169EE7 now", "wallet_address"),
    ],
)
def test_scam_vocabulary_in_both_languages(text: str, category: str):
    assert category in _categories(text)


@pytest.mark.parametrize(
    "text",
    [
        # zero-width characters inside the words
        "Verify\u200b your acc\u200bount now",
        # accents and upper case
        "VERIFICÁ TU CUENTA",
        "TÚ CUENTA SERÁ SUSPENDIDA",
        # homoglyph-ish digits and symbols
        "v3rify y0ur acc0unt",
        "Ent3r your s33d phr4$e",
        # spaced and dotted letters
        "v e r i f y   y o u r   a c c o u n t",
        "s.e.e.d p.h.r.a.s.e",
        # Cyrillic look-alikes
        "verify your \u0430cc\u043eunt",
        # mathematical bold (NFKC)
        "\U0001d42f\U0001d41e\U0001d42b\U0001d422\U0001d41f\U0001d432 your account",
    ],
)
def test_evasions_of_the_phrases_do_not_hide_them(text: str):
    assert _categories(text) & {"phishing", "wallet_secret"}


def test_evasions_of_amounts_and_giveaways():
    assert "send_and_get_back" in _categories("S3ND 1 BTC, g3t 2 back")
    assert "giveaway" in _categories("FR\u200bEE B1TC0IN for everyone")
    assert "giveaway" in _categories("g i v e a w a y  of  e t h")


@pytest.mark.parametrize(
    "text",
    [
        "¡Abrimos nueva tienda en Madrid! Ven a vernos el sábado.",
        "Send us a DM and we will get back to you in 2 hours.",
        "Our bitcoin explainer is on the blog: what it is and how it works.",
        "Gracias por tu paciencia, revisamos tu pedido 12345 hoy mismo.",
        "Free shipping this weekend on every order",
        "Please verify the address on your order before it ships",
        "Llámanos al 900 123 456 o escríbenos",
    ],
)
def test_ordinary_brand_text_is_not_scam_vocabulary(text: str):
    assert vocabulary.matches(text) == []


def test_every_phrase_is_long_enough_to_look_for_without_spaces():
    for phrases in vocabulary.PHRASES.values():
        for phrase in phrases:
            assert len(vocabulary.skeleton(phrase)) >= 8, phrase


def test_categories_add_up_to_a_cap():
    finding = vocabulary.vocabulary_finding(
        ["Crypto giveaway! Send 1 BTC get 2 back. Enter your seed phrase."]
    )
    assert finding is not None and finding.weight == vocabulary.CAP
    assert set(finding.params["categories"]) >= {"giveaway", "send_and_get_back", "wallet_secret"}
    assert vocabulary.vocabulary_finding(["Nada que ver aquí"]) is None


def test_hostile_input_is_handled():
    for text in [
        "\x00" * 1000,
        "\ud800 lone surrogate",
        "‮verify your account‬",
        "🙂" * 50_000,
        "a" * 1_000_000,
    ]:
        vocabulary.matches(text)
        domains.domains_in([text])


def test_reasons_read_in_the_active_language():
    from django.utils import translation

    reason = {"code": "new_domain", "weight": 25, "params": {"domains": ["evil.xyz"]}}
    assert "evil.xyz" in describe(reason)
    with translation.override("es"):
        assert "evil.xyz" in describe(reason)
    assert describe({"code": "unknown_code"}) == "unknown_code"
