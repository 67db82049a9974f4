"""Console: messages to a function or the terminal, a step line four times an epoch."""
from minigan.gan.console import Console

STATS = {"loss_D": 1.0, "loss_G": 2.0, "D_x": 0.5, "D_G_z": 0.25}


def test_step_lines_four_times_an_epoch_and_not_at_its_end():
    said = []
    console = Console(8, 3, say=said.append, progress=False)
    for step in range(1, 9):
        console.step_done(step, STATS, 0.5, 16)
    assert [line.split()[1] for line in said] == ["2", "4", "6"]
    assert "loss_D 1.0000" in said[0] and "32 img/s" in said[0]


def test_quiet_and_short_epochs_print_no_step_lines():
    said = []
    for console in (Console(8, 1, say=said.append, quiet=True), Console(3, 1, say=said.append)):
        for step in range(1, 4):
            console.step_done(step, STATS, 1.0, 1)
    assert said == []


def test_print_goes_to_stdout_and_warnings_to_stderr(capsys):
    console = Console(4, 1, progress=False)
    console.say("hello")
    console.warn("careful")
    out, err = capsys.readouterr()
    assert out == "hello\n" and err == "careful\n"


def test_the_bar_counts_the_epochs_steps(capsys):
    console = Console(4, 2, progress=True)
    console.open_bar(1, 2)
    assert console.bar.n == 2 and console.bar.desc.startswith("epoch 2/2")
    console.step_done(3, STATS, 0.1, 4)
    assert console.bar.n == 3
    console.close_bar()
    assert console.bar is None
