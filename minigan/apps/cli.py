"""The examples' shared command line, in one import (``from minigan.apps import cli``):

options     the parser, the fixed options every example takes, checked argument types
setup       device, output folder, processes, --resume and the settings a run keeps
run         build the models, train, export, report; the exit code
preflight   checks before anything is written (output folder, memory)
failures    one line and exit code 2 for an expected failure (``command_line``)

Exit codes: 0 done; 2 bad arguments or unusable input; 3 training stopped on a NaN/inf loss;
130 interrupted with Ctrl-C, 143 stopped with SIGTERM, 129 with SIGHUP (after saving a checkpoint).

Everything an example is given (options, data, checkpoint, output folder) is checked before
anything is written into the output folder.
"""
from .failures import EXIT_DIVERGED, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, UsageError, command_line
from .options import (ExampleParser, add_data_parallel_option, add_training_options, common_parser,
                      dcgan_fields, float_pair, label_ranges, nonneg_int, positive_float, positive_int,
                      probability)
from .preflight import check_memory, check_output_folder
from .run import build_models, check_data_size, format_seconds, run_training
from .setup import RunContext, begin, lock_output_folder, resolve_device, start_run, train_config

__all__ = ["ExampleParser", "common_parser", "add_training_options", "add_data_parallel_option",
           "label_ranges", "positive_int", "nonneg_int", "positive_float", "begin", "build_models",
           "dcgan_fields", "probability", "float_pair", "resolve_device", "RunContext",
           "start_run", "train_config", "run_training", "check_data_size", "check_memory",
           "check_output_folder", "lock_output_folder", "command_line", "UsageError", "format_seconds", "EXIT_OK",
           "EXIT_USAGE", "EXIT_DIVERGED", "EXIT_INTERRUPTED"]
