"""Structured pruning of ALBERT: fewer attention heads, FFN neurons and layers, really.

Unlike masks, this produces a smaller dense model: a new backbone configuration with the kept
weights sliced out of the old one, so it saves (`save_to_preset`), loads, exports and runs
faster like any other keras-hub model.

* Heads: the lowest-scoring `round(heads_fraction * num_heads)` heads of every transformer
  layer are removed (the same number everywhere, so one `num_heads` describes the model; which
  heads go is chosen per distinct layer). Each kept head keeps its size, so `head_dim` stays
  and `num_heads * head_dim` drops below `hidden_dim`: keras-hub derives the head size as
  `hidden_dim // num_heads`, hence such models are `AlbertSlimBackbone`
  (`albert_tf.models.albert_slim`), which stores `head_dim` in its config. Whenever
  `head_dim == hidden_dim // num_heads` still holds, the stock `AlbertBackbone` is used.
* FFN neurons: the lowest-scoring `round(ffn_fraction * intermediate_dim)` columns of the
  intermediate dense layer (and the matching rows of the output dense layer) go.
* Depth: `depth` is the new `num_layers`, the number of times groups are applied. ALBERT with
  `num_groups=1` runs one shared layer `num_layers` times: depth pruning simply runs it fewer
  times (parameters stay, FLOPs drop). With several groups, `num_layers % num_groups == 0` must
  still hold: if `depth` is a multiple of `num_groups` every group is kept and repeated less;
  otherwise name `keep_groups`, the number of whole groups to keep (lowest-scoring groups are
  dropped, order kept), which must divide `depth`. When every group is applied once
  (`num_groups == num_layers`, BERT-like), dropping groups is the default.
  `keep_inner_repetitions` similarly keeps the best inner layers of every group.

Example:
```python
smaller, report = structured_prune(
    classifier, StructuredPruneConfig(heads_fraction=0.25, ffn_fraction=0.5, depth=3))
```
"""

import dataclasses
import logging

import keras_hub
import numpy as np
from keras import ops

from albert_tf.compress.prune.config import StructuredPruneConfig
from albert_tf.compress.prune.importance import (
    EncoderImportance,
    magnitude_importance,
    taylor_importance,
)
from albert_tf.errors import UserError
from albert_tf.models.albert_slim import AlbertSlimBackbone, attention_head_dim

logger = logging.getLogger(__name__)


@dataclasses.dataclass
class StructuredPlan:
    """The kept structures, indexed in the original model.

    Args:
        num_layers: new number of group applications.
        groups: original indices of the kept groups, in order.
        inner: per kept group, original indices of its kept inner layers.
        heads: per kept group and inner layer, original indices of the kept heads.
        neurons: per kept group and inner layer, original indices of the kept FFN neurons.
    """

    num_layers: int
    groups: list[int]
    inner: list[list[int]]
    heads: list[list[list[int]]]
    neurons: list[list[list[int]]]


def _top(scores: np.ndarray, count: int) -> list[int]:
    """Indices of the `count` highest scores, in increasing index order (stable on ties)."""
    order = np.argsort(-np.asarray(scores), kind="stable")
    return sorted(int(i) for i in order[:count])


def _kept_count(total: int, fraction: float, what: str) -> int:
    kept = total - int(round(fraction * total))
    if kept < 1:
        raise UserError(f"removing {fraction:.0%} of {total} {what} would remove all of them: "
                        "use a smaller fraction")
    return kept


def _resolve_depth(backbone, config: StructuredPruneConfig) -> tuple[int, int]:
    """New (num_layers, num_groups) from depth / keep_groups, with clear errors."""
    num_layers, num_groups = backbone.num_layers, backbone.num_groups
    depth, keep_groups = config.depth, config.keep_groups
    if keep_groups is not None and keep_groups > num_groups:
        raise UserError(f"keep_groups={keep_groups} exceeds the model's num_groups={num_groups}")
    if depth is None:
        depth = num_layers if keep_groups is None else num_layers // num_groups * keep_groups
    if depth > num_layers:
        raise UserError(f"depth={depth} exceeds the model's num_layers={num_layers}: "
                        "structured pruning only removes layers")
    if keep_groups is None:
        if depth % num_groups == 0:
            keep_groups = num_groups
        elif num_groups == num_layers:
            keep_groups = depth
        else:
            raise UserError(
                f"depth={depth} is not a multiple of num_groups={num_groups}: every group must "
                f"run equally often (num_layers % num_groups == 0). Use a depth that is a "
                f"multiple of {num_groups}, or keep fewer groups with keep_groups=K where K "
                f"divides {depth}")
    if depth % keep_groups:
        raise UserError(f"depth={depth} must be a multiple of keep_groups={keep_groups} "
                        "(num_layers % num_groups == 0)")
    return depth, keep_groups


def plan_structured_pruning(backbone, config: StructuredPruneConfig,
                            scores: list[list[EncoderImportance]]) -> StructuredPlan:
    """Choose what to keep from importance scores.

    Args:
        backbone: the ALBERT backbone being pruned.
        config: what to remove.
        scores: importance per `[group][inner repetition]`.
    """
    config.validate()
    depth, keep_groups = _resolve_depth(backbone, config)
    num_inner = backbone.num_inner_repetitions
    keep_inner = config.keep_inner_repetitions or num_inner
    if keep_inner > num_inner:
        raise UserError(f"keep_inner_repetitions={keep_inner} exceeds the model's "
                        f"num_inner_repetitions={num_inner}")
    heads_kept = _kept_count(backbone.num_heads, config.heads_fraction, "attention heads")
    neurons_kept = _kept_count(backbone.intermediate_dim, config.ffn_fraction, "FFN neurons")

    group_scores = np.array([sum(s.layer for s in group) for group in scores])
    groups = _top(group_scores, keep_groups)
    inner, heads, neurons = [], [], []
    for g in groups:
        kept_inner = _top(np.array([s.layer for s in scores[g]]), keep_inner)
        inner.append(kept_inner)
        heads.append([_top(scores[g][i].heads, heads_kept) for i in kept_inner])
        neurons.append([_top(scores[g][i].neurons, neurons_kept) for i in kept_inner])
    return StructuredPlan(depth, groups, inner, heads, neurons)


def _backbone_of(model):
    """`model`'s ALBERT backbone: itself, or a task model's (text or token classifier)."""
    if isinstance(model, keras_hub.models.AlbertBackbone):
        return model
    if isinstance(getattr(model, "backbone", None), keras_hub.models.AlbertBackbone):
        return model.backbone
    raise UserError("structured pruning works on keras-hub ALBERT models (a text or token "
                    f"classifier on an ALBERT backbone, or an AlbertBackbone). Received: "
                    f"{type(model).__name__}"
                    + (f" on {type(model.backbone).__name__}" if hasattr(model, "backbone")
                       else ""))


def _new_backbone(old, plan: StructuredPlan):
    config = old.get_config()
    head_dim = attention_head_dim(old)
    num_heads = len(plan.heads[0][0])
    config.update(num_layers=plan.num_layers, num_groups=len(plan.groups),
                  num_inner_repetitions=len(plan.inner[0]), num_heads=num_heads,
                  intermediate_dim=len(plan.neurons[0][0]))
    config.pop("head_dim", None)
    if head_dim == config["hidden_dim"] // num_heads:
        return keras_hub.models.AlbertBackbone.from_config(config)
    return AlbertSlimBackbone.from_config({**config, "head_dim": head_dim})


def _copy_sliced_encoder(old, new, heads: list[int], neurons: list[int]) -> None:
    def put(variable, value):
        variable.assign(ops.convert_to_tensor(value, dtype=variable.dtype))

    old_attention, new_attention = old._self_attention_layer, new._self_attention_layer
    for name in ("_query_dense", "_key_dense", "_value_dense"):
        source, target = getattr(old_attention, name), getattr(new_attention, name)
        put(target.kernel, ops.take(source.kernel, heads, axis=1))
        put(target.bias, ops.take(source.bias, heads, axis=0))
    put(new_attention._output_dense.kernel,
        ops.take(old_attention._output_dense.kernel, heads, axis=0))
    put(new_attention._output_dense.bias, old_attention._output_dense.bias)
    for name in ("_self_attention_layer_norm", "_feedforward_layer_norm"):
        getattr(new, name).set_weights(getattr(old, name).get_weights())
    old_in, new_in = old._feedforward_intermediate_dense, new._feedforward_intermediate_dense
    put(new_in.kernel, ops.take(old_in.kernel, neurons, axis=1))
    put(new_in.bias, ops.take(old_in.bias, neurons, axis=0))
    old_out, new_out = old._feedforward_output_dense, new._feedforward_output_dense
    put(new_out.kernel, ops.take(old_out.kernel, neurons, axis=0))
    put(new_out.bias, old_out.bias)


def apply_structured_plan(model, plan: StructuredPlan):
    """Build the smaller model a plan describes and copy the kept weights into it.

    Args:
        model: a text or token classifier on an ALBERT backbone, or an `AlbertBackbone`
            (stock or slim).
        plan: from `plan_structured_pruning`.

    Returns:
        A new model of the same kind (classifier or backbone); the input model is untouched.
    """
    old = _backbone_of(model)
    new = _new_backbone(old, plan)
    encoder_types = (keras_hub.layers.TransformerEncoder,)
    for layer in old.layers:
        if isinstance(layer, encoder_types) or not layer.weights:
            continue
        new.get_layer(layer.name).set_weights(layer.get_weights())
    for new_g, old_g in enumerate(plan.groups):
        for new_i, old_i in enumerate(plan.inner[new_g]):
            _copy_sliced_encoder(old.transformer_layers[old_g][old_i],
                                 new.transformer_layers[new_g][new_i],
                                 plan.heads[new_g][new_i], plan.neurons[new_g][new_i])
    if model is old:
        return new
    from albert_tf.tasks.adapter import adapter_for

    return adapter_for(model).with_backbone(model, new)  # the task's head, weights kept


def _shape_summary(backbone) -> dict:
    return {"num_layers": backbone.num_layers, "num_groups": backbone.num_groups,
            "num_inner_repetitions": backbone.num_inner_repetitions,
            "num_heads": backbone.num_heads, "head_dim": attention_head_dim(backbone),
            "intermediate_dim": backbone.intermediate_dim, "hidden_dim": backbone.hidden_dim}


def structured_prune(model, config: StructuredPruneConfig, calibration_data=None):
    """Remove attention heads, FFN neurons and layers; return a smaller dense ALBERT.

    Args:
        model: a text or token classifier on an ALBERT backbone, or an `AlbertBackbone`
            (stock or slim).
        config: what to remove and how to rank it.
        calibration_data: iterable of `(features, labels)` or `(features, labels, weights)`
            batches; needed for "taylor".

    Returns:
        `(pruned_model, report)`: a new model (the input is untouched) and a dict with the
        parameter counts and shapes before and after and the kept indices.
    """
    config.validate()
    backbone = _backbone_of(model)
    if config.importance == "taylor":
        if model is backbone:
            raise UserError("Taylor importance needs a classifier (a loss to differentiate); "
                            "use importance='magnitude' for a bare backbone")
        if calibration_data is None:
            raise UserError("Taylor importance needs calibration data (labelled batches)")
        scores = taylor_importance(model, calibration_data, config.calibration_batches)
    else:
        scores = magnitude_importance(backbone)
    plan = plan_structured_pruning(backbone, config, scores)
    pruned = apply_structured_plan(model, plan)
    report = {
        "parameters_before": int(model.count_params()),
        "parameters_after": int(pruned.count_params()),
        "shape_before": _shape_summary(backbone),
        "shape_after": _shape_summary(_backbone_of(pruned)),
        "importance": config.importance,
        "kept": dataclasses.asdict(plan),
    }
    logger.info("structured pruning: %d -> %d parameters; %s", report["parameters_before"],
                report["parameters_after"], report["shape_after"])
    return pruned, report

