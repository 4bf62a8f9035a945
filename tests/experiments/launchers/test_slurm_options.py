from __future__ import annotations

import argparse

import pytest

from experiments.launchers.slurm_arguments import add_launcher_arguments, slurm_options_from_args
from experiments.launchers.slurm_options import SlurmOptions, parse_sbatch_flag


def test_spec_section_becomes_submitit_parameters() -> None:
    options = SlurmOptions.from_mapping(
        {
            "partition": "gpu",
            "time_min": 90,
            "cpus_per_task": 8,
            "gpus_per_node": 2,
            "mem_gb": 1.5,
            "array_parallelism": 4,
            "setup": ["module load cuda"],
            "sbatch": {"exclude": "node3", "--exclusive": True, "nice": 10},
        }
    )
    parameters = options.submitit_parameters("grid", nodes=2, tasks_per_node=2)
    assert parameters == {
        "job_name": "grid",
        "time": 90,
        "nodes": 2,
        "ntasks_per_node": 2,
        "cpus_per_task": 8,
        "partition": "gpu",
        "mem": "1536M",
        "gpus_per_node": 2,
        "array_parallelism": 4,
        "setup": ["export OMP_NUM_THREADS=${OMP_NUM_THREADS:-${SLURM_CPUS_PER_TASK:-1}}", "module load cuda"],
        "additional_parameters": {"exclude": "node3", "exclusive": True, "nice": "10", "signal": "USR1@120"},
    }


def test_no_section_means_defaults_and_no_gpus() -> None:
    parameters = SlurmOptions.from_mapping(None).submitit_parameters("g")
    assert "gpus_per_node" not in parameters and "partition" not in parameters and "mem" not in parameters
    assert parameters["time"] == 60 and parameters["cpus_per_task"] == 1


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"time": 5}, "s.yaml: slurm: unknown keys ['time']; expected some of ['partition', 'time_min',"),
        ({"time_min": 0}, "s.yaml: slurm.time_min=0: expected an integer >= 1"),
        ({"cpus_per_task": 1.5}, "s.yaml: slurm.cpus_per_task=1.5: expected an integer >= 1"),
        ({"gpus_per_node": -1}, "s.yaml: slurm.gpus_per_node=-1: expected an integer >= 0"),
        ({"mem_gb": "4G"}, "s.yaml: slurm.mem_gb='4G': expected a positive number of GB"),
        ({"partition": ""}, "s.yaml: slurm.partition='': expected a non-empty string"),
        ({"setup": "module load cuda"}, "s.yaml: slurm.setup='module load cuda': expected a list of shell lines"),
        ({"sbatch": {"array": "0-3"}}, "s.yaml: slurm.sbatch.array: set by the launcher"),
        ({"sbatch": {"time": "10"}}, "s.yaml: slurm.sbatch.time: use slurm.time_min"),
        ({"sbatch": {"exclude": None}}, "s.yaml: slurm.sbatch.exclude=None: expected a string or number"),
        ("gpu", "s.yaml: slurm: expected a mapping of SLURM options, got 'gpu'"),
        (
            {"time_min": 2},
            "s.yaml: slurm.signal_delay_s=120: expected less than the time limit (s.yaml: slurm.time_min=2 min",
        ),
    ],
)
def test_bad_spec_options_are_one_clear_line(raw: object, message: str) -> None:
    with pytest.raises(ValueError) as err:
        SlurmOptions.from_mapping(raw, "s.yaml: slurm")
    assert str(err.value).startswith(message)
    assert "\n" not in str(err.value)


def _cli(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_launcher_arguments(parser)
    return parser.parse_args(argv)


def test_command_line_overrides_the_spec_and_adds_sbatch_flags() -> None:
    spec = SlurmOptions(partition="cpu", time_min=30, sbatch={"exclude": "node1"})
    args = _cli(["--launcher", "slurm", "--time-min", "45", "--sbatch", "exclusive", "--sbatch", "nice=5"])
    options = slurm_options_from_args(spec, args)
    assert (args.launcher, options.partition, options.time_min) == ("slurm", "cpu", 45)
    assert options.sbatch == {"exclude": "node1", "exclusive": True, "nice": "5"}


def test_bad_command_line_options_name_the_flag() -> None:
    with pytest.raises(ValueError, match=r"^--cpus-per-task=0: expected an integer >= 1$"):
        slurm_options_from_args(SlurmOptions(), _cli(["--cpus-per-task", "0"]))


def test_sbatch_flag_text() -> None:
    assert parse_sbatch_flag("exclude=node[1-2]") == ("exclude", "node[1-2]")
    assert parse_sbatch_flag("exclusive") == ("exclusive", True)
