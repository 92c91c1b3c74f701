"""FLOPs counted from the configuration against hand computations."""

from albert_tf.bench.flops import EncoderShape, count_flops, encoder_shape


def test_count_matches_a_hand_computation_for_a_small_albert():
    # L=8 tokens, E=4, H=6, I=10, 2 heads of 3 (A=6), one shared layer applied 3 times, C=2.
    shape = EncoderShape(layer_applications=3, hidden_dim=6, intermediate_dim=10, num_heads=2,
                         head_dim=3, embedding_dim=4, num_classes=2)
    flops = count_flops(shape, sequence_length=8, batch_size=2)
    projection = 2 * 8 * 4 * 6                      # 384
    qkv = 3 * 2 * 8 * 6 * 6                         # 1,728
    scores_and_values = 2 * (2 * 8 * 8 * 6)         # 1,536
    attention_output = 2 * 8 * 6 * 6                # 576
    ffn = 2 * 8 * 6 * 10 + 2 * 8 * 10 * 6           # 1,920
    head = 2 * 6 * 6 + 2 * 6 * 2                    # 96
    per_example = projection + 3 * (qkv + scores_and_values + attention_output + ffn) + head
    assert per_example == 17_760
    assert flops["total"] == 2 * per_example
    assert flops["ffn"] == 2 * 3 * ffn and flops["embedding_projection"] == 2 * projection


def test_albert_base_at_128_tokens_is_22_4_gflop_as_design_md_says():
    # The figure DESIGN.md measured against: 12 applications, H=768, I=3072, E=128.
    shape = EncoderShape(12, 768, 3072, 12, 64, 128, 2)
    assert round(count_flops(shape, 128)["total"] / 1e9, 2) == 22.37


def test_shape_of_real_models_counts_shared_layers_and_slim_heads(sentencepiece_model):
    import keras_hub

    from albert_tf.models.albert_slim import AlbertSlimBackbone, AlbertSlimTextClassifier

    albert = keras_hub.models.AlbertBackbone(
        vocabulary_size=1000, num_layers=4, num_heads=2, embedding_dim=8, hidden_dim=16,
        intermediate_dim=32, num_groups=2, num_inner_repetitions=3, max_sequence_length=16)
    model = keras_hub.models.AlbertTextClassifier(albert, num_classes=3, preprocessor=None)
    shape = encoder_shape(model)
    # 2 distinct groups of 3 inner layers, each group called 4 / 2 times: 12 applications.
    assert shape == EncoderShape(12, 16, 32, 2, 8, 8, 3)
    slim = AlbertSlimBackbone(vocabulary_size=1000, num_layers=2, num_heads=3, head_dim=4,
                              embedding_dim=8, hidden_dim=16, intermediate_dim=32,
                              max_sequence_length=16)
    pruned = AlbertSlimTextClassifier(slim, num_classes=2, preprocessor=None)
    assert encoder_shape(pruned).head_dim == 4 and encoder_shape(pruned).num_heads == 3
    bert = keras_hub.models.BertBackbone(vocabulary_size=1000, num_layers=2, num_heads=2,
                                         hidden_dim=16, intermediate_dim=32,
                                         max_sequence_length=16)
    classifier = keras_hub.models.BertTextClassifier(bert, num_classes=2, preprocessor=None)
    assert encoder_shape(classifier).embedding_dim is None  # no factorised projection
