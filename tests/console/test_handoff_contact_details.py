"""An adviser's message that would move a minor off Tawjih (a phone number, an e-mail, a social-media handle, a
link) is found and refused; the numbers of everyday advice (programmes, dates, ages, prices, ids) are not."""

from __future__ import annotations

from typing import List

import pytest

from console.handoff.contact_details import (
    ALLOWED_LINK_DOMAINS,
    contact_details_in,
    find_contact_details,
    refusal_reason,
)


@pytest.mark.parametrize(
    ("text", "kinds"),
    [
        # phones: Moroccan in every common shape, international, Arabic-Indic digits
        ("appelle-moi au 06 12 34 56 78", ["phone"]),
        ("0612345678", ["phone"]),
        ("07.12.34.56.78", ["phone"]),
        ("05-22-12-34-56", ["phone"]),
        ("0522 12 34 56", ["phone"]),
        ("+212 6 12 34 56 78", ["phone"]),
        ("+212 (0) 6 12 34 56 78", ["phone"]),
        ("00212612345678", ["phone"]),
        ("212612345678", ["phone"]),
        ("0 6 1 2 3 4 5 6 7 8", ["phone"]),
        ("٠٦١٢٣٤٥٦٧٨", ["phone"]),
        ("عيط ليا ف ٠٦ ١٢ ٣٤ ٥٦ ٧٨", ["phone"]),
        ("+33 6 12 34 56 78", ["phone"]),
        ("+1 415 555 2671", ["phone"]),
        # e-mails, plain and written to get past a filter
        ("sara.b@gmail.com", ["email"]),
        ("écris à sara [at] gmail.com", ["email"]),
        ("sara at gmail dot com", ["email"]),
        ("sara (at) gmail (dot) com", ["email"]),
        ("sara arobase gmail point com", ["email"]),
        ("sara at gmail", ["email"]),
        ("sara @ gmail . com", ["email"]),
        # handles and invitations to another app
        ("@sara_22", ["handle"]),
        ("insta: sara.b", ["handle"]),
        ("mon snap c'est sarabennani", ["handle"]),
        ("snap sara_22", ["handle"]),
        ("tiktok @sara", ["handle"]),
        ("fb: sara", ["handle"]),
        ("telegram: @sara", ["handle"]),
        ("انستا: sara22", ["handle"]),
        ("زيدني فسناب", ["handle"]),
        ("écris-moi sur WhatsApp", ["handle"]),
        ("zidni f insta", ["handle"]),
        ("ajoute moi sur snap", ["handle"]),
        ("kteb li f whatsapp", ["handle"]),
        # links: chats and profiles are handles too
        ("facebook.com/sara.bennani", ["handle", "link"]),
        ("t.me/sara", ["handle", "link"]),
        ("https://instagram.com/sara", ["handle", "link"]),
        ("wa.me/212612345678", ["phone", "handle", "link"]),
        ("wa . me / 212612345678", ["phone", "handle", "link"]),
        ("www.exemple.com", ["link"]),
        ("bit.ly/abc", ["link"]),
        ("remplis https://forms.gle/xyz.", ["link"]),
        ("code212.ma", ["link"]),
        ("https://www.ofppt.ma/fr/inscription", ["link"]),  # official, but the allow-list is empty by default
        ("mon numéro 0612345678 ou sara@gmail.com, insta: sara_b", ["phone", "email", "handle"]),
    ],
)
def test_contact_details_are_found(text: str, kinds: List[str]) -> None:
    assert contact_details_in(text) == kinds


NEGATIVES = [
    "Code 212",
    "Le programme Code 212 ouvre à Casablanca",
    "inscris-toi avant le 2026-12-01",
    "le 06/12/2026 à 10h",
    "12/01/2027",
    "rdv à 14h30 au centre",
    "il faut avoir 18 ans",
    "bac+2 ou bac+3, 2.5 ans",
    "ça coûte 2000 DH",
    "ça coûte 1 500 DH par mois",
    "session 1734567890123",
    "ID de session: 1734567890",
    "conversation #48213",
    "réf. 2026/0042",
    "JobInTech Casablanca, 120 places",
    "la formation dure 6 mois (900 heures)",
    "le centre est au 12 rue Ibn Batouta",
    "C.I.N. et photo",
    "mon insta est privé",
    "tu peux suivre la page officielle de l'OFPPT",
    "le snap de la formation? non",
    "rendez-vous @ 14h",
    "on se voit @14h",
    "envoie-moi ta CIN ici",
    "wach 3ndek lbac?",
    "اتصل بالمركز ديالك",
    "صيفط ليا الوثائق هنا",
    "e.g. le formulaire, etc. bref",
    "Pour parler à un conseiller, écris-nous sur WhatsApp ou sur le chat du site",  # Tawjih's own channels
    # the canned replies the console ships with
    "Bonjour, je suis conseiller ou conseillère de Tawjih. J'ai lu ta demande : comment puis-je t'aider ?",
    "Salam, ana conseiller dyal Tawjih. Qrit talab dyalk: kifach n9der n3awnek?",
    "Bach tsajjal, wajjed copie dyal la CIN, copie dyal akhir diplome w CV.",
    "باش تتسجل، وجد نسخة من البطاقة الوطنية، نسخة من آخر ديبلوم و CV.",
]


@pytest.mark.parametrize("text", NEGATIVES)
def test_everyday_advice_is_not_refused(text: str) -> None:
    assert contact_details_in(text) == []


def test_official_sites_can_be_allowed() -> None:
    assert ALLOWED_LINK_DOMAINS == frozenset()
    official = frozenset({"ofppt.ma"})
    assert contact_details_in("https://www.ofppt.ma/fr/inscription", official) == []
    assert contact_details_in("inscription.ofppt.ma", official) == []
    assert contact_details_in("https://ofppt.ma.example.com/x", official) == ["link"]


def test_spans_point_at_the_values() -> None:
    text = "écris au ٠٦١٢٣٤٥٦٧٨ ou sara@gmail.com"
    spans = find_contact_details(text)
    assert [(span.kind, span.value(text)) for span in spans] == [("phone", "٠٦١٢٣٤٥٦٧٨"), ("email", "sara@gmail.com")]


def test_the_refusal_says_why() -> None:
    reason = refusal_reason(["phone", "handle"])
    assert reason.startswith("Message non envoyé : il contient un numéro de téléphone et un compte de réseau social")
    assert "mineures" in reason
    assert "une adresse e-mail." in refusal_reason(["email"])
