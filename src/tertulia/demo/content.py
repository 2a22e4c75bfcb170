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
