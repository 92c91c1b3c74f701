"""What a token-classification recipe (`task: token-classification`) may say.

The sections keep the classification recipe's names where they mean the same thing
(`data`, `teacher`, `prune`, `distill`, `export`, `bench`, `gates`), and take the tagging
package's own settings where token classification differs:

```yaml
name: pos-brown
task: token-classification
data:    {source: brown-corpus, train_limit: 5000}              # tagging.config.TaggingDataSpec
teacher: {model: albert-tiny, vocab_size: 4000, sequence_length: 64,
          finetune: {epochs: 3, learning_rate: 1.0e-3}}         # train.config.FinetuneConfig
student: {method: albertize, num_layers: 3, num_groups: 3}      # distill.StudentInit (BERT teachers)
prune:   {config: {structured: {heads_fraction: 0.5, ffn_fraction: 0.5, depth: 2}}}
                                                                # compress.prune.PruneConfig
distill: {epochs: 2, temperature: 2.0, alpha: 0.8}              # tagging.distill.TokenDistillConfig
export:  {tflite_modes: [float32, dynamic-int8], saved_model: true}
bench:   {threads: [1, 2], latency_runs: 20, eval_limit: 1000}
gates:   {artifact: dynamic-int8, max_accuracy_drop: 0.05, max_size_mb: 10}
```

The stages run teacher -> student -> prune -> distill -> export -> report: the teacher is
fine-tuned; the student is albertized from it (`student: {method: albertize, ...}`, for a
BERT-family teacher such as `minilm-teacher`) and/or pruned from it (same tokenizer and
sequence length, so sub-token positions line up); then the student is distilled on the
teacher's per-token soft labels. Accuracy is token
accuracy (each word's first sub-token) on the held-out test split.
"""

from dataclasses import dataclass, field
from typing import Literal

from albert_tf.compress.distill.student import StudentInit
from albert_tf.compress.prune.config import PruneConfig
from albert_tf.errors import UserError, check_plain_name
from albert_tf.recipe.schema import (
    GatesSection,
    PretrainSection,
    check_export_targets,
    check_measuring,
)
from albert_tf.tagging.config import TaggingDataSpec
from albert_tf.tagging.distill import TokenDistillConfig
from albert_tf.train.config import FinetuneConfig

TOKEN_CLASSIFICATION = "token-classification"
TaggerTFLiteMode = Literal["float32", "float16", "dynamic-int8"]


@dataclass
class TaggingTeacherSection:
    """The teacher token classifier, fine-tuned on the recipe's tagged sentences.

    Args:
        model: named config (`albert-tiny`, ...), a mapping of `AlbertBackbone` shape
            arguments, an ALBERT preset folder or keras-hub preset name, or a saved tagger.
        sequence_length: sub-tokens per sentence, `[CLS]` and `[SEP]` included.
        tokenizer, vocab_size: SentencePiece model (or size of one trained on the training
            words) for named configs and shapes.
        finetune: fine-tuning settings.
        precision: Keras dtype policy during fine-tuning (`mixed_bfloat16` on GPUs and on
            CPUs with AMX / AVX-512 BF16; the saved model is float32 either way).
    """

    model: str | dict[str, int] = "albert-tiny"
    sequence_length: int = 128
    tokenizer: str | None = None
    vocab_size: int = 8000
    finetune: FinetuneConfig = field(default_factory=FinetuneConfig)
    precision: Literal["float32", "mixed_bfloat16", "mixed_float16"] = "float32"

    def __post_init__(self):
        if self.sequence_length < 3:
            raise UserError(f"sequence_length must be >= 3. Received: {self.sequence_length}")
        if self.vocab_size < 8:
            raise UserError(f"vocab_size must be >= 8. Received: {self.vocab_size}")


@dataclass
class TaggingPruneSection:
    """Pruning of the fine-tuned teacher into the student (`config`); no `recover`: the
    distillation stage that follows is the recovery."""

    config: PruneConfig = field(default_factory=PruneConfig)


@dataclass
class TaggingExportSection:
    """Artifacts to write.

    Args:
        tflite_modes: per-token TFLite files (packed token ids in, `[1, sequence, tags]`
            probabilities out).
        saved_model: a raw-text SavedModel returning word tags, in TF Serving's
            `serving/<model_name>/<version>` layout.
        model_name, version: the TF Serving model name and version folder.
        teacher_baseline: export the teacher as float32 TFLite too, so accuracy changes and
            speed-ups are measured against it in the same run.
        edge_bundle: write `export/edge-bundle/` for `export/edge/tag.py` (words in, tags out
            on a device), holding the artifact the gates judge, after the kit's own parity
            check against the Keras tagger.
        allow_mismatch: write the edge bundle even when that check fails (recorded in kit.json).
    """

    tflite_modes: list[TaggerTFLiteMode] = field(
        default_factory=lambda: ["float32", "dynamic-int8"])
    saved_model: bool = True
    model_name: str = "albert-tagger"
    version: int = 1
    teacher_baseline: bool = True
    edge_bundle: bool = True
    allow_mismatch: bool = False

    def __post_init__(self):
        check_export_targets(self.tflite_modes, self.saved_model, self.version, self.model_name)


@dataclass
class TaggingBenchSection:
    """How artifacts are measured: token accuracy on the test split (`eval_limit` sentences),
    latency of one sentence per call for each thread count."""

    threads: list[int] = field(default_factory=lambda: [1, 2])
    latency_runs: int = 20
    eval_limit: int | None = None

    def __post_init__(self):
        check_measuring(self.threads, self.latency_runs, self.eval_limit)


@dataclass
class TaggingRecipe:
    """A token-classification pipeline; see the module docstring for the YAML form.

    `gates` are the classification recipe's (`GatesSection`), with accuracy meaning token
    accuracy.
    """

    name: str
    task: Literal["token-classification"] = TOKEN_CLASSIFICATION
    data: TaggingDataSpec = field(default_factory=TaggingDataSpec)
    pretrain: PretrainSection | None = None
    teacher: TaggingTeacherSection = field(default_factory=TaggingTeacherSection)
    student: StudentInit | None = None
    prune: TaggingPruneSection | None = None
    distill: TokenDistillConfig | None = None
    export: TaggingExportSection = field(default_factory=TaggingExportSection)
    bench: TaggingBenchSection = field(default_factory=TaggingBenchSection)
    gates: GatesSection = field(default_factory=GatesSection)

    def __post_init__(self):
        check_plain_name(self.name, "name")
        if self.student is not None and self.student.method != "albertize":
            raise UserError(f"student.method {self.student.method!r} is not available for token "
                            "classification: use 'albertize' (a BERT-family teacher such as "
                            "minilm-teacher), or a prune section (an ALBERT teacher pruned into "
                            "the student)")
        if self.distill is not None and self.prune is None and self.student is None:
            raise UserError("distill needs a student or a prune section (what to distil into): "
                            "the student keeps the teacher's tokenizer and sequence length, so "
                            "sub-token positions line up")
        if self.gates.artifact not in self.export.tflite_modes:
            raise UserError(f"gates.artifact {self.gates.artifact!r} is not among "
                            f"export.tflite_modes {self.export.tflite_modes}")
