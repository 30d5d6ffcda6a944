"""The mailboxes every new account starts with, named in the account's language."""
from __future__ import annotations

DAY_MS = 24 * 3600 * 1000
CAPPED_RETENTION_MS = 30 * DAY_MS  # Trash and Junk never keep mail longer than this

# (Sent, Trash, Drafts, Junk) per language; INBOX is never translated.
_NAMES: dict[str, tuple[str, str, str, str]] = {
    "en": ("Sent Mail", "Trash", "Drafts", "Junk"),
    "et": ("Saadetud kirjad", "Prügikast", "Mustandid", "Rämpspost"),
    "de": ("Gesendet", "Gelöscht", "Entwürfe", "Spam"),
    "fr": ("Messages envoyés", "Corbeille", "Brouillons", "Indésirables"),
    "es": ("Enviados", "Papelera", "Borradores", "Spam"),
    "it": ("Posta inviata", "Cestino", "Bozze", "Spam"),
    "nl": ("Verzonden", "Prullenbak", "Concepten", "Spam"),
    "pt": ("Enviados", "Lixo", "Rascunhos", "Spam"),
    "fi": ("Lähetetyt", "Roskakori", "Luonnokset", "Roskaposti"),
    "ru": ("Отправленные", "Корзина", "Черновики", "Спам"),
}
SPECIAL_USES = ("\\Sent", "\\Trash", "\\Drafts", "\\Junk")


def default_mailboxes(language: str | None, retention_ms: int,
                      names_by_use: dict[str, str] | None = None) -> list[tuple[str, str | None, int]]:
    """(path, specialUse, retention) in creation order: INBOX, Sent, Trash, Drafts, Junk.
    `names_by_use` (special use -> path) replaces the language's names it gives."""
    code = (language or "en").lower().replace("_", "-").split("-")[0]
    names = tuple((names_by_use or {}).get(special, name)
                  for name, special in zip(_NAMES.get(code, _NAMES["en"]), SPECIAL_USES))
    capped = min(retention_ms, CAPPED_RETENTION_MS) if retention_ms else CAPPED_RETENTION_MS
    boxes: list[tuple[str, str | None, int]] = [("INBOX", None, retention_ms)]
    for name, special in zip(names, SPECIAL_USES):
        boxes.append((name, special, capped if special in ("\\Trash", "\\Junk") else retention_ms))
    return boxes
