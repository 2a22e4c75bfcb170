"""Words and phrases a community manager reads as signs of intent and urgency, in Spanish and English.

This is data, not interface: it is matched, never shown, and not translated. Entries are written
as people write them and separated by "|"; matching folds case and accents and collapses
elongations the same way on both sides (normalize.py), so "intoxicación", "INTOXICACION" and
"intoxicacioooon" all match. A trailing "*" matches any word that starts with the stem
("reembols*": reembolso, reembolsar, reembolsen). Phrases match whole words in order.

Kept general on purpose: the vocabulary of any shop, restaurant, delivery or subscription
business, not of one brand and not of the sandbox simulator's templates, which only evaluate
these lists (docs/nlp.md). Insults are rude, never slurs: a slur is not something to teach by
listing it.
"""

from __future__ import annotations

from enum import StrEnum


class Cue(StrEnum):
    HELP = "help"  # asking for information or help
    BUSINESS = "business"  # orders, products, the shop, the service: what the brand answers for
    YOU = "you"  # addressed to the brand (second person)
    PROBLEM = "problem"  # something went wrong with an order, a product or the service
    DISSATISFIED = "dissatisfied"  # disappointment with the service, without insulting anyone
    PRAISE = "praise"
    NEGATOR = "negator"  # turns the praise after it around ("no lo recomiendo")
    INSULT = "insult"  # aimed at people or at the company
    DISMISSAL = "dismissal"  # "que os den", "get lost": abuse on its own
    PROFANITY = "profanity"  # swearing: strong feeling, not abuse by itself
    PROMO = "promo"  # what spam sells: easy money, crypto, followers, giveaways
    CONTACT_ME = "contact_me"  # spam's call to action: "DM me", "link in bio"
    CRITICAL = "critical"  # health, safety, legal: someone senior must see it now
    URGENT = "urgent"  # the writer says it cannot wait, or threatens to leave or go public


LEXICON: dict[Cue, dict[str, str]] = {
    Cue.HELP: {
        "es": """
            alguien sabe |
            sabe alguien | sabéis si | sabéis cómo | saben si | cómo puedo | me gustaría saber |
            quería saber | quisiera saber | necesito saber | una pregunta | una duda | tengo una duda |
            necesito ayuda | ayuda con | cómo funciona | hay manera de | hay forma de
        """,
        "en": """
            does anyone know | anyone know | how do i | how can i | i'd like to know | i would like to know |
            wondering if | wondering whether | quick question | i have a question | need help |
            is it possible to
        """,
    },
    Cue.BUSINESS: {
        "es": """
            pedido* | envío* | enviar | entrega* | paquete* | repartidor* | mensajer* | seguimiento |
            tienda* | local | horario* | abrís | abren | abre | abierto | abierta | cierran | cerrado |
            producto* | stock | existencias | precio* | factura* | cobr* | pago* | pagar | tarjeta |
            devoluci* | devolver | cambio | reserva* | cita | suscripci* | cuenta | web | app | aplicación |
            atención al cliente | servicio* | soporte | garantía | talla* | descuento* | oferta* | carta |
            menú | comprar | compra* | recoger | domicilio | dirección
        """,
        "en": """
            order* | deliver* | shipping | ship | shipped | package* | parcel* | courier | tracking | store* |
            shop* | opening | open | close* | hours | product* | stock | price* | invoice* | receipt |
            charge* | pay | payment* | card | refund* | return* | exchange | booking* | reservation* |
            appointment | subscription* | account | website | site | app | customer service | support |
            service | warranty | size* | discount* | menu | buy | bought | purchase* | pick up | collect |
            address
        """,
    },
    Cue.YOU: {
        "es": """
            vosotros | vosotras | vuestro* | vuestra* | os | ustedes | usted | sois | estáis | tenéis |
            hacéis | podéis | abrís | cerráis | vendéis | enviáis | aceptáis | habéis
        """,
        "en": "you | your | yours | you're | y'all | u | ur",
    },
    Cue.PROBLEM: {
        "es": """
            no ha llegado | no me ha llegado | no llega | no me llega | no llegó | sin llegar | sigue sin |
            sigo esperando | todavía no | aún no | llegó tarde | llega tarde | con retraso | retraso* | roto |
            rota | rotos | rotas | dañad* | estropead* | defectuos* | mal estado | caducad* | podrid* |
            no funciona | no va | me falta | faltaba | faltan | incomplet* | equivocad* | reembols* |
            devuélv* | mi dinero | cobrado dos veces | doble cargo | cargos | me han cobrado | cancelad* |
            nadie contesta | nadie responde | nadie me contesta | nadie me responde | sin respuesta |
            no contestan | no responden | he llamado | he escrito | os he escrito | reclamación | queja |
            esperando respuesta | esperando una respuesta | esperando contestación | esperando mi pedido |
            mala atención | malas formas | subido los precios | subida de precios | fuera de fecha |
            maleducad* | grosero | caro | carísimo | abusivo | barbaridad | perdido | extraviad*
        """,
        "en": """
            never arrived | hasn't arrived | has not arrived | didn't arrive | not arrived | still waiting |
            been waiting | still hasn't | still no | late | delayed | delay* | broken | damaged | crushed |
            defective | faulty | spoiled | spoilt | expired | rotten | missing | wrong | doesn't work |
            does not work | not working | stopped working | refund* | money back | charged twice |
            double charged | overcharged | charged me | cancelled | canceled | no answer | no reply |
            no response | nobody answers | no one answers | nobody replies | no one replies | ignored |
            waiting for a reply | waiting for an answer | waiting for a response | waiting for my order |
            complaint | rude | overpriced | prices went up | raised your prices | price increase |
            out of date | too expensive | rip off | never received | not received | lost my |
            lost in the post | got lost
        """,
    },
    Cue.DISSATISFIED: {
        "es": """
            decepci* | decepcionad* | fatal | pésim* | horrible | lamentable | inaceptable | vergonzoso |
            desastre | indignad* | harto | harta | hartos | nunca más | no vuelvo | no volveré | qué mal |
            muy mal | gracias por nada | me habéis dejado | ridícul*
        """,
        "en": """
            disappoint* | terrible | awful | horrible | worst | unacceptable | shameful | disgrace* | fed up |
            sick of | never again | not good enough | so bad | very bad | thanks for nothing | embarrassing |
            ridiculous
        """,
    },
    Cue.PRAISE: {
        "es": """
            gracias | mil gracias | genial | geniales | encanta | encantó | encantado | encantada |
            maravill* | excelente | recomiend* | buenísim* | riquísim* | delicios* | espectacular | perfect* |
            increíble | fantástic* | estupend* | enhorabuena | felicidades | chapó | top | gran trabajo |
            buen trabajo | qué bien | muy bien | muy rico | me ha gustado | me gustó | me gusta | amo | joya |
            majísim* | amabl* | lo mejor | el mejor | la mejor | los mejores | bravo | ole | da gusto |
            repetiremos | repetiré | volveremos | volveré
        """,
        "en": """
            thanks | thank you | thx | love | loved | loving | great | amazing | awesome | excellent |
            recommend* | delicious | perfect | fantastic | wonderful | brilliant | best | kudos | impressed |
            lovely | superb | nice | friendly | so kind | very kind | well done | great job | good job |
            helpful | five stars | outstanding | incredible | beautiful | yummy | tasty
        """,
    },
    Cue.NEGATOR: {
        "es": "no | nunca | jamás | ni | tampoco | nada",
        "en": """
            not | never | no | don't | dont | doesn't | doesnt | didn't | didnt | isn't | isnt | wasn't |
            wasnt | won't | wont | can't | cant | cannot | hardly
        """,
    },
    Cue.INSULT: {
        "es": """
            idiota* | imbécil* | inútil* | incompetente* | payaso* | gilipollas | estúpid* | cretino* |
            ladrones | estafador* | sinvergüenza* | mentiros* | timador* | chapuceros | dais pena |
            dais asco | dais vergüenza | timo | estafa | sacacuartos | patétic*
        """,
        "en": """
            idiot* | moron* | useless | incompetent | clown* | pathetic | stupid | dumb | losers | liars |
            thieves | crooks | scammer* | con artists | a joke | scam | rip-off | ripoff | fraud | jokers |
            you suck
        """,
    },
    Cue.DISMISSAL: {
        "es": """
            que os den | que te den | idos a la mierda | iros a la mierda | vete a la mierda |
            a tomar por culo | callaos | cállate | largaos | os odio | ojalá cerréis
        """,
        "en": """
            get lost | screw you | go to hell | shut up | piss off | fuck off | fuck you | f off | hate you |
            drop dead | hope you go bust | go away
        """,
    },
    Cue.PROFANITY: {
        "es": "joder | mierda | coño | hostia* | cojones | puto | puta | leches | carajo",
        "en": "fuck* | shit* | damn* | wtf | bullshit | crap | hell | bloody | ffs | omfg",
    },
    Cue.PROMO: {
        "es": """
            gana | ganar | dinero fácil | desde casa | sin experiencia | ingresos | inversión | invierte |
            invertir | cripto* | bitcoin | btc | forex | trading | garantizad* | rentabilidad | sorteo |
            gratis | premio | descuento del | solo hoy | sólo hoy | haz clic | pincha | seguidores | likes |
            apuestas | casino | préstamo | préstamos
        """,
        "en": """
            earn | make money | easy money | from home | no experience | income | invest* | crypto* |
            bitcoin | btc | forex | trading | guaranteed | returns | profit* | giveaway | win | winner |
            free | off today | today only | only today | click | followers | likes | casino | betting | loan |
            loans
        """,
    },
    Cue.CONTACT_ME: {
        "es": """
            escríbeme | escríbenos | por privado | por md | al md | mándame | link en bio | enlace en bio |
            whatsapp | telegram | info | más info
        """,
        "en": "dm me | dm us | message me | text me | link in bio | whatsapp | telegram | info | visit",
    },
    Cue.CRITICAL: {
        "es": """
            intoxicaci* | intoxicad* | envenenad* | alergia* | alérgic* | anafila* | hospital |
            hospitalizad* | urgencias | ambulancia | vómito* | vomitando | vomitar | diarrea | fiebre |
            mareo* | dolor de estómago | dolor de tripa | puesto malo | puesto mala | puesto enfermo |
            puesta enferma | denuncia* | denunciar | abogad* | demanda | demandar | demandaré | juzgado |
            tribunal* | hoja de reclamaciones | facua | ocu | sanidad | guardia civil | policía | incendio |
            quemadura* | herid* | filtración de datos | datos filtrados | han filtrado | hackeo | hackead* |
            phishing | suicid* | quitarme la vida | matarme
        """,
        "en": """
            food poisoning | poisoned | poisoning | allerg* | anaphyla* | hospital | hospitalized |
            hospitalised | emergency room | the er | a&e | ambulance | vomit* | throwing up | diarrhea |
            diarrhoea | fever | dizzy | dizziness | stomach ache | stomach cramps | got sick | been sick |
            lawyer* | attorney* | lawsuit | sue | suing | legal action | to court | small claims |
            trading standards | police | burned | injured | glass in | data breach | data leak | leaked data |
            leaked my | hacked | phishing | suicid* | kill myself
        """,
    },
    Cue.URGENT: {
        "es": """
            urgente | urgentemente | inmediatamente | cuanto antes | lo antes posible | hoy mismo |
            ahora mismo | ya mismo | de una vez | exijo | exigimos | me doy de baja | darme de baja | prensa |
            noticias | lo voy a contar | lo cuento todo | difundid
        """,
        "en": """
            urgent | urgently | asap | immediately | right now | right away | as soon as possible | i demand |
            demand | the press | the news | share this | spread the word | going viral
        """,
    },
}

# Spanish wh-words open a question even without "?", but only with their accent: "qué" asks,
# "que" joins clauses ("que os den"). Matched against the casefolded text, accents kept.
QUESTION_OPENERS = """
    qué | cómo | cuándo | dónde | cuánto | cuánta | cuántos | cuántas | cuál | cuáles | quién | quiénes |
    what | how | when | where | why | who | which | whats | hows | is | are | do | does | did | can | could |
    will | would | should | has | have | anyone | anybody
"""


def terms(raw: str) -> list[str]:
    """The entries of one of the lists above."""
    return [entry.strip() for entry in raw.split("|") if entry.strip()]
