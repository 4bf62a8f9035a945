"""Time SICK-R + STSBenchmark: losslab's MTEB path vs ``mteb.evaluate`` on the plain SentenceTransformer.

Both sides run MTEB's own task code on the same locally loaded data (data loading is done before timing);
runs alternate so that machine noise hits both. Prints wall and CPU (process) time of each run, the
ratios and the scores, and fails if the scores differ by more than 1e-4. On a shared machine the CPU-time
ratio is the steadier one.

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

from core.model_resolution import embedded_model_path  # noqa: E402
from experiments.evaluation.mteb_encoder import LosslabMTEBEncoder  # noqa: E402
from experiments.evaluation.mteb_runner import evaluate_tasks  # noqa: E402
from experiments.evaluation.task_resolver import resolve_tasks  # noqa: E402
from lightning_modules.encoders.hf_encoder import HFEncoder  # noqa: E402

TASKS = ["SICK-R", "STSBenchmark"]
Timing = tuple[float, float]  # wall seconds, CPU seconds


def _clock() -> Timing:
    return time.perf_counter(), time.process_time()


def _since(start: Timing) -> Timing:
    now = _clock()
    return now[0] - start[0], now[1] - start[1]


def _tasks(data_dir: str):
    tasks = resolve_tasks(TASKS, data_dir, "local")
    for task in tasks:
        task.load_data()
    return tasks


def run_losslab(encoder: HFEncoder, data_dir: str, batch_size: int, run: int) -> tuple[Timing, dict[str, float]]:
    tasks = _tasks(data_dir)
    wrapper = LosslabMTEBEncoder(encoder, "losslab/bench", f"run{run}")  # fresh wrapper: no cached embeddings
    start = _clock()
    scores = evaluate_tasks(wrapper, tasks, None, batch_size)
    return _since(start), {name: s.main_score / 100 for name, s in scores.items()}


def run_sentence_transformers(
    model: SentenceTransformer, data_dir: str, batch_size: int
) -> tuple[Timing, dict[str, float]]:
    tasks = _tasks(data_dir)
    start = _clock()
    result = mteb.evaluate(
        model,
        tasks,
        cache=None,
        encode_kwargs={"batch_size": batch_size, "show_progress_bar": False},
        co2_tracker=False,
        show_progress_bar=False,
    )
    return _since(start), {tr.task_name: float(tr.get_score()) for tr in result.task_results}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=os.environ.get("LOSSLAB_DATA_DIR", "../shared/data"))
    parser.add_argument("--batch-size", type=int, default=32, help="both sides (MTEB's default is 32)")
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()

    encoder = HFEncoder()
    model = SentenceTransformer(str(embedded_model_path()), device="cpu")
    ours_times: list[Timing] = []
    st_times: list[Timing] = []
    for run in range(args.repeats):
        t_ours, ours = run_losslab(encoder, args.data_dir, args.batch_size, run)
        t_st, theirs = run_sentence_transformers(model, args.data_dir, args.batch_size)
        ours_times.append(t_ours)
        st_times.append(t_st)
        print(
            f"run {run}: losslab {t_ours[0]:.1f} s wall / {t_ours[1]:.1f} s CPU, "
            f"mteb.evaluate(SentenceTransformer) {t_st[0]:.1f} s wall / {t_st[1]:.1f} s CPU",
            flush=True,
        )
    for task in TASKS:
        print(f"{task}: losslab {100 * ours[task]:.4f}  sentence-transformers {100 * theirs[task]:.4f}")
        if abs(ours[task] - theirs[task]) > 1e-4:
            raise SystemExit(f"scores differ on {task}: {ours[task]} vs {theirs[task]}")
    for kind, k in (("wall", 0), ("CPU", 1)):
        ours_t = statistics.median(t[k] for t in ours_times)
        theirs_t = statistics.median(t[k] for t in st_times)
        print(
            f"median {kind}: losslab {ours_t:.1f} s, sentence-transformers {theirs_t:.1f} s, "
            f"speed-up {theirs_t / ours_t:.2f}x"
        )


if __name__ == "__main__":
    main()
