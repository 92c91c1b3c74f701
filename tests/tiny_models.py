"""A tiny keras-hub ALBERT classifier fitted deterministically, for fixtures across folders.

A tiny post-LN ALBERT sometimes collapses to one constant answer during a short fit (about one
random start in three did). Seeded weights (drawn here: keras.utils.set_random_seed would clear
TF's kernel cache under other fixtures' live tokenizers), no dropout and a seeded shuffle make
the fit repeatable, and seed 0 is one that does not collapse for the shapes used here.
"""


def fit_tiny_albert_classifier(sentencepiece_model, train, sequence_length: int, *, epochs: int,
                               batch_size: int, **backbone_shape):
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
    rng = np.random.default_rng(0)
    for weight in model.weights:
        value = weight.numpy()
        if value.std() > 0:  # randomly initialised (kernels, embeddings); keep ones and zeros
            weight.assign(np.clip(rng.normal(0, 0.02, value.shape), -0.04, 0.04)
                          .astype(value.dtype))
    model.compile(optimizer=keras.optimizers.Adam(1e-3),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    dataset = make_dataset(train, model.preprocessor, batch_size=batch_size, shuffle=True,
                           seed=0)
    with detached_preprocessor(model):
        model.fit(dataset, epochs=epochs, verbose=0)
    return model
