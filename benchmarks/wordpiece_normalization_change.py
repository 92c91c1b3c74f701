"""How many texts the WordPiece normalisation fix changes (issue 17).

The MiniLM teacher and every student that keeps its vocabulary used to tokenise with keras-hub's
default `strip_accents=False`; they now strip accents as the vocabulary was trained
(`albert_tf.models.load_wordpiece_tokenizer`). This counts, per split, the texts whose token ids
differ between the two settings, and how many of those had an `[UNK]` before, so a reader knows
whether the published tables (measured before the fix) are affected.

    python benchmarks/wordpiece_normalization_change.py
"""

from __future__ import annotations

import json

import numpy as np


def _ids(tokenizer, texts) -> list[list[int]]:
    return [list(map(int, row)) for row in tokenizer(np.asarray(texts, dtype=object))]


def main() -> None:
    import keras_hub

    from albert_tf.cli.demo import QUICKSTART
    from albert_tf.data import fetch_source
    from albert_tf.data.spec import DataSpec, load_splits
    from albert_tf.models import load_wordpiece_tokenizer
    from albert_tf.recipe.loader import load_recipe

    folder = fetch_source("minilm-teacher")
    new = load_wordpiece_tokenizer(folder)
    old = keras_hub.models.BertTokenizer.from_preset(str(folder))  # strip_accents=False
    unk = new.token_to_id("[UNK]")
    quickstart = load_recipe(QUICKSTART).data
    splits = {
        "rotten-tomatoes test (all)": load_splits(DataSpec(source="rotten-tomatoes"))[2],
        "quickstart test (recipes/quickstart.yaml)": load_splits(DataSpec(
            source=quickstart.source, train_limit=quickstart.train_limit,
            dev_limit=quickstart.dev_limit, test_limit=quickstart.test_limit))[2],
    }
    results = {}
    for name, split in splits.items():
        texts = list(split.texts)
        before, after = _ids(old, texts), _ids(new, texts)
        changed = [i for i, (a, b) in enumerate(zip(before, after)) if a != b]
        results[name] = {
            "texts": len(texts),
            "changed": len(changed),
            "changed_with_unk_before": sum(unk in before[i] for i in changed),
            "examples": [texts[i] for i in changed[:5]],
        }
    print(json.dumps(results, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
