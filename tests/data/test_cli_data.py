"""`albert-tf data list / fetch / show` through the real CLI entry point."""

from albert_tf.cli import main
from albert_tf.data.sources import NAMED_SOURCES


def test_data_fetch_prints_path_size_and_sha(rotten_copy, capsys):
    assert main(["data", "fetch", "rotten-tomatoes"]) == 0
    out = capsys.readouterr().out
    assert f"path:   {rotten_copy.path}" in out
    assert "0.7 MB in 1 files" in out
    assert NAMED_SOURCES["rotten-tomatoes"].pin.sha256 in out and "verified" in out


def test_data_list(rotten_copy, capsys):
    assert main(["data", "list"]) == 0
    out = capsys.readouterr().out
    for name, source in NAMED_SOURCES.items():
        assert name in out and source.pin.package in out
    assert "cached" in out.splitlines()[1]  # rotten-tomatoes is fetched


def test_data_show_named_combination(combined_sentiment, capsys):
    assert main(["data", "show", "rotten-tomatoes+movie-snippets", "--seed", "1"]) == 0
    out = capsys.readouterr().out
    assert f"examples: {len(combined_sentiment)}" in out
    assert "negative" in out and "positive" in out
    assert "splits (seed 1): train" in out
    assert sum(line.startswith("  [") for line in out.splitlines()) == 3


def test_data_show_file_with_columns(tmp_path, capsys):
    path = tmp_path / "pairs.csv"
    path.write_text(
        "premise,hypothesis,gold\n" + "".join(f"p{i},h{i},{'yes' if i % 2 else 'no'}\n" for i in range(10))
    )
    code = main(
        [
            "data",
            "show",
            str(path),
            "--text-column",
            "premise",
            "--pair-column",
            "hypothesis",
            "--label-column",
            "gold",
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "examples: 10" in out and "splits (seed 0): train 8, dev 1, test 1" in out
    assert "||  h" in out


def test_data_errors_are_one_line_exit_2(tmp_path, capsys):
    assert main(["data", "fetch", "imdb"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unknown source 'imdb'" in err
    path = tmp_path / "x.csv"
    path.write_text("review,label\nx,1\n")
    assert main(["data", "show", str(path)]) == 2
    assert "columns are: review, label" in capsys.readouterr().err
