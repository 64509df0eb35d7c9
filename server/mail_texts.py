"""What the reset mails say, in en, de, es and fr: plain, short, and naming nobody but the
app (a mailbox may be read by someone else, a partner included)."""

from __future__ import annotations

from datetime import timedelta

FALLBACK = "en"

# language -> (subject, text); {code} is the code, written in two groups of four, and
# {minutes} how long it lasts (resets.LIFETIME).
RESET_CODE: dict[str, tuple[str, str]] = {
    "en": (
        "Your Twofold reset code",
        "Your code to set a new Twofold password: {code}\n\n"
        "It works once, for {minutes} minutes. A new password signs you out everywhere.\n\n"
        "If you did not ask for it, ignore this mail: your password stays as it is.\n",
    ),
    "de": (
        "Dein Twofold-Code zum Zurücksetzen",
        "Dein Code für ein neues Twofold-Passwort: {code}\n\n"
        "Er gilt einmal, {minutes} Minuten lang. Ein neues Passwort meldet dich überall ab.\n\n"
        "Wenn du ihn nicht angefordert hast, ignoriere diese Mail: dein Passwort bleibt, "
        "wie es ist.\n",
    ),
    "es": (
        "Tu código de Twofold para restablecer",
        "Tu código para poner una contraseña nueva en Twofold: {code}\n\n"
        "Sirve una vez, durante {minutes} minutos. Una contraseña nueva cierra todas tus "
        "sesiones.\n\n"
        "Si no lo pediste, ignora este correo: tu contraseña sigue igual.\n",
    ),
    "fr": (
        "Ton code Twofold de réinitialisation",
        "Ton code pour choisir un nouveau mot de passe Twofold : {code}\n\n"
        "Il sert une fois, pendant {minutes} minutes. Un nouveau mot de passe ferme toutes tes "
        "sessions.\n\n"
        "Si tu ne l'as pas demandé, ignore ce message : ton mot de passe ne change pas.\n",
    ),
}

# The same request for an address no account uses: the person learns it (they may have
# signed up with another one), and nobody else learns anything from our answer or its timing.
NO_ACCOUNT: dict[str, tuple[str, str]] = {
    "en": (
        "Twofold password reset",
        "Someone asked to reset the Twofold password of this address, but no Twofold "
        "account uses it.\n\n"
        "If it was you, perhaps you signed up with another address. If not, ignore this "
        "mail.\n",
    ),
    "de": (
        "Twofold-Passwort zurücksetzen",
        "Jemand wollte das Twofold-Passwort dieser Adresse zurücksetzen, aber kein "
        "Twofold-Konto nutzt sie.\n\n"
        "Warst du es, hast du dich vielleicht mit einer anderen Adresse angemeldet. Wenn "
        "nicht, ignoriere diese Mail.\n",
    ),
    "es": (
        "Restablecer la contraseña de Twofold",
        "Alguien pidió restablecer la contraseña de Twofold de esta dirección, pero ninguna "
        "cuenta de Twofold la usa.\n\n"
        "Si fuiste tú, quizá te registraste con otra dirección. Si no, ignora este correo.\n",
    ),
    "fr": (
        "Réinitialisation du mot de passe Twofold",
        "Quelqu'un a demandé à réinitialiser le mot de passe Twofold de cette adresse, mais "
        "aucun compte Twofold ne l'utilise.\n\n"
        "Si c'était toi, tu as peut-être utilisé une autre adresse. Sinon, ignore ce "
        "message.\n",
    ),
}


def language(locale: str | None, accept_language: str | None) -> str:
    """The first of our languages the app asked for (its ``locale``, then the request's
    Accept-Language by preference), English otherwise."""
    tags = [locale] if locale else []
    weighted = []
    for position, item in enumerate((accept_language or "").split(",")):
        tag, _, params = item.partition(";")
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        weighted.append((-q, position, tag.strip()))
    tags += [tag for _, _, tag in sorted(weighted)]
    for tag in tags:
        lang = tag.replace("_", "-").split("-")[0].lower()
        if lang in RESET_CODE:
            return lang
    return FALLBACK


def show_code(code: str) -> str:
    """Two groups of four, easier to read and type (the dash is ignored when typed)."""
    return f"{code[:4]}-{code[4:]}"


def reset_mail(lang: str, code: str | None, lasts: timedelta) -> tuple[str, str]:
    """Subject and text of the mail: with the code and how long it ``lasts``, or, when no
    account uses the address, saying so."""
    if code is None:
        return NO_ACCOUNT[lang]
    subject, text = RESET_CODE[lang]
    return subject, text.format(code=show_code(code), minutes=int(lasts.total_seconds() // 60))
