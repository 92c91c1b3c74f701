"""`albert-tf run RECIPE`: the whole pipeline a recipe describes."""


def register(subparsers):
    parser = subparsers.add_parser(
        "run", help="run a recipe: fine-tune, distill, prune, quantize, export, report",
        description="Validate the recipe, then run its stages into the run folder. Finished "
                    "stages are skipped on a re-run; a killed run resumes at the stage (and "
                    "epoch) where it stopped. Exit code 1 when a gate fails.")
    parser.add_argument("recipe", help="recipe YAML file (e.g. recipes/quickstart.yaml)")
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        metavar="KEY=VALUE",
                        help="override a recipe value, e.g. --set distill.epochs=1 (repeatable)")
    parser.add_argument("--run-dir", default=None,
                        help="output folder (default: runs/<recipe name>)")
    parser.add_argument("--check", action="store_true",
                        help="only validate the recipe and print it")
    parser.set_defaults(func=run)


def run(args) -> int:
    import json
    from pathlib import Path

    from albert_tf.recipe.loader import load_recipe, recipe_to_data

    recipe = load_recipe(args.recipe, args.overrides)
    if args.check:
        print(json.dumps(recipe_to_data(recipe), indent=2, default=str))
        return 0
    from albert_tf.recipe.runner import run_recipe

    run_dir = Path(args.run_dir or Path("runs") / recipe.name)
    results = run_recipe(recipe, run_dir)
    print((run_dir / "report" / "report.md").read_text())
    print(f"report: {run_dir / 'report' / 'report.md'}   results: "
          f"{run_dir / 'report' / 'results.json'}")
    failed = [g for g in results["gates"] if not g["passed"]]
    for gate in failed:
        print(f"gate failed: {gate['gate']} = {gate['value']} (limit {gate['limit']}) for "
              f"{recipe.gates.artifact}")
    return 1 if failed else 0
