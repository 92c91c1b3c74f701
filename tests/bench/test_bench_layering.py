"""`bench/` sits below `recipe/`: it measures and reports what it is handed (the run folder's
artifacts, the splits) and never reads a recipe itself."""

import ast
from pathlib import Path

import albert_tf.bench


def test_no_bench_module_imports_the_recipe_package():
    offenders = []
    for path in Path(albert_tf.bench.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else \
                [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
            offenders += [f"{path.name}: {name}" for name in names
                          if name.startswith("albert_tf.recipe")]
    assert offenders == []
