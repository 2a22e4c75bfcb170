"""What the demo organization is made of: a Spanish delicatessen and its team.

Plain data, so the loader stays a short sequence of actions.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from tertulia.core.models import Role
from tertulia.core.models.brand import Direction, Kpi

ORGANIZATION = "Despensa del Sur S.L."
OWNER_EMAIL = "demo@example.com"
OWNER_NAME = "Demo"

TEAM = [
    # (e-mail, name, role)
    ("lucia@example.com", "Lucía Romero", Role.COMMUNITY_MANAGER),
    ("marcos@example.com", "Marcos Vidal", Role.BRAND_MANAGER),
    ("ana@example.com", "Ana Beltrán", Role.ANALYST),
    ("jordi@example.com", "Jordi Puig", Role.CONTRIBUTOR),
]

MAIN_BRAND = {
    "name": "La Despensa del Sur",
    "language": "es",
    "timezone": "Europe/Madrid",
    "reach_threshold": 5000,
    "audience": (
        "Amantes del buen producto en España, de 28 a 55 años: clientes de nuestras 9 tiendas de "
        "ultramarinos en Andalucía y de la tienda online; hostelería y regalos de empresa en Navidad."
    ),
    "voice_guide": (
        "Cercanos y cálidos, nunca condescendientes. Tuteamos. "
        "Hablamos de producto con pasión pero sin jerga. "
        "Ante una queja: primero disculpa y empatía, luego solución concreta y plazo; pasamos a mensaje "
        "directo para datos personales. No discutimos en público, no borramos críticas: solo ocultamos "
        "insultos y spam. Emojis con moderación (🧀 sí, 🔥 no)."
    ),
}

SECOND_BRAND = {
    "name": "Mercado Verde",
    "language": "es",
    "timezone": "Europe/Madrid",
    "reach_threshold": 3000,
    "audience": "Familias que compran fruta y verdura ecológica a domicilio en Sevilla y Málaga.",
    "voice_guide": "Amables y prácticos. Respuestas cortas, siempre con el siguiente paso claro.",
}

# (brand key, handle, display name, operators by e-mail)
CHANNELS = [
    ("main", "despensadelsur", "La Despensa del Sur", ["lucia@example.com", "marcos@example.com"]),
    ("main", "despensa_ayuda", "La Despensa del Sur · Atención al cliente", ["lucia@example.com"]),
    ("second", "mercadoverde", "Mercado Verde", ["lucia@example.com", "marcos@example.com"]),
]

COMPETITORS = [
    {
        "name": "Gourmet Montaña",
        "handles": ["@gourmetmontana"],
        "website": "https://gourmetmontana.example",
        "notes": "Cadena nacional; precios agresivos en cestas de Navidad.",
    },
    {
        "name": "Delicias del Norte",
        "handles": ["@deliciasdelnorte"],
        "website": "https://deliciasdelnorte.example",
        "notes": "Tienda artesanal de Bilbao; muy activa en redes.",
    },
    {
        "name": "Ultramarinos Express",
        "handles": ["@ultramarinosexpress"],
        "website": "",
        "notes": "Reparto en 30 minutos en capitales andaluzas.",
    },
]


def objectives(today: date) -> list[dict[str, object]]:
    quarter_start = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    quarter_end = date(today.year + (quarter_start.month == 10), (quarter_start.month + 2) % 12 + 1, 1)
    quarter_end = date.fromordinal(quarter_end.toordinal() - 1)
    period = {"period_start": quarter_start, "period_end": quarter_end}
    return [
        {
            "title": "Responder a tiempo al 95 % de las conversaciones",
            "kpi": Kpi.SLA_MET,
            "direction": Direction.AT_LEAST,
            "target": Decimal("95"),
            **period,
        },
        {
            "title": "Primera respuesta en menos de una hora",
            "kpi": Kpi.RESPONSE_TIME,
            "direction": Direction.AT_MOST,
            "target": Decimal("60"),
            **period,
        },
        {
            "title": "Mayoría de menciones positivas",
            "kpi": Kpi.POSITIVE_SHARE,
            "direction": Direction.AT_LEAST,
            "target": Decimal("60"),
            **period,
        },
        {
            "title": "Crecer un 10 % en seguidores",
            "kpi": Kpi.AUDIENCE_GROWTH,
            "direction": Direction.AT_LEAST,
            "target": Decimal("10"),
            **period,
        },
        {
            "title": "Superar a Delicias del Norte en cuota de conversación",
            "kpi": Kpi.SHARE_OF_VOICE,
            "direction": Direction.AT_LEAST,
            "target": Decimal("40"),
            **period,
        },
    ]


CONTACTS = [
    # (name, customer, notes, [(network, handle, followers)])
    (
        "María José Campos",
        True,
        "Clienta de la tienda online desde 2021; suscripción mensual.",
        [("sandbox", "mariajo_gourmet", 420)],
    ),
    ("Pablo Ortega", False, "Cocinero; nos recomienda a menudo.", [("sandbox", "pablo_cocina", 2300)]),
]


# The main brand's moderation policy (docs/moderation.md), in order. The voice guide says it: "no
# borramos críticas: solo ocultamos insultos y spam". The guardrails do the rest: the blogger
# (lucia_enologia, 10,000 followers; threshold 5,000) is escalated, never blocked, whatever she writes.
# (name, enabled, stop processing, conditions, actions)
MODERATION_RULES: list[tuple[str, bool, bool, dict[str, object], list[dict[str, object]]]] = [
    (
        "Spam: ocultar",
        True,
        True,
        {"intents": ["spam"], "kinds": ["mention", "reply", "quote", "comment"]},
        [{"type": "hide"}, {"type": "tag", "tag": "spam"}],
    ),
    (
        "Insultos: bloquear al autor",
        True,
        False,
        {"intents": ["abuse"]},
        [{"type": "block"}, {"type": "tag", "tag": "insulto"}],
    ),
    (
        "Quejas de autores influyentes: a un responsable",
        True,
        False,
        # Complaints, insults and anything unclear (the analysis reads some complaints as "other").
        {"influential": True, "intents": ["complaint", "abuse", "other"]},
        [{"type": "escalate"}, {"type": "tag", "tag": "influencer"}],
    ),
    (
        "Sorteos falsos: borrar",
        False,  # off: prueba primero con «Simular 30 días»
        False,
        {"text_matches": ["sorteo", "giveaway", "gana dinero"]},
        [{"type": "delete"}, {"type": "tag", "tag": "spam"}],
    ),
]


# The main brand's SLA (seeds 001 and 002): a day for everyone, an hour for a complaint, counted in
# the shops' opening hours (Monday to Saturday, 9:00 to 21:00, Madrid time).
SLA_POLICY: dict[str, object] = {
    "first_response_minutes": 24 * 60,
    "next_response_minutes": 24 * 60,
    "intent_targets": {"complaint": 60},
    "critical_response_minutes": 30,
    "warn_before_minutes": 15,
    "business_hours": {
        "timezone": "Europe/Madrid",
        "week": {day: [["09:00", "21:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat")},
    },
}

# Saved replies in the brand's voice (the voice guide above: we say "tú", apologise first, then a
# concrete fix and a time; personal data only by DM; 🧀 yes, 🔥 no). Variables: inbox/saved_replies.py.
# (shortcut, language, title, body)
SAVED_REPLIES: list[tuple[str, str, str, str]] = [
    (
        "disculpa",
        "es",
        "Queja: disculpa y pasar a mensaje directo",
        "Hola, {name}. Sentimos mucho lo que nos cuentas: no es lo que queremos para ti. ¿Nos escribes "
        "por mensaje directo a {channel} con tu número de pedido? Lo revisamos hoy mismo y te decimos "
        "cómo lo arreglamos y cuándo. Un abrazo, {agent}.",
    ),
    (
        "disculpa",
        "en",
        "Complaint: apologise and move to DM",
        "Hi {name}, we're really sorry to hear this: it's not what we want for you. Could you send us a "
        "direct message at {channel} with your order number? We'll look into it today and tell you how "
        "and when we'll put it right. Best, {agent}.",
    ),
    (
        "envio",
        "es",
        "Envíos: plazos",
        "¡Hola, {name}! Los pedidos de la tienda online salen en 24-48 horas laborables y llegan a la "
        "península en 2-3 días (Baleares y Canarias, 4-6). Si nos pasas tu número de pedido por mensaje "
        "directo, te decimos exactamente dónde está. 🧀",
    ),
    (
        "envio",
        "en",
        "Shipping: delivery times",
        "Hi {name}! Online orders leave our shop within 1-2 working days and reach mainland Spain in 2-3 "
        "days (Balearic and Canary Islands, 4-6). Send us your order number by direct message and we'll "
        "tell you exactly where it is. 🧀",
    ),
    (
        "gracias",
        "es",
        "Gracias por tu mensaje",
        "¡Muchas gracias, {name}! Nos alegra un montón que lo hayas disfrutado. Te esperamos pronto en "
        "{brand}. 🧀",
    ),
    (
        "gracias",
        "en",
        "Thanks for your message",
        "Thank you so much, {name}! We're delighted you enjoyed it. See you soon at {brand}. 🧀",
    ),
]
