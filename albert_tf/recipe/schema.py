"""What a recipe may say: one section per stage, each the stage's own typed configuration.

```yaml
name: quickstart
data:     {source: rotten-tomatoes, train_limit: 2000}          # data.spec.DataSpec
teacher:  {model: minilm-teacher, sequence_length: 64,
           finetune: {epochs: 2, learning_rate: 5.0e-5}}        # train.config.FinetuneConfig
student:  {method: albertize, embedding_dim: 128, num_groups: 1} # distill.StudentInit
distill:  {epochs: 3, temperature: 2.0, alpha: 0.8}             # distill.DistillConfig
prune:    {config: {structured: {ffn_fraction: 0.5}}, recover: {epochs: 1}}
export:   {tflite_modes: [float32, float16, dynamic-int8], saved_model: true}
bench:    {threads: [1, 2], latency_runs: 20}
gates:    {artifact: dynamic-int8, max_accuracy_drop: 0.05, min_speedup: 1.5}
```
Sections left out skip their stage (no `student`: the teacher itself is compressed and
exported; no `distill` / `prune`: those stages do not run).

`task: token-classification` (tagging words: POS, NER) keeps every section and its checks;
`task_section_types` names the three whose settings differ by task (`data`: tagged sentences,
`tagging.config.TaggingDataSpec`; `distill`: `tagging.config.TokenDistillConfig`; `prune`:
`TaggingPruneSection`), and `Recipe` checks what a task cannot use (e.g. TFLite modes a
tagger has no exporter for). A tagging recipe's stages run teacher -> student -> prune ->
distill -> export -> report: the student is albertized from a BERT-family teacher and/or
pruned from it (same tokenizer and sequence length, so sub-token positions line up), then
distilled on the teacher's per-token soft labels; accuracy is token accuracy (each word's
first sub-token).
"""

from dataclasses import dataclass, field
from typing import Literal

from albert_tf.compress.distill.config import DistillConfig
from albert_tf.compress.distill.student import StudentInit
from albert_tf.compress.prune.transform import PruneConfig
from albert_tf.data.spec import DataSpec
from albert_tf.errors import UserError, check_plain_name
from albert_tf.pretrain.job import PretrainConfig
from albert_tf.recipe.validate import RecipeError
from albert_tf.train.config import FinetuneConfig

CLASSIFICATION = "classification"
TOKEN_CLASSIFICATION = "token-classification"
TASKS = (CLASSIFICATION, TOKEN_CLASSIFICATION)
TFLiteMode = Literal["float32", "float16", "dynamic-int8", "int8", "int16x8"]
# What the per-token TFLite exporter writes (no calibrated full-integer modes).
TAGGER_TFLITE_MODES = ("float32", "float16", "dynamic-int8")


@dataclass
class PretrainSection:
    """Optional pre-training before the teacher stage (`albert_tf.pretrain`): the teacher's
    `model` (a named configuration, new, or an ALBERT preset, continued) is pre-trained on
    `corpus` with masked LM and sentence-order prediction, and the teacher stage fine-tunes
    the result. The recipe's data source (its dev and test texts) is always left out of the
    corpus, with the recipe's split seed.

    Args:
        corpus: sources of unlabelled documents (see `albert-tf pretrain --corpus`).
        vocab_size: pieces of the tokenizer trained for a named configuration.
        sequence_length: tokens per pre-training example.
        held_out_fraction: share of documents scored, never trained on.
        train: steps, batch size, learning rate, checkpoints.
        precision: Keras dtype policy while pre-training.
    """

    corpus: list[str] = field(default_factory=list)
    vocab_size: int = 8000
    sequence_length: int = 128
    held_out_fraction: float = 0.02
    train: PretrainConfig = field(default_factory=PretrainConfig)
    precision: Literal["float32", "mixed_bfloat16", "mixed_float16"] = "float32"

    def __post_init__(self):
        if not self.corpus:
            raise UserError("pretrain.corpus must name at least one source (e.g. "
                            "[brown-corpus] or a .txt file)")


def pretrain_job(section: PretrainSection, model: str, data_source: str, seed: int):
    """The `PretrainJob` a recipe's pretrain section describes."""
    from albert_tf.pretrain.job import PretrainJob

    return PretrainJob(corpus=list(section.corpus), model=model, vocab_size=section.vocab_size,
                       sequence_length=section.sequence_length,
                       held_out_fraction=section.held_out_fraction, corpus_seed=seed,
                       leave_out=[data_source], train=section.train,
                       precision=section.precision)


@dataclass
class TeacherSection:
    """The teacher: built and fine-tuned on the recipe's data (the `teacher` stage).

    Args:
        model: named config, keras-hub preset name, preset folder or `minilm-teacher`; for
            token classification also a mapping of `AlbertBackbone` shape arguments or a saved
            tagger.
        sequence_length: tokens per example (for taggers sub-tokens per sentence, `[CLS]` and
            `[SEP]` included).
        tokenizer, vocab_size: SentencePiece model (or size of a new one) for named configs.
        finetune: fine-tuning settings.
        precision: Keras dtype policy during fine-tuning (GPUs: `mixed_bfloat16`).
        strategy: tf.distribute strategy (classification).
    """

    model: str | dict[str, int] = "minilm-teacher"
    sequence_length: int = 128
    tokenizer: str | None = None
    vocab_size: int = 8000
    finetune: FinetuneConfig = field(default_factory=FinetuneConfig)
    precision: Literal["float32", "mixed_bfloat16", "mixed_float16"] = "float32"
    strategy: Literal["default", "mirrored", "multi-worker", "tpu"] = "default"

    def __post_init__(self):
        if self.sequence_length < 3:
            raise UserError(f"sequence_length must be >= 3. Received: {self.sequence_length}")
        if self.vocab_size < 8:
            raise UserError(f"vocab_size must be >= 8. Received: {self.vocab_size}")


@dataclass
class PruneSection:
    """Pruning (`config`), normally followed by distillation from the unpruned model
    (`recover`) to win back accuracy."""

    config: PruneConfig = field(default_factory=PruneConfig)
    recover: DistillConfig | None = None


@dataclass
class TaggingPruneSection:
    """Token classification's pruning of the fine-tuned teacher into the student (`config`);
    no `recover`: the distillation stage that follows is the recovery."""

    config: PruneConfig = field(default_factory=PruneConfig)
    recover = None  # not a setting: the stage reads it as classification's PruneSection's


def task_section_types(task: str) -> dict:
    """The recipe sections whose settings differ by task, as `from_data` field types (the
    other sections are the same for every task)."""
    if task == TOKEN_CLASSIFICATION:
        from albert_tf.tagging.config import TaggingDataSpec, TokenDistillConfig

        return {"data": TaggingDataSpec, "distill": TokenDistillConfig | None,
                "prune": TaggingPruneSection | None}
    return {}


@dataclass
class ExportSection:
    """Artifacts to write.

    Args:
        tflite_modes: TFLite quantization modes (token-id inputs, fixed length; taggers:
            float32, float16, dynamic-int8, `[1, sequence, tags]` probabilities out).
        raw_text_tflite: also a strings-in TFLite file (float32, TF Text custom ops;
            classification).
        saved_model: a TF Serving SavedModel (raw-text and token signatures, warm-up; for
            taggers raw text in, word tags out).
        model_name, version: the TF Serving model name and version folder.
        calibration_examples: training examples used to calibrate `int8` / `int16x8`.
        teacher_baseline: export the teacher as float32 TFLite too, so speed-ups are
            measured against it in the same run.
        edge_bundle: write `export/edge-bundle/` for `export/edge/classify.py` (taggers:
            `export/edge/tag.py`), holding the artifact the gates judge (the one to ship).
        serving_base_path: the serving root as TF Serving sees it, written into
            `models.config` (default `/models`, the container mount of
            `export/serving/README.md`).
        allow_mismatch: write artifacts whose parity check fails (recorded in their reports
            and kit.json) instead of failing the stage.
    """

    tflite_modes: list[TFLiteMode] = field(
        default_factory=lambda: ["float32", "float16", "dynamic-int8"])
    raw_text_tflite: bool = False
    saved_model: bool = True
    model_name: str = "albert"
    version: int = 1
    calibration_examples: int = 100
    teacher_baseline: bool = True
    edge_bundle: bool = True
    serving_base_path: str = "/models"
    allow_mismatch: bool = False

    def __post_init__(self):
        if not self.serving_base_path.startswith("/"):
            raise UserError("serving_base_path must be an absolute path as the server sees "
                            f"it, e.g. /models. Received: {self.serving_base_path!r}")
        check_plain_name(self.model_name, "model_name")
        if not self.tflite_modes and not self.saved_model:
            raise UserError("nothing to export: give tflite_modes or saved_model: true")
        if len(set(self.tflite_modes)) != len(self.tflite_modes):
            raise UserError(f"tflite_modes repeats a mode: {self.tflite_modes}")
        if self.version < 1:
            raise UserError(f"version must be >= 1. Received: {self.version}")
        if self.calibration_examples < 1:
            raise UserError("calibration_examples must be >= 1. "
                            f"Received: {self.calibration_examples}")


@dataclass
class BenchSection:
    """How artifacts are measured (`albert_tf.bench.BenchConfig`): accuracy on the test
    split, latency per thread count, FLOP/s against the machine's matmul peak, memory.

    Args:
        threads: ai-edge-litert / ONNX Runtime thread counts.
        latency_runs, warmup: timed and untimed calls per artifact and thread count.
        eval_limit: score on a seeded subset of this many test examples.
        batch_sizes, sequence_lengths: latency grid for shape-flexible artifacts (Keras,
            SavedModel); None: the model's own length.
        memory: peak memory of each artifact (a child process each).
        real_length_examples: examples timed at their real token length against padding.
        onnx: ONNX Runtime baseline where the `onnx` extra is installed.
        keras: time the final Keras model too.
        teacher_saved_model: export and measure the teacher's SavedModel (speed-up reference).
    """

    threads: list[int] = field(default_factory=lambda: [1, 2])
    latency_runs: int = 20
    eval_limit: int | None = None
    warmup: int = 3
    batch_sizes: list[int] = field(default_factory=lambda: [1])
    sequence_lengths: list[int] | None = None
    memory: bool = True
    real_length_examples: int = 32
    onnx: bool = True
    keras: bool = True
    teacher_saved_model: bool = True

    def __post_init__(self):
        if not self.threads or min(self.threads) < 1:
            raise UserError(f"threads must be a non-empty list of integers >= 1. "
                            f"Received: {self.threads}")
        if self.latency_runs < 1:
            raise UserError(f"latency_runs must be >= 1. Received: {self.latency_runs}")
        if self.eval_limit is not None and self.eval_limit < 1:
            raise UserError(f"eval_limit must be >= 1. Received: {self.eval_limit}")
        for name in ("batch_sizes", "sequence_lengths"):
            values = getattr(self, name)
            if values is not None and (not values or min(values) < 1):
                raise UserError(f"{name} must be a non-empty list of integers >= 1. "
                                f"Received: {values}")
        if self.warmup < 0 or self.real_length_examples < 0:
            raise UserError("warmup and real_length_examples must be >= 0. Received: "
                            f"{self.warmup}, {self.real_length_examples}")


@dataclass
class GatesSection:
    """Pass / fail limits for the artifact to ship (`albert-tf run` exits 1 when one fails).

    Args:
        artifact: which artifact the gates judge: a TFLite mode from `export.tflite_modes`.
        max_accuracy_drop: largest allowed teacher accuracy minus artifact accuracy.
        min_speedup: smallest allowed teacher float32 TFLite latency / artifact latency
            (first thread count of `bench.threads`).
        max_size_mb: largest allowed artifact size in MB (10^6 bytes).
        min_retention: smallest allowed artifact accuracy / teacher accuracy (0.97: keeps
            97 % of the teacher).
        min_size_reduction: smallest allowed teacher float32 TFLite size / artifact size.
        min_margin_over_baseline: smallest allowed artifact accuracy minus the TF-IDF +
            logistic-regression baseline's, on the same test examples (classification); for
            token classification, minus the strongest baseline's (most frequent tag, or the
            gazetteer), on entity F1 for entity tag sets and on token accuracy otherwise.
    """

    artifact: str = "dynamic-int8"
    max_accuracy_drop: float | None = None
    min_speedup: float | None = None
    max_size_mb: float | None = None
    min_retention: float | None = None
    min_size_reduction: float | None = None
    min_margin_over_baseline: float | None = None

    def __post_init__(self):
        if self.min_retention is not None and not 0 <= self.min_retention <= 2:
            raise UserError(f"min_retention must lie in [0, 2] (a ratio of accuracies). "
                            f"Received: {self.min_retention}")
        for name in ("max_accuracy_drop", "min_speedup", "max_size_mb", "min_size_reduction"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise UserError(f"{name} must be >= 0. Received: {value}")

    def judge(self, accuracy_drop: float | None, speedup: float | None,
              size_bytes: int, retention: float | None = None,
              size_reduction: float | None = None, margin: float | None = None) -> list[dict]:
        """Each set gate's check of the shipped artifact: `{gate, limit, value, passed}`.
        A gate whose measurement is missing (no teacher, no latency, no baseline) is left
        out."""
        checks = []
        for gate, value in (("min_retention", retention), ("min_size_reduction", size_reduction),
                            ("min_margin_over_baseline", margin)):
            limit = getattr(self, gate)
            if limit is not None and value is not None:
                checks.append({"gate": gate, "limit": limit, "value": round(value, 4),
                               "passed": value >= limit})
        if self.max_accuracy_drop is not None and accuracy_drop is not None:
            checks.append({"gate": "max_accuracy_drop", "limit": self.max_accuracy_drop,
                           "value": round(accuracy_drop, 4),
                           "passed": accuracy_drop <= self.max_accuracy_drop})
        if self.min_speedup is not None and speedup is not None:
            checks.append({"gate": "min_speedup", "limit": self.min_speedup,
                           "value": speedup, "passed": speedup >= self.min_speedup})
        if self.max_size_mb is not None:
            size = size_bytes / 1e6
            checks.append({"gate": "max_size_mb", "limit": self.max_size_mb,
                           "value": round(size, 3), "passed": size <= self.max_size_mb})
        return checks


def check_sharing_student(student: StudentInit, share_groups: int) -> None:
    """Annealed sharing starts from distinct layers: an albertized student with one layer per
    call, whose calls `share_groups` divides."""
    if student.method != "albertize":
        raise UserError(f"distill.share_groups needs student.method 'albertize'. Received: "
                        f"student.method={student.method!r}")
    calls = student.num_layers
    if calls is not None and student.num_groups != calls:
        raise UserError("distill.share_groups starts from distinct layers: set student.num_groups "
                        f"equal to student.num_layers. Received: num_groups={student.num_groups}, "
                        f"num_layers={calls}")
    if (calls or student.num_groups) % share_groups:
        raise UserError(f"distill.share_groups must divide the student's {calls or student.num_groups} "
                        f"encoder calls. Received: share_groups={share_groups}")


@dataclass
class Recipe:
    """A whole pipeline; see the module docstring for the YAML form.

    `task` picks what the recipe trains: `classification` (sentence or sentence-pair labels,
    the default) or `token-classification` (a tag per word); `task_section_types(task)`
    gives the sections whose settings differ, and `load_recipe` reads them so.
    """

    name: str
    task: Literal["classification", "token-classification"] = CLASSIFICATION
    data: DataSpec = field(default_factory=DataSpec)
    pretrain: PretrainSection | None = None
    teacher: TeacherSection = field(default_factory=TeacherSection)
    student: StudentInit | None = None
    distill: DistillConfig | None = None
    prune: PruneSection | None = None
    export: ExportSection = field(default_factory=ExportSection)
    bench: BenchSection = field(default_factory=BenchSection)
    gates: GatesSection = field(default_factory=GatesSection)

    def __post_init__(self):
        check_plain_name(self.name, "name")
        if self.task == TOKEN_CLASSIFICATION:
            self._check_token_classification()
        else:
            self._check_classification()
        if self.gates.artifact not in self.export.tflite_modes:
            raise UserError(f"gates.artifact {self.gates.artifact!r} is not among "
                            f"export.tflite_modes {self.export.tflite_modes}")

    def _check_classification(self):
        if isinstance(self.teacher.model, dict):
            raise RecipeError("teacher.model: expected a string (a named config, preset or "
                              "folder); a mapping of shape arguments is for "
                              "task: token-classification")
        if self.distill is not None and self.student is None:
            raise UserError("distill needs a student section (what to distil into)")
        if self.distill is not None and self.distill.share_groups:
            check_sharing_student(self.student, self.distill.share_groups)

    def _check_token_classification(self):
        if self.teacher.strategy != "default":
            raise RecipeError(f"teacher.strategy: token classifiers are fine-tuned with the "
                              f"default strategy. Received: {self.teacher.strategy!r}")
        for index, mode in enumerate(self.export.tflite_modes):
            if mode not in TAGGER_TFLITE_MODES:
                raise RecipeError(f"export.tflite_modes[{index}]: expected one of "
                                  f"{', '.join(repr(m) for m in TAGGER_TFLITE_MODES)} (token "
                                  f"classification), got {mode!r}")
        if self.export.raw_text_tflite:
            raise RecipeError("export.raw_text_tflite: classification only; a tagger's raw "
                              "text goes through its SavedModel (saved_model: true)")
        if self.student is not None and self.student.method != "albertize":
            raise UserError(f"student.method {self.student.method!r} is not available for token "
                            "classification: use 'albertize' (a BERT-family teacher such as "
                            "minilm-teacher), or a prune section (an ALBERT teacher pruned into "
                            "the student)")
        if self.distill is not None and self.prune is None and self.student is None:
            raise UserError("distill needs a student or a prune section (what to distil into): "
                            "the student keeps the teacher's tokenizer and sequence length, so "
                            "sub-token positions line up")
