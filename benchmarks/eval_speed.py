"""Time SICK-R + STSBenchmark: losslab's MTEB path vs ``mteb.evaluate`` on the plain SentenceTransformer.

Both sides run MTEB's own task code on the same locally loaded data (data loading is done before timing);
runs alternate so that machine noise hits both. Prints each time, the ratio and the scores, and fails if
the scores differ by more than 1e-4.

    python benchmarks/eval_speed.py --data-dir ../shared/data --repeats 2
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import mteb  # noqa: E402
from sentence_transformers import SentenceTransformer  # noqa: E402

from experiments.evaluation.mteb_encoder import LosslabMTEBEncoder  # noqa: E402
from experiments.evaluation.mteb_runner import evaluate_tasks  # noqa: E402
from experiments.evaluation.task_resolver import resolve_tasks  # noqa: E402
from lightning_modules.encoders.hf_encoder import HFEncoder  # noqa: E402
from lightning_modules.encoders.model_resolution import embedded_model_path  # noqa: E402

TASKS = ["SICK-R", "STSBenchmark"]


def _tasks(data_dir: str):
    tasks = resolve_tasks(TASKS, data_dir, "local")
    for task in tasks:
        task.load_data()
    return tasks


def run_losslab(
    encoder: HFEncoder, data_dir: str, batch_size: int, run: int
) -> tuple[float, dict[str, float]]:
    tasks = _tasks(data_dir)
    wrapper = LosslabMTEBEncoder(encoder, "losslab/bench", f"run{run}")
    start = time.perf_counter()
    scores = evaluate_tasks(wrapper, tasks, None, batch_size)
    return time.perf_counter() - start, {name: s.main_score / 100 for name, s in scores.items()}


def run_sentence_transformers(
    model: SentenceTransformer, data_dir: str, batch_size: int
) -> tuple[float, dict[str, float]]:
    tasks = _tasks(data_dir)
    start = time.perf_counter()
    result = mteb.evaluate(
        model,
        tasks,
        cache=None,
        encode_kwargs={"batch_size": batch_size, "show_progress_bar": False},
        co2_tracker=False,
        show_progress_bar=False,
    )
    return time.perf_counter() - start, {tr.task_name: float(tr.get_score()) for tr in result.task_results}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=os.environ.get("LOSSLAB_DATA_DIR", "../shared/data"))
    parser.add_argument("--batch-size", type=int, default=32, help="both sides (MTEB's default is 32)")
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()

    encoder = HFEncoder()
    model = SentenceTransformer(str(embedded_model_path()), device="cpu")
    times: dict[str, list[float]] = {"losslab": [], "sentence-transformers": []}
    for run in range(args.repeats):
        t_ours, ours = run_losslab(encoder, args.data_dir, args.batch_size, run)
        t_st, theirs = run_sentence_transformers(model, args.data_dir, args.batch_size)
        times["losslab"].append(t_ours)
        times["sentence-transformers"].append(t_st)
        print(
            f"run {run}: losslab {t_ours:.1f} s, mteb.evaluate(SentenceTransformer) {t_st:.1f} s", flush=True
        )
    for task in TASKS:
        print(f"{task}: losslab {100 * ours[task]:.4f}  sentence-transformers {100 * theirs[task]:.4f}")
        if abs(ours[task] - theirs[task]) > 1e-4:
            raise SystemExit(f"scores differ on {task}: {ours[task]} vs {theirs[task]}")
    ours_t, theirs_t = statistics.median(times["losslab"]), statistics.median(times["sentence-transformers"])
    print(
        f"median: losslab {ours_t:.1f} s, sentence-transformers {theirs_t:.1f} s, "
        f"speed-up {theirs_t / ours_t:.2f}x"
    )


if __name__ == "__main__":
    main()
