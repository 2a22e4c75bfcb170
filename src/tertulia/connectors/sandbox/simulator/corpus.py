"""What the community says: templates and vocabularies in Spanish and English.

Every message is a template with its slots filled from the vocabularies, so a
few hundred lines yield many thousands of distinct, plausible messages about a
food and wine shop with stores, online orders and home delivery (the world of
the seeds' community managers). Insults are rude, never slurs. The text is
data, not interface: it is not translated.
"""

from __future__ import annotations

import random
import re
import string
from dataclasses import dataclass

PRAISE = "praise"
QUESTION = "question"
COMPLAINT = "complaint"
SPAM = "spam"
INSULT = "insult"
OFF_TOPIC = "off_topic"
CATEGORIES = (PRAISE, QUESTION, COMPLAINT, SPAM, INSULT, OFF_TOPIC)
NEGATIVE = frozenset({COMPLAINT, INSULT})
LANGUAGES = ("es", "en")

VOCABULARY: dict[str, dict[str, tuple[str, ...]]] = {
    "es": {
        "product": (
            "el aceite de oliva",
            "el vino tinto de la casa",
            "el pan de masa madre",
            "el café de especialidad",
            "la tarta de queso",
            "la caja de degustación",
            "el jamón ibérico",
            "la tabla de quesos",
            "la suscripción mensual",
            "el vermut",
            "las croquetas congeladas",
            "el cava rosado",
            "la miel de romero",
            "el turrón artesano",
            "la cesta de Navidad",
        ),
        "issue": (
            "en mal estado",
            "con la caja rota",
            "con dos días de retraso",
            "a medias",
            "sin la factura",
            "con el precinto abierto",
            "fuera de fecha",
            "a otra dirección",
            "con una botella rota",
            "sin el regalo prometido",
        ),
        "wait": (
            "tres días",
            "una semana",
            "diez días",
            "dos semanas",
            "48 horas",
            "más de un mes",
            "cinco días",
        ),
        "city": (
            "Madrid",
            "Barcelona",
            "Valencia",
            "Sevilla",
            "Bilbao",
            "Zaragoza",
            "Málaga",
            "Valladolid",
            "Vigo",
        ),
        "day": ("el domingo", "el sábado", "en festivo", "el lunes", "en agosto", "el 24 de diciembre"),
        "hour": ("las 21:00", "las 22:00", "las 14:00", "las 20:30", "medianoche"),
        "price": ("25 €", "39,90 €", "60 €", "12 €", "18,50 €", "99 €"),
        "times": ("tres", "cuatro", "cinco", "seis", "mil"),
        "symptom": ("vómitos", "fiebre", "dolor de tripa", "diarrea", "mareos"),
        "staff": (
            "la chica de la caja",
            "el repartidor",
            "el equipo de la tienda",
            "la sumiller",
            "el encargado",
        ),
        "pay": ("Bizum", "PayPal", "tarjeta de empresa", "transferencia", "Apple Pay"),
        "money": ("500 €", "300 €", "1.000 €", "200 € diarios"),
        "chatter": (
            "el partido de anoche",
            "el calor que hace",
            "la serie nueva",
            "el puente de mayo",
            "el atasco de hoy",
            "las rebajas",
            "el concierto del viernes",
            "la lluvia",
        ),
    },
    "en": {
        "product": (
            "the olive oil",
            "the house red wine",
            "the sourdough loaf",
            "the specialty coffee",
            "the cheesecake",
            "the tasting box",
            "the Iberian ham",
            "the cheese board",
            "the monthly subscription",
            "the vermouth",
            "the frozen croquettes",
            "the rosé cava",
            "the rosemary honey",
            "the artisan nougat",
            "the Christmas hamper",
        ),
        "issue": (
            "spoiled",
            "with a crushed box",
            "two days late",
            "half empty",
            "without an invoice",
            "with the seal broken",
            "past its date",
            "at the wrong address",
            "with a broken bottle",
            "without the promised gift",
        ),
        "wait": ("three days", "a week", "ten days", "two weeks", "48 hours", "over a month", "five days"),
        "city": (
            "London",
            "Manchester",
            "Dublin",
            "New York",
            "Boston",
            "Toronto",
            "Leeds",
            "Edinburgh",
            "Chicago",
        ),
        "day": ("on Sunday", "on Saturday", "on bank holidays", "on Monday", "in August", "on Christmas Eve"),
        "hour": ("9 pm", "10 pm", "2 pm", "8:30 pm", "midnight"),
        "price": ("$25", "£39.90", "$60", "£12", "$18.50", "£99"),
        "times": ("three", "four", "five", "six", "a dozen"),
        "symptom": ("vomiting", "a fever", "stomach cramps", "diarrhoea", "dizziness"),
        "staff": ("the cashier", "the delivery driver", "the shop team", "the sommelier", "the manager"),
        "pay": ("PayPal", "Apple Pay", "a company card", "bank transfer", "Google Pay"),
        "money": ("$500", "£300", "$1,000", "$200 a day"),
        "chatter": (
            "last night's game",
            "this heat",
            "the new series",
            "the long weekend",
            "today's traffic",
            "the sales",
            "Friday's concert",
            "the rain",
        ),
    },
}

TEMPLATES: dict[str, dict[str, tuple[str, ...]]] = {
    PRAISE: {
        "es": (
            "¡Qué maravilla {product}! Repetiremos seguro",
            "Gracias a {staff} de {city} por la paciencia de ayer, un 10",
            "Pedido {order} recibido en tiempo récord. Así da gusto",
            "Mi familia ha repetido con {product}. Espectacular",
            "Probé {product} por recomendación y ya es un fijo en casa",
            "Me resolvieron lo del pedido {order} en cinco minutos por chat. Chapó",
            "Regalé {product} y triunfé. Gracias por el envoltorio tan cuidado",
            "La tienda de {city} es una joya, y {staff} un encanto",
            "Por fin una marca que contesta rápido. Gracias por la ayuda con {product}",
            "{product} por {price} es de lo mejor que he comprado este año",
        ),
        "en": (
            "Absolutely loved {product}! Ordering again",
            "Shout out to {staff} in {city} for being so patient yesterday",
            "Order {order} arrived in record time. Great job",
            "My whole family is hooked on {product}. Amazing",
            "Tried {product} on a friend's tip and now I can't live without it",
            "Support sorted out order {order} in five minutes on chat. Impressed",
            "Gave {product} as a gift and it was a hit. Lovely wrapping too",
            "The {city} store is a gem, and {staff} is so kind",
            "Finally a brand that answers quickly. Thanks for the help with {product}",
            "{product} for {price} is one of the best things I bought this year",
        ),
    },
    QUESTION: {
        "es": (
            "¿A qué hora abrís la tienda de {city} {day}?",
            "¿Hacéis envíos a {city}? ¿Cuánto tarda?",
            "¿{product} lleva gluten o frutos secos?",
            "¿Cómo cambio la dirección de entrega del pedido {order}?",
            "¿Se puede pagar con {pay}?",
            "¿Cuándo vuelve a haber existencias de {product}?",
            "Hola, ¿{product} está disponible en la tienda de {city}?",
            "¿Tenéis descuento para pedidos grandes? Quiero {times} cajas para la empresa",
            "¿Hasta {hour} se puede recoger en tienda?",
            "¿El pedido {order} ya ha salido? No me llega el correo de seguimiento",
            "¿Cuánto cuesta el envío a {city} si compro {product}?",
        ),
        "en": (
            "What time does the {city} store open {day}?",
            "Do you ship to {city}? How long does it take?",
            "Does {product} contain gluten or nuts?",
            "How do I change the delivery address for order {order}?",
            "Can I pay with {pay}?",
            "When will {product} be back in stock?",
            "Hi, is {product} available at the {city} store?",
            "Any discount on bulk orders? I need {times} boxes for the office",
            "Is click and collect open until {hour}?",
            "Has order {order} shipped yet? I never got the tracking email",
            "How much is shipping to {city} for {product}?",
        ),
    },
    COMPLAINT: {
        "es": (
            "Llevo {wait} esperando el pedido {order} y nadie me contesta",
            "{product} llegó {issue}. Qué decepción",
            "He llamado {times} veces a atención al cliente y nada. ¿Alguien lee esto?",
            "Me habéis cobrado dos veces el pedido {order}. Quiero mi dinero",
            "¿{price} por {product}? Habéis subido los precios una barbaridad",
            "La tienda de {city} cerrada en pleno horario de apertura. Vaya seriedad",
            "Segundo pedido que me llega {issue}. Me lo estoy pensando mucho para el tercero",
            "El chat de atención al cliente me cuelga cada vez que pregunto por el pedido {order}",
            "Pedí {product} para un regalo y llegó {issue}. Me habéis dejado fatal",
            "{staff} de {city} me atendió con muy malas formas",
        ),
        "en": (
            "Been waiting {wait} for order {order} and nobody answers",
            "{product} arrived {issue}. So disappointed",
            "Called customer service {times} times and nothing. Is anyone reading this?",
            "You charged me twice for order {order}. I want my money back",
            "{price} for {product}? Your prices went through the roof",
            "The {city} store was closed during opening hours. Unbelievable",
            "Second order in a row that arrived {issue}. Thinking hard about a third",
            "Your support chat hangs up on me every time I ask about order {order}",
            "Ordered {product} as a gift and it came {issue}. Embarrassing",
            "{staff} in {city} was really rude to me",
        ),
    },
    SPAM: {
        "es": (
            "Gana {money} desde casa sin experiencia 👉 {url}",
            "SORTEO: los 100 primeros en entrar en {url} se llevan un iPhone",
            "¿Quieres 10.000 seguidores reales? Escríbenos por privado {url}",
            "Criptoinversión garantizada, {money} a la semana. Info: {url}",
            "Descuento del 90% en {product} solo hoy {url}",
        ),
        "en": (
            "Make {money} from home, no experience needed 👉 {url}",
            "GIVEAWAY: first 100 people at {url} win an iPhone",
            "Want 10,000 real followers? DM us {url}",
            "Guaranteed crypto returns, {money} a week. Info: {url}",
            "90% off {product} today only {url}",
        ),
    },
    INSULT: {
        "es": (
            "Sois unos inútiles, así de claro",
            "Vaya panda de incompetentes. Lo de {product} es de risa",
            "Menudo timo de empresa",
            "Dais vergüenza ajena, de verdad",
            "Payasos. Eso es lo que sois con el pedido {order}",
            "Que os den, no vuelvo a comprar en mi vida",
        ),
        "en": (
            "You're all useless, plain and simple",
            "What a bunch of clowns. {product} is a joke",
            "What a scam of a company",
            "Pathetic. Absolutely pathetic",
            "Clowns. That's what you are with order {order}",
            "Get lost, never buying from you again",
        ),
    },
    OFF_TOPIC: {
        "es": (
            "¿Alguien vio {chatter}? Qué locura",
            "No puedo más con {chatter}",
            "Buenos días a todos menos a los lunes",
            "Hoy toca tarde de sofá y manta, por fin",
            "Mi gato ha vuelto a tirar la planta. Otra vez",
            "¿Recomendaciones para un finde en {city}?",
            "Pues nada, que se me ha olvidado el paraguas con {chatter}",
        ),
        "en": (
            "Did anyone see {chatter}? Wild",
            "I can't deal with {chatter} anymore",
            "Good morning to everyone except Mondays",
            "Couch and blanket afternoon, finally",
            "My cat knocked the plant over. Again",
            "Any tips for a weekend in {city}?",
            "Of course I forgot my umbrella with {chatter}",
        ),
    },
}

EMOJI: dict[str, tuple[str, ...]] = {
    PRAISE: ("😍", "👏", "🙌", "❤️", "🥂", "✨", "😋"),
    QUESTION: ("🤔", "🙏", "❓", "👀"),
    COMPLAINT: ("😡", "😤", "👎", "🙄", "😞"),
    SPAM: ("🔥", "💰", "🚀", "🎁"),
    INSULT: ("🤡", "🙄", "💩"),
    OFF_TOPIC: ("😂", "☀️", "🌧️", "⚽", "🐱"),
}

HASHTAGS: dict[str, dict[str, tuple[str, ...]]] = {
    "es": {
        PRAISE: ("#gourmet", "#delicatessen", "#recomendado", "#foodie"),
        QUESTION: ("#ayuda", "#atencionalcliente"),
        COMPLAINT: ("#malservicio", "#atencionalcliente", "#reclamación"),
        SPAM: ("#dinerofacil", "#sorteo", "#cripto"),
        INSULT: ("#vergüenza",),
        OFF_TOPIC: ("#lunes", "#finde", "#random"),
    },
    "en": {
        PRAISE: ("#foodie", "#gourmet", "#recommended", "#treatyourself"),
        QUESTION: ("#help", "#customerservice"),
        COMPLAINT: ("#badservice", "#customerservice", "#complaint"),
        SPAM: ("#easymoney", "#giveaway", "#crypto"),
        INSULT: ("#shame",),
        OFF_TOPIC: ("#monday", "#weekend", "#random"),
    },
}


@dataclass(frozen=True)
class CrisisTopic:
    key: str
    label: str
    aliases: tuple[str, ...]
    hashtags: dict[str, str]
    templates: dict[str, tuple[str, ...]]


CRISIS_TOPICS: tuple[CrisisTopic, ...] = (
    CrisisTopic(
        key="food_poisoning",
        label="food poisoning",
        aliases=("intoxicación", "intoxicacion", "#intoxicación", "food poisoning", "foodpoisoning"),
        hashtags={"es": "#intoxicación", "en": "#foodpoisoning"},
        templates={
            "es": (
                "Toda mi familia con {symptom} después de comer {product} 🤢",
                "¿Alguien más se ha puesto malo con {product}? Llevo {wait} con {symptom}",
                "Acabo de salir de urgencias. {product} en mal estado. Exijo explicaciones",
                "Retirad {product} YA. Hay gente en el hospital",
                "En mi oficina somos {times} con {symptom} y todos comimos {product}",
                "¿Vais a decir algo o esperáis a que salga en las noticias?",
            ),
            "en": (
                "My whole family has {symptom} after eating {product} 🤢",
                "Anyone else sick after {product}? {wait} of {symptom} here",
                "Just got out of the ER. {product} was spoiled. I want answers",
                "Pull {product} NOW. People are in hospital",
                "{times} of us at the office with {symptom}, all ate {product}",
                "Are you going to say anything or wait until it's on the news?",
            ),
        },
    ),
    CrisisTopic(
        key="data_leak",
        label="data leak",
        aliases=(
            "data leak",
            "dataleak",
            "filtración de datos",
            "filtracion de datos",
            "filtración",
            "hackeo",
        ),
        hashtags={"es": "#filtracióndedatos", "en": "#dataleak"},
        templates={
            "es": (
                "Me llega un correo de phishing con mi número de pedido {order}. ¿Habéis filtrado datos?",
                "Mis datos de tarjeta aparecen en un foro y solo compré en vuestra web",
                "¿Cuándo pensabais avisar de la filtración? Me entero por la prensa",
                "Exijo saber qué datos míos se han filtrado. Pedido {order}",
                "{times} cargos raros en mi tarjeta desde que compré {product}. Explicad esto",
            ),
            "en": (
                "Got a phishing email quoting my order number {order}. Did you leak our data?",
                "My card details are on a forum and I only ever bought on your site",
                "When were you planning to tell us about the leak? Found out from the press",
                "I demand to know what data of mine was leaked. Order {order}",
                "{times} strange charges on my card since I bought {product}. Explain",
            ),
        },
    ),
    CrisisTopic(
        key="late_deliveries",
        label="late deliveries",
        aliases=(
            "late deliveries",
            "late delivery",
            "retrasos",
            "retraso",
            "retrasos en entregas",
            "entregas",
        ),
        hashtags={"es": "#retrasos", "en": "#latedelivery"},
        templates={
            "es": (
                "{wait} de retraso y el pedido {order} sigue sin aparecer",
                "¿Otra vez sin repartos? Es el tercer pedido que no llega a tiempo",
                "Pagué envío urgente por {product} y llevo {wait} esperando",
                "Hoy era el cumpleaños y {product} sigue en vuestro almacén. Gracias por nada",
                "¿Qué pasa con los envíos a {city}? Nadie ha recibido nada esta semana",
            ),
            "en": (
                "{wait} late and order {order} is still nowhere",
                "No deliveries again? Third order in a row that's late",
                "Paid for express shipping on {product} and I've been waiting {wait}",
                "The birthday was today and {product} is still in your warehouse. Thanks for nothing",
                "What is going on with deliveries to {city}? Nobody got anything this week",
            ),
        },
    ),
)

GENERIC_CRISIS_TEMPLATES: dict[str, tuple[str, ...]] = {
    "es": (
        "Lo de {topic} es inaceptable. Queremos una explicación pública ya",
        "Después de lo de {topic} no vuelvo a confiar en vosotros",
        "¿Nadie va a dar la cara por lo de {topic}?",
        "Compartid para que se sepa: {topic}. Vergonzoso",
        "Llevo {wait} esperando que digáis algo sobre {topic}",
    ),
    "en": (
        "This {topic} thing is unacceptable. We want a public explanation now",
        "After the {topic} mess I'll never trust you again",
        "Is nobody going to own up to the {topic}?",
        "Share so people know: {topic}. Shameful",
        "Been waiting {wait} for you to say anything about the {topic}",
    ),
}

BLOGGER_TEMPLATES: tuple[str, ...] = (
    "Tercera vez que pido {product} y llega {issue}. Mis lectores merecen saber cómo tratáis a los clientes",
    "Reseña sincera en el blog esta semana: {product}, decepcionante. Y la atención al cliente, peor",
    "Llevo {wait} esperando respuesta sobre el pedido {order}. Con 10.000 personas leyéndome, igual ahora sí",
    "Lo de {product} no tiene un pase. Mañana lo cuento todo en el blog",
    "He catado {product} tres veces para ser justa. No está a la altura del precio ({price})",
)

BRAND_POST_TEMPLATES: dict[str, tuple[str, ...]] = {
    "es": (
        "¡Ya está aquí {product} de temporada! Cuéntanos qué te parece 👇",
        "Esta semana la tienda de {city} abre hasta {hour}. ¡Te esperamos!",
        "¿Con qué te quedas: {product} o {product2}?",
        "Envío gratis en pedidos de más de {price} hasta el domingo",
        "Nuestro equipo de {city} te recomienda {product} para este finde",
    ),
    "en": (
        "{product} is back for the season! Tell us what you think 👇",
        "This week the {city} store is open until {hour}. See you there!",
        "Which one wins: {product} or {product2}?",
        "Free shipping on orders over {price} until Sunday",
        "Our {city} team recommends {product} for this weekend",
    ),
}


def crisis_topic(topic: str) -> CrisisTopic | None:
    """The built-in topic a free-text topic names, if any ("#intoxicación" → food poisoning)."""
    wanted = topic.strip().lower()
    for known in CRISIS_TOPICS:
        if wanted in (known.key, known.label) or wanted in known.aliases:
            return known
    return None


def _order_number(rng: random.Random) -> str:
    return f"#{rng.choice(string.ascii_uppercase)}{rng.randrange(10_000, 99_999)}"


def _spam_url(rng: random.Random) -> str:
    # example.* domains are reserved: spam links that can never lead anywhere.
    code = "".join(rng.choice(string.ascii_lowercase + string.digits) for _ in range(6))
    return f"https://promo{rng.randrange(1, 99)}.example/{code}"


def fill(template: str, language: str, rng: random.Random, **extra: str) -> str:
    """Fill a template's slots; only the slots it uses consume randomness, so templates stay independent."""
    vocab = VOCABULARY[language]
    values: dict[str, str] = {}
    for _text, name, _spec, _conv in string.Formatter().parse(template):
        if not name or name in values:
            continue
        if name in extra:
            values[name] = extra[name]
        elif name == "order":
            values[name] = _order_number(rng)
        elif name == "url":
            values[name] = _spam_url(rng)
        elif name == "product2":
            values[name] = rng.choice(vocab["product"])
        else:
            values[name] = rng.choice(vocab[name])
    text = template.format(**values)
    if language == "es":
        text = contract_articles(text)
    return text[0].upper() + text[1:] if text else text


_SPANISH_CONTRACTIONS = re.compile(r"\b([Dd]e|[Aa]) el\b")


def contract_articles(text: str) -> str:
    """Spanish writes "del" and "al", never "de el" or "a el" (slots put "el ..." after "de")."""
    return _SPANISH_CONTRACTIONS.sub(lambda m: m.group(1) + "l", text)


def decorate(text: str, category: str, language: str, rng: random.Random, hashtag: str | None = None) -> str:
    """Sometimes an emoji, sometimes a hashtag, as people write."""
    if rng.random() < 0.35:
        text = f"{text} {rng.choice(EMOJI[category])}"
    if hashtag is not None:
        text = f"{text} {hashtag}"
    elif rng.random() < 0.2:
        text = f"{text} {rng.choice(HASHTAGS[language][category])}"
    return text


def community_message(category: str, language: str, rng: random.Random) -> str:
    template = rng.choice(TEMPLATES[category][language])
    return decorate(fill(template, language, rng), category, language, rng)


def crisis_message(topic: str, language: str, rng: random.Random) -> str:
    known = crisis_topic(topic)
    if known is None:
        template = rng.choice(GENERIC_CRISIS_TEMPLATES[language])
        return decorate(fill(template, language, rng, topic=topic), COMPLAINT, language, rng)
    template = rng.choice(known.templates[language])
    tag = known.hashtags[language] if rng.random() < 0.7 else None
    return decorate(fill(template, language, rng), COMPLAINT, language, rng, hashtag=tag)


def blogger_message(rng: random.Random) -> str:
    return fill(rng.choice(BLOGGER_TEMPLATES), "es", rng)


def brand_post(language: str, rng: random.Random) -> str:
    return fill(rng.choice(BRAND_POST_TEMPLATES[language]), language, rng)
