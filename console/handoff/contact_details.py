"""Ways to reach someone outside Tawjih, in what an adviser is about to send: advisers do not move minors off
the platform, so a message carrying one is refused with the reason (supervisors may send it).

Four kinds: ``phone`` and ``email`` as ``console.masking`` finds them (the same validated phone numbers, Arabic-
Indic digits included), plus e-mails written to dodge a filter ("sara at gmail dot com", "sara arobase gmail");
``handle``: "@name", "insta: name", "mon snap c'est name", "زيدني فسناب", and invitations to write on another
app ("écris-moi sur WhatsApp", "zidni f insta"); ``link``: any web address except ``ALLOWED_LINK_DOMAINS``
(wa.me, t.me and social-network profiles are both a link and a handle).
"""

from __future__ import annotations

import re
from typing import AbstractSet, Iterable, List, Optional, Sequence

from console.masking import _EMAIL, Span, _ascii_digits, _phone_spans

KINDS = ("phone", "email", "handle", "link")

# Official sites advisers may link to (a subdomain counts), e.g. "ofppt.ma". None by default: decide per site.
ALLOWED_LINK_DOMAINS: AbstractSet[str] = frozenset()

# Hosts where a path names a person or a chat: a link there is also a handle.
_PROFILE_HOSTS = frozenset(
    "facebook.com fb.com fb.me m.me messenger.com instagram.com instagr.am tiktok.com vm.tiktok.com snapchat.com "
    "t.me telegram.me telegram.dog wa.me wa.link chat.whatsapp.com api.whatsapp.com twitter.com x.com "
    "linkedin.com discord.gg discord.com threads.net".split()
)
_TLDS = (
    "com|ma|net|org|fr|me|ly|io|co|gl|gg|link|app|info|biz|xyz|tv|to|be|us|uk|de|es|it|eu|ca|site|online|store"
    "|shop|live|page|dev|am|cc|ws|tk|ml|ga|cf|gq|club|top|vip|pro|fun|art|news|blog|tech|dog|ai|ch|nl|tn|dz|sn"
)
_URL = re.compile(
    r"(?:\b(?:https?|ftp)://|\bwww\.)[^\s<>\"']+"
    # a bare host: labels of two letters or more, a known ending, then maybe a path
    rf"|(?<![@\w.\-])(?:[a-z0-9](?:[a-z0-9\-]{{0,61}}[a-z0-9])\.)+(?:{_TLDS})(?![\w\-])(?:[/?#][^\s<>\"']*)?"
    # the one-letter hosts of chats, also written with spaces to get past a filter: "wa . me / 2126…"
    r"|(?<![\w.\-])(?:wa|t|m|fb|x)\s*\.\s*(?:me|com)\s*/\s*[^\s<>\"']+",
    re.IGNORECASE,
)
# Obfuscated e-mail addresses that ``console.masking`` (made for what people type) does not look for.
_DOT = r"(?:\s*\.\s*|\s*[\[\(\{]\s*(?:dot|point)\s*[\]\)\}]\s*|\s+(?:dot|point)\s+)"
_PROVIDERS = r"(?:gmail|hotmail|yahoo|outlook|live|icloud|menara|protonmail|proton|gmx|aol|msn)"
_EMAIL_OBFUSCATED = re.compile(
    r"(?<![\w.+\-])[a-z0-9][\w.+\-]*"
    r"(?:\s*[\[\(\{]\s*(?:at|@|arobase)\s*[\]\)\}]\s*|\s+(?:at|arobase|arobas)\s+|\s+@\s+)"
    rf"(?:[a-z0-9\-]+{_DOT})*(?:[a-z0-9\-]+{_DOT}(?:{_TLDS})\b|{_PROVIDERS}\b)",
    re.IGNORECASE,
)
_KEYWORDS = (
    r"insta(?:gram)?|ig|snap(?:chat)?|tik\s?tok|facebook|fb|messenger|telegram|twitter|discord|linkedin|skype"
    r"|viber|whats\s?app|whatsap|wtsp|wtsap|watsap|watsapp|wats|pseudo|username"
    r"|سناب(?:شات)?|انستا|انستغرام|انستجرام|انستقرام|فيسبوك|فايسبوك|فيس|تيك\s?توك|تيليغرام|تلغرام|تليجرام|واتساب|واتس|مسنجر"
)
_HANDLE = r"@?[a-z0-9_](?:[a-z0-9_.]{0,28}[a-z0-9_])?"
_HANDLE_AFTER_KEYWORD = re.compile(
    rf"(?<!\w)(?:{_KEYWORDS})(?!\w)"
    r"(?:\s*(?:dyali|diali|dyal\s*i|ديالي|perso|à\s*moi|a\s*moi))?"
    r"(?:\s*(?::|=|->|=>|→|-)\s*|\s+(?:c['’]?\s*est|howa|hiya|هو|هي)\s*:?\s*|\s+(?=@))"
    rf"(?P<handle>{_HANDLE})(?![\w@])",
    re.IGNORECASE,
)
# Without a separator, only something that cannot be a word: "snap sara_22", "insta sara.b".
_HANDLE_BESIDE_KEYWORD = re.compile(
    rf"(?<!\w)(?:{_KEYWORDS})(?!\w)\s+(?P<handle>@?(?=[a-z0-9_.]*[a-z])(?=[a-z0-9_.]*[0-9_.])[a-z0-9_][a-z0-9_.]{{1,29}})(?![\w@])",
    re.IGNORECASE,
)
_AT_HANDLE = re.compile(r"(?<![\w@.+\-])@(?P<handle>[a-z0-9_][a-z0-9_.]{1,29})(?![\w@])", re.IGNORECASE)
# Invitations are personal ("écris-moi sur WhatsApp"); "écris-nous sur WhatsApp" names Tawjih's own channel.
_INVITATION = re.compile(
    r"(?:\b(?:[ée]cri[st]?|contacte|ajoute|appelle|envoie|parle|rejoins|suis|follow|add|text|call)[\s\-]?moi"
    r"|\b(?:zidni|tb3ni|sifti\s?li|siftli|sift\s?li|kteb\s?li|ktebli|3ayet\s?li|3ayetli|dwi\s+m3aya|hder\s+m3aya)"
    r"|(?:زيدني|تبعني|صيفط\s?لي|صيفطلي|كتب\s?لي|كتبلي|عيط\s?لي|عيطلي))"
    r"\s+(?:sur|par|via|en|on|f|fi|fl|3la|b|ف|في|على|ب)?\s*"
    rf"(?:{_KEYWORDS})(?!\w)",
    re.IGNORECASE,
)
# Words that follow "mon insta c'est …" without being a name.
_NOT_HANDLES = frozenset(
    "pas plus le la les un une mon ton son ma ta sa privé prive fermé ferme bloqué bloque mieux ici là la-bas "
    "quoi comment sur dans pour machi walo ghir nta nti hna dyal diali".split()
)
_TIME_LIKE = re.compile(r"^\d{1,2}(?:h\d{0,2}|:\d{2})?$", re.IGNORECASE)


def _host(url: str) -> str:
    host = re.sub(r"^(?:[a-z]+://)", "", re.sub(r"\s+", "", url), flags=re.IGNORECASE)
    host = re.split(r"[/?#:]", host, maxsplit=1)[0].lower().rstrip(".")
    return host[4:] if host.startswith("www.") else host


def _allowed(host: str, allowed: AbstractSet[str]) -> bool:
    return any(host == domain or host.endswith("." + domain) for domain in allowed)


def _has_path(url: str) -> bool:
    rest = re.sub(r"^(?:[a-z]+://)?[^/?#]+", "", re.sub(r"\s+", "", url), flags=re.IGNORECASE)
    return len(rest.strip("/?#")) > 0


def _overlaps(start: int, end: int, spans: Iterable[Span]) -> bool:
    return any(start < span.end and span.start < end for span in spans)


def _handle_ok(handle: str) -> bool:
    bare = handle.lstrip("@").lower()
    return any(c.isalpha() for c in bare) and bare not in _NOT_HANDLES and not _TIME_LIKE.match(bare) and len(bare) >= 2


def find_contact_details(text: str, allowed_domains: Optional[AbstractSet[str]] = None) -> List[Span]:
    """Where each phone number, e-mail address, handle and link is in ``text`` (a span may be of two kinds)."""
    if not text:
        return []
    allowed = ALLOWED_LINK_DOMAINS if allowed_domains is None else allowed_domains
    digits = _ascii_digits(text)  # one character for one: offsets stay valid
    found: List[Span] = [Span(start, end, "phone") for start, end in _phone_spans(digits)]
    emails = [Span(m.start(), m.end(), "email") for m in _EMAIL.finditer(digits)]
    emails += [
        Span(m.start(), m.end(), "email")
        for m in _EMAIL_OBFUSCATED.finditer(digits)
        if not _overlaps(m.start(), m.end(), emails)
    ]
    found += emails
    for match in _URL.finditer(digits):
        url = match.group().rstrip(".,;:!?)]}»\"'")
        start, end = match.start(), match.start() + len(url)
        if _overlaps(start, end, emails):
            continue
        host = _host(url)
        if _allowed(host, allowed):
            continue
        found.append(Span(start, end, "link"))
        if host in _PROFILE_HOSTS and _has_path(url):
            found.append(Span(start, end, "handle"))
    for pattern in (_HANDLE_AFTER_KEYWORD, _HANDLE_BESIDE_KEYWORD, _AT_HANDLE):
        for match in pattern.finditer(digits):
            start, end = match.span()
            if _handle_ok(match.group("handle")) and not _overlaps(match.start("handle"), end, emails):
                found.append(Span(start, end, "handle"))
    found += [Span(m.start(), m.end(), "handle") for m in _INVITATION.finditer(digits)]
    return sorted(set(found))


def contact_details_in(text: str, allowed_domains: Optional[AbstractSet[str]] = None) -> List[str]:
    """The kinds of contact details in ``text``, in the order of ``KINDS``; empty when there is none."""
    kinds = {span.kind for span in find_contact_details(text, allowed_domains)}
    return [kind for kind in KINDS if kind in kinds]


_KIND_WORDS = {
    "phone": "un numéro de téléphone",
    "email": "une adresse e-mail",
    "handle": "un compte de réseau social ou une invitation à écrire ailleurs",
    "link": "un lien",
}


def refusal_reason(kinds: Sequence[str]) -> str:
    """What the adviser is told when their message is refused (the console is in French)."""
    words = [_KIND_WORDS[kind] for kind in KINDS if kind in kinds]
    listed = words[0] if len(words) == 1 else ", ".join(words[:-1]) + " et " + words[-1]
    return (
        f"Message non envoyé : il contient {listed}. Les conseillers ne donnent pas de moyen de se joindre "
        "hors de Tawjih (beaucoup de personnes sont mineures) ; un ou une superviseur·e peut l'envoyer si nécessaire."
    )
