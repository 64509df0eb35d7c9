"""What a lock screen may show: generic, localized, and never a word a partner wrote (others
see lock screens). Deep links travel in the notification's data, not its text.

Each kind of ``push.kinds.KINDS`` names its entry here (``Kind.texts``); every entry has every
language NEUTRAL has (tests/unit/test_texts.py holds both to it)."""

from __future__ import annotations

from push.kinds import KINDS

# texts key -> language -> (title, body)
TEXTS: dict[str, dict[str, tuple[str, str]]] = {
    "pause_started": {
        "en": ("Your partner asked for a pause", "Take a breath. You will both be called back."),
        "de": ("Dein Partner bittet um eine Pause", "Atme durch. Ihr werdet beide zurückgerufen."),
        "es": ("Tu pareja pidió una pausa", "Respira. Os avisaremos a los dos al terminar."),
        "fr": ("Ton partenaire demande une pause", "Respire. Vous serez rappelés tous les deux."),
    },
    "pause_over": {
        "en": ("The pause is over", "When you are ready, come back to each other."),
        "de": ("Die Pause ist vorbei", "Wenn ihr bereit seid, findet wieder zueinander."),
        "es": ("La pausa ha terminado", "Cuando estéis listos, volved el uno al otro."),
        "fr": ("La pause est terminée", "Quand vous êtes prêts, retrouvez-vous."),
    },
    "reading_reminder": {
        "en": ("Time for your temperature reading", "A few minutes together, thanks first."),
        "de": ("Zeit für eure Temperaturmessung", "Ein paar Minuten zu zweit, zuerst mit Dank."),
        "es": ("Hora de vuestra lectura del día", "Unos minutos juntos, empezando por agradecer."),
        "fr": ("C'est l'heure de votre météo du jour", "Quelques minutes ensemble, d'abord merci."),
    },
    "ritual_reminder": {
        "en": ("A ritual of yours is coming up", "A moment you two chose to share."),
        "de": ("Bald ist euer Ritual", "Ein Moment, den ihr zwei gewählt habt."),
        "es": ("Se acerca uno de vuestros rituales", "Un momento que elegisteis compartir."),
        "fr": ("Un de vos rituels approche", "Un moment que vous avez choisi de partager."),
    },
    "reading_started": {
        "en": ("Your partner started tonight's reading", "Join when you have a moment."),
        "de": ("Dein Partner hat die Messung begonnen", "Komm dazu, wenn du einen Moment hast."),
        "es": ("Tu pareja empezó la lectura de hoy", "Únete cuando tengas un momento."),
        "fr": ("Ton partenaire a commencé la météo", "Rejoins-le quand tu as un moment."),
    },
    "ritual_proposed": {
        "en": ("Your partner suggested a ritual", "Have a look together."),
        "de": ("Dein Partner schlägt ein Ritual vor", "Schaut es euch gemeinsam an."),
        "es": ("Tu pareja propuso un ritual", "Miradlo juntos."),
        "fr": ("Ton partenaire propose un rituel", "Regardez-le ensemble."),
    },
    "repair_started": {
        "en": ("Your partner started a repair", "Open Twofold when you are ready."),
        "de": ("Dein Partner hat eine Reparatur begonnen", "Öffne Twofold, wenn du bereit bist."),
        "es": ("Tu pareja empezó una reparación", "Abre Twofold cuando estés listo."),
        "fr": ("Ton partenaire a commencé une réparation", "Ouvre Twofold quand tu es prêt."),
    },
}

# What a discreet person's lock screen shows for every kind: one line that names neither the
# partner nor what happened, and no body (any second line would be one more thing to read).
NEUTRAL: dict[str, tuple[str, str]] = {
    "en": ("You have an update", ""),
    "de": ("Es gibt Neues für dich", ""),
    "es": ("Tienes una novedad", ""),
    "fr": ("Tu as du nouveau", ""),
}

FALLBACK = "en"


def text(kind: str, locale: str | None, discreet: bool = False) -> tuple[str, str]:
    """Title and body for a device's locale ("de-AT" reads as German), English otherwise;
    the neutral line for every kind when the person asked to be discreet."""
    by_language = NEUTRAL if discreet else TEXTS[KINDS[kind].texts]
    language = (locale or FALLBACK).replace("_", "-").split("-")[0].lower()
    return by_language.get(language, by_language[FALLBACK])
