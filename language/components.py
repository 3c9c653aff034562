"""Rasa graph components of Tawjih's NLU pipeline."""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path
from typing import Any, Dict, List, Optional, Set

import numpy as np
import scipy.sparse
import scipy.special
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import ENTITIES, FEATURE_TYPE_SENTENCE, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from rasa.utils.tensorflow.constants import RANKING_LENGTH

from language import slot_rules
from language.catalogue import CATALOGUE_ENTITIES, Gazetteer, find_ages
from language.first_question import first_question_length
from language.normaliser import normalise_word, phonetic_key
from language.register import detect_register

REGISTER_ENTITY = "register"
# Every token of the message, kept by FirstQuestionFocus when the featurizers get only the first question's.
ALL_TOKENS = "tawjih_all_tokens"
LANGUAGE_SOURCES = Path(__file__).resolve().parent
CATALOGUE_FILE = LANGUAGE_SOURCES.parent / "registry" / "catalogue.yml"


@functools.lru_cache(maxsize=1)
def language_fingerprint() -> str:
    """A hash of this package's code and the catalogue. Rasa's training cache keys components by
    their config and inputs, not their code: without this, a change to the normaliser would
    reuse a classifier trained on the old normalisation."""
    digest = hashlib.sha256()
    for path in [*sorted(LANGUAGE_SOURCES.glob("*.py")), CATALOGUE_FILE]:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


class FingerprintedByCode(GraphComponent):
    @classmethod
    def fingerprint_addon(cls, config: Dict[str, Any]) -> Optional[str]:
        return language_fingerprint()


class WithoutSettings(FingerprintedByCode):
    """A component with no configuration, nothing trained and nothing stored."""

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "WithoutSettings":
        return cls()


class EachMessage:
    """A component that changes each message, at training as at inference, the same way (``_apply``)."""

    def _apply(self, message: Message) -> None:
        raise NotImplementedError

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            self._apply(message)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        for example in training_data.training_examples:
            self._apply(example)
        return training_data


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=False)
class RegisterDetector(WithoutSettings, EntityExtractorMixin):
    """Adds a ``register`` entity (french / darija_latin / darija_arabic) that fills the slot of the same name."""

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            register = detect_register(text)
            if register is None:
                continue
            entity = {"entity": REGISTER_ENTITY, "value": register, "start": 0, "end": len(text), "confidence": 1.0}
            message.set(ENTITIES, message.get(ENTITIES, []) + self.add_extractor_name([entity]), add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER], is_trainable=False)
class DarijaNormaliser(EachMessage, WithoutSettings):
    """Rewrites each token of the message text to its canonical spelling (``language.normaliser``).

    It runs right after the tokenizer and keeps every token's offsets in the original text,
    so entity spans in the training data stay aligned and extracted values keep the
    person's own spelling for the entity resolver to map. Each token's lemma becomes its
    cross-script phonetic key (``phonetic_key``): a CountVectorsFeaturizer with
    ``use_lemma: true`` featurizes the keys, the ones with ``use_lemma: false`` the words.
    """

    def _apply(self, message: Message) -> None:
        for token in message.get(TOKENS_NAMES[TEXT]) or []:
            normalised = normalise_word(token.text) or token.text.lower()
            token.text = normalised
            token.lemma = phonetic_key(normalised)


def all_tokens(message: Message) -> List[Any]:
    """The message's tokens, the whole message's even when the featurizers see only its first question."""
    return message.get(ALL_TOKENS) or message.get(TOKENS_NAMES[TEXT]) or []


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER], is_trainable=False)
class FirstQuestionFocus(EachMessage, WithoutSettings):
    """When a message asks two questions, the featurizers (and so the intent) get the first one's tokens
    (``language.first_question``); the entity extractor still reads every token (``all_tokens``).
    Place it after DarijaNormaliser, before the featurizers."""

    def _apply(self, message: Message) -> None:
        tokens = message.get(TOKENS_NAMES[TEXT]) or []
        length = first_question_length(message.get(TEXT) or "", [(t.start, t.end, t.text) for t in tokens])
        if length is not None:
            message.set(ALL_TOKENS, tokens)
            message.set(TOKENS_NAMES[TEXT], tokens[:length])


def words_outside_places(training_data: TrainingData) -> Set[str]:
    """Every (normalised) word the training examples use other than inside a city or region annotation."""
    words: Set[str] = set()
    for example in training_data.training_examples:
        places = [
            (entity["start"], entity["end"])
            for entity in example.get(ENTITIES) or []
            if entity.get("entity") in ("city", "region") and "start" in entity
        ]
        for token in all_tokens(example):
            if not any(start <= token.start < end for start, end in places):
                words.add(token.text)
    return words


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=True)
class CatalogueEntityExtractor(FingerprintedByCode, EntityExtractorMixin):
    """Finds catalogue names (cities, regions, programmes, education levels) in any spelling the
    catalogue lists, validates what the classifier extracted, and maps every value to the
    catalogue's canonical one. Every entity with a slot rule (``language.slot_rules``: places,
    programmes, levels, ages, the register, ...) is checked by that rule, the one the channels and
    the actions apply too; a value the rule refuses is dropped, never passed on.

    Place it after DIETClassifier; it replaces EntitySynonymMapper for these entities.
    """

    GAZETTEER_FILE = "gazetteer.json"

    def __init__(
        self, config: Dict[str, Any], gazetteer: Gazetteer, model_storage: ModelStorage, resource: Resource
    ) -> None:
        self._config = config
        self._gazetteer = gazetteer
        self._model_storage = model_storage
        self._resource = resource

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {"catalogue": None}

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "CatalogueEntityExtractor":
        return cls(config, Gazetteer({}), model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        path = Path(self._config["catalogue"]) if self._config.get("catalogue") else None
        self._gazetteer = Gazetteer.load(path)
        self._gazetteer.known_words = words_outside_places(training_data)
        with self._model_storage.write_to(self._resource) as directory:
            (directory / self.GAZETTEER_FILE).write_text(
                json.dumps(self._gazetteer.to_json(), ensure_ascii=False), encoding="utf-8"
            )
        return self._resource

    @classmethod
    def load(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "CatalogueEntityExtractor":
        with model_storage.read_from(resource) as directory:
            gazetteer = Gazetteer.from_json(json.loads((directory / cls.GAZETTEER_FILE).read_text(encoding="utf-8")))
        return cls(config, gazetteer, model_storage, resource)

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            message.set(ENTITIES, self._entities(message), add_to_output=True)
            if message.get(ALL_TOKENS):  # the intent is read: the message's tokens are all its words again
                message.set(TOKENS_NAMES[TEXT], message.get(ALL_TOKENS))
        return messages

    def _entities(self, message: Message) -> List[Dict[str, Any]]:
        text = message.get(TEXT) or ""
        tokens = all_tokens(message)
        words = [token.text for token in tokens]
        found: List[Dict[str, Any]] = []
        for first, last, name, canonical in self._gazetteer.find_mentions(words):
            start, end = tokens[first].start, tokens[last - 1].end
            found.append({"entity": name, "value": canonical, "start": start, "end": end, "confidence": 1.0})
        for index, age in find_ages(words):
            token = tokens[index]
            found.append({"entity": "age", "value": age, "start": token.start, "end": token.end, "confidence": 1.0})
        found = self.add_extractor_name(found)

        def overlaps(entity: Dict[str, Any]) -> bool:
            return any(entity.get("start", -1) < f["end"] and f["start"] < entity.get("end", -1) for f in found)

        kept: List[Dict[str, Any]] = []
        for entity in message.get(ENTITIES, []):
            name = entity.get("entity", "")
            if name not in slot_rules.ENTITIES:
                kept.append(entity)
                continue
            if name in (*CATALOGUE_ENTITIES, "age") and overlaps(entity):
                continue  # what the catalogue found here stands
            said: Any = entity.get("value")
            if name in CATALOGUE_ENTITIES:  # the words as written, for the catalogue's spellings
                said = text[entity["start"] : entity["end"]] if "start" in entity else str(said or "")
            value = slot_rules.clean(name, said, self._gazetteer)
            if value is None:
                continue
            ours = name in (*CATALOGUE_ENTITIES, "age") or value != entity.get("value")
            kept.append(self.add_processor_name({**entity, "value": value}) if ours else entity)
        return kept + found

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False)
class SpacySentenceFeaturizer(EachMessage, FingerprintedByCode):
    """Dense sentence features from spaCy's French vectors (``fr_core_news_md``), computed on the
    normalised tokens. Sentence-level only, so it combines with any tokenizer; it loads just the
    vectors (no parser or tagger), from the installed package, never from the network."""

    def __init__(self, config: Dict[str, Any]) -> None:
        import spacy

        self._nlp = spacy.load(
            config["model"],
            exclude=["tok2vec", "morphologizer", "parser", "senter", "attribute_ruler", "lemmatizer", "ner"],
        )

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {"model": "fr_core_news_md"}

    @classmethod
    def required_packages(cls) -> List[str]:
        return ["spacy"]

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "SpacySentenceFeaturizer":
        return cls(config)

    def _apply(self, message: Message) -> None:
        if not message.get(TEXT):
            return
        tokens = message.get(TOKENS_NAMES[TEXT]) or []
        doc = self._nlp(" ".join(token.text for token in tokens) or message.get(TEXT))
        vector = np.asarray([doc.vector], dtype=np.float32)
        message.add_features(Features(vector, FEATURE_TYPE_SENTENCE, TEXT, self.__class__.__name__))


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False)
class SparseFeatureJoiner(EachMessage, WithoutSettings):
    """Joins the sparse features every featurizer put on a message into one matrix per attribute
    and feature type, in pipeline order: the matrix ``Message.get_sparse_features`` would build.
    It builds it once, with one concatenation. Without this, DIET rebuilt it on every call
    (a deep copy and one scipy ``hstack`` per extra featurizer, for sequence and for sentence
    features), over a millisecond of each parse. Place it after the last sparse featurizer.
    The joined feature's origin is the list of its parts' origins, so a classifier option that
    picks featurizers by name (DIET's ``featurizers``) no longer sees them apart: leave it unset."""

    def _apply(self, message: Message) -> None:
        groups: Dict[tuple, List[Features]] = {}
        for feature in message.features:
            if feature.is_sparse():
                groups.setdefault((feature.attribute, feature.type), []).append(feature)
        joined: Dict[int, Features] = {}  # the first part's id -> the joined feature
        dropped: Set[int] = set()
        for (attribute, feature_type), parts in groups.items():
            rows = {part.features.shape[0] for part in parts}
            if len(parts) < 2 or len(rows) > 1:
                continue  # nothing to join, or parts that get_sparse_features could not join either
            matrices = [part.features if part.features.format == "coo" else part.features.tocoo() for part in parts]
            offsets = np.cumsum([0] + [matrix.shape[1] for matrix in matrices])
            matrix = scipy.sparse.coo_matrix(
                (
                    np.concatenate([m.data for m in matrices]),
                    (
                        np.concatenate([m.row for m in matrices]),
                        np.concatenate([m.col + offset for m, offset in zip(matrices, offsets[:-1], strict=True)]),
                    ),
                ),
                shape=(rows.pop(), int(offsets[-1])),
            )
            origins = [
                name
                for part in parts
                for name in ([part.origin] if isinstance(part.origin, str) else part.origin or [])
            ]
            joined[id(parts[0])] = Features(matrix, feature_type, attribute, origins)
            dropped.update(id(part) for part in parts[1:])
        if joined:
            message.features = [
                joined.get(id(feature), feature) for feature in message.features if id(feature) not in dropped
            ]


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class IntentVote(FingerprintedByCode, LogisticRegressionClassifier):
    """A second opinion on the intent: a logistic regression on the same sparse sentence
    features as DIET, whose probabilities are averaged with the ranking DIET put on the message
    just before (``weight`` is the regression's share). The two learners err differently:
    DIET is sharp and sometimes confidently wrong, the linear model is smooth. A message with
    no features (empty text) keeps DIET's answer."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {**LogisticRegressionClassifier.get_default_config(), "max_iter": 300, "weight": 0.5}

    def _create_X(self, messages: List[Message]) -> scipy.sparse.csr_matrix:
        """The columns Rasa's own ``_create_X`` builds (sparse sentence features in pipeline order,
        then dense ones), written straight into one CSR matrix: Rasa's deep-copies every token's
        sequence features and scipy's ``hstack`` converts each part twice, which was most of the
        vote's time per message."""
        values: List[np.ndarray] = []
        columns: List[np.ndarray] = []
        row_ends = [0]
        non_zeros = 0
        widths = set()
        for message in messages:
            sentence = [f for f in message.features if f.attribute == TEXT and f.type == FEATURE_TYPE_SENTENCE]
            offset = 0
            for feature in [f for f in sentence if f.is_sparse()] + [f for f in sentence if f.is_dense()]:
                part = scipy.sparse.coo_matrix(feature.features)
                values.append(part.data)
                columns.append(part.col + offset)
                non_zeros += part.nnz
                offset += part.shape[1]
            row_ends.append(non_zeros)
            widths.add(offset)
        if len(widths) > 1:
            raise ValueError(f"messages have sentence features of different widths: {sorted(widths)}")
        matrix = scipy.sparse.csr_matrix(
            (
                np.concatenate(values) if values else np.zeros(0),
                np.concatenate(columns) if columns else np.zeros(0, dtype=np.int32),
                row_ends,
            ),
            shape=(len(messages), widths.pop() if widths else 0),
        )
        matrix.sum_duplicates()
        return matrix

    def _probabilities(self, features: scipy.sparse.csr_matrix) -> np.ndarray:
        """``predict_proba`` for one message. A multinomial model (more than two intents, lbfgs)
        is a softmax of ``X·coefᵀ + intercept``, computed here from the message's few non-zero
        columns: scikit-learn's validation and its product with the whole transposed weight
        matrix cost a millisecond per message. Other models ask scikit-learn."""
        clf = self.clf
        multinomial = clf.multi_class == "multinomial" or (
            clf.multi_class == "auto" and clf.classes_.size > 2 and clf.solver != "liblinear"
        )
        if not multinomial:
            return clf.predict_proba(features)[0]
        scores = clf.coef_[:, features.indices] @ features.data + clf.intercept_
        return scipy.special.softmax(scores)

    def process(self, messages: List[Message]) -> List[Message]:
        classes = getattr(self.clf, "classes_", None)
        if classes is None:
            return messages  # trained on nothing
        weight = float(self.config["weight"])
        for message in messages:
            features = self._create_X([message])
            if features.shape[1] != self.clf.n_features_in_:
                continue
            probabilities = self._probabilities(features)
            first = {item["name"]: item["confidence"] for item in message.get(INTENT_RANKING_KEY) or []}
            votes = {
                str(name): (1 - weight) * first.get(str(name), 0.0) + weight * float(probability)
                for name, probability in zip(classes, probabilities, strict=True)
            }
            ranking = sorted(
                ({"name": name, "confidence": confidence} for name, confidence in votes.items()),
                key=lambda item: -item["confidence"],
            )
            message.set(INTENT, ranking[0], add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking[: self.config[RANKING_LENGTH] or None], add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data  # nothing downstream reads a predicted intent at training time

    # Rasa's LogisticRegressionClassifier names its file after the graph node, but Rasa's training
    # cache can hand a trained resource to a node of another name (the same component at another
    # position in the pipeline): the model then fails to load. One fixed file name instead.
    MODEL_FILE = "intent_vote.skops"

    def persist(self) -> None:
        import skops.io as sio

        with self._model_storage.write_to(self._resource) as directory:
            sio.dump(self.clf, directory / self.MODEL_FILE)

    @classmethod
    def load(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "IntentVote":
        import skops.io as sio

        component = cls(config, execution_context.node_name, model_storage, resource)
        try:
            with model_storage.read_from(resource) as directory:
                path = directory / cls.MODEL_FILE
                if path.exists() and not sio.get_untrusted_types(file=path):
                    component.clf = sio.load(path, trusted=[])
        except ValueError:
            pass  # nothing was trained (no intent examples): DIET's answer stands
        return component
