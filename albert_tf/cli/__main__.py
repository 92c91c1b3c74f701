"""`python -m albert_tf.cli` runs the `albert-tf` command."""

import sys

from albert_tf.cli import main

sys.exit(main())
