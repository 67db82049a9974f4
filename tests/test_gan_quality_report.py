"""benchmarks/gan_quality_study.py --report: the README's study table is computed right."""
import csv
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), os.pardir, "benchmarks"))
import gan_quality_study as study  # noqa: E402


def write_rows(path, rows):
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=study.FIELDS)
        w.writeheader()
        for setting, sampler, epoch, fds, classes in rows:
            for seed, (fd, c) in enumerate(zip(fds, classes), start=1):
                w.writerow(dict(setting=setting, seed=seed, epoch=epoch, sampler=sampler, fd=fd,
                                classes=c, kl_uniform=0.1, train_s=100.0 * seed, machine="test"))


def table(capsys, path, epochs=None, also=(), settings=None):
    study.report([str(path)] + [str(a) for a in also], epochs, settings)
    lines = capsys.readouterr().out.splitlines()
    return {tuple(cell.strip() for cell in line.split("|")[1:3]): [c.strip() for c in line.split("|")[1:-1]]
            for line in lines[2:]}


def test_report_compares_median_and_worst_seed_with_the_default(tmp_path, capsys):
    path = tmp_path / "rows.csv"
    write_rows(path, [("bce", "G", 10, [300, 400, 200], [9, 10, 10]),
                      ("bce", "EMA", 10, [150, 300, 240], [10, 10, 10]),
                      ("hinge", "G", 10, [330, 330], [10, 9]),
                      ("bce", "G", 25, [100, 100, 100], [10, 10, 10])])
    rows = table(capsys, path)
    assert rows[("bce", "10")][3:5] == ["300.0 (+0%)", "400.0 (+0%)"]
    assert rows[("bce + EMA", "10")][3:5] == ["240.0 (-20%)", "300.0 (-25%)"]
    assert rows[("bce + EMA", "10")][5] == "10 / 10 / 10"
    assert rows[("hinge", "10")][2] == "330.0 / 330.0 (seeds 1,2)"      # a missing seed is named
    assert rows[("hinge", "10")][3] == "330.0 (+10%)"
    assert rows[("bce", "10")][7] == "200"                              # median wall time
    order = [key for key in rows]
    assert order.index(("bce", "10")) < order.index(("bce + EMA", "10")) < order.index(("hinge", "10"))
    assert ("bce", "25") in rows and ("bce", "25") not in table(capsys, path, [10])



def test_report_joins_several_files_and_shows_only_the_settings_asked(tmp_path, capsys):
    main, more = tmp_path / "main.csv", tmp_path / "more.csv"
    write_rows(main, [("bce", "G", 10, [300, 400, 200], [9, 10, 10]),
                      ("hinge", "G", 10, [330, 330, 330], [10, 9, 10])])
    write_rows(more, [("b32", "EMA+SS", 10, [150, 200, 100], [10, 10, 10])])
    rows = table(capsys, main, also=[more], settings=["bce", "b32"])
    assert rows[("b32 + EMA+SS", "10")][3] == "150.0 (-50%)"             # against main's bce
    assert ("hinge", "10") not in rows
