"""The demo brand's publishing: a few posts at every stage, and two images in its media library.

Made once, through the same actions people use (so every rule, review and audit entry is real):
a proposal from the contributor waiting for the owner's approval, one sent back with a comment,
a scheduled post for tomorrow with an image, a post going out now (the demo's worker publishes it
within seconds), and a draft whose image has no description yet (the composer warns about it).
"""

from __future__ import annotations

import io
import zoneinfo
from datetime import datetime, time, timedelta

from django.db import transaction
from django.utils import timezone
from PIL import Image, ImageDraw

from tertulia.core.actions.context import Actor
from tertulia.core.models import Brand, Channel, User
from tertulia.publishing.actions import review
from tertulia.publishing.actions.compose import DraftSpec, VariantSpec, create_post
from tertulia.publishing.actions.media import upload_image
from tertulia.publishing.actions.scheduling import schedule
from tertulia.publishing.models import MediaAsset, Post, PostState

WRITER = "lucia@example.com"
CONTRIBUTOR = "jordi@example.com"
REVIEWER = "marcos@example.com"

PROPOSAL = (
    "🍅 Receta de la semana: salmorejo cordobés con AOVE de la Subbética. "
    "¿Lo acompañáis con jamón o con huevo? #RecetasDelSur"
)
SENT_BACK = "¡Sorteamos 3 cestas de Navidad! Comenta con tu receta favorita y participa. https://despensadelsur.example/sorteo"
SENT_BACK_COMMENT = "Faltan las bases legales del sorteo: enlázalas antes de publicarlo."
TOMORROW = (
    "Abrimos tienda en Sevilla 🎉 Calle Feria 12, mañana desde las 10:00. "
    "Os esperamos con degustación de aceites. https://despensadelsur.example/sevilla #Sevilla"
)
TOMORROW_ALT = (
    "Fachada de la nueva tienda de La Despensa del Sur, con toldo verde y cestas de fruta en la puerta."
)
NOW = "Ya están aquí las naranjas de Valencia de temporada 🍊 Pedidos en https://despensadelsur.example/naranjas"
DRAFT = "Borrador: el aceite nuevo llega la semana que viene. ¿Foto del molino o de la aceituna?"


def _image(colour: tuple[int, int, int], accent: tuple[int, int, int]) -> bytes:
    """A generated picture (no file in the repository to license): a landscape with a sun."""
    picture = Image.new("RGB", (1600, 1200), colour)
    draw = ImageDraw.Draw(picture)
    draw.rectangle((0, 800, 1600, 1200), fill=accent)
    draw.ellipse((1100, 150, 1400, 450), fill=(250, 200, 60))
    buffer = io.BytesIO()
    picture.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def _tomorrow_at_ten(brand: Brand) -> datetime:
    zone = zoneinfo.ZoneInfo(brand.timezone)
    day = timezone.now().astimezone(zone).date() + timedelta(days=1)
    return datetime.combine(day, time(10, 0), tzinfo=zone)


@transaction.atomic  # all of it or none: a failed load is retried whole on the next start
def load_publishing(brand: Brand) -> None:
    if Post.objects.filter(brand=brand).exists():
        return
    people = {user.email: user for user in User.objects.filter(email__in=[WRITER, CONTRIBUTOR, REVIEWER])}
    writer, contributor, reviewer = (
        Actor(user=people[email], via="demo") for email in (WRITER, CONTRIBUTOR, REVIEWER)
    )
    channels = list(Channel.objects.filter(brand=brand).order_by("pk"))
    every = [VariantSpec(channel.pk) for channel in channels]
    first = [VariantSpec(channels[0].pk)]

    shop, _ = upload_image(
        writer, brand, _image((120, 170, 210), (70, 140, 70)), "tienda-sevilla.jpg", alt_text=TOMORROW_ALT
    )
    undescribed, _ = upload_image(writer, brand, _image((210, 160, 90), (110, 90, 40)), "molino.jpg")
    MediaAsset.objects.filter(pk=shop.pk).update(focal_x=0.8, focal_y=0.25)

    review.submit(
        contributor,
        create_post(
            contributor, brand, DraftSpec(text=PROPOSAL, title="Receta de la semana", variants=first)
        ),
    )
    sent_back = review.submit(
        contributor,
        create_post(contributor, brand, DraftSpec(text=SENT_BACK, title="Sorteo de Navidad", variants=every)),
    )
    review.request_changes(reviewer, sent_back, SENT_BACK_COMMENT)

    opening = review.submit(
        writer,
        create_post(
            writer,
            brand,
            DraftSpec(
                text=TOMORROW,
                title="Apertura en Sevilla",
                utm_campaign="apertura-sevilla",
                scheduled_at=_tomorrow_at_ten(brand),
                variants=every,
                media=[shop.pk],
            ),
        ),
    )
    if opening.state != PostState.SCHEDULED:
        schedule(writer, opening, _tomorrow_at_ten(brand))
    oranges = review.submit(
        writer, create_post(writer, brand, DraftSpec(text=NOW, title="Naranjas", variants=first))
    )
    schedule(writer, oranges, timezone.now())
    create_post(
        writer, brand, DraftSpec(text=DRAFT, title="Aceite nuevo", variants=every, media=[undescribed.pk])
    )
