"""Old home of the token-classification pipelines: now `albert_tf.text.token_pipeline`."""

from albert_tf.text.token_pipeline import (  # noqa: F401
    INPUT_NAMES,
    WordPredictions,
    align_arrays,
    evaluate_tagger,
    gather_word_rows,
    length_buckets,
    make_tagging_dataset,
    predict_words,
)
