"""Named ALBERT configurations built from scratch (the one table of model shapes).

Each entry holds `keras_hub.models.AlbertBackbone` arguments except `vocabulary_size`, which
comes from the tokenizer. Sizes are chosen for this project's machines: `albert-tiny` for tests
and quick CPU runs, `albert-small` with the MiniLM teacher's shape (6 layers, hidden 384,
12 heads) so that an albertized teacher and a scratch student are comparable, and `albert-base`
with ALBERT-base v2's shape.
"""

ALBERT_CONFIGS: dict[str, dict] = {
    "albert-tiny": dict(
        num_layers=4, num_heads=4, embedding_dim=64, hidden_dim=128,
        intermediate_dim=512, num_groups=1, num_inner_repetitions=1,
    ),
    "albert-small": dict(
        num_layers=6, num_heads=12, embedding_dim=128, hidden_dim=384,
        intermediate_dim=1536, num_groups=1, num_inner_repetitions=1,
    ),
    "albert-base": dict(
        num_layers=12, num_heads=12, embedding_dim=128, hidden_dim=768,
        intermediate_dim=3072, num_groups=1, num_inner_repetitions=1,
    ),
}
