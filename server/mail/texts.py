"""What the mails with codes (and those about codes) say, in en, de, es and fr: plain, short,
and naming nobody but the app (a mailbox may be read by someone else, a partner included)."""

from __future__ import annotations

from datetime import timedelta

FALLBACK = "en"

# language -> (subject, text); {code} is the code, written in groups of four, and {minutes}
# how long it lasts (codes.LIFETIME).
Texts = dict[str, tuple[str, str]]

RESET_CODE: Texts = {
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
NO_ACCOUNT: Texts = {
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


# A sign-up with an address no account uses: the code that makes the account.
SIGN_UP_CODE: Texts = {
    "en": (
        "Your Twofold sign-up code",
        "Your code to make your Twofold account: {code}\n\n"
        "It works once, for {minutes} minutes.\n\n"
        "If you did not sign up, ignore this mail: no account is made without the code.\n",
    ),
    "de": (
        "Dein Twofold-Code zum Anmelden",
        "Dein Code, um dein Twofold-Konto anzulegen: {code}\n\n"
        "Er gilt einmal, {minutes} Minuten lang.\n\n"
        "Wenn du dich nicht angemeldet hast, ignoriere diese Mail: ohne den Code entsteht "
        "kein Konto.\n",
    ),
    "es": (
        "Tu código de registro en Twofold",
        "Tu código para crear tu cuenta de Twofold: {code}\n\n"
        "Sirve una vez, durante {minutes} minutos.\n\n"
        "Si no te registraste, ignora este correo: sin el código no se crea ninguna cuenta.\n",
    ),
    "fr": (
        "Ton code d'inscription Twofold",
        "Ton code pour créer ton compte Twofold : {code}\n\n"
        "Il sert une fois, pendant {minutes} minutes.\n\n"
        "Si tu n'as rien demandé, ignore ce message : aucun compte n'est créé sans le code.\n",
    ),
}

# A sign-up with an address an account already uses: its owner learns it, with no code, and
# the person signing up learns nothing from our answer.
SIGN_UP_TAKEN: Texts = {
    "en": (
        "Someone tried to sign up to Twofold with your address",
        "Someone tried to make a Twofold account with this address, which your account "
        "already uses. Nothing was changed.\n\n"
        "If it was you, sign in instead, or reset your password if you forgot it. If not, "
        "ignore this mail: your account stays as it is.\n",
    ),
    "de": (
        "Jemand wollte sich mit deiner Adresse bei Twofold anmelden",
        "Jemand wollte ein Twofold-Konto mit dieser Adresse anlegen, die dein Konto schon "
        "nutzt. Nichts wurde geändert.\n\n"
        "Warst du es, melde dich stattdessen an oder setze dein Passwort zurück, wenn du es "
        "vergessen hast. Wenn nicht, ignoriere diese Mail: dein Konto bleibt, wie es ist.\n",
    ),
    "es": (
        "Alguien intentó registrarse en Twofold con tu dirección",
        "Alguien intentó crear una cuenta de Twofold con esta dirección, que tu cuenta ya "
        "usa. No se cambió nada.\n\n"
        "Si fuiste tú, inicia sesión, o restablece tu contraseña si la olvidaste. Si no, "
        "ignora este correo: tu cuenta sigue igual.\n",
    ),
    "fr": (
        "Quelqu'un a essayé de s'inscrire à Twofold avec ton adresse",
        "Quelqu'un a essayé de créer un compte Twofold avec cette adresse, que ton compte "
        "utilise déjà. Rien n'a changé.\n\n"
        "Si c'était toi, connecte-toi plutôt, ou réinitialise ton mot de passe si tu l'as "
        "oublié. Sinon, ignore ce message : ton compte ne change pas.\n",
    ),
}

# A sign-in from an installation the account has not seen, while others' wrong guesses have
# filled the account's window: the code lets its owner through.
SIGN_IN_CODE: Texts = {
    "en": (
        "Your Twofold sign-in code",
        "Someone is signing in to Twofold with this address. If it is you, your code is: "
        "{code}\n\n"
        "It works once, for {minutes} minutes, with your password.\n\n"
        "If it is not you, do not share the code: without it and your password nobody gets "
        "in. If you think someone knows your password, reset it.\n",
    ),
    "de": (
        "Dein Twofold-Code zum Einloggen",
        "Jemand loggt sich mit dieser Adresse bei Twofold ein. Wenn du es bist, ist dein "
        "Code: {code}\n\n"
        "Er gilt einmal, {minutes} Minuten lang, zusammen mit deinem Passwort.\n\n"
        "Wenn du es nicht bist, gib den Code niemandem: ohne ihn und dein Passwort kommt "
        "niemand hinein. Glaubst du, jemand kennt dein Passwort, setze es zurück.\n",
    ),
    "es": (
        "Tu código de Twofold para iniciar sesión",
        "Alguien está iniciando sesión en Twofold con esta dirección. Si eres tú, tu código "
        "es: {code}\n\n"
        "Sirve una vez, durante {minutes} minutos, junto con tu contraseña.\n\n"
        "Si no eres tú, no compartas el código: sin él y sin tu contraseña nadie entra. Si "
        "crees que alguien conoce tu contraseña, restablécela.\n",
    ),
    "fr": (
        "Ton code de connexion Twofold",
        "Quelqu'un se connecte à Twofold avec cette adresse. Si c'est toi, ton code est : "
        "{code}\n\n"
        "Il sert une fois, pendant {minutes} minutes, avec ton mot de passe.\n\n"
        "Si ce n'est pas toi, ne partage pas le code : sans lui et sans ton mot de passe, "
        "personne n'entre. Si tu penses que quelqu'un connaît ton mot de passe, "
        "réinitialise-le.\n",
    ),
}

# The same request for an address no account uses.
SIGN_IN_NO_ACCOUNT: Texts = {
    "en": (
        "Twofold sign-in",
        "Someone asked for a code to sign in to Twofold with this address, but no Twofold "
        "account uses it.\n\n"
        "If it was you, perhaps you signed up with another address. If not, ignore this "
        "mail.\n",
    ),
    "de": (
        "Twofold-Anmeldung",
        "Jemand wollte einen Code, um sich mit dieser Adresse bei Twofold einzuloggen, aber "
        "kein Twofold-Konto nutzt sie.\n\n"
        "Warst du es, hast du dich vielleicht mit einer anderen Adresse angemeldet. Wenn "
        "nicht, ignoriere diese Mail.\n",
    ),
    "es": (
        "Inicio de sesión en Twofold",
        "Alguien pidió un código para iniciar sesión en Twofold con esta dirección, pero "
        "ninguna cuenta de Twofold la usa.\n\n"
        "Si fuiste tú, quizá te registraste con otra dirección. Si no, ignora este correo.\n",
    ),
    "fr": (
        "Connexion à Twofold",
        "Quelqu'un a demandé un code pour se connecter à Twofold avec cette adresse, mais "
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
    """Groups of four, easier to read and type (dashes are ignored when typed)."""
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def write(texts: Texts, lang: str, code: str | None, lasts: timedelta) -> tuple[str, str]:
    """Subject and text of a mail in ``lang``, with the code and how long it ``lasts`` when
    the texts carry one."""
    subject, text = texts[lang]
    if code is None:
        return subject, text
    return subject, text.format(code=show_code(code), minutes=int(lasts.total_seconds() // 60))
