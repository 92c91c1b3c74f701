"""ALBERT pre-training on your own text: masked language modelling plus sentence-order
prediction, from a named configuration (tokenizer trained on the corpus) or continued from a
keras-hub ALBERT preset. The output is a keras-hub preset folder that every command takes as
a model.

Modules: `corpus` (documents from sources), `segment_pairs` (packed SOP examples, dynamic
masking), `model` (backbone + MLM and SOP heads, preset output), `job` (the checkpointed run).
"""
