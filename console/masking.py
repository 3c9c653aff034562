"""Personal data in what people write to Tawjih: find it, mask it, reveal one value.

Four kinds are found, in French, Darija in Latin letters (Arabizi), Darija in Arabic script
and any mix of them:

- ``phone``: phone numbers, found and validated by the ``phonenumbers`` library (region
  "MA": +212 6…, 00212…, 06… / 07… / 05…, with spaces, dots or dashes; foreign numbers in
  international form too). Arabic-Indic digits (٠٦١٢…) count as digits.
- ``email``: e-mail addresses.
- ``cin``: Moroccan national ID numbers (1–2 letters then digits: "AB123456", "BK 654321").
- ``name``: people's names, from spaCy's French model (``fr_core_news_md``, PER entities,
  filtered) and from the ways people give their name ("je m'appelle …", "moi c'est …",
  "smiti …", "ana smiti …", "اسمي …", "أنا سميتي …").

Catalogue names (cities, regions, programmes, levels: ``registry/catalogue.yml``) and
organisations such as CMC or Code 212 are never taken for people's names.

``mask`` replaces each value with a placeholder that tells its kind and nothing of the
value (its length neither): ``[téléphone]``, ``[e-mail]``, ``[CIN]``, ``[nom]``.
``mask_with_spans`` also returns where each value was in the original text, so that a
supervisor can reveal value #k of one message (``reveal``).
"""

from __future__ import annotations

import re
import threading
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, FrozenSet, Iterable, List, Optional, Sequence, Set, Tuple

import phonenumbers
import yaml

from language.catalogue import CATALOGUE_SOURCES, DEFAULT_CATALOGUE, spellings
from language.normaliser import DARIJA_SPELLINGS, FRENCH_TEXTING, normalise_word

SPACY_MODEL = "fr_core_news_md"
KINDS = ("phone", "email", "cin", "name")
PLACEHOLDERS: Dict[str, str] = {
    "phone": "[téléphone]",
    "email": "[e-mail]",
    "cin": "[CIN]",
    "name": "[nom]",
}
# When two findings overlap, the first kind here wins.
_PRIORITY = {kind: rank for rank, kind in enumerate(("email", "phone", "cin", "name"))}


@dataclass(frozen=True, order=True)
class Span:
    """One personal value in a text: ``text[start:end]`` is the value."""

    start: int
    end: int
    kind: str

    def value(self, text: str) -> str:
        return text[self.start : self.end]


# --------------------------------------------------------------------------- digits

# Arabic-Indic and Extended Arabic-Indic digits, one character for one: offsets stay valid.
_DIGIT_TRANSLATION = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "0123456789" * 2)
_LETTER = re.compile(r"[^\W\d_]")


def _ascii_digits(text: str) -> str:
    return text.translate(_DIGIT_TRANSLATION)


# --------------------------------------------------------------------------- phones

# Digit groups, possibly with a leading "+" or a bracket: "+212", "(0)6", "06", "12".
_DIGIT_GROUP = re.compile(r"\(?\+?\d+\)?")
_GROUP_GAP = re.compile(r"[ \t\u00a0.\-]{0,3}")
_PHONE_START = re.compile(r"^\(?(?:\+|00|0|212)")


def _phone_spans(digits_text: str) -> List[Tuple[int, int]]:
    """Phone numbers in ``digits_text`` (ASCII digits), validated by ``phonenumbers``."""
    if sum(c.isdigit() for c in digits_text) < 9:
        return []
    # Letters become spaces (one for one) so that "ra9mi0612345678" or "06…78w" still have
    # a number standing alone, and Arabizi digits in words stay out of it.
    blanked = _LETTER.sub(" ", digits_text)
    found: List[Tuple[int, int]] = []
    for match in phonenumbers.PhoneNumberMatcher(blanked, "MA", leniency=phonenumbers.Leniency.VALID):
        found.append((match.start, match.end))
    found.extend(_phone_group_spans(blanked))
    return _union(found)


def _phone_group_spans(blanked: str) -> Iterable[Tuple[int, int]]:
    """Runs of digit groups, tried from each group that can start a number, longest first.

    This finds "0612 345 678" after "2026 " or "9 " that the matcher glues to the number.
    """
    groups = list(_DIGIT_GROUP.finditer(blanked))
    chains: List[List[re.Match[str]]] = []
    for group in groups:
        if chains and _GROUP_GAP.fullmatch(blanked[chains[-1][-1].end() : group.start()]):
            chains[-1].append(group)
        else:
            chains.append([group])
    for chain in chains:
        i = 0
        while i < len(chain):
            hit = None
            if _PHONE_START.match(chain[i].group()):
                # the groups from i that hold at most 15 digits (the longest phone number), longest first
                ends, digits = [], 0
                for j in range(i, len(chain)):
                    digits += sum(c.isdigit() for c in chain[j].group())
                    if digits > 15:
                        break
                    if digits >= 9:
                        ends.append(j + 1)
                for j in reversed(ends):
                    start, end = chain[i].start(), chain[j - 1].end()
                    if _plausible_phone(blanked[start:end]) and _valid_phone(blanked[start:end]):
                        hit = (start, end, j)
                        break
            if hit:
                yield hit[0], hit[1]
                i = hit[2]
            else:
                i += 1


_PHONE_SHAPE = re.compile(r"0[5-8]\d{8}|212[5-8]\d{8}|(?:\+|00)[1-9]\d{7,13}")


def _plausible_phone(candidate: str) -> bool:
    """A cheap look before asking ``phonenumbers``: Moroccan numbers have a fixed length."""
    compact = re.sub(r"[^\d+]", "", candidate)
    return bool(_PHONE_SHAPE.fullmatch(compact))


def _valid_phone(candidate: str) -> bool:
    try:
        number = phonenumbers.parse(candidate, "MA")
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.is_valid_number(number)


# --------------------------------------------------------------------------- e-mails

_EMAIL = re.compile(
    r"(?<![\w.%+\-])"
    r"[\w%+\-]+(?:\.[\w%+\-]+)*"  # local part: letters, digits, dots between
    r"\s?(?:@|\[at\]|\(at\)|\[@\]|\(@\))\s?"
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?\.)+[A-Za-z]{2,24}"
    r"(?![\w\-]|\.[A-Za-z0-9])",
    re.IGNORECASE,
)


# --------------------------------------------------------------------------- CIN

# 1–2 letters, then 3–6 digits, as a token of its own ("AB123456", "J123456", "BK 654321").
_CIN = re.compile(r"(?<![\w@.+\-/])([A-Za-z]{1,2})([ \-]?)(\d{3,6})(?![\w@]|[.,/\-]\d)")
# Words after which a short number is taken for a CIN ("CIN: J1234", "ra9m lakart dyali ab 1234").
_CIN_CONTEXT = re.compile(
    r"(?:\bc\.?\s?i\.?\s?n\b|\bcni\b|carte\s+(?:d['’]\s*identit[ée]|nationale)|\bcarte\b|\blakart\b|\bla\s?kart\b"
    r"|\bbita[9q]a\b|\bbtaqa\b|\bbtaka\b|\bbtak[ae]\b|بطاق[ةه]|البطاق[ةه]|لاكارط|لاكارت|\bpi[eè]ce\s+d['’]\s*identit[ée])",
    re.IGNORECASE,
)


def _cin_spans(digits_text: str) -> List[Tuple[int, int]]:
    """CIN numbers: 5–6 digits anywhere; 3–4 digits only after a word such as "CIN" or "بطاقة".

    Letters and digits with a space or dash between them ("BK 654321") count only in capitals
    (or after such a word), so that "f 2026" or "à 12345" are never taken for one.
    """
    found = []
    for match in _CIN.finditer(digits_text):
        letters, separator, digits = match.groups()
        if not letters.isascii():
            continue
        context = bool(_CIN_CONTEXT.search(digits_text[max(0, match.start() - 40) : match.start()]))
        if len(digits) < 5 and not context:
            continue
        if separator and not letters.isupper() and not context:
            continue
        found.append((match.start(), match.end()))
    return found


# --------------------------------------------------------------------------- names: words

# Common given names and family names in Morocco, in Latin letters and Arabic script. They let a
# lowercase name through ("smiti oumaima", "ana ayoub"), tell a compound name from the next word
# ("smiti mohamed amine wach…") and let spaCy's lowercase PER tokens in. Extend freely; keys are
# ``normalise_word`` forms, so accents and "ة / ه" spellings do not matter.
_NAMES_LATIN = """
mohamed mohammed mohammad mouhamed mohamad mhamed muhammad ahmed ahmad amine amin yassine yacine yasin yassin
youssef yousef youssif yusuf hamza ayoub ayyoub othmane otmane outhmane osmane zakaria zakariae zakariya zakariyae
ilyas ilias ilyass iliass elias mehdi mahdi reda rida anas omar oumar ali khalid khaled rachid rashid hassan hasan
hussein houssine houcine hicham hisham ismail ismael smail soufiane sofiane soufian sofian bilal nabil karim said
saad badr badreddine adam adem rayan ryan imad walid oualid anouar anwar abdellah abdallah abdelkader abderrahim
abderrahmane abdelilah abdelali abdessamad abdelhak abdelaziz abdelghani abdelhamid abdelmajid abdeljalil abdelatif
abdellatif jawad driss idriss tarik tariq taha yahya yahia younes younesse youness younouss mustapha mustafa
moustapha mourad marouane marwane aymane aymen ayman achraf ashraf amir salah salaheddine saif zouhair zuhair nizar
nassim wassim oussama ossama usama houssam hossam issam jalal kamal lahcen lhoussaine mokhtar mounir noureddine
nouredine faycal fayssal fouad ghali hakim haytam haitam hatim aziz brahim ibrahim adil adnane adnan chakib chafik
jamal kamil khalil mohcine mohsine mohsin nouh rami sami samir soulaimane souleymane sulaiman tawfik toufik wael
yassir yasser ziad ziyad hamid majid abdou sanad zaid zayd aboubakr bakr hamdi tayeb amr anass mouad moad muad
fatima fatiha fatimazahra zahra zohra zahrae khadija khadeeja meryem maryam mariam myriam meriem salma selma sara
sarah hiba heba aya ayah imane iman imen oumaima oumayma omaima oumaima chaimae chaimaa chaima shaima hajar hajjar
houda huda sanaa sana wiam wiame nadia leila laila layla kenza malak manal majda hind asmae asmaa asma btissam
ibtissam loubna lobna yasmine yasmina jasmine siham sihame samira souad nora noura nour nourhane amal ikram ikrame
ghita rhita safae safaa safa hanane hanan zineb zaynab zainab nouhaila nouhayla noha rania lina douae doaa khaoula
khawla hasna hasnae hafsa rajae raja rim reem sofia soukaina soukayna sokaina maha mouna mona najat naima rachida
saida latifa malika karima hayat ilham inass inas ines jihane jihan kawtar kaoutar kawthar lamia lamiae nawal
nisrine nissrine oumnia omnia rabab salwa wafae wafa widad wissal yousra yosra yusra zakia fadwa fedwa ferdaous
firdaous ghizlane ghizlaine insaf israe israa jamila kaltoum maroua marwa manar nezha rihab sabrina sahar salima
sanae souhaila touria yamna zahira aicha aisha assia bouchra bochra fatine hafida houria mariem nada ranya aya
alaoui idrissi bennani tazi berrada chraibi benjelloun fassi amrani ouazzani filali benkirane kettani sqalli
lahlou bensouda benali bouzid naciri tahiri alami khatib bakkali ouali hajji ziani saidi mansouri chaoui hilali
benmoussa bennis lazrak sebti tounsi guessous benchekroun ouahbi lamrani senhaji zerouali jabri hamdaoui cherkaoui
belhaj boukhari ghazi rifi sahraoui soussi
"""
_NAMES_ARABIC = """
محمد أحمد أمين ياسين يوسف حمزة أيوب عثمان زكرياء زكريا إلياس الياس مهدي المهدي رضا أنس عمر علي خالد رشيد حسن حسين
هشام إسماعيل سفيان بلال نبيل كريم سعيد سعد بدر آدم ريان عماد وليد أنور عبدالله عبدالرحمان عبدالرحيم عبدالقادر جواد إدريس
طارق طه يحيى يونس مصطفى مراد مروان أيمن أشرف أمير صلاح أسامة إبراهيم عادل عزيز جمال كمال منير فؤاد غالي حكيم نزار
وسيم معاذ
فاطمة الزهراء زهرة خديجة مريم سلمى سارة هبة آية إيمان أميمة شيماء هاجر هدى سناء وئام نادية ليلى كنزة ملاك منال ماجدة
هند أسماء ابتسام لبنى ياسمين سهام سميرة نورة نور إكرام غيثة صفاء حنان زينب نهى رانية لينا دعاء خولة حسناء حفصة رجاء
ريم صوفيا سكينة مها منى نجاة نعيمة كوثر لمياء نوال نسرين وفاء وداد وصال يسرى عائشة بشرى أمل
العلوي الإدريسي بناني التازي برادة الشرايبي بنجلون الفاسي العمراني الوزاني الفيلالي
"""
# Words that join the parts of a name: "Hamza El Idrissi", "Ait Taleb", "محمد بن علي".
_PARTICLES = frozenset("el al ben bin ibn ait aït bel bou abou ould abd abdel بن ابن ايت آيت ولد عبد".split())
# "Servant of": always followed by one of God's names, which may be a common word (عبد الله, Abd Allah).
_SERVANT = frozenset("abd abdel abdul عبد".split())

# Words that are never a name: greetings, forms of address, Darija and French everyday words,
# the assistant's own name. (spaCy's French stop words and a French dictionary come on top.)
_STOP_LATIN = """
salam slm slam salamo salamou ssalam salamu alaykom alaykoum 3alikom 3likom alikom aleykoum alikoum salamu bonjour
bonsoir salut coucou cc hello hi hey allo allô merci thanks thank please svp stp madame monsieur mademoiselle mme
mlle mr mrs mm sidi lalla khoya khouya khoti khti okhti akhi ukhti sahbi sa7bi s7abi ostad ustad ostada prof
docteur dr mrhba marhba mar7ba ahlan inchallah nchallah inshallah incha2allah hamdullah hamdoulah hamdolah lhamdulilah
lhamdolilah hamdulillah tbarkallah tbarkalah mashallah machallah safi iwa yallah yalah wayli smhli smeh smahli
bsslama bslama labas hania bikhir walakin wlakin walaken ila ida daba db ghda lyoum lyom hadi had hada hadak hadik
dak dik wa ya lah allah rabi rebbi nti nta ntouma ntoma howa huwa hiya hya hia heya homa huma ana ani 7na hna tma
lhih bzaf chwiya chwia kayn makaynch baghi baghya bghina khassni nqra nkhdem khdma stage formation inscription
centre markaz lycee fac ecole bac lbac diplome chahada w o wla wela ou and or the my name is i am me f fi fl mn men
min m3a m3ak ma3ak m3aak dyal dial dyali diali d li lli elli kan kant kont kona rani rah raha ghadi gha bghit
bghit smiti smiyti smyti esmi ismi smitek smia smiya smya smitkom tawjih chatbot bot robot ok oui non nn lla la
iyeh ah wakha chokran choukran shukran tanks mersi merciii ya3ni yani ewa hak chouf chof wach ach chno chnou kifach
fin imta chhal 3lach mumkin mmkn nqder n3rf mktob mktoba mktouba maktoub ghalt ghalta ghalat ghlat s7i7 sahih
kamel kamla kamil kaml complet complete
"""
_STOP_ARABIC = """
و و عندي من ف في بغيت باغي باغية بغينا ساكن ساكنة كنسكن كنقرا نقرا عمري شكرا سلام السلام عليكم انا أنا نتا نتي هو هي
هيا ديال ديالي هنا كيفاش واش فين امتى شحال علاش بلا باش حيت لا لا اه واخا مرحبا خاصني نتسجل نسجل التسجيل التكوين تكوين
الباك باك دبلوم شهادة مركز سونطر خدمة الخدمة فابور مجاني بزاف شي كاين كاينة ماكاينش عافاك الله الحمد لله إن شاء ان شاء
انشاء انشالله إنشاء السي سي لالة خويا أختي أخي اختي استاذ أستاذ أستاذة السيد السيدة مدام معاك معاكم اسمي إسمي سميتي
توجيه اللي لي ولا أو او مع على عفاك صافي إيوا يالاه دابا غدا اليوم راه راني غادي كنت مكتوب مكتوبة مكتوبه غلط
غالط ماشي صحيح الكامل كامل كاملة ديالي ف البطاقة
"""


def _keys(words: Iterable[str]) -> FrozenSet[str]:
    return frozenset(key for key in (normalise_word(word) for word in words) if key)


def _name_keys(words: Iterable[str]) -> FrozenSet[str]:
    return frozenset(_fold(word) for word in words if word)


def _fold(word: str) -> str:
    """Lowercase without Latin accents, Arabic letter variants folded: how names are compared.

    Unlike ``normalise_word`` it keeps a name as it is ("ali" stays "ali", not a Darija word).
    """
    return normalise_word(word) if not word.isascii() else word.lower()


NAME_WORDS: FrozenSet[str] = _name_keys((_NAMES_LATIN + _NAMES_ARABIC).split())
_PARTICLE_KEYS: FrozenSet[str] = _name_keys(_PARTICLES)
_SERVANT_KEYS: FrozenSet[str] = _name_keys(_SERVANT)

# Organisations and products that are not in the catalogue but come up in conversations.
_ORGANISATIONS = """
cmc code jobintech ofppt anapec ista ensa encg ensam est fst fsjes emsi upm um5 um6p uir cite metiers competences
youcode simplon solicode 1337 udemy coursera google microsoft whatsapp facebook instagram linkedin tiktok youtube
gmail hotmail yahoo outlook maroc morocco marocain marocaine digital offshoring data science ia ai python java
massar tawjihi orientation
"""


# --------------------------------------------------------------------------- names: triggers

_AFTER = r"(?:\s*[:=\-–]\s*|\s+)"
_LATIN_WORD_END = r"(?![\w'’])"


def _latin(pattern: str) -> re.Pattern[str]:
    return re.compile(r"(?<![\w'’])(?:" + pattern + r")" + _LATIN_WORD_END + _AFTER, re.IGNORECASE)


def _arabic(pattern: str) -> re.Pattern[str]:
    return re.compile(r"(?<!\w)(?:" + pattern + r")(?!\w)" + _AFTER)


# How strictly the word after a phrase is taken for a name:
# "open": any word that is not a common word ("je m'appelle yassine", "smiti oumaima", "اسمي سلمى");
# "medium": a word that is not French either ("moi c'est karim");
# "strict": a capitalised word that is not French ("je suis Salma", but not "je suis Marocaine");
# "known": only a known name (``NAME_WORDS``): "ana" / "أنا" (I am) is followed by a name as
# often as by "Mghribi", "mn Fès", "bghit";
# a known name passes in every mode. Arabic script has no capitals: outside "open" only a
# known name is taken there.
_TRIGGERS: Tuple[Tuple[re.Pattern[str], str], ...] = (
    (_latin(r"j(?:e\s*|['’]\s*)?m(?:\s*['’]\s*|\s+)?ap{1,2}el{1,2}e?s?"), "open"),
    (_latin(r"mon\s+(?:pr[ée]nom|nom)(?:\s+complet)?\s*(?:est|c['’]\s*est|:|=)"), "open"),
    (_latin(r"(?:nom\s+et\s+pr[ée]nom|pr[ée]nom\s+et\s+nom|pr[ée]nom|nom\s+complet)\s*:"), "open"),
    (_latin(r"my\s+name\s+is"), "open"),
    (_latin(r"(?:il|elle)\s+s['’]?\s*ap{1,2}el{1,2}e?|son\s+(?:pr[ée]nom|nom)\s+(?:est|c['’]\s*est)"), "open"),
    (_latin(r"smi+y?t(?:ou|o|ha|hom)|smiy?tha"), "open"),
    (_arabic(r"اسمه|اسمها|اسمو|سميتو|سميته|سميتها|سميتهم"), "open"),
    (
        _latin(
            r"(?:ana\s+)?(?:s?smi+y?ti+|smyti+|e?smi|ismi|s?smiy?a\s+dyal[iy])(?:\s+(?:hiya|hia|hya|heya|hiyya|howa|huwa))?"
        ),
        "open",
    ),
    (
        _arabic(
            r"(?:(?:أنا|انا|آنا)\s+)?(?:اسمي|إسمي|أسمي|اسمى|إسمى|سميتي|سميتى|وسميتي|واسمي)(?:\s+(?:هو|هي|هيا|هوا))?"
        ),
        "open",
    ),
    (_latin(r"moi\s*,?\s*c['’]?\s*est|c['’]?\s*(?:est\s+)?moi"), "medium"),
    (_latin(r"j(?:e\s+|['’]\s*|)suis|ici|m3a+k|ma3ak|de\s+la\s+part\s+de|c['’]\s*est"), "strict"),
    (_latin(r"ana|ani"), "known"),
    (_arabic(r"أنا|انا|معاك|معاكم|معكم|معك"), "known"),
)


# --------------------------------------------------------------------------- names: resources


@dataclass
class _Lexicon:
    stop: FrozenSet[str]
    catalogue_phrases: FrozenSet[str]
    max_phrase_words: int


_LEXICON: Optional[_Lexicon] = None
_LEXICON_LOCK = threading.Lock()


def _catalogue_phrases(path: Path) -> Set[str]:
    with path.open(encoding="utf-8") as handle:
        catalogue: Dict[str, Any] = yaml.safe_load(handle) or {}
    phrases: Set[str] = set()
    for _entity, section, names, _value in CATALOGUE_SOURCES:
        for record in catalogue.get(section) or []:
            for spelling in spellings(record, *names):
                words = _WORD.findall(spelling)
                phrases.add(" ".join(_fold(word) for word in words))
                phrases.update(_fold(word) for word in words if "-" in word or len(words) == 1)
                for word in words:  # "rabat-sale-kenitra": each part is a place too
                    if "-" in word:
                        phrases.update(_fold(part) for part in word.split("-") if len(part) > 2)
    phrases.update(_fold(word) for word in _ORGANISATIONS.split())
    phrases.discard("")
    return phrases


def _lexicon() -> _Lexicon:
    global _LEXICON
    if _LEXICON is None:
        with _LEXICON_LOCK:
            if _LEXICON is None:
                from spacy.lang.fr.stop_words import STOP_WORDS

                stop_words = set(_STOP_LATIN.split()) | set(_STOP_ARABIC.split()) | set(STOP_WORDS)
                stop_words |= set(DARIJA_SPELLINGS) | set(DARIJA_SPELLINGS.values())
                stop_words |= set(FRENCH_TEXTING) | set(FRENCH_TEXTING.values())
                stop = frozenset({_fold(word) for word in stop_words} | _keys(stop_words))
                phrases = _catalogue_phrases(DEFAULT_CATALOGUE)
                _LEXICON = _Lexicon(
                    stop=stop - NAME_WORDS,
                    catalogue_phrases=frozenset(phrases),
                    max_phrase_words=max(len(p.split()) for p in phrases),
                )
    return _LEXICON


class _FrenchWords:
    """French words, from the lemmatizer tables of spaCy's model: its lemma list (keyed by hash,
    so looked up as typed) and the lemmas and inflected-form index, also without accents, since
    people type "etudiante", "interesse", "motivee"."""

    def __init__(self, lookup: Any, words: Iterable[str]) -> None:
        self.lookup = lookup
        self.words = frozenset(_strip_accents(word.lower()) for word in words if word)

    def __contains__(self, word: object) -> bool:
        if not isinstance(word, str):
            return False
        lower = word.lower()
        if self.lookup is not None and lower in self.lookup:
            return True
        folded = _strip_accents(lower)
        if folded in self.words:
            return True
        # an inflected form typed without accents, to its lemma: "etudiantes", "interesse(e)", "motivee"
        singular = folded[:-1] if folded.endswith("s") else folded
        stems = [singular]
        if singular.endswith("e"):
            stems += [singular[:-1], singular + "r", singular[:-1] + "r"]
        return len(folded) >= 5 and any(len(stem) >= 4 and stem in self.words for stem in stems)


class _Model:
    """spaCy's French NER, loaded once, and the French words of the same model's lemmatizer."""

    def __init__(self) -> None:
        import spacy

        nlp = spacy.load(
            SPACY_MODEL,
            exclude=["tok2vec", "morphologizer", "parser", "senter", "attribute_ruler"],
            disable=["lemmatizer"],
        )
        self.french = self._french_words(nlp)
        if "lemmatizer" in nlp.component_names:
            nlp.remove_pipe("lemmatizer")  # only its tables were needed
        self.nlp = nlp

    @staticmethod
    def _french_words(nlp: Any) -> _FrenchWords:
        if "lemmatizer" not in nlp.component_names:
            return _FrenchWords(None, ())
        lookups = nlp.get_pipe("lemmatizer").lookups
        lookup = lookups.get_table("lemma_lookup") if lookups.has_table("lemma_lookup") else None
        words: Set[str] = set()
        if lookup is not None:
            words.update(value for value in lookup.values() if isinstance(value, str))
        if lookups.has_table("lemma_index"):
            index = lookups.get_table("lemma_index")
            for pos in index.keys():
                words.update(index[pos])
        return _FrenchWords(lookup, words)


_MODEL: Optional[_Model] = None
_MODEL_LOCK = threading.Lock()


def _model() -> _Model:
    global _MODEL
    if _MODEL is None:
        with _MODEL_LOCK:
            if _MODEL is None:
                _MODEL = _Model()
    return _MODEL


def warm_up() -> None:
    """Load the word lists and spaCy's model now rather than on the first message (~10 s cold)."""
    _lexicon()
    _model()


def _strip_accents(word: str) -> str:
    if word.isascii():
        return word
    decomposed = unicodedata.normalize("NFD", word)
    return unicodedata.normalize("NFC", "".join(c for c in decomposed if not unicodedata.combining(c)))


# --------------------------------------------------------------------------- names: tokens

_WORD = re.compile(r"[^\W_]+(?:['’\-][^\W_]+)*")
_TOKEN = re.compile(r"[^\W_]+(?:['’\-][^\W_]+)*|[^\w\s]|_")
_ARABIC_LETTERS = re.compile(r"[\u0600-\u06ff]")
_SENTENCE_END = re.compile(r"[.!?؟…\n]\s*$")
# A capitalised word after these is a place, not a person, unless it is a known name: "f Youssoufia",
# "à Bouznika", "ساكن ف", and the heads of place names "Sidi Maarouf", "Ain Sebaa", "Oued Zem".
_PLACE_BEFORE = frozenset(
    "f fi fl à a au aux en vers dans pres près qrib hda sakn saken sakna saknin mdinat ville quartier hay"
    " douar ف في فال ساكن ساكنه قريب حدا مدينه حي دوار".split()
)
# After "I am" / "he is" a capitalised word says what someone is ("Ana Mghribi", "rani Tilmid"):
# a name there must be a known one.
_PREDICATE_BEFORE = frozenset(
    "ana ani rani rah raha rahom kan kant kont howa hiya hya nta nti انا راني راه هو هي".split()
)
_PLACE_HEADS = frozenset(
    "sidi moulay ain aïn oued wad bni beni dar bir ras tit jorf sebt souk khemis tnine jemaa".split()
)
_LATIN_FAMILY = re.compile(r"^(?:el|al|ben|bel|bou|ait|ou|ibn)[a-z]{3,}$")
_ARABIC_PREFIXES = ("وال", "فال", "بال", "لل", "ال", "و", "ف", "ب", "ل")
_LATIN_PREFIXES = ("f", "l", "b")


@dataclass
class _Token:
    start: int
    end: int
    text: str
    key: str
    word: bool
    arabic: bool
    capital: bool
    digit: bool
    catalogue: bool = False


def _tokens(text: str) -> List[_Token]:
    tokens = []
    for match in _TOKEN.finditer(text):
        word = match.group()
        is_word = bool(_WORD.fullmatch(word))
        tokens.append(
            _Token(
                start=match.start(),
                end=match.end(),
                text=word,
                key=_fold(word) if is_word else word,
                word=is_word,
                arabic=bool(_ARABIC_LETTERS.search(word)),
                capital=word[:1].isupper(),
                digit=any(c.isdigit() for c in word),
            )
        )
    return tokens


def _mark_catalogue(tokens: List[_Token], lexicon: _Lexicon) -> None:
    """Flag the words that spell a place, programme, level or organisation ("Code 212", "El Jadida")."""
    phrases = lexicon.catalogue_phrases
    i = 0
    while i < len(tokens):
        matched = 0
        for length in range(min(lexicon.max_phrase_words, len(tokens) - i), 0, -1):
            window = tokens[i : i + length]
            if not all(token.word for token in window):
                continue
            phrase = " ".join(token.key for token in window)
            if phrase in phrases or (length == 1 and _prefixed_catalogue(tokens[i], phrases)):
                matched = length
                break
        for token in tokens[i : i + max(matched, 1)]:
            token.catalogue = token.catalogue or matched > 0
        i += max(matched, 1)


def _prefixed_catalogue(token: _Token, phrases: FrozenSet[str]) -> bool:
    """ "فالرباط", "بكازا", "frbat", "lcasa": a place with Darija's glued "in / to / the"."""
    key = token.key
    if "-" in key and all(part in phrases for part in key.split("-") if part):
        return True
    prefixes = _ARABIC_PREFIXES if token.arabic else _LATIN_PREFIXES
    for prefix in prefixes:
        rest = key[len(prefix) :]
        if key.startswith(prefix) and len(rest) >= 3 and (rest in phrases or "ال" + rest in phrases):
            return True
    return False


class _NameFinder:
    """People's names in one text, from the phrases people give them with and from spaCy's PER."""

    def __init__(self, text: str, lexicon: _Lexicon, french: _FrenchWords) -> None:
        self.text = text
        self.lexicon = lexicon
        self.french = french
        self.tokens = _tokens(text)
        _mark_catalogue(self.tokens, lexicon)
        self.by_start = {token.start: index for index, token in enumerate(self.tokens)}

    # --- what a word is

    def known(self, token: _Token) -> bool:
        return token.word and token.key in NAME_WORDS and not token.catalogue

    def blocked(self, token: _Token) -> bool:
        """Never part of a name: punctuation, numbers, common and catalogue words, single letters."""
        if not token.word or token.digit or token.catalogue:
            return True
        if token.key in NAME_WORDS:
            return False
        if len(token.key) < 2 or token.key in self.lexicon.stop or normalise_word(token.text) in self.lexicon.stop:
            return True
        if token.arabic and token.key.startswith("و") and token.key[1:] in self.lexicon.stop:
            return True  # "وعندي", "وبغيت"
        return False

    def is_french(self, token: _Token) -> bool:
        lower = token.text.lower()
        return lower in self.french or _strip_accents(lower) in self.french

    def acronym(self, token: _Token) -> bool:
        return token.text.isupper() and len(token.text) <= 4

    def particle(self, index: int) -> bool:
        """A joining word ("El", "Ben", "Ait", "بن") followed, after a space, by a possible name."""
        token = self.tokens[index]
        if not token.word or token.key not in _PARTICLE_KEYS or index + 1 >= len(self.tokens):
            return False
        following = self.tokens[index + 1]
        if not self.spaced(index, index + 1):
            return False
        if token.key in _SERVANT_KEYS:
            return following.word and not following.digit and not following.catalogue
        return not self.blocked(following) and not self.acronym(following)

    def spaced(self, left: int, right: int) -> bool:
        between = self.text[self.tokens[left].end : self.tokens[right].start]
        return bool(between) and between.isspace() and "\n" not in between

    def first_word(self, token: _Token, mode: str) -> bool:
        if self.blocked(token):
            return False
        if self.known(token):
            return True
        if mode == "known":
            return False
        if token.arabic:
            return mode == "open"
        if mode == "open":
            return token.capital or not self.is_french(token)
        if mode == "medium":
            return not self.is_french(token) and not self.acronym(token)
        return token.capital and not self.is_french(token) and not self.acronym(token)

    def next_word(self, token: _Token, first: _Token) -> bool:
        if self.blocked(token):
            return False
        if self.known(token):
            return True
        if token.arabic:  # family names: العلوي, بنعلي
            return len(token.key) >= 4 and token.key.startswith(("ال", "بن"))
        if self.is_french(token) or self.acronym(token):
            return False
        return token.capital or bool(_LATIN_FAMILY.match(token.key))

    # --- walking a name

    def walk(self, index: int, mode: str) -> Optional[Tuple[int, int]]:
        """The name starting at token ``index``: one word, then up to two more parts of it."""
        first = self.tokens[index]
        if (
            first.key in _SERVANT_KEYS
            and self.particle(index)
            and (mode == "open" or self.known(self.tokens[index + 1]))
        ):
            first_end = index + 1  # "عبد الله", "Abdel Karim": one given name in two words
        elif self.first_word(first, mode):
            first_end = index
        else:
            return None
        last = first_end
        parts = 1
        limit = 3 if (first.capital or first.arabic) else 2
        j = first_end + 1
        while j < len(self.tokens) and parts < limit and self.spaced(last, j):
            if self.particle(j):
                last, j, parts = j + 1, j + 2, parts + 1
            elif self.next_word(self.tokens[j], first):
                last, j, parts = j, j + 1, parts + 1
            else:
                break
        return first.start, self.tokens[last].end

    def from_triggers(self) -> List[Tuple[int, int]]:
        found = []
        for pattern, mode in _TRIGGERS:
            for match in pattern.finditer(self.text):
                index = self.by_start.get(match.end())
                if index is not None:
                    span = self.walk(index, mode)
                    if span:
                        found.append(span)
        return found

    def from_entities(self, entities: Sequence[Tuple[int, int]]) -> List[Tuple[int, int]]:
        """spaCy's PER entities, cut to their name-like words (it also tags "Salam", "Fatima Zahra mn Casa")."""
        found = []
        for ent_start, ent_end in entities:
            inside = [i for i, token in enumerate(self.tokens) if token.start < ent_end and token.end > ent_start]
            run: List[int] = []
            for i in [*inside, -1]:
                if i >= 0 and (self.name_like(i) or (run and self.particle(i) and i + 1 in inside)):
                    if not run or self.spaced(run[-1], i):
                        run.append(i)
                        continue
                if run:
                    span = self.accept_run(run)
                    if span:
                        found.append(span)
                run = [i] if i >= 0 and self.name_like(i) else []
        return found

    def name_like(self, index: int) -> bool:
        token = self.tokens[index]
        if self.blocked(token) or token.arabic:
            return False
        return self.known(token) or (token.capital and not self.acronym(token))

    def accept_run(self, run: List[int]) -> Optional[Tuple[int, int]]:
        while run and self.tokens[run[-1]].key in _PARTICLE_KEYS:
            run = run[:-1]
        if not run:
            return None
        tokens = [self.tokens[i] for i in run]
        if any(self.known(token) for token in tokens):
            return tokens[0].start, tokens[-1].end
        if all(self.is_french(token) or token.key in _PARTICLE_KEYS for token in tokens):
            return None  # "Bonne Journée", "Madame"
        if len(tokens) == 1 and self.sentence_start(tokens[0]):
            return None  # a capitalised first word spaCy took for a name: "Nsjl", "Tbarkallah"
        if run[0] > 0:
            before = self.tokens[run[0] - 1]
            if before.word and (before.key in _PLACE_BEFORE or before.key in _PLACE_HEADS or before.catalogue):
                return None  # a place the catalogue does not list, or more of one it does: "Tanger Med"
            if before.word and before.key in _PREDICATE_BEFORE:
                return None
        return tokens[0].start, tokens[-1].end

    def sentence_start(self, token: _Token) -> bool:
        before = self.text[: token.start]
        return not before.strip() or bool(_SENTENCE_END.search(before))

    def from_known_names(self) -> List[Tuple[int, int]]:
        """A capitalised known name anywhere ("Merci, Yassine"), with the family name after it."""
        found = []
        for index, token in enumerate(self.tokens):
            if token.capital and not token.arabic and self.known(token) and not self.acronym(token):
                span = self.walk(index, "strict")
                if span:
                    found.append(span)
        return found


def _find_names(text: str, entities: Optional[Sequence[Tuple[int, int]]]) -> List[Tuple[int, int]]:
    finder = _NameFinder(text, _lexicon(), _model().french)
    spans = finder.from_triggers() + finder.from_known_names()
    if entities:
        spans += finder.from_entities(entities)
    return _union(spans, join_spaces=text)


def _needs_ner(text: str) -> bool:
    """spaCy only helps where a Latin word is capitalised or is a known name (Arabic script has no case)."""
    if any(c.isupper() for c in text):
        return True
    return any(_fold(word) in NAME_WORDS for word in _WORD.findall(text) if word.isascii())


def _person_entities(doc: Any) -> List[Tuple[int, int]]:
    return [(ent.start_char, ent.end_char) for ent in doc.ents if ent.label_ == "PER"]


# --------------------------------------------------------------------------- spans


def _union(spans: Iterable[Tuple[int, int]], join_spaces: Optional[str] = None) -> List[Tuple[int, int]]:
    """Overlapping spans merged (and, given the text, spans with only a space between them)."""
    merged: List[Tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged:
            last_start, last_end = merged[-1]
            gap = join_spaces[last_end:start] if join_spaces is not None and start >= last_end else None
            if start < last_end or (gap is not None and (gap == "" or (gap.isspace() and "\n" not in gap))):
                merged[-1] = (last_start, max(last_end, end))
                continue
        merged.append((start, end))
    return merged


def _resolve(candidates: Iterable[Span]) -> List[Span]:
    """Non-overlapping spans, sorted; where two overlap, the kind with the higher priority wins."""
    kept: List[Span] = []
    for span in sorted(candidates, key=lambda s: (_PRIORITY[s.kind], s.start, -s.end)):
        if span.end > span.start and all(span.end <= other.start or span.start >= other.end for other in kept):
            kept.append(span)
    return sorted(kept)


def _find(text: str, entities: Optional[Sequence[Tuple[int, int]]]) -> List[Span]:
    digits = _ascii_digits(text)
    candidates: List[Span] = []
    candidates += [Span(m.start(), m.end(), "email") for m in _EMAIL.finditer(digits)]
    candidates += [Span(start, end, "phone") for start, end in _phone_spans(digits)]
    candidates += [Span(start, end, "cin") for start, end in _cin_spans(digits)]
    candidates += [Span(start, end, "name") for start, end in _find_names(text, entities)]
    return _resolve(candidates)


# --------------------------------------------------------------------------- public interface


def find_personal_data(text: str) -> List[Span]:
    """Every phone number, e-mail address, CIN number and person's name in ``text``: sorted, non-overlapping."""
    if not text:
        return []
    entities = _person_entities(_model().nlp(text)) if _needs_ner(text) else None
    return _find(text, entities)


def find_personal_data_many(texts: Sequence[str], batch_size: int = 64) -> List[List[Span]]:
    """``find_personal_data`` for many texts, with spaCy run in batches (``nlp.pipe``)."""
    need = [i for i, text in enumerate(texts) if text and _needs_ner(text)]
    entities: Dict[int, List[Tuple[int, int]]] = {}
    if need:
        docs = _model().nlp.pipe((texts[i] for i in need), batch_size=batch_size)
        entities = {i: _person_entities(doc) for i, doc in zip(need, docs, strict=False)}
    return [_find(text, entities.get(i)) if text else [] for i, text in enumerate(texts)]


def apply_mask(text: str, spans: Sequence[Span]) -> str:
    """``text`` with each span replaced by its kind's placeholder."""
    parts: List[str] = []
    position = 0
    for span in sorted(spans):
        parts.append(text[position : span.start])
        parts.append(PLACEHOLDERS[span.kind])
        position = span.end
    parts.append(text[position:])
    return "".join(parts)


def mask_with_spans(text: str) -> Tuple[str, List[Span]]:
    """The masked text and the spans of the original it hides (span k is the k-th placeholder)."""
    spans = find_personal_data(text)
    return apply_mask(text, spans), spans


def mask(text: str) -> str:
    """``text`` with phone numbers, e-mail addresses, CIN numbers and names replaced by placeholders."""
    return mask_with_spans(text)[0]


def mask_many(texts: Sequence[str], batch_size: int = 64) -> List[str]:
    """``mask`` for a page of messages at once (spaCy in batches)."""
    return [
        apply_mask(text, spans) for text, spans in zip(texts, find_personal_data_many(texts, batch_size), strict=False)
    ]


def reveal(text: str, index: int) -> Tuple[str, str]:
    """The kind and original value of the ``index``-th masked value (from 0) of ``text``.

    Raises ``IndexError`` when the message has no such value. Auditing the reveal is the caller's job.
    """
    spans = find_personal_data(text)
    if not 0 <= index < len(spans):
        raise IndexError(f"this message has {len(spans)} masked value(s), not #{index}")
    return spans[index].kind, spans[index].value(text)
