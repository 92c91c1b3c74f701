"""A tiny keras-hub ALBERT classifier fitted deterministically, and a task it learns for sure.

The fit owns its randomness: weights drawn from `numpy.random.default_rng(seed)` (not
keras.utils.set_random_seed, which would clear TF's kernel cache under other fixtures' live
tokenizers), no dropout, and a shuffle order that depends on `seed` alone
(`albert_tf.data.batches`). So a fixture gives the same model whatever ran before it.

Sentiment is not a task for such a model: from 400 snippets it ends near the majority class, on
one side or the other depending on the order it saw them in. `word_presence_task` relabels real
snippets by whether they contain a word; the bench parent learns that to 0.92-0.93 test accuracy
for each of seeds 0-3, where either constant answer scores about 0.5.
"""

import re

import numpy as np


def words(text: str) -> list[str]:
    """Lower-cased words and punctuation marks."""
    return re.findall(r"\w+|[^\w\s]", text.lower())


def word_presence_task(examples, word: str = "the"):
    """`examples` (texts and pairs kept) labelled 1 where the text contains `word`, else 0."""
    from albert_tf.data import TextExamples

    labels = np.array([int(word in words(t)) for t in examples.texts], dtype=np.int32)
    return TextExamples(list(examples.texts), examples.pairs, labels, [f"no-{word}", word],
                        f"has-{word}")


def fit_tiny_albert_classifier(sentencepiece_model, train, sequence_length: int, *, epochs: int,
                               batch_size: int, seed: int = 0, **backbone_shape):
    """An `AlbertTextClassifier` (2 classes) of `backbone_shape`, fitted to `train`."""
    import keras
    import keras_hub
    import numpy as np

    from albert_tf.models import detached_preprocessor
    from albert_tf.text import make_dataset

    tokenizer = keras_hub.models.AlbertTokenizer(proto=sentencepiece_model)
    preprocessor = keras_hub.models.AlbertTextClassifierPreprocessor(
        tokenizer, sequence_length=sequence_length)
    backbone = keras_hub.models.AlbertBackbone(
        vocabulary_size=tokenizer.vocabulary_size(), num_groups=1, num_inner_repetitions=1,
        max_sequence_length=sequence_length, dropout=0.0, **backbone_shape)
    model = keras_hub.models.AlbertTextClassifier(backbone, num_classes=2,
                                                  preprocessor=preprocessor, dropout=0.0)
    rng = np.random.default_rng(seed)
    for weight in model.weights:
        value = weight.numpy()
        if value.std() > 0:  # randomly initialised (kernels, embeddings); keep ones and zeros
            weight.assign(np.clip(rng.normal(0, 0.02, value.shape), -0.04, 0.04)
                          .astype(value.dtype))
    model.compile(optimizer=keras.optimizers.Adam(1e-3),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    dataset = make_dataset(train, model.preprocessor, batch_size=batch_size, shuffle=True,
                           seed=seed)
    with detached_preprocessor(model):
        model.fit(dataset, epochs=epochs, verbose=0)
    return model
