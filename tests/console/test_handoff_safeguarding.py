"""Safeguarding words: alarming messages in every register make a request urgent; ordinary questions about
training, eligibility and jobs, and the idioms decided on in safeguarding.yml, do not."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import yaml

from console.handoff.safeguarding import DEFAULT_PATH, default_terms, load_terms

FRENCH = [
    ("Je veux mourir, plus rien n'a de sens", "self_harm"),
    ("j'ai envie de me suicider", "self_harm"),
    ("je me scarifie depuis des mois", "self_harm"),
    ("Mon beau-père me frappe quand ma mère n'est pas là", "abuse"),
    ("il m'a frappée hier soir", "abuse"),
    ("Un homme du quartier me harcèle tous les jours", "sexual"),
    ("il me demande des photos et me fait du chantage", "sexual"),
    ("il menace de me tuer si je parle", "danger"),
    ("J'ai peur de rentrer chez moi", "danger"),
    ("j'ai fugué depuis 2 jours, je dors dans la rue", "runaway"),
    ("MES PARENTS M'ONT MIS À LA PORTE", "runaway"),
]
DARIJA_LATIN = [
    ("bghit nmout", "self_harm"),
    ("ana bghyt nmot safi", "self_harm"),
    ("ma bghitch n3ich", "self_harm"),
    ("mabghitx n3ish kter", "self_harm"),
    ("ghadi n9tel rassi", "self_harm"),
    ("bba kaydarbni kol nhar", "abuse"),
    ("khoti kaydrbouni", "abuse"),
    ("ana khaaayfa 3la rassi", "danger"),
    ("kayhdedni b lmout", "danger"),
    ("chi wa7ed kayt7arrach biya f lkhedma", "sexual"),
    ("kaybtazni b tsawer dyali", "sexual"),
    ("hrebt mn ddar lbare7", "runaway"),
    ("jrawni mn dar w kan3es f zen9a", "runaway"),
]
DARIJA_ARABIC = [
    ("بغيت نموت", "self_harm"),
    ("مابغيتش نعيش", "self_harm"),
    ("غادي نَقْتَل راسي", "self_harm"),  # diacritics
    ("نقـــتل راسي", "self_harm"),  # tatweel
    ("بابا كيضربني بزاف", "abuse"),
    ("وكيضربوني فالدار", "abuse"),
    ("خايفة على راسي", "danger"),
    ("كيهددني بالموت", "danger"),
    ("أنا فالخطر", "danger"),
    ("كيتحرش بيا واحد فالخدمة", "sexual"),
    ("هربت من الدار", "runaway"),
    ("ما عنديش فين نبات", "runaway"),
]
MIXED = [
    ("mon père kaydrebni", "abuse"),
    ("bghit nmout, j'en peux plus", "self_harm"),
    ("ana khayfa, il me menace", "danger"),
    ("bghit nsuicidi", "self_harm"),
    ("wallah je veux mourir", "self_harm"),
    ("le prof kayharcelini f l'école", "sexual"),
    ("hrbt mn dar, je suis chez une amie", "runaway"),
    ("بغيت نموت franchement", "self_harm"),
    ("rajli kaydrebni, j'ai peur pour ma vie", "abuse"),
]

ORDINARY = [
    # idioms and exaggerations, decided in safeguarding.yml
    "je meurs d'envie de m'inscrire à JobInTech",
    "c'est mortel cette formation !",
    "mdr je suis mort de rire",
    "ça me tue ces délais",
    "ma mère va me tuer si je rate le bac",
    "bba ghadi yqtelni ila ma nj7tch f lbac",
    "rasi kaydrebni mn l9raya",
    "كرشي كتضربني اليوم ما نقدرش نجي",
    "drebni lberd ma ghadich nji lyoum",
    "ana khayf ma yqblonich f la formation",
    "خايف من الباك",
    "khayf mn lbac",
    "le formateur me suit sur instagram",
    "mon frère me bat aux échecs",
    "ce site me tape sur les nerfs",
    "je ne veux pas mourir sans diplôme",
    "je joue du violon et je cherche une formation",
    # the everyday questions
    "Quelles sont les conditions pour s'inscrire à JobInTech ?",
    "wach khassni lbac bach nqra f code 212?",
    "واش خاص الباك باش نتسجل؟",
    "bghit nsjl f la formation dyal l'IA, imta katbda?",
    "Je cherche un stage en développement web à Casablanca",
    "chhal khass l3mr bach ndkhol l CMC?",
    "j'ai 17 ans, est-ce que je peux m'inscrire ?",
    "je dois quitter mon travail pour la formation ?",
    "Le centre ferme à 18h ? et le samedi ?",
    "fin kayn lmarkaz f fes?",
    "kifach nkhalles? 2000 DH bzaf",
    "مرحبا، بغيت نعرف شحال كتدوم الفورماسيون",
    "واش كاين شي تكوين فابور فطنجة؟",
    "bghit nhder m3a chi wahed",
    "merci c'est bon, safi",
    "je veux parler à quelqu'un de l'OFPPT",
]


@pytest.mark.parametrize(("text", "category"), FRENCH + DARIJA_LATIN + DARIJA_ARABIC + MIXED)
def test_an_alarming_message_matches(text: str, category: str) -> None:
    assert category in default_terms().matches(text)


def test_each_register_has_at_least_eight_alarming_examples() -> None:
    assert min(len(FRENCH), len(DARIJA_LATIN), len(DARIJA_ARABIC), len(MIXED)) >= 8


@pytest.mark.parametrize("text", ORDINARY)
def test_an_ordinary_message_does_not_match(text: str) -> None:
    assert default_terms().found(text) == []


def test_whole_words_not_pieces_of_words() -> None:
    terms = default_terms()
    assert terms.matches("c'est mortel") == []
    assert terms.matches("il y a eu des menaces de mort") == ["danger"]
    assert terms.matches("un violon violet") == []
    assert terms.matches("elle a été violée") == ["sexual"]
    assert terms.matches("le suicide") == ["self_harm"]  # suicid*: a prefix on purpose


def test_spellings_and_emphasis_fold_to_one_form() -> None:
    terms = default_terms()
    assert terms.fold("ana KHAAAYFA 3la rassi") == terms.fold("ana khayf 3la rasi")
    assert terms.fold("غادي نَقْتَل راسي") == terms.fold("غادي نقتل راسي")
    assert terms.fold("والدار") == ["دار"] and terms.fold("فالدار") == ["ف", "دار"]
    assert terms.fold("mabghitch") == terms.fold("ma bghitx")


def test_several_categories_in_one_message_in_the_data_order() -> None:
    assert default_terms().matches("hrbt mn dar hit bba kaydrebni") == ["abuse", "runaway"]


def test_found_names_the_term_not_the_message() -> None:
    assert default_terms().found("Bonjour, mon père me frappe") == [("abuse", "me frappe")]


def test_every_term_in_the_data_matches_itself() -> None:
    data = yaml.safe_load(DEFAULT_PATH.read_text(encoding="utf-8"))
    terms = default_terms()
    for category, entry in data["categories"].items():
        for register in ("french", "darija_latin", "darija_arabic", "mixed"):
            for written in entry.get(register) or []:
                assert category in terms.matches(written.replace("*", "")), (category, written)


def test_the_data_says_supervisors_review_it_and_how_to_add_a_term() -> None:
    header = DEFAULT_PATH.read_text(encoding="utf-8")[:3000]
    assert "REVIEWED BY SUPERVISORS" in header and "How to add a term" in header


def test_the_text_is_never_logged(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG):
        load_terms().matches("secret-marker bghit nmout")
    assert all("secret-marker" not in record.getMessage() for record in caplog.records)


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "terms.yml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_small_file_of_ones_own(tmp_path: Path) -> None:
    terms = load_terms(
        _write(
            tmp_path,
            "spellings:\n  nmout: [nmot]\ncategories:\n  sad:\n    label: Triste\n    darija_latin: [bghit nmout]\n"
            "exceptions: [bghit nmout b dhk]\n",
        )
    )
    assert terms.labels == {"sad": "Triste"}
    assert terms.matches("bghit nmot") == ["sad"]
    assert terms.matches("bghit nmout b dhk") == []


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("- a list\n", "expected spellings, categories"),
        ("categories: {}\n", "at least one category"),
        ("categories:\n  sad:\n    french: [triste]\n", "a label"),
        ("categories:\n  sad:\n    label: T\n    english: [sad]\n", "unknown key(s) english"),
        ("categories:\n  sad:\n    label: T\n", "no term"),
        ("categories:\n  sad:\n    label: T\n    french: [triste, 3]\n", "a list of words"),
        ("categories:\n  sad:\n    label: T\n    french: ['* triste']\n", "'*' goes at the end of a word"),
        ("categories:\n  sad:\n    label: T\n    french: ['!!']\n", "has no word in it"),
        ("colours: []\ncategories:\n  sad:\n    label: T\n    french: [triste]\n", "unknown section(s) colours"),
        ("spellings:\n  bba: [bak]\ncategories:\n  s:\n    label: T\n    french: [x]\n", "already means 'lbac'"),
        ("spellings:\n  a: [c]\n  b: [c]\ncategories:\n  s:\n    label: T\n    french: [x]\n", "also a spelling of"),
        ("spellings:\n  a: [b c]\ncategories:\n  s:\n    label: T\n    french: [x]\n", "is several words"),
        ("categories: [\n", "not valid YAML"),
    ],
)
def test_a_broken_file_says_what_is_wrong(tmp_path: Path, text: str, reason: str) -> None:
    with pytest.raises(ValueError) as error:
        load_terms(_write(tmp_path, text))
    assert reason in str(error.value)
