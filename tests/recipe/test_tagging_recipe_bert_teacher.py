"""A token-classification recipe with a BERT-family (WordPiece) teacher, as `pos-brown.yaml`
runs the MiniLM teacher: teacher fine-tuned under mixed_bfloat16 -> ALBERT student albertized
from it -> distilled -> exported -> reported. A tiny BERT preset folder over a vocabulary
built from the Brown training words stands in for MiniLM (same classes, same code paths)."""

import json

import pytest

from albert_tf.cli import main

pytestmark = pytest.mark.slow  # whole recipe runs on real data

STAGES = ["teacher", "student", "distill", "export", "report"]


def _wordpiece_vocabulary(sentences, words=400):
    from collections import Counter

    counts = Counter(w.lower() for sentence in sentences for w in sentence)
    characters = sorted({c for word in counts for c in word})
    return (["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + characters
            + [f"##{c}" for c in characters]
            + [w for w, _ in counts.most_common(words) if w not in characters])


@pytest.fixture(scope="module")
def bert_preset(tmp_path_factory):
    """A 2-layer BERT backbone and its WordPiece tokenizer saved as a keras-hub preset."""
    import keras
    import keras_hub

    from albert_tf.tagging import TaggingDataSpec, load_tagging_splits

    keras.utils.set_random_seed(0)
    train = load_tagging_splits(TaggingDataSpec(source="brown-corpus", train_limit=2000))[0]
    tokenizer = keras_hub.models.BertTokenizer(vocabulary=_wordpiece_vocabulary(train.words),
                                               lowercase=True, strip_accents=True)
    backbone = keras_hub.models.BertBackbone(
        vocabulary_size=tokenizer.vocabulary_size(), num_layers=2, num_heads=2, hidden_dim=32,
        intermediate_dim=64, max_sequence_length=64)
    folder = tmp_path_factory.mktemp("bert_preset") / "preset"
    backbone.save_to_preset(str(folder))
    tokenizer.save_to_preset(str(folder))
    return folder


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory, bert_preset):
    folder = tmp_path_factory.mktemp("bert_tag_recipe")
    recipe = folder / "bert-tagging.yaml"
    recipe.write_text(f"""
name: bert-tagging
task: token-classification
data: {{source: brown-corpus, train_limit: 200, dev_limit: 40, test_limit: 40}}
teacher:
  model: {bert_preset}
  sequence_length: 40
  precision: mixed_bfloat16
  finetune: {{epochs: 2, batch_size: 16, learning_rate: 3.0e-3, patience: 0}}
student: {{method: albertize, embedding_dim: 16, num_layers: 1, num_groups: 1, merge: select,
          calibration_texts: 32}}
distill: {{epochs: 1, batch_size: 16, learning_rate: 1.0e-3}}
export: {{tflite_modes: [float32, dynamic-int8], saved_model: true, model_name: pos,
         edge_bundle: false}}  # the WordPiece edge kit: tests/kits/test_edge_tagging.py
bench: {{threads: [1], latency_runs: 3}}
gates: {{artifact: dynamic-int8, max_size_mb: 100, max_accuracy_drop: 1.0}}
""")
    assert main(["run", str(recipe), "--run-dir", str(folder / "run")]) == 0
    return folder / "run"


def test_a_wordpiece_teacher_is_albertized_distilled_exported_and_reported(run_dir):
    from albert_tf.models.factory import saved_task_class
    from albert_tf.tagging.model import load_token_classifier
    from albert_tf.tagging.preprocessor import BertTokenClassifierPreprocessor

    manifests = {s: json.loads((run_dir / s / "manifest.json").read_text()) for s in STAGES}
    assert [m["stage"] for m in manifests.values()] == STAGES
    assert not (run_dir / "prune").exists()
    # The teacher is a BERT tagger trained under mixed_bfloat16, which later stages reload.
    assert saved_task_class(run_dir / "teacher" / "model").endswith("BertTokenClassifier")
    assert manifests["teacher"]["metrics"]["test_token_accuracy"] > \
        manifests["teacher"]["metrics"]["majority_tag_accuracy"]
    student = load_token_classifier(run_dir / "student" / "model")
    assert type(student).__name__ == "AlbertTokenClassifier"
    assert isinstance(student.preprocessor, BertTokenClassifierPreprocessor)  # teacher's vocab
    assert len(student.backbone.transformer_layers) == 1
    assert manifests["student"]["metrics"]["parameters"] < \
        manifests["teacher"]["metrics"]["parameters"]
    assert manifests["distill"]["metrics"]["parameters"]["student"]["parameters"] == \
        manifests["student"]["metrics"]["parameters"]
    # The raw-text SavedModel tokenises with WordPiece in the graph and tags like Keras.
    saved = manifests["export"]["metrics"]["artifacts"]["saved_model"]
    assert saved["parity"]["same_tag_fraction"] == 1.0
    results = json.loads((run_dir / "report" / "results.json").read_text())
    rows = {row["artifact"]: row for row in results["artifacts"]}
    assert {"teacher-float32.tflite", "model-float32.tflite", "model-dynamic-int8.tflite"} \
        <= set(rows)
    assert rows["model-dynamic-int8.tflite"]["speedup"] > 1.0
    assert rows["teacher-float32.tflite"]["token_accuracy"] == pytest.approx(
        rows["teacher (Keras float32)"]["token_accuracy"], abs=0.01)
