"""The pre-training model: an ALBERT backbone with ALBERT's two heads.

keras-hub's `AlbertMaskedLM` outputs only masked-LM logits, so this model is a small
functional graph over the backbone that reuses `AlbertMaskedLM`'s head (its dense transform,
layer norm and output bias, tied to the factorised token embedding) and adds ALBERT's
sentence-order head, a dense layer over the pooled `[CLS]` output (the backbone's own
`pooled_dense`, as in ALBERT).

The result of pre-training is a keras-hub backbone preset folder (`config.json`, weights,
tokenizer), which every command takes as a model; the two heads' weights sit beside it in
`pretraining_heads.npz`, so continued pre-training from that folder keeps them.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from pathlib import Path

import numpy as np

from albert_tf.errors import UserError

logger = logging.getLogger(__name__)

HEADS_FILE = "pretraining_heads.npz"


def build_pretrainer(masked_lm):
    """A `keras.Model` with outputs `{"mlm": [batch, masks, vocab], "sop": [batch, 2]}`.

    Args:
        masked_lm: a `keras_hub.models.AlbertMaskedLM` (preprocessor None) whose backbone and
            head are shared, not copied.
    """
    import keras

    backbone = masked_lm.backbone
    inputs = {**backbone.input,
              "mask_positions": keras.Input(shape=(None,), dtype="int32", name="mask_positions")}
    features = backbone({k: inputs[k] for k in backbone.input})
    mlm = masked_lm.masked_lm_head(features["sequence_output"], inputs["mask_positions"])
    # float32 logits: the loss of a mixed-precision model is computed in full precision.
    sop = keras.layers.Dense(
        2, kernel_initializer=keras.initializers.TruncatedNormal(stddev=0.02),
        dtype="float32", name="sop_head")(features["pooled_output"])
    model = keras.Model(inputs, {"mlm": mlm, "sop": sop}, name="albert_pretrainer")
    model.masked_lm = masked_lm
    return model


def head_layers(pretrainer) -> list:
    return [pretrainer.masked_lm.masked_lm_head, pretrainer.get_layer("sop_head")]


def _head_weights(pretrainer) -> list:
    return [w for layer in head_layers(pretrainer) for w in layer.weights]


def new_masked_lm(shape: dict, vocabulary_size: int, max_sequence_length: int = 512):
    """An `AlbertMaskedLM` over a new backbone of the given shape (no preprocessor)."""
    import keras_hub

    backbone = keras_hub.models.AlbertBackbone(
        vocabulary_size=vocabulary_size, max_sequence_length=max_sequence_length, **shape)
    return keras_hub.models.AlbertMaskedLM(backbone, preprocessor=None)


def load_masked_lm(preset: str):
    """An `AlbertMaskedLM` and its tokenizer from a keras-hub ALBERT preset (name or folder),
    for continued pre-training. A folder written by `save_pretrained` also gets its heads back
    (see `restore_heads`)."""
    import keras_hub

    folder = Path(preset)
    if folder.is_dir():
        config = folder / "config.json"
        if not config.is_file():
            raise UserError(f"{folder} is not a keras-hub preset folder (no config.json)")
        name = json.loads(config.read_text()).get("registered_name", "")
        if not name.endswith("AlbertBackbone"):
            raise UserError(f"{folder} holds a {name or 'non-ALBERT'} model: pre-training "
                            "continues ALBERT presets only")
    try:
        masked_lm = keras_hub.models.AlbertMaskedLM.from_preset(str(preset), preprocessor=None)
        tokenizer = keras_hub.models.AlbertTokenizer.from_preset(str(preset))
    except (ValueError, FileNotFoundError) as exc:
        raise UserError(f"cannot load the ALBERT preset {preset!r}: {exc}") from None
    return masked_lm, tokenizer


def restore_heads(pretrainer, folder: str | os.PathLike) -> bool:
    """Load the heads saved beside a preset by `save_pretrained`; False when there are none."""
    from albert_tf.train.checkpoint import load_npz

    path = Path(folder) / HEADS_FILE
    if not path.is_file():
        return False
    arrays = load_npz(path)
    weights = _head_weights(pretrainer)
    if [tuple(w.shape) for w in weights] != [a.shape for a in arrays]:
        logger.warning("%s does not fit this model's heads: starting them anew", path)
        return False
    for weight, array in zip(weights, arrays):
        weight.assign(array)
    logger.info("pre-training heads restored from %s", path)
    return True


def _record_float32_policy(config_path: Path) -> None:
    """A model pre-trained in mixed precision keeps float32 weights; its config would still
    name the mixed policy, and every later load (fine-tuning, TFLite export, which has no
    bfloat16 kernels) would compute in 16 bits without asking. Record float32 instead."""
    config = json.loads(config_path.read_text())
    if "dtype" in config.get("config", {}):
        config["config"]["dtype"] = "float32"
        config_path.write_text(json.dumps(config, indent=4))


def save_pretrained(pretrainer, tokenizer, folder: str | os.PathLike) -> Path:
    """Write the backbone and tokenizer as a keras-hub preset folder, with the heads beside
    them; atomically (a temporary folder, then renamed over any earlier one)."""
    folder = Path(folder)
    tmp = folder.with_name(folder.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    backbone = pretrainer.masked_lm.backbone
    backbone.save_to_preset(str(tmp))
    tokenizer.save_to_preset(str(tmp))
    _record_float32_policy(tmp / "config.json")
    np.savez(tmp / HEADS_FILE, *[w.numpy() for w in _head_weights(pretrainer)])
    old = folder.with_name(folder.name + ".old")
    if folder.exists():
        shutil.rmtree(old, ignore_errors=True)
        os.replace(folder, old)
    os.replace(tmp, folder)
    shutil.rmtree(old, ignore_errors=True)
    return folder
