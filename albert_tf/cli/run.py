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
                        help="only validate the recipe and print the stage plan (what a run "
                             "would run, resume or skip); run nothing")
    parser.add_argument("--json", action="store_true",
                        help="with --check: also print the validated recipe, defaults filled "
                             "in, as JSON")
    parser.set_defaults(func=run)


def run(args) -> int:
    import json
    from pathlib import Path

    from albert_tf.recipe.loader import load_recipe, recipe_to_data

    recipe = load_recipe(args.recipe, args.overrides)
    run_dir = Path(args.run_dir or Path("runs") / recipe.name)
    if args.check:
        if args.json:
            print(json.dumps(recipe_to_data(recipe), indent=2, default=str))
        print_plan(recipe, run_dir, args.recipe)
        return 0
    from albert_tf.recipe.runner import run_recipe

    results = run_recipe(recipe, run_dir)
    print((run_dir / "report" / "report.md").read_text())
    print(f"report: {run_dir / 'report' / 'report.md'}   results: "
          f"{run_dir / 'report' / 'results.json'}")
    failed = [g for g in results["gates"] if not g["passed"]]
    for gate in failed:
        print(f"gate failed: {gate['gate']} = {gate['value']} (limit {gate['limit']}) for "
              f"{recipe.gates.artifact}")
    return 1 if failed else 0


ACTIONS = {"skip": "skip    done earlier with the same settings and inputs",
           "rerun": "rerun   settings or inputs changed since it ran",
           "resume": "resume  interrupted earlier: continues where it stopped",
           "run": "run"}


def print_plan(recipe, run_dir, recipe_path) -> None:
    from albert_tf.recipe.runner import plan_recipe

    plan = plan_recipe(recipe, run_dir)
    print(f"plan for {run_dir} ({getattr(recipe, 'task', 'classification')}):")
    for index, stage in enumerate(plan, start=1):
        print(f"  {index}. {stage.name:<9}{ACTIONS[stage.action]}")
    to_do = sum(stage.action != "skip" for stage in plan)
    print(f"{recipe_path}: valid ({len(plan)} stages, {to_do} to run)")
