"""Tasks: what differs between text classification and token classification.

`adapter_for(model, splits)` (in `adapter`) picks the task of a model and checks its data; the
package-top verbs (`albert_tf.finetune`, ...) call the adapter it returns. Nothing here is
imported with the package, so the CLI parses arguments without TensorFlow.
"""
