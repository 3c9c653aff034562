"""What the graph components learn from the training data."""

from __future__ import annotations

from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from language.components import DarijaNormaliser, words_outside_places
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
