"""Deterministic normalisation of French and Darija text, so that the many ways people spell
one word reach the classifier as one form.

It never touches digits-only words ("212", "2026", "19") and keeps the meaning of Arabizi
digits inside words (3 = ع, 7 = ح, 2 = ء stay: they are letters there).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Dict

# Bidirectional and zero-width marks, BOM, tatweel and Arabic diacritics carry no meaning here.
_INVISIBLE = re.compile(r"[\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff\u0640\u064b-\u0652\u0670]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_ARABIC_VARIANTS = str.maketrans(
    {
        "أ": "ا",
        "إ": "ا",
        "آ": "ا",
        "ٱ": "ا",
        "ة": "ه",
        "ى": "ي",
        "ی": "ي",
        "ک": "ك",
        "گ": "ك",
        "ڭ": "ك",
        "ؤ": "و",
        "ئ": "ي",
        "٠": "0",
        "١": "1",
        "٢": "2",
        "٣": "3",
        "٤": "4",
        "٥": "5",
        "٦": "6",
        "٧": "7",
        "٨": "8",
        "٩": "9",
    }
)
_LETTER_RUN = re.compile(r"([^\W\d_])\1{2,}")  # three or more of one letter: emphasis
# A doubled last vowel or h is emphasis too ("laa", "ahh", "kazaa"); no French word ends so ("ee" is kept:
# "idee", "annee").
_FINAL_DOUBLE = re.compile(r"([aiouh])\1$")
_ARABIZI_WORD = re.compile(r"^(?=.*[a-z])(?=.*\d)[a-z0-9']+$")
_DIGITS_ONLY = re.compile(r"^\d+$")

# Arabizi spellings of one sound, to one form. Applied only inside words mixing letters
# and digits (Arabizi), or to the Darija words listed below, never to French words.
_ARABIZI_DIGIT_SOUNDS = (("5", "kh"), ("9", "q"), ("8", "h"))

# Common Darija words to one spelling; extend as the logs show new habits.
DARIJA_SPELLINGS: Dict[str, str] = {
    **dict.fromkeys(["bghit", "bghyt", "bgit", "bghet", "bghyte", "bghite", "baghi", "bghi"], "bghit"),
    **dict.fromkeys(["khassni", "khasni", "khesni", "khssni", "5assni", "5asni", "khsni"], "khassni"),
    **dict.fromkeys(["khass", "khas", "5ass", "5as", "khes", "khs"], "khass"),
    **dict.fromkeys(["kifach", "kifash", "kifch", "kifech", "kifax", "kifache", "kifesh"], "kifach"),
    **dict.fromkeys(["fin", "fayn", "feen", "fein", "fain", "fen", "fyn"], "fin"),
    **dict.fromkeys(["imta", "emta", "imata", "fo9ach", "foqach", "fou9ach", "fouqach", "waqtach", "wa9tach"], "imta"),
    **dict.fromkeys(["chhal", "ch7al", "chh7al", "bch7al", "bchhal", "chehal", "ch7aal", "bchal", "chal"], "chhal"),
    **dict.fromkeys(["wach", "wash", "wech", "wax", "wch", "ach"], "wach"),
    **dict.fromkeys(["kayn", "kayen", "kain", "kaine", "kayna", "kayne", "kaynin", "kaynine"], "kayn"),
    **dict.fromkeys(["dyal", "dial", "diyal", "dyel"], "dyal"),
    **dict.fromkeys(["nqra", "n9ra", "nqraw", "n9raw", "nakra", "nqraa"], "nqra"),
    **dict.fromkeys(["nsjl", "nsajjal", "nsajel", "nsajal", "nsejel", "nsjel", "ntsjl", "ntsajel"], "nsajel"),
    **dict.fromkeys(["tsjil", "tasjil", "tasjeel", "tsjel", "tasjile", "ttsjil"], "tasjil"),
    **dict.fromkeys(["khdma", "khedma", "khadma", "5dma", "5edma", "khdema"], "khdma"),
    **dict.fromkeys(["takwin", "tkwin", "taqwin", "tkwine", "takwine"], "takwin"),
    **dict.fromkeys(["markaz", "mrkaz", "merkaz", "lmarkaz", "lmerkaz", "santr", "sontr"], "markaz"),
    **dict.fromkeys(["fabor", "fabour", "faboor", "blach", "blash", "bla flous", "majjani", "majani"], "fabor"),
    **dict.fromkeys(["flous", "flouss", "flos", "floss", "lflous"], "flous"),
    **dict.fromkeys(["3ndi", "3andi", "3endi", "andi", "3ndy"], "3ndi"),
    **dict.fromkeys(["3am", "3ame", "aam", "3amm"], "3am"),
    **dict.fromkeys(["choukran", "chokran", "chkran", "chokrane", "shukran", "choukrane", "shokran"], "choukran"),
    **dict.fromkeys(["bslama", "besslama", "bsslama", "beslama", "bsalama"], "bslama"),
    **dict.fromkeys(["wakha", "wakhkha", "wa5a", "wakhaa", "wkha"], "wakha"),
    **dict.fromkeys(["iyeh", "iyah", "ih", "ah", "eyh", "iwa"], "iyeh"),
    **dict.fromkeys(["nhder", "nhdr", "nhdar", "nhadar", "nehder"], "nhder"),
    **dict.fromkeys(["salam", "slm", "slam", "salamo", "salamou", "ssalam"], "salam"),
    **dict.fromkeys(["chno", "chnou", "chnu", "achno", "ach", "chnowa", "chnouwa"], "chno"),
    **dict.fromkeys(["lbac", "lbak", "bak", "lbaccalaureat"], "lbac"),
    **dict.fromkeys(["brit", "bgheet", "bghiit", "bghitt"], "bghit"),
    **dict.fromkeys(["3afak", "3fak", "afak", "3afek", "3afakom", "3fk", "3afakoum"], "3afak"),
    **dict.fromkeys(["mzyan", "mzian", "mezyan", "mezian", "mzn", "mzyn"], "mzyan"),
    **dict.fromkeys(["bzaf", "bzf", "bezaf", "bzzaf", "bezzaf"], "bzaf"),
    **dict.fromkeys(["chi", "shi", "xi"], "chi"),
    **dict.fromkeys(["wa7ed", "wa7d", "wahed", "wahd", "wa7id", "wahid"], "wa7ed"),
    **dict.fromkeys(["3lach", "3lah", "3lache", "3lash", "alach", "3lax"], "3lach"),
    **dict.fromkeys(["labas", "lbas", "labass", "labes", "lbass"], "labas"),
    **dict.fromkeys(["mumkin", "momkin", "mmkn", "mumkine", "momkine", "mmkin", "moumkin"], "mumkin"),
    **dict.fromkeys(["nqder", "nqdar", "nkder", "nqdr", "nkdar"], "nqder"),
    **dict.fromkeys(["n3rf", "n3ref", "na3ref", "n3raf", "n3arf"], "n3rf"),
    **dict.fromkeys(["chkon", "chkoun", "chkun", "shkon", "xkon", "chkoune"], "chkon"),
    **dict.fromkeys(["hadchi", "hadxi", "hadshi", "hadachi"], "hadchi"),
    **dict.fromkeys(["kolchi", "kolxi", "kulchi", "koulchi", "kolshi"], "kolchi"),
    **dict.fromkeys(["machi", "mashi"], "machi"),
    **dict.fromkeys(["walo", "walou", "wallo", "waloo"], "walo"),
    **dict.fromkeys(["bach", "bash", "bax", "bch"], "bach"),
    **dict.fromkeys(["ndir", "ndire", "ndiro"], "ndir"),
}

# French as teenagers text it, to the word the full spelling gives (the tokenizer splits at
# apostrophes: "c'est" is "c" + "est", "d'accord" is "d" + "accord", "j'ai" is "j" + "ai").
# Only abbreviations with one meaning here: "cv" (ça va / curriculum vitae) stays as typed.
FRENCH_TEXTING: Dict[str, str] = {
    **dict.fromkeys(["slt", "salu", "slut"], "salut"),
    **dict.fromkeys(["bjr", "bnjr", "bjour", "bonjou", "bonjours", "bjrr"], "bonjour"),
    **dict.fromkeys(["bsr", "bonsoire", "bnsr"], "bonsoir"),
    **dict.fromkeys(["mrc", "mrci", "mci", "merc", "mercie"], "merci"),
    **dict.fromkeys(["pk", "pq", "pourkoi", "prk", "pkoi", "pcq"], "pourquoi"),
    **dict.fromkeys(["pr", "pur", "pou"], "pour"),
    **dict.fromkeys(["koi", "kwa", "quoa"], "quoi"),
    **dict.fromkeys(["cmb", "cmbien", "combiens", "conbien", "cbn"], "combien"),
    **dict.fromkeys(["qd", "qnd", "kand"], "quand"),
    **dict.fromkeys(["bcp", "bcq", "bocoup"], "beaucoup"),
    **dict.fromkeys(["tjr", "tjrs", "toujour"], "toujours"),
    **dict.fromkeys(["dac", "dacc", "dacord", "daccord", "dakor", "dacor"], "accord"),
    **dict.fromkeys(["jai", "g"], "ai"),
    **dict.fromkeys(["chui", "chuis", "jsui", "jsuis", "jsuiss"], "suis"),
    **dict.fromkeys(["thx", "tnx", "thnx", "thanx", "thks", "tks", "thanks", "thank"], "thanks"),
    **dict.fromkeys(["ok", "okk", "oki", "okey", "okay", "okii", "okok"], "ok"),
    **dict.fromkeys(["ouais", "ouai", "oue", "ouii", "ui"], "oui"),
    **dict.fromkeys(["nn", "nan", "nop", "nope", "nonn"], "non"),
    **dict.fromkeys(["stp", "svp", "stpl", "svpl", "stpp", "svpp"], "svp"),
    **dict.fromkeys(["info", "infos", "infoss", "information", "informations"], "info"),
    **dict.fromkeys(["inscri", "inscrir", "inscrire", "sinscrire", "insecrire", "enscrire"], "inscrire"),
    **dict.fromkeys(["inscription", "inscriptions", "inscreption", "enscription", "incription"], "inscription"),
    **dict.fromkeys(["formation", "formations", "formasion", "formatoin", "fromation", "foramtion"], "formation"),
}
_CANONICAL_SPELLINGS = {**FRENCH_TEXTING, **DARIJA_SPELLINGS}

# French texted without its apostrophes: "jpeux", "minscrire", "linscription", "ladresse", "cest". The
# tokenizer splits "j'peux" into "j" + "peux"; glued, the pronoun or article goes and the word stays. Only the
# words below, which are no Darija word with its article "l" glued on: "lia" (= to me) is not "l'IA".
_ELIDED_BEFORE_CONSONANT = frozenset(
    "peux veux suis sais cherche fais vais voudrais pense comprends travaille connais dois".split()
)  # only after "j": "jpeux", "jsuis" ("chui" is listed with the texting words)
_ELIDED_BEFORE_VOWEL = frozenset(
    "inscrire inscris inscrit inscription inscriptions interesse interessee habite etudie etudiant etudiante"
    " adresse annee ecole entreprise emploi universite offshoring intelligence informatique ecran"
    " application apprendre ouvert ordinateur orientation attestation experience anglais arabe argent heure"
    " horaire horaires appelle aime envoyer effacer enregistrez enregistre".split()
)
_ELIDING_PREFIXES = ("qu", "j", "m", "t", "s", "l", "d", "n")


def _without_elision(word: str) -> str:
    """ "jpeux" -> "peux", "minscrire" -> "inscrire", "cest" -> "est"; other words unchanged."""
    if word in ("cest", "sest", "quest"):
        return "est"
    if word in ("lage", "dage"):  # "l'âge", "d'âge"; not "sage", "nage"
        return "age"
    if word.startswith("j") and word[1:] in _ELIDED_BEFORE_CONSONANT:
        return word[1:]
    for prefix in _ELIDING_PREFIXES:
        if word.startswith(prefix) and word[len(prefix) :] in _ELIDED_BEFORE_VOWEL:
            return word[len(prefix) :]
    return word


def strip_invisible(text: str) -> str:
    """Remove direction marks, zero-width characters, control characters and Arabic diacritics."""
    return _CONTROL.sub(" ", _INVISIBLE.sub("", unicodedata.normalize("NFKC", text)))


def _strip_latin_accents(word: str) -> str:
    """é -> e, ç -> c; Arabic letters are left alone (their marks are already gone)."""
    decomposed = unicodedata.normalize("NFD", word)
    kept = (c for c in decomposed if not (unicodedata.combining(c) and "\u0300" <= c <= "\u036f"))
    return unicodedata.normalize("NFC", "".join(kept))


def normalise_word(word: str) -> str:
    """One token to its canonical form. Digits-only words are returned untouched."""
    word = strip_invisible(word).strip().lower().translate(_ARABIC_VARIANTS)
    if not word or _DIGITS_ONLY.match(word):
        return word
    word = _strip_latin_accents(word)
    word = _LETTER_RUN.sub(r"\1", word)
    if len(word) > 2:
        word = _FINAL_DOUBLE.sub(r"\1", word)
    if _ARABIZI_WORD.match(word):
        for digit, letters in _ARABIZI_DIGIT_SOUNDS:
            word = word.replace(digit, letters)
        word = word.replace("sh", "ch")
    word = _without_elision(_CANONICAL_SPELLINGS.get(word, word))
    return _CANONICAL_SPELLINGS.get(word, word)


def normalise(text: str) -> str:
    """A whole message, word by word, with single spaces."""
    return " ".join(w for w in (normalise_word(part) for part in strip_invisible(text).split()) if w)


# The phonetic key: one Latin skeleton for a word whatever the script, so "واش", "wach" and
# "wash" meet, and so do "خاصني" / "khassni" / "5asni" or "الباك" / "lbac". Darija in Arabic
# script leaves out short vowels and Arabizi writes them every which way, so vowels go, and
# letters that Arabizi spells several ways (ch / sh / x, kh / 5, q / 9 / k / c, h / 7) share
# one symbol. It is lossy on purpose: it is an extra feature beside the normalised word.
_KEY_ARABIC_LETTERS = str.maketrans(
    {
        "ب": "b", "ت": "t", "ث": "t", "ج": "j", "ح": "h", "خ": "5", "د": "d", "ذ": "d",
        "ر": "r", "ز": "z", "س": "s", "ش": "x", "ص": "s", "ض": "d", "ط": "t", "ظ": "d",
        "ع": "", "غ": "g", "ف": "f", "ق": "k", "ك": "k", "ل": "l", "م": "m", "ن": "n",
        "ه": "h", "ء": "", "پ": "b", "ڤ": "f", "ا": "", "و": "", "ي": "",
    }
)  # fmt: skip
_KEY_LATIN_SOUNDS = (
    ("ch", "x"), ("sh", "x"), ("kh", "5"), ("gh", "g"), ("dj", "j"), ("ou", ""),
    ("q", "k"), ("c", "k"), ("9", "k"), ("7", "h"), ("3", ""), ("2", ""), ("8", "h"),
    ("p", "b"), ("v", "f"),
)  # fmt: skip
_KEY_LATIN_VOWELS = re.compile(r"[aeiouyw]")  # inside a word, w and y are و and ي: long vowels
_KEY_RUN = re.compile(r"(.)\1+")
_ARABIC_LETTER = re.compile(r"[\u0621-\u064a]")


def phonetic_key(word: str) -> str:
    """A normalised word (``normalise_word``) to its cross-script skeleton; numbers unchanged.

    Word-initial و / ي / w / y are consonants and stay; the Arabic article ال is Arabizi's "l".
    """
    if not word or _DIGITS_ONLY.match(word):
        return word
    if _ARABIC_LETTER.search(word):
        if word.startswith("ال") and len(word) > 3:
            word = "l" + word[2:]
        head = {"و": "w", "ي": "y"}.get(word[0], "")
        if head:
            word = word[1:]
        if word.endswith("ه") and len(word) > 3:  # mostly ة, folded into ه: a final vowel
            word = word[:-1]
        key = head + word.translate(_KEY_ARABIC_LETTERS)
    else:
        head = word[0] if word[0] in "wy" else ""
        word = word[len(head) :]
        for spelling, sound in _KEY_LATIN_SOUNDS:
            word = word.replace(spelling, sound)
        key = head + _KEY_LATIN_VOWELS.sub("", word)
    key = _KEY_RUN.sub(r"\1", key)
    return key or word
