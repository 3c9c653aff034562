"""What the graph components learn from the training data, and what they make of a message."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, Dict, List, Tuple

import numpy as np
import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import CountVectorsFeaturizer
from rasa.nlu.featurizers.sparse_featurizer.lexical_syntactic_featurizer import LexicalSyntacticFeaturizer
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.constants import ENTITIES, FEATURE_TYPE_SENTENCE, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from language.catalogue import Gazetteer
from language.components import (
    CatalogueEntityExtractor,
    DarijaNormaliser,
    FirstQuestionFocus,
    IntentVote,
    SparseFeatureJoiner,
    words_outside_places,
)
from language.normaliser import phonetic_key


def tokenized(*examples: Message) -> TrainingData:
    data = TrainingData(list(examples))
    WhitespaceTokenizer(WhitespaceTokenizer.get_default_config()).process_training_data(data)
    return DarijaNormaliser().process_training_data(data)


def test_words_inside_place_annotations_are_not_known_words() -> None:
    data = tokenized(
        Message({TEXT: "ch7al kaychd f lbdya", "intent": "ask_careers"}),
        Message(
            {
                TEXT: "ana mn Tnja",
                "intent": "inform",
                ENTITIES: [{"entity": "city", "value": "Tanger", "start": 7, "end": 11}],
            }
        ),
    )
    assert words_outside_places(data) == {"chhal", "kaychd", "f", "lbdya", "ana", "mn"}


def test_the_normaliser_gives_each_token_its_phonetic_key_as_lemma() -> None:
    data = tokenized(Message({TEXT: "واش خاصني LBAC", "intent": "ask_eligibility"}))
    tokens = data.training_examples[0].get(TOKENS_NAMES[TEXT])
    assert [token.text for token in tokens] == ["واش", "خاصني", "lbac"]
    assert [token.lemma for token in tokens] == [phonetic_key(t.text) for t in tokens] == ["wx", "5sn", "lbk"]


def test_two_questions_are_featurized_by_the_first_and_their_places_read_from_both(tmp_path: Path) -> None:
    data = FirstQuestionFocus().process_training_data(
        tokenized(
            Message({TEXT: "wach fabor w fin kayn lcentre f tanja", "intent": "ask_cost"}),
            Message({TEXT: "wach kayn formation f tanja", "intent": "ask_programmes"}),
        )
    )
    two, one = data.training_examples
    assert [token.text for token in two.get(TOKENS_NAMES[TEXT])] == ["wach", "fabor"]
    assert [token.text for token in one.get(TOKENS_NAMES[TEXT])] == ["wach", "kayn", "formation", "f", "tanja"]
    assert {"fin", "lcentre", "tanja"} <= words_outside_places(data)
    storage = LocalModelStorage(tmp_path)
    extractor = CatalogueEntityExtractor({"catalogue": None}, Gazetteer.load(), storage, Resource("catalogue"))
    extractor.process([two, one])
    for message in (two, one):
        assert [(e["entity"], e["value"]) for e in message.get(ENTITIES)] == [("city", "Tanger")]
    # The intent read, the message's tokens are all its words again (for `rasa test nlu`'s entity scores).
    assert [token.text for token in two.get(TOKENS_NAMES[TEXT])][-1] == "tanja"


def trained_vote(tmp_path: Path, greetings: bool = False) -> Tuple[CountVectorsFeaturizer, IntentVote]:
    storage = LocalModelStorage(tmp_path)
    context = ExecutionContext(GraphSchema({}), "test")
    data = tokenized(
        *[Message({TEXT: text, "intent": "ask_cost"}) for text in ("ch7al taman", "les frais", "frais dyal formation")],
        *[
            Message({TEXT: text, "intent": "ask_programmes"})
            for text in ("chno kayn", "les formations", "quelles formations")
        ],
        *[Message({TEXT: text, "intent": "greet"}) for text in ("salam", "bonjour", "salut") if greetings],
    )
    words = CountVectorsFeaturizer.create(CountVectorsFeaturizer.get_default_config(), storage, Resource("w"), context)
    words.train(data)
    words.process_training_data(data)
    vote = IntentVote.create(IntentVote.get_default_config(), storage, Resource("vote"), context)
    vote.train(data)
    return words, vote


def featurized(words: CountVectorsFeaturizer, text: str, diet_ranking: List[Dict[str, Any]]) -> Message:
    message = tokenized(Message({TEXT: text})).training_examples[0]
    words.process([message])
    message.set(INTENT_RANKING_KEY, diet_ranking)
    message.set(INTENT, diet_ranking[0] if diet_ranking else None)
    return message


def test_a_close_call_by_diet_is_settled_by_the_second_opinion(tmp_path: Path) -> None:
    words, vote = trained_vote(tmp_path)
    diet = [{"name": "ask_programmes", "confidence": 0.55}, {"name": "ask_cost", "confidence": 0.45}]
    message = featurized(words, "ch7al les frais", diet)
    vote.process([message])
    ranking = message.get(INTENT_RANKING_KEY)
    assert message.get(INTENT)["name"] == "ask_cost"
    assert [item["name"] for item in ranking] == ["ask_cost", "ask_programmes"]
    assert sum(item["confidence"] for item in ranking) == pytest.approx(1.0)  # an average of two distributions


def test_a_message_without_features_keeps_diets_answer(tmp_path: Path) -> None:
    _, vote = trained_vote(tmp_path)
    diet = [{"name": "out_of_scope", "confidence": 0.9}]
    message = Message({TEXT: ""})
    message.set(INTENT_RANKING_KEY, diet)
    message.set(INTENT, diet[0])
    vote.process([message])
    assert message.get(INTENT) == diet[0] and message.get(INTENT_RANKING_KEY) == diet


def test_a_trained_vote_loads_under_another_node_name_as_rasas_training_cache_hands_it_over(tmp_path: Path) -> None:
    words, vote = trained_vote(tmp_path)
    storage = LocalModelStorage(tmp_path)
    # The cache restores a trained resource for a node with another name: the files keep theirs.
    shutil.copytree(tmp_path / "vote", tmp_path / "train_IntentVote7")
    context = ExecutionContext(GraphSchema({}), "test")
    loaded = IntentVote.load(IntentVote.get_default_config(), storage, Resource("train_IntentVote7"), context)
    diet = [{"name": "ask_programmes", "confidence": 0.55}, {"name": "ask_cost", "confidence": 0.45}]
    original, reloaded = featurized(words, "ch7al les frais", diet), featurized(words, "ch7al les frais", diet)
    vote.process([original])
    loaded.process([reloaded])
    assert reloaded.get(INTENT_RANKING_KEY) == original.get(INTENT_RANKING_KEY)
    assert reloaded.get(INTENT)["name"] == "ask_cost"


def test_the_vote_reads_the_same_feature_columns_as_rasas_logistic_regression(tmp_path: Path) -> None:
    words, vote = trained_vote(tmp_path)
    messages = [featurized(words, text, []) for text in ("ch7al les frais", "quelles formations")]
    for message in messages:
        message.add_features(Features(np.ones((1, 3), dtype=np.float32), FEATURE_TYPE_SENTENCE, TEXT, "dense"))
    ours, rasas = vote._create_X(messages), LogisticRegressionClassifier._create_X(vote, messages)
    assert ours.shape == rasas.shape and (ours != rasas.tocsr()).nnz == 0


@pytest.mark.parametrize("greetings", [False, True], ids=["two intents", "three intents (multinomial)"])
def test_the_votes_probabilities_are_scikit_learns(tmp_path: Path, greetings: bool) -> None:
    words, vote = trained_vote(tmp_path, greetings)
    for text in ("ch7al les frais", "salam, quelles formations", "rien de connu"):
        features = vote._create_X([featurized(words, text, [])])
        assert vote._probabilities(features) == pytest.approx(vote.clf.predict_proba(features)[0])


def test_joined_features_are_the_matrices_diet_would_have_stacked(tmp_path: Path) -> None:
    storage, context = LocalModelStorage(tmp_path), ExecutionContext(GraphSchema({}), "test")
    data = tokenized(*[Message({TEXT: t}) for t in ("wach kayn chi formation f tanja", "quelles formations", "3afak")])
    lexical = LexicalSyntacticFeaturizer.create(
        LexicalSyntacticFeaturizer.get_default_config(), storage, Resource("lexical"), context
    )
    words = CountVectorsFeaturizer.create(CountVectorsFeaturizer.get_default_config(), storage, Resource("w"), context)
    characters = CountVectorsFeaturizer.create(
        {**CountVectorsFeaturizer.get_default_config(), "analyzer": "char_wb", "max_ngram": 4},
        storage,
        Resource("c"),
        context,
    )
    for featurizer in (lexical, words, characters):
        featurizer.train(data)
        featurizer.process_training_data(data)
    message = tokenized(Message({TEXT: "wach kayn formation f tanja 3afak"})).training_examples[0]
    for featurizer in (lexical, words, characters):
        featurizer.process([message])
    message.add_features(Features(np.ones((1, 3), dtype=np.float32), FEATURE_TYPE_SENTENCE, TEXT, "dense"))
    stacked = message.get_sparse_features(TEXT)

    SparseFeatureJoiner().process([message])

    sparse = [f for f in message.features if f.is_sparse() and f.attribute == TEXT]
    assert sorted(f.type for f in sparse) == ["sentence", "sequence"]
    for before, after in zip(stacked, message.get_sparse_features(TEXT), strict=True):
        assert after.features.shape == before.features.shape
        assert (after.features.tocsr() != before.features.tocsr()).nnz == 0
        assert after.features.dtype == before.features.dtype
    assert [f.origin for f in message.features if f.is_dense()] == ["dense"]
    assert message.get_dense_features(TEXT)[1].features.tolist() == [[1.0, 1.0, 1.0]]
