"""Personal-data masking (console/masking.py): phones, e-mails, CIN numbers and names, in
French, Arabizi, Arabic script and mixed messages, with spaCy's real French model."""

from __future__ import annotations

import dataclasses
import itertools
import re
import time
from collections import defaultdict
from pathlib import Path
from typing import Dict, List, Tuple

import pytest
import yaml

from console import masking
from console.masking import (
    PLACEHOLDERS,
    Span,
    find_personal_data,
    find_personal_data_many,
    mask,
    mask_many,
    mask_with_spans,
    reveal,
)

NAMES_FILE = Path(__file__).parent / "data" / "names.yml"


@pytest.fixture(scope="module", autouse=True)
def _model_loaded() -> None:
    masking.warm_up()


def _kinds(text: str) -> List[Tuple[str, str]]:
    return [(span.kind, span.value(text)) for span in find_personal_data(text)]


# --------------------------------------------------------------------------- phones

PHONES = [
    "+212 6 12 34 56 78",
    "+212612345678",
    "+212-661-234567",
    "00212612345678",
    "00 212 6 61 23 45 67",
    "0612345678",
    "06 12 34 56 78",
    "06-12-34-56-78",
    "06.12.34.56.78",
    "0712 345 678",
    "07 00 11 22 33",
    "0522 12 34 56",
    "05.22.12.34.56",
    "(+212) 612-345678",
    "+212 (0)6 12 34 56 78",
    "212661234567",
    "+33 6 12 34 56 78",
]


@pytest.mark.parametrize("phone", PHONES)
@pytest.mark.parametrize(
    "template",
    [
        "{}",
        "Mon numéro : {}, merci de me rappeler",
        "ra9mi howa {} 3afak",
        "رقمي هو {} عافاك",
    ],
)
def test_phone_numbers_are_found_whole(phone: str, template: str) -> None:
    text = template.format(phone)
    start = text.index(phone)
    assert _kinds(text) == [("phone", phone)], text
    assert find_personal_data(text)[0] == Span(start, start + len(phone), "phone")


@pytest.mark.parametrize(
    ("text", "phone"),
    [
        ("٠٦١٢٣٤٥٦٧٨", "٠٦١٢٣٤٥٦٧٨"),  # Arabic-Indic digits
        ("رقمي ٠٦ ١٢ ٣٤ ٥٦ ٧٨ شكرا", "٠٦ ١٢ ٣٤ ٥٦ ٧٨"),
        ("tel: ۰۶۶۱۲۳۴۵۶۷", "۰۶۶۱۲۳۴۵۶۷"),  # Extended Arabic-Indic (Persian) digits
        ("ra9mi0612345678", "0612345678"),  # glued to the word before
        ("0612345678w 3ndi whatsapp", "0612345678"),
        ("f 2026 0612 345 678", "0612 345 678"),  # a year right before the number
        ("3ndi 19 3am w ra9mi 06 61 23 45 67.", "06 61 23 45 67"),
    ],
)
def test_phone_numbers_in_other_digits_and_glued(text: str, phone: str) -> None:
    assert _kinds(text) == [("phone", phone)]


def test_two_numbers_in_one_message() -> None:
    text = "appelez le 06 12 34 56 78 ou le 07 11 22 33 44 / +212 522 123 456"
    assert [value for kind, value in _kinds(text)] == ["06 12 34 56 78", "07 11 22 33 44", "+212 522 123 456"]


@pytest.mark.parametrize(
    "text",
    [
        "J'ai 19 ans",
        "3ndi 18 3am w 2 ans d'expérience",
        "عندي 19 عام",
        "La formation commence en 2026",
        "Code 212 à Rabat",
        "wach khassni bac+2 wla bac+3?",
        "La session commence le 12/01/2027",
        "la session: 12/01/2027 - 30/06/2027",
        "Ça coûte 3000 DH ? ou 3 000 dh ? 3000DH",
        "moyenne 14.25/20, classement 123",
        "n9ra f 212 f 2026",
        "15 000 apprenants en 2026, 1 000 d'abord",
        "les places: 25, 30 ou 45",
        "06/12/2026 à 10h30",
        "Salle B204, groupe 3",
    ],
)
def test_ordinary_numbers_are_not_masked(text: str) -> None:
    assert find_personal_data(text) == []
    assert mask(text) == text


# --------------------------------------------------------------------------- e-mails


@pytest.mark.parametrize(
    "email",
    [
        "yassine.benali@gmail.com",
        "fatima_zahra99@hotmail.fr",
        "h.el-idrissi+tawjih@univ-rabat.ac.ma",
        "OUMAIMA.B@Yahoo.FR",
        "contact@cmc.ma",
    ],
)
@pytest.mark.parametrize("template", ["{}", "mon mail: {}.", "l'email dyali howa {} 3afak", "الإيميل ديالي {} شكرا"])
def test_emails(email: str, template: str) -> None:
    text = template.format(email)
    assert _kinds(text) == [("email", email)]


@pytest.mark.parametrize(
    ("text", "email"),
    [
        ("yassine [at] gmail.com", "yassine [at] gmail.com"),
        ("écris-moi: sara @ gmail.com", "sara @ gmail.com"),
        ("(hamza.2005@outlook.com)", "hamza.2005@outlook.com"),
    ],
)
def test_emails_written_loosely(text: str, email: str) -> None:
    assert _kinds(text) == [("email", email)]


@pytest.mark.parametrize("text", ["on se voit @ Rabat", "suivez @tawjih_ma", "fichier cv.pdf", "a@b"])
def test_not_emails(text: str) -> None:
    assert [kind for kind, _ in _kinds(text)] == []


# --------------------------------------------------------------------------- CIN


@pytest.mark.parametrize(
    ("text", "cin"),
    [
        ("AB123456", "AB123456"),
        ("ma CIN: J123456", "J123456"),
        ("BK 654321", "BK 654321"),
        ("ra9m lakart dyali ab123456", "ab123456"),
        ("رقم البطاقة ديالي EE 98765", "EE 98765"),
        ("CIN J1234", "J1234"),  # a short number after "CIN"
        ("cin: bk 654321", "bk 654321"),
        ("La carte nationale: K-45678", "K-45678"),
        ("بطاقتي: ٧٦٥٤٣٢", None),  # digits only: not a CIN shape
        ("CIN: BE٦٥٤٣٢١", "BE٦٥٤٣٢١"),
    ],
)
def test_cin_numbers(text: str, cin: str) -> None:
    found = [(kind, value) for kind, value in _kinds(text) if kind == "cin"]
    assert found == ([("cin", cin)] if cin else [])


@pytest.mark.parametrize(
    "text",
    [
        "3ndi bac2 w bghit nqra",
        "niveau A1 f l'anglais, B2 f français",
        "l'IA2026 kayna?",
        "f 2026 wla f 2027",
        "à 12345 km",
        "module M2-101, salle B204",
        "bac+2 DTS 2025",
        "JobInTech IA 2026",
        "nqra f Code 212",
        "ISO 9001",
        "Kénitra 14000",
    ],
)
def test_not_cin(text: str) -> None:
    assert [kind for kind, _ in _kinds(text) if kind == "cin"] == []


# --------------------------------------------------------------------------- masking and reveal

MIXED = (
    "Salam, smiti Hamza El Idrissi, ra9mi 06 61 23 45 67 w l'email hamza.idrissi@gmail.com, "
    "CIN BK 654321, 3ndi 19 3am w bghit Code 212 f 2026"
)


def test_mask_replaces_each_value_with_its_kind() -> None:
    assert mask(MIXED) == (
        "Salam, smiti [nom], ra9mi [téléphone] w l'email [e-mail], CIN [CIN], 3ndi 19 3am w bghit Code 212 f 2026"
    )


@pytest.mark.parametrize(
    "text",
    [
        MIXED,
        "اسمي سلمى، رقمي ٠٦١٢٣٤٥٦٧٨ و البطاقة AB123456 و الإيميل salma.b@gmail.com",
        "Je m'appelle Yassine (0712 345 678, yassine99@hotmail.fr, J123456)",
        "+212 6 61 23 45 67 / 0522-12-34-56 / EE98765 / a.b@c.ma",
    ],
)
def test_masked_text_keeps_nothing_of_the_values(text: str) -> None:
    masked, spans = mask_with_spans(text)
    digits_view = masking._ascii_digits(masked)
    assert {span.kind for span in spans} >= {"phone", "email", "cin"}
    for span in spans:
        value = span.value(text)
        if span.kind == "email":
            assert value not in masked
            assert value.split("@")[0] not in masked
        if span.kind in ("phone", "cin"):
            for group in re.findall(r"\d{2,}", masking._ascii_digits(value)):
                assert group not in digits_view, (group, masked)
            assert re.sub(r"\D", "", masking._ascii_digits(value)) not in re.sub(r"\D", "", digits_view)
        if span.kind == "name":
            assert value not in masked
    # one placeholder per value, in order, and nothing else changed
    placeholders = re.findall(r"\[(?:téléphone|e-mail|CIN|nom)\]", masked)
    assert placeholders == [PLACEHOLDERS[span.kind] for span in spans]


def test_placeholders_say_the_kind_and_not_the_length() -> None:
    short, long = mask("je m'appelle Ali"), mask("je m'appelle Abderrahmane Benjelloun")
    assert short == "je m'appelle [nom]" and long == "je m'appelle [nom]"
    assert set(PLACEHOLDERS) == set(masking.KINDS)
    assert not any(re.search(r"\d", placeholder) for placeholder in PLACEHOLDERS.values())


def test_spans_are_sorted_frozen_and_do_not_overlap() -> None:
    spans = find_personal_data(MIXED + " " + MIXED)
    assert spans == sorted(spans)
    assert all(a.end <= b.start for a, b in itertools.pairwise(spans))
    assert all(span.kind in masking.KINDS for span in spans)
    with pytest.raises(dataclasses.FrozenInstanceError):
        spans[0].start = 0  # type: ignore[misc]


def test_an_email_with_digits_is_one_email_not_a_phone() -> None:
    text = "mail: yassine0612345678@gmail.com"
    assert _kinds(text) == [("email", "yassine0612345678@gmail.com")]


def test_reveal_gives_back_value_k_of_the_original() -> None:
    _masked, spans = mask_with_spans(MIXED)
    values = [reveal(MIXED, k) for k in range(len(spans))]
    assert values == [
        ("name", "Hamza El Idrissi"),
        ("phone", "06 61 23 45 67"),
        ("email", "hamza.idrissi@gmail.com"),
        ("cin", "BK 654321"),
    ]
    with pytest.raises(IndexError):
        reveal(MIXED, len(spans))
    assert reveal("اسمي سلمى", 0) == ("name", "سلمى")


def test_mask_many_is_mask_of_each_and_handles_empty_texts() -> None:
    texts = [MIXED, "", "Bonjour", "اسمي خديجة", "Salam Ahmed, ra9mi 0700112233"]
    assert mask_many(texts) == [mask(text) for text in texts]
    assert find_personal_data("") == [] and mask("") == ""


def test_the_model_is_loaded_once_with_only_ner() -> None:
    model = masking._model()
    assert masking._model() is model
    assert model.nlp.pipe_names == ["ner"]


def test_catalogue_names_are_never_names() -> None:
    for text in [
        "Rabat Casa Fès فاس الرباط Marrakech Tanger",
        "JobInTech Code 212 CMC Digital-Offshoring",
        "Salam, Bonjour, Merci Tawjih",
        "f Kénitra w Salé w El Jadida w Béni Mellal",
    ]:
        assert [kind for kind, _ in _kinds(text)] == [], text


# --------------------------------------------------------------------------- names: the test set


def _expected_spans(text: str, names: List[str]) -> List[Tuple[int, int]]:
    spans = []
    for name in names:
        start = text.index(name)
        spans.append((start, start + len(name)))
    return spans


def test_names_recall_and_precision_on_the_test_set() -> None:
    """Recall: expected names wholly hidden. Precision: masked names that lie within an expected name."""
    messages = yaml.safe_load(NAMES_FILE.read_text(encoding="utf-8"))["messages"]
    assert len(messages) >= 60
    results = find_personal_data_many([message["text"] for message in messages])
    counts: Dict[str, Dict[str, int]] = defaultdict(lambda: defaultdict(int))
    misses, false_names = [], []
    for message, spans in zip(messages, results, strict=True):
        text, register = message["text"], message["register"]
        expected = _expected_spans(text, message["names"] or [])
        found = [(span.start, span.end) for span in spans if span.kind == "name"]
        for start, end in expected:
            hidden = all(
                any(f_start <= i < f_end for f_start, f_end in found)
                for i in range(start, end)
                if not text[i].isspace()
            )
            for key in (register, "all"):
                counts[key]["expected"] += 1
                counts[key]["caught"] += hidden
            if not hidden:
                misses.append((text, text[start:end]))
        for f_start, f_end in found:
            right = any(start <= f_start and f_end <= end for start, end in expected)
            for key in (register, "all"):
                counts[key]["masked"] += 1
                counts[key]["right"] += right
            if not right:
                false_names.append((text, text[f_start:f_end]))

    print(f"\nnames test set: {len(messages)} messages, {sum(1 for m in messages if m['names'])} with a name")
    for key in ("french", "darija_latin", "darija_arabic", "mixed", "all"):
        c = counts[key]
        recall = c["caught"] / c["expected"] if c["expected"] else 1.0
        precision = c["right"] / c["masked"] if c["masked"] else 1.0
        print(
            f"  {key:14} recall {recall:.3f} ({c['caught']}/{c['expected']})"
            f"  precision {precision:.3f} ({c['right']}/{c['masked']})"
        )
    for text, name in misses:
        print(f"  missed: {name!r} in {text!r}")
    for text, name in false_names:
        print(f"  not a name: {name!r} in {text!r}")
    total = counts["all"]
    assert total["caught"] / total["expected"] >= 0.8
    assert total["right"] / total["masked"] >= 0.9


def test_a_page_of_messages_is_fast() -> None:
    """A console page: 50 messages masked in one batch; the time is printed, the bound is generous."""
    messages = [m["text"] for m in yaml.safe_load(NAMES_FILE.read_text(encoding="utf-8"))["messages"]][:50]
    page = [f"{text} ra9mi 06 12 34 56 78" if i % 5 == 0 else text for i, text in enumerate(messages)]
    mask_many(page)  # warm caches
    started = time.perf_counter()
    mask_many(page)
    batch = (time.perf_counter() - started) / len(page)
    started = time.perf_counter()
    for text in page:
        mask(text)
    single = (time.perf_counter() - started) / len(page)
    print(f"\nmasking: {batch * 1000:.2f} ms per message in a batch of 50, {single * 1000:.2f} ms one by one")
    assert batch < 0.1
