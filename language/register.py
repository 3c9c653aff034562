"""Which register a message is written in: French, Darija in Latin letters, or Darija in Arabic script.

Mixed messages take the register of their Darija part. A message with no letters at all
(emoji, digits), or only in English, has no register, so the conversation keeps the one it had.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from pathlib import Path
from typing import FrozenSet, Optional

import yaml

FRENCH = "french"
DARIJA_LATIN = "darija_latin"
DARIJA_ARABIC = "darija_arabic"
REGISTERS = (FRENCH, DARIJA_LATIN, DARIJA_ARABIC)

_ARABIC_LETTER = re.compile(r"[\u0621-\u064a\u0671-\u06d3\u06a4\u06af]")
_LATIN_LETTER = re.compile(r"[a-zà-ÿ]")
_WORD = re.compile(r"[a-z0-9à-ÿ']+")
# Arabizi: digits standing for Arabic letters inside a word ("3ndi", "n9ra", "l7oceima").
_EMPHASIS = re.compile(r"(.)\1{2,}")  # "salaaam" -> "salam"
_ARABIZI_DIGIT_WORD = re.compile(r"^(?=.*[a-z])(?=.*[235789])[a-z235789']+$")

# Words that only Darija writers use (French look-alikes such as "la", "fin", "mais" are left out).
DARIJA_MARKERS = frozenset(
    """
    salam slm slam salamo salamu labas labass wach wash wech ach chno chnou chnu chnouma achno ash
    bghit bghyt bgit bgheet bghina kanbghi nbghi kayn kayna kaynin kayen makaynch makaynach
    khass khassni khasni khassek khsni khas dyal dial diyal dyali dialk dyalk dyalek dyalo dyalha
    nqra nqraw n9ra nqra kanqra kanqri t9ra tqra qrit nt3alem nt3allem nsjl nsajjal nsajel tsjil tasjil
    kifach kifash kifch fayn feen imta fo9ach fou9ach waqtach wa9tach ch7al chhal bch7al
    bchhal chhal 3lach 3lache 3ndi 3andi 3endi 3ndk 3andek ana nta nti ntoma howa hiya hna tema
    rani raki rah raha ghadi ghad gha bzaf bzzaf chwiya chwia mzyan mzyana zwin wakha wakhkha iyeh
    ih la2 lla choukran chokran chkran chokrane baraka barakallahou bslama besslama m3a m3ak m3ana
    nhder nhdar nhdr hder tkelem chi wahed wa7ed wahd khdma khedma khadma 5dma takwin tkwin markaz
    fabor blach flous nkhalles nkhales lbac lmarkaz lformation ldiplome lkhdma lmdina 3am 3amr 3mri
    sna snin daba mn men f fi had hadi hadak hadik hadchi walakin walo bezaf ila ghir smhli smh smhlia
    mafhamtch fhamt mafhemtch kan kant kanu ma3rftch 3rft swlt safi yallah yalah inchallah nchallah
    ahlan ahlaan ahla marhba sbah msa nour lkhir lkhair bikhir ghda ghedda lyoum lbare7 barak lah llah
    khti khoya khouya sa7bi sahbi chkoun chkon achkoun li lli lli kay kat kan kayjawb kanqdar n9der nqder
    salamat abadan nharek nharkom mbrouk mabrouk mzn wlah wallah wlh bghina tqder t9der bla bach bash besh fach fhad had dak dik hit 7it walakin
    """.split()
)
# Darija word shapes French does not have: "nchoufok", "nqra" (n + consonant), "kayjawb", "kt..."
# (k + consonant), and words with kh / gh / 9 / 7 / 3 sounds.
_DARIJA_SHAPES = re.compile(
    r"^(n[bcdfgjklmqrstvwxz]|k[bcdfgjkmnpqstvwxz]|t[bdfgjkqsxz][a-z]).{1,}$|kh|gh|^(mk|mch|mz|mq|ms)[a-z]"
)


# Short answers both French and Darija writers type ("ah", "ok", "merci", "la"), which say nothing
# about the register; with the catalogue's Latin names ("agadir", "bac") and numbers they leave
# the conversation's register as it was.
SHARED_WORDS = frozenset("ah ahh ahhh ok okay oki okey la merci mrc mercii stop bac lbac bts dts".split())
# English words and short phrases Moroccan youth mix in ("human please", "are you a bot", "delete my
# data", "how much"). English is not a reply register: a message written only in these words says
# nothing of the register, so the conversation keeps its own (French for a first message).
ENGLISH_WORDS = frozenset(
    """
    a an the is are am was be do does did can could will would i im i'm me my mine you u your ur r it its it's
    we us our they them this that what whats what's where when why who how which much many any some there here
    to of in on at for from with about and or not no yes yeah yep yup nope ya please pls plz plse thanks thx
    thank ty bye goodbye hi hello hey yo sup good morning evening night sorry help need want wanna gonna get
    talk speak chat human person real agent someone somebody people bot robot ai machine
    delete erase remove clear forget wipe data info information personal details
    cost costs price prices pay paid free fee fees money salary earn job jobs work career careers
    apply application register registration sign up join enroll enrol course courses training program programs
    programme programmes class classes start starts starting begin date next session sessions
    center centers centre centres near nearest location address city online phone mobile
    requirements required need needed diploma degree age old young years year
    """.split()
)
CATALOGUE = Path(__file__).resolve().parents[1] / "registry" / "catalogue.yml"


@functools.lru_cache(maxsize=1)
def catalogue_words() -> FrozenSet[str]:
    """Every Latin word of every name and spelling in the registry catalogue."""
    catalogue = yaml.safe_load(CATALOGUE.read_text(encoding="utf-8"))
    words = set()
    for section in ("regions", "cities", "education_levels", "programmes"):
        for record in catalogue.get(section) or []:
            for name in [record.get("id"), record.get("name"), record.get("name_fr"), *(record.get("aliases") or [])]:
                words.update(_WORD.findall(str(name or "").lower()))
    return frozenset(words)


def _says_nothing_of_the_register(words: list) -> bool:
    """Only digits, words both registers type, catalogue names, or English."""
    return all(w.isdigit() or w in SHARED_WORDS or w in ENGLISH_WORDS or w in catalogue_words() for w in words)


def detect_register(text: str) -> Optional[str]:
    """The register of ``text``, or ``None`` when nothing in it tells (no letters, or only
    words both French and Darija writers use, such as "ah", "ok", a city's name, or English)."""
    folded = unicodedata.normalize("NFKC", text).lower()
    if len(_ARABIC_LETTER.findall(folded)) >= 2:
        return DARIJA_ARABIC
    if not _LATIN_LETTER.search(folded):
        return None
    words = [_EMPHASIS.sub(r"\1", word.strip("'")) for word in _WORD.findall(folded)]
    if _says_nothing_of_the_register(words):
        return None
    for word in words:
        if word in DARIJA_MARKERS or _ARABIZI_DIGIT_WORD.match(word) or _DARIJA_SHAPES.search(word):
            return DARIJA_LATIN
    return FRENCH
